/*
 * The holdout estimator's handle and the helpers its files share: subset
 * drawing, the plan and its slices, the per-ratio counts, and the record
 * file.
 */
#ifndef CS_HOLDOUT_INTERNAL_H
#define CS_HOLDOUT_INTERNAL_H

#include "internal.h"

#include <pthread.h>

/* Counts are indexed by ratio percent, so index 0 is never used. */
#define CS__RATIO_SLOTS 100

/* ------------------------------------------------------------------------
 * Seeds and subsets (seeds.c)
 * ------------------------------------------------------------------------ */

/* Draws the subset of run_seed as cs_holdout_subset() documents it, for
 * 1 <= n_train < n. work has room for n entries. mask (n bytes) gets 1 for
 * trained-on examples and 0 for held-out ones, and indices gets the
 * n_train ids in increasing order. */
void cs__holdout_draw(uint64_t run_seed, size_t n, size_t n_train,
                      size_t *work, uint8_t *mask, int64_t *indices);

/* ------------------------------------------------------------------------
 * Counts (tally.c)
 * ------------------------------------------------------------------------ */

/* The counts of one ratio. */
typedef struct cs__tally {
    uint32_t *heldout; /* N: runs that held each example out */
    uint32_t *correct; /* N: of those, runs that predicted it correctly */
    uint8_t *done;     /* bit r set once run r is counted */
    size_t done_bytes; /* capacity of done */
    int64_t runs;      /* runs counted, added counts included */
} cs__tally;

/* Counts of every ratio of one estimate, or staged counts of one record
 * file before they join the estimate. */
typedef struct cs__tallies {
    size_t n;
    cs__tally *ratio[CS__RATIO_SLOTS]; /* NULL until a ratio is needed */
} cs__tallies;

/* Returns the tally of ratio, creating an empty one on first use; NULL
 * when out of memory (nothing recorded). */
cs__tally *cs__tally_get(cs__tallies *tallies, int32_t ratio);

/* Returns true when run is counted in tally (NULL counts nothing). */
bool cs__tally_has_run(const cs__tally *tally, int32_t run);

/* Makes room in tally's done bits for run; false when out of memory. */
bool cs__tally_reserve(cs__tally *tally, int32_t run);

/* Counts one run: mask and correct are bit arrays of N bits (bit j of byte
 * j / 8, 1 = trained on / predicted correctly). The caller has reserved
 * the run's done bit. */
void cs__tally_add_run(cs__tally *tally, int32_t run, const uint8_t *mask,
                       const uint8_t *correct, size_t n);

/* Adds every tally of staged into tallies. Returns false, with nothing
 * changed, when out of memory. */
bool cs__tallies_commit(cs__tallies *tallies, const cs__tallies *staged);

/* Frees every tally; the struct itself belongs to the caller. */
void cs__tallies_clear(cs__tallies *tallies);

/* ------------------------------------------------------------------------
 * The handle (holdout.c, plan.c)
 * ------------------------------------------------------------------------ */

/* An open record file, locked for appending. */
typedef struct cs__record_file {
    int fd;
    char *path;
    int64_t end; /* byte offset after the last whole record */
} cs__record_file;

struct cs_holdout {
    size_t n;
    int32_t *labels;
    uint64_t label_hash;
    uint64_t master_seed;
    char *recipe;

    /* The plan. Handles made from record files have none and count every
     * valid record. */
    bool has_plan;
    cs_holdout_options options;
    int32_t ratio_position[CS__RATIO_SLOTS]; /* place of each planned ratio
                                              * in decreasing order, or -1 */
    bool counts_added; /* cs_holdout_add_counts() was used */

    cs__tallies tallies;
    cs__record_file *records; /* NULL without a record file */
    cs_holdout_summary summary;

    /* Serialises counting, appending and progress in cs_holdout_run(). */
    pthread_mutex_t lock;
};

/* Checks the options against the ranges in cscore.h for N examples and
 * records the first violation under fn. */
cs_status cs__holdout_check_options(const char *fn,
                                    const cs_holdout_options *options,
                                    size_t n);

/* Copies the caller's options over the defaults, reading only the first
 * given->struct_size bytes. Records CS_E_INVALID_ARGUMENT under fn when
 * struct_size is below the minimum. */
cs_status cs__holdout_read_options(const char *fn,
                                   const cs_holdout_options *given,
                                   cs_holdout_options *out);

/* Fills holdout->ratio_position from the planned ratios. */
void cs__holdout_index_plan(cs_holdout *holdout);

/* Returns true when (ratio, run) belongs to the plan and to its slice.
 * A handle without a plan accepts every ratio and run within the limits of
 * cscore.h. */
bool cs__holdout_in_plan(const cs_holdout *holdout, int32_t ratio,
                         int32_t run);

/* Returns the number of runs in the plan and its slice, or -1 without a
 * plan. */
int64_t cs__holdout_planned_runs(const cs_holdout *holdout);

/* Creates a handle from parts that the caller has checked; takes
 * ownership of labels and recipe, also on failure. has_plan selects
 * whether options applies. */
cs_status cs__holdout_new(const char *fn, const cs_holdout_options *options,
                          bool has_plan, size_t n, int32_t *labels,
                          char *recipe, uint64_t master_seed,
                          cs_holdout **out);

/* Returns true when ratio has results: planned, or counted in a handle
 * without a plan. */
bool cs__holdout_has_ratio(const cs_holdout *holdout, int32_t ratio);

/* ------------------------------------------------------------------------
 * Record format (record_format.c)
 * ------------------------------------------------------------------------ */

#define CS__RECORDS_MAGIC "CSHOLDRC"
#define CS__RECORDS_VERSION 1u
/* Bytes of the header before the recipe text: magic, version, header
 * size, N, label hash, master seed, recipe length. */
#define CS__HEADER_FIXED_BYTES 44u
/* Bytes of a record before its bit arrays, and its CRC after them. */
#define CS__RECORD_FIXED_BYTES 40u
#define CS__RECORD_CRC_BYTES 4u

/* The fields of a record file header. */
typedef struct cs__records_header {
    uint64_t n;
    uint64_t label_hash;
    uint64_t master_seed;
    char *recipe;    /* owned, NUL-terminated */
    int32_t *labels; /* owned, n entries */
    size_t size;     /* H: bytes of the header, CRC included */
} cs__records_header;

/* One run as stored in a record. The bit arrays point into the buffer the
 * record was decoded from. */
typedef struct cs__run_record {
    int32_t ratio;
    int32_t run;
    uint32_t padding; /* bytes 12 to 15, written as 0 */
    uint64_t seed;
    double test_accuracy;
    double seconds;
    const uint8_t *mask;
    const uint8_t *correct;
} cs__run_record;

/* Returns the 64-bit FNV-1a hash of bytes, continuing from hash (start
 * with CS__FNV_OFFSET). */
#define CS__FNV_OFFSET UINT64_C(0xcbf29ce484222325)
uint64_t cs__fnv1a(uint64_t hash, const void *bytes, size_t size);

/* Returns the label hash that record files store. */
uint64_t cs__label_hash(const int32_t *labels, size_t n);

/* Returns zlib's CRC-32 of bytes. */
uint32_t cs__crc32(const void *bytes, size_t size);

/* Bytes of one bit array of n bits, and of one record. */
size_t cs__bit_bytes(size_t n);
size_t cs__record_size(size_t n);

/* Encodes the header of holdout's record files into a new buffer. */
cs_status cs__header_encode(const char *fn, const cs_holdout *holdout,
                            uint8_t **out, size_t *size);

/* Reads and checks the header at the start of fd, whose size is
 * file_size. On success *out owns its recipe and labels (free with
 * cs__header_clear()). */
cs_status cs__header_read(const char *fn, const char *path, int fd,
                          int64_t file_size, cs__records_header *out);

void cs__header_clear(cs__records_header *header);

/* Checks that a file's header equals holdout's; records
 * CS_E_RECORDS_MISMATCH naming the first field that differs. */
cs_status cs__header_compare(const char *fn, const char *path,
                             const cs__records_header *header,
                             const cs_holdout *holdout);

/* Encodes one record of n examples into buffer (cs__record_size(n)
 * bytes), CRC included. */
void cs__record_encode(const cs__run_record *record, size_t n,
                       uint8_t *buffer);

/* Decodes the record in buffer. Returns false when its tag or CRC is
 * wrong, which a torn write also causes. */
bool cs__record_decode(const uint8_t *buffer, size_t n, cs__run_record *out);

/* Checks the contents of a record whose CRC is good: ratio, run, seed and
 * mask size. On failure records CS_E_FORMAT at offset. */
cs_status cs__record_check(const char *fn, const char *path, int64_t offset,
                           const cs__run_record *record, size_t n,
                           uint64_t master_seed);

/* Sets bit j of bits. */
static inline void cs__bit_set(uint8_t *bits, size_t j)
{
    bits[j >> 3] |= (uint8_t)(1u << (j & 7));
}

/* Returns bit j of bits. */
static inline bool cs__bit_get(const uint8_t *bits, size_t j)
{
    return (bits[j >> 3] >> (j & 7)) & 1u;
}

/* ------------------------------------------------------------------------
 * Record files (record_file.c)
 * ------------------------------------------------------------------------ */

/* Appends one encoded record and fsyncs it. On failure the file is cut
 * back to its last whole record. */
cs_status cs__records_append(const char *fn, cs__record_file *file,
                             const uint8_t *record, size_t size);

/* Closes and frees an open record file, releasing its lock. */
void cs__records_close(cs__record_file *file);

#endif /* CS_HOLDOUT_INTERNAL_H */
