/*
 * Tracker checkpoints: the whole state in a versioned binary file with a
 * CRC-32 trailer, written atomically.
 *
 * Layout (little-endian, version 1):
 *   8 bytes  magic "CSTRK\r\n\x1a" (the CR LF and ^Z catch text-mode
 *            mangling, as PNG's signature does)
 *   u32      format version, u32 0x01020304 byte-order mark
 *   header   see struct ckpt_header below, CKPT_HEADER_BYTES bytes
 *   arrays   per-example state, one array per entry of ckpt_fields, then
 *            history_count epoch blocks of 18 * N bytes each
 *   u32      CRC-32 (zlib) of every byte before it
 */
#include "io/io.h"
#include "tracker_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static const char ckpt_magic[8] = {'C', 'S', 'T', 'R', 'K', '\r', '\n', 0x1a};
#define CKPT_VERSION 1u
#define CKPT_BYTE_ORDER_MARK 0x01020304u

typedef struct ckpt_header {
    int64_t n_examples;
    int32_t n_classes;
    int32_t input_kind;
    int32_t feature_dim;
    int32_t keep_history;
    int32_t repeat_policy;
    int32_t epochs_ended;
    double probability_tolerance;
    int64_t open_observations;
    int64_t repeats_dropped;
    int32_t history_count;
    int32_t reserved;
} ckpt_header;

#define CKPT_PREAMBLE_BYTES (sizeof ckpt_magic + 2 * sizeof(uint32_t))
#define CKPT_HEADER_BYTES sizeof(ckpt_header)

/* A writer that keeps the CRC of everything written so far. */
typedef struct ckpt_writer {
    cs__atomic_file file;
    uLong crc;
    bool failed;
} ckpt_writer;

static void put(ckpt_writer *w, const void *data, size_t bytes)
{
    const unsigned char *p = data;
    while (bytes > 0 && !w->failed) {
        /* zlib's crc32 takes a uInt length, so feed it at most 1 GiB. */
        size_t chunk = bytes < (1u << 30) ? bytes : (1u << 30);
        if (fwrite(p, 1, chunk, w->file.fp) != chunk)
            w->failed = true;
        w->crc = crc32(w->crc, p, (uInt)chunk);
        p += chunk;
        bytes -= chunk;
    }
}

/* The per-example fields in file order, each stored as one array of N
 * values, so the layout does not depend on the in-memory record. */
static const struct {
    size_t offset;
    size_t size;
} ckpt_fields[] = {
    {offsetof(cs__example, label), sizeof(int32_t)},
    {offsetof(cs__example, epochs_observed), sizeof(int32_t)},
    {offsetof(cs__example, cbtl), sizeof(int32_t)},
    {offsetof(cs__example, forgetting), sizeof(int32_t)},
    {offsetof(cs__example, first_learned), sizeof(int32_t)},
    {offsetof(cs__example, last_epoch), sizeof(int32_t)},
    {offsetof(cs__example, last_correct), sizeof(uint8_t)},
    {offsetof(cs__example, p_l_last), sizeof(float)},
    {offsetof(cs__example, p_max_last), sizeof(float)},
    {offsetof(cs__example, el2n_last), sizeof(float)},
    {offsetof(cs__example, p_l_mean), sizeof(double)},
    {offsetof(cs__example, p_l_m2), sizeof(double)},
    {offsetof(cs__example, p_max_sum), sizeof(double)},
    {offsetof(cs__example, margin_sum), sizeof(double)},
};
#define CKPT_FIELD_COUNT (sizeof ckpt_fields / sizeof ckpt_fields[0])

/* Returns the bytes of per-example state in the file, excluding features
 * and history: one value of each field. */
static size_t ckpt_bytes_per_example(void)
{
    size_t bytes = 0;
    for (size_t f = 0; f < CKPT_FIELD_COUNT; f++)
        bytes += ckpt_fields[f].size;
    return bytes;
}

/* Examples gathered per write: 8 KiB of the widest field on the stack. */
#define CKPT_GATHER 1024

/* Writes field f of every example as one contiguous array. */
static void put_field(ckpt_writer *w, const cs_tracker *t, size_t f)
{
    const size_t offset = ckpt_fields[f].offset;
    const size_t size = ckpt_fields[f].size;
    unsigned char chunk[CKPT_GATHER * sizeof(double)];

    for (size_t i = 0; i < t->n_examples; i += CKPT_GATHER) {
        const size_t count = t->n_examples - i < CKPT_GATHER
                                 ? t->n_examples - i
                                 : CKPT_GATHER;
        for (size_t j = 0; j < count; j++)
            memcpy(chunk + j * size,
                   (const unsigned char *)&t->examples[i + j] + offset, size);
        put(w, chunk, count * size);
    }
}

static void write_arrays(ckpt_writer *w, const cs_tracker *t)
{
    const size_t n = t->n_examples;
    for (size_t f = 0; f < CKPT_FIELD_COUNT; f++)
        put_field(w, t, f);
    if (t->feature_dim > 0)
        put(w, t->features, n * t->feature_dim * sizeof(float));
    for (int32_t e = 0; e < t->history_count; e++)
        put(w, t->history[e].p_l, n * CS__HISTORY_BYTES_PER_EXAMPLE);
}

static ckpt_header header_of(const cs_tracker *t)
{
    const cs_tracker_options *o = &t->options;
    ckpt_header h = {
        .n_examples = o->n_examples,
        .n_classes = o->n_classes,
        .input_kind = (int32_t)o->input_kind,
        .feature_dim = o->feature_dim,
        .keep_history = o->keep_history ? 1 : 0,
        .repeat_policy = (int32_t)o->repeat_policy,
        .epochs_ended = t->epochs_ended,
        .probability_tolerance = o->probability_tolerance,
        .open_observations = t->open_observations,
        .repeats_dropped = t->repeats_dropped,
        .history_count = t->history_count,
        .reserved = 0,
    };
    return h;
}

cs_status cs_tracker_save(const cs_tracker *tracker, const char *path)
{
    const char *fn = "cs_tracker_save";
    if (tracker == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "tracker",
                            "tracker is NULL");
    if (path == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "path", "path is NULL");

    ckpt_writer w = {.crc = crc32(0L, Z_NULL, 0), .failed = false};
    cs_status st = cs__atomic_open(&w.file, path, fn);
    if (st != CS_OK)
        return st;

    const uint32_t version = CKPT_VERSION;
    const uint32_t mark = CKPT_BYTE_ORDER_MARK;
    const ckpt_header header = header_of(tracker);
    put(&w, ckpt_magic, sizeof ckpt_magic);
    put(&w, &version, sizeof version);
    put(&w, &mark, sizeof mark);
    put(&w, &header, sizeof header);
    write_arrays(&w, tracker);

    const uint32_t crc = (uint32_t)w.crc;
    put(&w, &crc, sizeof crc);
    if (w.failed) {
        /* The failed fwrite() set errno. EIO is reported when errno is 0. */
        const int saved = errno != 0 ? errno : EIO;
        char reason[128];
        cs__atomic_abort(&w.file);
        cs__where where = cs__where_none(fn);
        where.path = path;
        return cs__fail(CS_E_IO, &where, NULL,
                        "cannot write the checkpoint '%s': %s. Check free "
                        "disk space and the file size limit (ulimit -f). "
                        "The previous checkpoint, if any, is unchanged.",
                        path, cs__errno_text(saved, reason, sizeof reason));
    }
    return cs__atomic_commit(&w.file, fn);
}

/* ---- loading ---------------------------------------------------------- */

static cs_status format_error(const char *path, int64_t offset,
                              const char *reason_fmt, ...) CS_PRINTF(3, 4);

static cs_status format_error(const char *path, int64_t offset,
                              const char *reason_fmt, ...)
{
    char reason[256];
    va_list args;
    va_start(args, reason_fmt);
    vsnprintf(reason, sizeof reason, reason_fmt, args);
    va_end(args);

    cs__where where = cs__where_none("cs_tracker_load");
    where.path = path;
    where.offset = offset;
    return cs__fail(CS_E_FORMAT, &where, NULL,
                    "%s is not a valid cscore checkpoint: %s", path, reason);
}

static cs_status check_header(const ckpt_header *h, const char *path)
{
    const int64_t at = (int64_t)CKPT_PREAMBLE_BYTES;
    /* With history on, every ended epoch has a block, and so does the open
     * epoch once it has observations (cs_tracker_history() reads it). */
    const int64_t blocks_needed =
        (int64_t)h->epochs_ended + (h->open_observations > 0 ? 1 : 0);
    if (h->n_examples < 1 || h->n_classes < 2 || h->feature_dim < 0)
        return format_error(path, at,
                            "invalid shape N=%lld, C=%d, d=%d in the header",
                            (long long)h->n_examples, (int)h->n_classes,
                            (int)h->feature_dim);
    if ((h->input_kind != 0 && h->input_kind != 1) ||
        (h->repeat_policy != 0 && h->repeat_policy != 1) ||
        (h->keep_history != 0 && h->keep_history != 1))
        return format_error(path, at,
                            "unknown input kind %d, repeat policy %d or "
                            "history flag %d",
                            (int)h->input_kind, (int)h->repeat_policy,
                            (int)h->keep_history);
    if (h->epochs_ended < 0 || h->history_count < 0 ||
        (!h->keep_history && h->history_count != 0) ||
        (h->keep_history && h->history_count < blocks_needed) ||
        h->open_observations < 0 || h->repeats_dropped < 0)
        return format_error(path, at,
                            "inconsistent epoch counts (%d ended, %d history "
                            "blocks)",
                            (int)h->epochs_ended, (int)h->history_count);
    if (!(h->probability_tolerance >= 0.0 && h->probability_tolerance < 1.0))
        return format_error(path, at, "invalid probability tolerance %g",
                            h->probability_tolerance);
    return CS_OK;
}

/* Computes the exact file size a header implies, or returns false on
 * overflow. */
static bool expected_size(const ckpt_header *h, size_t *out)
{
    const size_t n = (size_t)h->n_examples;
    size_t state, features, history, per_epoch, total;
    if (!cs__mul_size(n, ckpt_bytes_per_example(), &state) ||
        !cs__mul_size(n, (size_t)h->feature_dim, &features) ||
        !cs__mul_size(features, sizeof(float), &features) ||
        !cs__mul_size(n, CS__HISTORY_BYTES_PER_EXAMPLE, &per_epoch) ||
        !cs__mul_size(per_epoch, (size_t)h->history_count, &history))
        return false;

    total = CKPT_PREAMBLE_BYTES + CKPT_HEADER_BYTES + sizeof(uint32_t);
    if (state > SIZE_MAX - total)
        return false;
    total += state;
    if (features > SIZE_MAX - total)
        return false;
    total += features;
    if (history > SIZE_MAX - total)
        return false;
    *out = total + history;
    return true;
}

static cs_status io_error(const char *path, const char *action)
{
    int saved = errno;
    cs__where where = cs__where_none("cs_tracker_load");
    where.path = path;
    return cs__fail(CS_E_IO, &where, NULL, "%s checkpoint %s failed: %s",
                    action, path, strerror(saved));
}

/* Reads and checks the preamble and header, and the file's total size,
 * before anything large is allocated. */
static cs_status read_header(FILE *fp, const char *path, ckpt_header *h,
                             size_t *file_size)
{
    struct stat info;
    if (fstat(fileno(fp), &info) != 0)
        return io_error(path, "reading the size of");
    const size_t size = (size_t)info.st_size;

    unsigned char preamble[CKPT_PREAMBLE_BYTES];
    if (size < sizeof preamble + sizeof *h + sizeof(uint32_t))
        return format_error(path, 0,
                            "the file is %zu bytes, shorter than the "
                            "%zu-byte header",
                            size, sizeof preamble + sizeof *h + 4);
    if (fread(preamble, 1, sizeof preamble, fp) != sizeof preamble ||
        fread(h, 1, sizeof *h, fp) != sizeof *h)
        return io_error(path, "reading");

    uint32_t version, mark;
    memcpy(&version, preamble + 8, 4);
    memcpy(&mark, preamble + 12, 4);
    if (memcmp(preamble, ckpt_magic, sizeof ckpt_magic) != 0)
        return format_error(path, 0,
                            "the first bytes are not the checkpoint "
                            "signature");
    if (mark != CKPT_BYTE_ORDER_MARK)
        return format_error(path, 12,
                            "it was written on a machine of the other byte "
                            "order (mark 0x%08x)",
                            (unsigned)mark);
    if (version != CKPT_VERSION) {
        cs__where where = cs__where_none("cs_tracker_load");
        where.path = path;
        where.offset = 8;
        return cs__fail(CS_E_UNSUPPORTED_VERSION, &where, NULL,
                        "%s has checkpoint format version %u; this library "
                        "reads version %u",
                        path, (unsigned)version, CKPT_VERSION);
    }

    cs_status st = check_header(h, path);
    if (st != CS_OK)
        return st;
    const int64_t at_header = (int64_t)CKPT_PREAMBLE_BYTES;

    size_t expected;
    if (!expected_size(h, &expected))
        return format_error(path, at_header,
                            "the header describes a state too large to "
                            "address");
    if (expected != size)
        return format_error(path, (int64_t)size,
                            "the file is %zu bytes but its header describes "
                            "%zu bytes, so it is truncated or corrupt",
                            size, expected);
    *file_size = size;
    return CS_OK;
}

/* A cursor over the loaded file. */
typedef struct reader {
    const unsigned char *p;
} reader;

static void take(reader *r, void *out, size_t bytes)
{
    memcpy(out, r->p, bytes);
    r->p += bytes;
}

/* Reads field f of every example from one contiguous array. */
static void take_field(reader *r, cs_tracker *t, size_t f)
{
    const size_t offset = ckpt_fields[f].offset;
    const size_t size = ckpt_fields[f].size;
    for (size_t i = 0; i < t->n_examples; i++)
        take(r, (unsigned char *)&t->examples[i] + offset, size);
}

static void read_arrays(reader *r, cs_tracker *t)
{
    const size_t n = t->n_examples;
    for (size_t f = 0; f < CKPT_FIELD_COUNT; f++)
        take_field(r, t, f);
    if (t->feature_dim > 0)
        take(r, t->features, n * t->feature_dim * sizeof(float));
    for (int32_t e = 0; e < t->history_count; e++)
        take(r, t->history[e].p_l, n * CS__HISTORY_BYTES_PER_EXAMPLE);
}

static cs_status tracker_from_header(const ckpt_header *h, cs_tracker **out)
{
    cs_tracker_options o;
    cs_tracker_options_init(&o);
    o.n_examples = h->n_examples;
    o.n_classes = h->n_classes;
    o.input_kind = (cs_input_kind)h->input_kind;
    o.feature_dim = h->feature_dim;
    o.keep_history = h->keep_history;
    o.repeat_policy = (cs_repeat_policy)h->repeat_policy;
    o.probability_tolerance = h->probability_tolerance;

    cs_status st = cs_tracker_create(&o, out);
    if (st != CS_OK)
        return cs__fail_arg(st, "cs_tracker_load", "path",
                            "cannot create a tracker of %lld examples: %s",
                            (long long)h->n_examples, cs_strerror(st));

    cs_tracker *t = *out;
    t->epochs_ended = h->epochs_ended;
    t->open_observations = h->open_observations;
    t->repeats_dropped = h->repeats_dropped;
    if (h->history_count > 0) {
        st = cs__tracker_reserve_history(t, h->history_count);
        if (st != CS_OK) {
            cs_tracker_free(t);
            *out = NULL;
            return cs__fail_arg(st, "cs_tracker_load", "path",
                                "out of memory allocating %d epochs of "
                                "history",
                                (int)h->history_count);
        }
    }
    return CS_OK;
}

/* Reads the whole file (its size already checked) and verifies the CRC. */
static cs_status read_body(FILE *fp, const char *path, size_t size,
                           unsigned char **out)
{
    unsigned char *data = cs__malloc(size);
    if (data == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, "cs_tracker_load", "path",
                            "out of memory reading %zu bytes of %s", size,
                            path);
    rewind(fp);
    if (fread(data, 1, size, fp) != size) {
        cs__free(data);
        return io_error(path, "reading");
    }

    uint32_t stored;
    memcpy(&stored, data + size - 4, 4);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t at = 0; at < size - 4;) {
        size_t chunk = size - 4 - at;
        if (chunk > (1u << 30))
            chunk = 1u << 30;
        crc = crc32(crc, data + at, (uInt)chunk);
        at += chunk;
    }
    if ((uint32_t)crc != stored) {
        cs__free(data);
        cs__where where = cs__where_none("cs_tracker_load");
        where.path = path;
        where.offset = (int64_t)size - 4;
        return cs__fail(CS_E_CHECKSUM, &where, NULL,
                        "%s is corrupt: its CRC-32 is 0x%08x but the "
                        "contents give 0x%08x; restore it from a backup",
                        path, (unsigned)stored, (unsigned)crc);
    }
    *out = data;
    return CS_OK;
}

/* Rejects values that later code would use as indices or epoch numbers, so
 * a crafted file with a valid checksum cannot push them out of range. */
static cs_status check_loaded_state(const cs_tracker *t, const char *path)
{
    const int32_t last_allowed = t->epochs_ended + 1;
    for (size_t i = 0; i < t->n_examples; i++) {
        const cs__example *x = &t->examples[i];
        if (x->label < -1 || x->label >= (int32_t)t->n_classes)
            return format_error(path, -1,
                                "example %zu has label %d, outside [0, %zu)",
                                i, (int)x->label, t->n_classes);
        if (x->last_epoch < 0 || x->last_epoch > last_allowed ||
            x->epochs_observed < 0 || x->epochs_observed > last_allowed)
            return format_error(path, -1,
                                "example %zu has epoch counters out of "
                                "range",
                                i);
    }
    return CS_OK;
}

cs_status cs_tracker_load(const char *path, cs_tracker **out)
{
    const char *fn = "cs_tracker_load";
    if (out == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "out", "out is NULL");
    *out = NULL;
    if (path == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "path", "path is NULL");

    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return io_error(path, "opening");

    ckpt_header h;
    size_t size = 0;
    unsigned char *data = NULL;
    cs_status st = read_header(fp, path, &h, &size);
    if (st == CS_OK)
        st = read_body(fp, path, size, &data);
    fclose(fp);
    if (st != CS_OK)
        return st;

    cs_tracker *t = NULL;
    st = tracker_from_header(&h, &t);
    if (st == CS_OK) {
        reader r = {data + CKPT_PREAMBLE_BYTES + CKPT_HEADER_BYTES};
        read_arrays(&r, t);
        st = check_loaded_state(t, path);
    }
    cs__free(data);
    if (st != CS_OK) {
        cs_tracker_free(t);
        return st;
    }
    *out = t;
    return CS_OK;
}
