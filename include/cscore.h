/*
 * cscore: per-example C-score proxies from the learning dynamics of one
 * training run.
 *
 * The consistency score (C-score) of a training example is the expected
 * accuracy on it of a model trained on random subsets of the data that leave
 * it out (Jiang, Zhang, Talwar, Mozer, "Characterizing Structural
 * Regularities of Labeled Data in Overparameterized Models", 2021). A
 * training loop hands cscore its predictions once per epoch, and cscore
 * keeps cheap proxies of that score for every example: how often the network
 * got it right, how confident it was, how often it forgot it.
 *
 * This header is the manual. Conventions that hold for every function:
 *
 * - Every fallible call returns a cs_status; CS_OK is 0. On failure the
 *   calling thread's last-error record (cs_last_error()) names the argument,
 *   the row or example id and the bad value. A successful call does not
 *   clear that record, so read it only after a failure.
 * - A call that fails leaves every object it was given exactly as it was.
 * - Arrays are row-major (C order). Sizes are element counts, not bytes.
 * - The library never prints, aborts or exits.
 * - Free functions accept NULL.
 *
 * Threads. The library has no mutable global state of its own, so:
 *
 * - Distinct objects (cs_tracker, cs_trainer, cs_holdout, cs_holdout_mlp,
 *   cs_dataset, cs_npz, cs_array) may be used from distinct threads at
 *   once without locking.
 * - One object must not be used by two threads at once when either call
 *   takes it through a non-const pointer. That includes a const getter
 *   running while another thread observes, fits or merges into it.
 *   Calls that take the object only through a const pointer only read it,
 *   so any number of threads may run them at once on one object while no
 *   thread changes it. These are the tracker getters and exports,
 *   cs_tracker_merge()'s src, cs_trainer_get_options(), the cs_holdout
 *   result getters and export, cs_dataset_examples(), cs_npz_count() and
 *   cs_npz_key().
 *   cs_trainer_predict() and cs_npz_read() take a non-const pointer because
 *   they use the object's workspace or file handle.
 * - Functions that take no handle (status names, statistics, readers,
 *   cs_holdout_subset(), cs_dataset_load_idx()) may run in any number of
 *   threads at once, except as stated for OpenBLAS below.
 * - Two exports or saves must not write the same path at the same time.
 * - The last-error record is per thread (see cs_last_error()).
 *
 * OpenBLAS's thread count is global to the process, and these calls change
 * it for their duration and then restore it: cs_kde_scores(),
 * cs_kde_query() and cs_kde_bandwidth() (set to 1, and to options.threads
 * while a FAISS index is built or searched), cs_trainer_fit(),
 * cs_trainer_predict(), cs_trainer_predict_labels() and
 * cs_trainer_accuracy() when the trainer's threads option is > 0 and
 * differs from the current count, and cs_holdout_run() with the built-in
 * trainer and more than one worker (set to 1). cscore does not serialise
 * them: two such calls that overlap in time may restore each other's
 * value in the wrong order, and any other thread that calls OpenBLAS
 * meanwhile runs with the changed count. A program that overlaps them
 * should give all of them the same count, or set the count itself
 * afterwards. The neighbour scores also set the calling thread's OpenMP
 * thread count for FAISS, which is per thread and restored.
 *
 * Threads that cscore starts: cs_kde_scores(), cs_kde_query() and
 * cs_kde_bandwidth() run up to options.threads workers, and
 * cs_holdout_run() up to options.workers, the calling thread among them.
 * All are joined before the call returns.
 * cs_holdout_run() calls the caller's trainer from several threads at
 * once (see cs_holdout_trainer). OpenBLAS, and FAISS through OpenMP, run
 * threads of their own.
 */
#ifndef CSCORE_H
#define CSCORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CS_VERSION_MAJOR 0
#define CS_VERSION_MINOR 1
#define CS_VERSION_PATCH 0
#define CS_VERSION_NUMBER \
    (CS_VERSION_MAJOR * 10000 + CS_VERSION_MINOR * 100 + CS_VERSION_PATCH)
#define CS_VERSION_STRING "0.1.0"

#if defined(_WIN32)
#define CS_API
#elif defined(__GNUC__)
#define CS_API __attribute__((visibility("default")))
#else
#define CS_API
#endif

/* Returns CS_VERSION_NUMBER of the library actually linked. */
CS_API int cs_version_number(void);

/* Returns CS_VERSION_STRING of the library actually linked. */
CS_API const char *cs_version_string(void);

/* ------------------------------------------------------------------------
 * Status codes
 *
 * One table produces the enum, cs_status_name() and cs_strerror(). Values
 * are part of the ABI and are never renumbered.
 * ------------------------------------------------------------------------ */

#define CS_STATUS_TABLE(X)                                                    \
    X(CS_OK, 0, "success")                                                    \
    X(CS_E_NULL_ARGUMENT, 1, "a required pointer argument is NULL")           \
    X(CS_E_ZERO_SIZE, 2, "a size argument is 0")                              \
    X(CS_E_INVALID_ARGUMENT, 3, "an argument is outside its valid range")     \
    X(CS_E_SIZE_MISMATCH, 4, "an array length does not match the call")     \
    X(CS_E_NONFINITE_PREDICTION, 5, "a prediction is NaN or infinite")        \
    X(CS_E_INVALID_PROBABILITY, 6,                                            \
      "a probability row has a negative entry or does not sum to 1")          \
    X(CS_E_LABEL_OUT_OF_RANGE, 7, "a label is outside [0, n_classes)")        \
    X(CS_E_LABEL_CHANGED, 8,                                                  \
      "a label differs from the one first seen for that example")             \
    X(CS_E_ID_OUT_OF_RANGE, 9, "an example id is outside [0, n_examples)")    \
    X(CS_E_REPEATED_OBSERVATION, 10,                                          \
      "an example was observed twice in the same epoch")                      \
    X(CS_E_UNEXPECTED_FEATURES, 11,                                           \
      "features were given to a tracker created with feature_dim 0")          \
    X(CS_E_MISSING_FEATURES, 12,                                              \
      "features are NULL but the tracker was created with feature_dim > 0")   \
    X(CS_E_NONFINITE_FEATURE, 13, "a feature value is NaN or infinite")       \
    X(CS_E_OUT_OF_MEMORY, 14, "memory allocation failed")                     \
    X(CS_E_OVERFLOW, 15, "a size computation overflows")                      \
    X(CS_E_WRONG_TYPE, 16, "the proxy has a different element type")         \
    X(CS_E_NO_HISTORY, 17, "the tracker keeps no per-epoch history")          \
    X(CS_E_INCOMPATIBLE, 18, "the two trackers have different shapes")        \
    X(CS_E_EPOCH_OPEN, 19, "the current epoch has observations not yet ended") \
    X(CS_E_IO, 20, "a file could not be read or written")                     \
    X(CS_E_FORMAT, 21, "a file is malformed or truncated")                    \
    X(CS_E_CHECKSUM, 22, "a file's checksum does not match its contents")     \
    X(CS_E_UNSUPPORTED_VERSION, 23, "a file has an unsupported format version") \
    X(CS_E_ZERO_BANDWIDTH, 24,                                                \
      "the mean distance between feature rows is 0, so no default "          \
      "bandwidth exists")                                                    \
    X(CS_E_RECORDS_MISMATCH, 25,                                              \
      "a record file belongs to another estimate: its examples, labels, "   \
      "master seed or trainer recipe differ")                                \
    X(CS_E_UNSUPPORTED, 26,                                                   \
      "the call needs a feature that this build of cscore left out")         \
    X(CS_E_EXTERNAL, 27,                                                      \
      "a library that cscore calls, such as FAISS, reported an error")

typedef enum cs_status {
#define CS_STATUS_ENUM_ENTRY(name, value, text) name = value,
    CS_STATUS_TABLE(CS_STATUS_ENUM_ENTRY)
#undef CS_STATUS_ENUM_ENTRY
} cs_status;

/* Returns the enum name of a status ("CS_E_LABEL_CHANGED"), or
 * "CS_UNKNOWN_STATUS" for a value not in the table. Static storage. */
CS_API const char *cs_status_name(cs_status status);

/* Returns a one-line description of a status. Static storage. */
CS_API const char *cs_strerror(cs_status status);

/* ------------------------------------------------------------------------
 * Last-error details, kept per thread
 * ------------------------------------------------------------------------ */

/* Details of the most recent failed call on this thread. Fields that do not
 * apply to that failure are empty strings or -1. */
typedef struct cs_error_info {
    cs_status status;
    char function[48];  /* public function that failed, e.g. "cs_end_epoch" */
    char argument[48];  /* parameter name, e.g. "labels" */
    int64_t index;      /* row of the batch or element index, or -1 */
    int64_t example_id; /* example id involved, or -1 */
    char value[64];     /* the offending value as text, e.g. "nan" or "12" */
    char path[512];     /* file involved, or "" */
    int64_t offset;     /* byte offset in that file, or -1 */
    int64_t line;       /* 1-based line in a text file, or -1 */
    int64_t column;     /* 1-based column in a text file, or -1 */
    char message[768];  /* full sentence saying what failed and what to do */
} cs_error_info;

/* Returns this thread's last-error record. The pointer stays valid for the
 * life of the thread; its contents change at the next failed call. */
CS_API const cs_error_info *cs_last_error(void);

/* Returns cs_last_error()->message; "" before any failure. */
CS_API const char *cs_last_error_message(void);

/* ------------------------------------------------------------------------
 * Proxies
 * ------------------------------------------------------------------------ */

/* Per-example proxies. "Observed epochs" are the epochs in which the example
 * was passed to the tracker; an epoch in which it was not observed is not
 * counted as wrong. "Correct" means the true label's prediction is strictly
 * larger than every other class's (a tie counts as wrong).
 *
 * Direction (cs_proxy_direction()): +1 means a higher value marks a more
 * regular (consistent, easy) example, -1 a less regular one.
 *
 * An example never observed gets NaN for float proxies, 0 for cbtl and
 * forgetting, and -1 for first_learned. */
typedef enum cs_proxy {
    /* int32, +1: epochs in which the example was correct (cumulative binary
     * training loss counted as accuracy). */
    CS_PROXY_CBTL = 0,
    /* float32, +1: cbtl divided by the number of observed epochs. */
    CS_PROXY_CBTL_FRAC = 1,
    /* float32, +1: softmax probability of the true label at the last
     * observed epoch. */
    CS_PROXY_P_L_LAST = 2,
    /* float32, +1: softmax probability of the true label, mean over observed
     * epochs. */
    CS_PROXY_P_L_MEAN = 3,
    /* float32, +1: largest softmax probability at the last observed epoch. */
    CS_PROXY_P_MAX_LAST = 4,
    /* float32, +1: largest softmax probability, mean over observed epochs. */
    CS_PROXY_P_MAX_MEAN = 5,
    /* float32, -1: population standard deviation (ddof 0) of the true-label
     * probability over observed epochs, the "variability" of data maps
     * (Swayamdipta et al. 2020). High variability marks ambiguous examples;
     * note that examples never learned also have low variability. */
    CS_PROXY_P_L_STD = 6,
    /* int32, -1: forgetting events (Toneva et al. 2019), transitions from
     * correct to wrong between consecutive observed epochs. An example that
     * is never learned has 0 forgetting events here: use first_learned to
     * tell it apart from an example learned once and kept. */
    CS_PROXY_FORGETTING = 7,
    /* int32, -1: first epoch (numbered from 1) in which the example was
     * correct, or -1 if never. Ranking treats -1 as later than any epoch. */
    CS_PROXY_FIRST_LEARNED = 8,
    /* float32, +1: area under the margin (Pleiss et al. 2020), mean over
     * observed epochs of the true-label logit minus the largest other logit.
     * With probability inputs the logits are log-probabilities, with each
     * probability clamped below at FLT_MIN (about 1.18e-38) first. */
    CS_PROXY_AUM = 9,
    /* float32, -1: EL2N (Paul et al. 2021), L2 norm of softmax minus the
     * one-hot label at the last observed epoch. */
    CS_PROXY_EL2N = 10
} cs_proxy;

#define CS_PROXY_COUNT 11

/* Returns the proxy's export name ("cbtl", "p_l_mean", ...), or NULL for a
 * value outside [0, CS_PROXY_COUNT). Static storage. */
CS_API const char *cs_proxy_name(cs_proxy proxy);

/* Returns +1 if a higher value means more regular, -1 if less regular, and
 * 0 for an unknown proxy. */
CS_API int cs_proxy_direction(cs_proxy proxy);

/* Returns 1 if the proxy is int32, 0 if float32, -1 for an unknown proxy. */
CS_API int cs_proxy_is_integer(cs_proxy proxy);

/* ------------------------------------------------------------------------
 * Tracker options
 * ------------------------------------------------------------------------ */

typedef enum cs_input_kind {
    CS_INPUT_LOGITS = 0,       /* unnormalised scores; cscore applies softmax */
    CS_INPUT_PROBABILITIES = 1 /* rows of nonnegative values summing to 1 */
} cs_input_kind;

typedef enum cs_repeat_policy {
    /* A second observation of an example in the same epoch fails with
     * CS_E_REPEATED_OBSERVATION. */
    CS_REPEAT_REJECT = 0,
    /* The first observation is kept; later ones in the same epoch are
     * dropped and counted (cs_tracker_repeats_dropped()). This is what
     * data-parallel samplers that pad the last batch need, such as
     * PyTorch's DistributedSampler. */
    CS_REPEAT_KEEP_FIRST = 1
} cs_repeat_policy;

/* Default for cs_tracker_options.probability_tolerance: how far a
 * probability row's sum may be from 1. Wide enough for rows that a
 * half-precision softmax produced (off by about 1e-3), narrow enough to
 * catch logits passed as probabilities. */
#define CS_DEFAULT_PROBABILITY_TOLERANCE 1e-2

/* Options for cs_tracker_create(). Always initialise with
 * cs_tracker_options_init(), which sets struct_size and the defaults, then
 * set the fields you need. New fields are only ever appended, and the
 * library reads only the first struct_size bytes, so a program compiled
 * against an older header keeps working with a newer library. */
typedef struct cs_tracker_options {
    size_t struct_size;          /* sizeof(cs_tracker_options) at compile time */
    int64_t n_examples;          /* N >= 1; example ids are 0 .. N-1 */
    int32_t n_classes;           /* C >= 2 */
    cs_input_kind input_kind;    /* default CS_INPUT_LOGITS */
    int32_t feature_dim;         /* d >= 0; 0 (default) means no features */
    int32_t keep_history;        /* nonzero keeps per-epoch history; default 0 */
    cs_repeat_policy repeat_policy;   /* default CS_REPEAT_REJECT */
    double probability_tolerance;     /* default CS_DEFAULT_PROBABILITY_TOLERANCE */
} cs_tracker_options;

/* Sets every field of *options to its default; n_examples and n_classes are
 * set to 0 and must be filled in. */
CS_API void cs_tracker_options_init(cs_tracker_options *options);

/* ------------------------------------------------------------------------
 * Tracker
 * ------------------------------------------------------------------------ */

typedef struct cs_tracker cs_tracker;

/* Creates a tracker. On success *out owns a new tracker that the caller
 * releases with cs_tracker_free(); on failure *out is set to NULL.
 *
 * Memory: 96 bytes per example (one record of two cache lines), plus 4 * d
 * bytes per example when feature_dim = d > 0, plus 18 bytes per example and
 * epoch with history on (observed and correct flags, p_L, p_max, margin and
 * EL2N per epoch).
 * For N = 50,000 over 200 epochs the history is about 180 MB.
 *
 * Errors: CS_E_NULL_ARGUMENT, CS_E_ZERO_SIZE (N or C is 0),
 * CS_E_INVALID_ARGUMENT (negative sizes, C = 1, an unknown enum value, a
 * negative or NaN tolerance, struct_size too small), CS_E_OVERFLOW,
 * CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_tracker_create(const cs_tracker_options *options,
                                   cs_tracker **out);

/* Releases a tracker and everything it owns. */
CS_API void cs_tracker_free(cs_tracker *tracker);

/* Copies the options the tracker was created with into *options. Writes at
 * most options->struct_size bytes, which the caller sets first. */
CS_API cs_status cs_tracker_get_options(const cs_tracker *tracker,
                                        cs_tracker_options *options);

/* Observes one batch of the current epoch.
 *
 * predictions: n x C float32, row r for example ids[r]; logits or
 *   probabilities as the tracker was created.
 * labels:      n int32 in [0, C). An example's label is fixed: a label that
 *   differs from the one first seen for that id fails with
 *   CS_E_LABEL_CHANGED, even for a repeat that would be dropped.
 * ids:         n int64 in [0, N), in any order.
 * features:    n x d float32 (penultimate-layer activations), or NULL
 *   exactly when the tracker has feature_dim 0. The tracker keeps the most
 *   recent feature row of each example.
 * n:           batch size >= 1; any size, the last batch may be partial.
 *
 * The whole batch is checked before anything is recorded, so a failing call
 * records nothing. Errors: CS_E_NULL_ARGUMENT, CS_E_ZERO_SIZE,
 * CS_E_NONFINITE_PREDICTION, CS_E_INVALID_PROBABILITY,
 * CS_E_LABEL_OUT_OF_RANGE, CS_E_LABEL_CHANGED, CS_E_ID_OUT_OF_RANGE,
 * CS_E_REPEATED_OBSERVATION (within the batch too),
 * CS_E_UNEXPECTED_FEATURES, CS_E_MISSING_FEATURES, CS_E_NONFINITE_FEATURE,
 * CS_E_OVERFLOW (n x C or n x d floats, or an epoch's history, overflow
 * size_t), CS_E_OUT_OF_MEMORY (starting an epoch's history). */
CS_API cs_status cs_observe_batch(cs_tracker *tracker,
                                  const float *predictions,
                                  const int32_t *labels, const int64_t *ids,
                                  const float *features, size_t n);

/* cs_observe_batch() with int64 labels, the type PyTorch and NumPy give
 * class indices by default, so that a binding passes them without a
 * converted copy. Labels are range-checked as int64 values: one that an
 * int32 cannot hold fails with CS_E_LABEL_OUT_OF_RANGE instead of
 * wrapping. Same errors as cs_observe_batch(). */
CS_API cs_status cs_observe_batch_int64(cs_tracker *tracker,
                                        const float *predictions,
                                        const int64_t *labels,
                                        const int64_t *ids,
                                        const float *features, size_t n);

/* Ends the current epoch; the next observation belongs to the next epoch.
 * Epochs are numbered from 1. An epoch with no observations is allowed (a
 * data-parallel worker may see none) and still counts as an epoch.
 * Errors: CS_E_NULL_ARGUMENT, CS_E_OVERFLOW (INT32_MAX - 1 epochs already
 * ended, or the history size overflows size_t), CS_E_OUT_OF_MEMORY (history
 * of an epoch with no observations). */
CS_API cs_status cs_end_epoch(cs_tracker *tracker);

/* Observes a whole epoch at once and ends it: row i is example i, so n must
 * equal N. Same arrays and errors as cs_observe_batch(), plus
 * CS_E_SIZE_MISMATCH when n != N and CS_E_EPOCH_OPEN when batches of the
 * current epoch were already observed. The result is identical to observing
 * the same rows in batches of any order and then calling cs_end_epoch(). */
CS_API cs_status cs_observe_epoch(cs_tracker *tracker,
                                  const float *predictions,
                                  const int32_t *labels,
                                  const float *features, size_t n);

/* Returns the number of ended epochs, or -1 if tracker is NULL. */
CS_API int32_t cs_tracker_epochs(const cs_tracker *tracker);

/* Returns the number of repeated observations dropped under
 * CS_REPEAT_KEEP_FIRST (including those found by cs_tracker_merge()), or
 * -1 if tracker is NULL. */
CS_API int64_t cs_tracker_repeats_dropped(const cs_tracker *tracker);

/* Copies an int32 proxy (cs_proxy_is_integer() = 1) into out[0 .. N-1],
 * ordered by example id. n must equal N. Errors: CS_E_NULL_ARGUMENT,
 * CS_E_INVALID_ARGUMENT (unknown proxy), CS_E_WRONG_TYPE,
 * CS_E_SIZE_MISMATCH. Proxies include the current epoch's observations even
 * before cs_end_epoch(). */
CS_API cs_status cs_tracker_proxy_i32(const cs_tracker *tracker,
                                      cs_proxy proxy, int32_t *out,
                                      size_t n);

/* Copies a float32 proxy into out[0 .. N-1]; as cs_tracker_proxy_i32(). */
CS_API cs_status cs_tracker_proxy_f32(const cs_tracker *tracker,
                                      cs_proxy proxy, float *out, size_t n);

/* Copies the labels into out[0 .. N-1]; -1 for examples never observed. */
CS_API cs_status cs_tracker_labels(const cs_tracker *tracker, int32_t *out,
                                   size_t n);

/* Copies the number of observed epochs of each example into out[0 .. N-1]. */
CS_API cs_status cs_tracker_epochs_observed(const cs_tracker *tracker,
                                            int32_t *out, size_t n);

/* Copies the most recent feature row of every example into out, an N x d
 * array with n_values = N * d; rows of examples never observed are NaN.
 * Errors as cs_tracker_proxy_f32(), and CS_E_MISSING_FEATURES when the
 * tracker has feature_dim 0. */
CS_API cs_status cs_tracker_features(const cs_tracker *tracker, float *out,
                                     size_t n_values);

/* Copies the history of one epoch (1 .. cs_tracker_epochs(), or the open
 * epoch cs_tracker_epochs() + 1 if it has observations) into N-element
 * arrays; any output pointer may be NULL to skip it. observed and correct
 * are 0 or 1; p_l and p_max are NaN where the example was not observed.
 * Errors: CS_E_NULL_ARGUMENT (tracker), CS_E_NO_HISTORY,
 * CS_E_INVALID_ARGUMENT (epoch), CS_E_SIZE_MISMATCH. */
CS_API cs_status cs_tracker_history(const cs_tracker *tracker, int32_t epoch,
                                    uint8_t *observed, uint8_t *correct,
                                    float *p_l, float *p_max, size_t n);

/* Merges src into dst: dst afterwards contains the union of both trackers'
 * (example, epoch) observations, with dst's observation winning where both
 * observed the same example in the same epoch (that pair counts as a
 * dropped repeat), and every proxy recomputed from the union. Trackers that
 * between them saw all of each epoch's observations merge to exactly what
 * one tracker fed all of them would hold. src is not changed.
 *
 * Both need history on, the same N, C, input kind and feature_dim, labels
 * that agree wherever both know one, and no open epoch (call cs_end_epoch()
 * first). dst ends with max of the two epoch counts.
 *
 * Memory: while merging, dst may grow to src's epoch count (18 bytes per
 * example and epoch); nothing else is allocated.
 * Errors: CS_E_NULL_ARGUMENT, CS_E_NO_HISTORY, CS_E_INCOMPATIBLE,
 * CS_E_LABEL_CHANGED, CS_E_EPOCH_OPEN, CS_E_OVERFLOW (dst's history size
 * overflows size_t), CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_tracker_merge(cs_tracker *dst, const cs_tracker *src);

/* Writes the whole tracker state to path: a versioned binary format with a
 * CRC-32 over the contents, written to a temporary file in the same folder,
 * flushed to disk and renamed over path, so a crash leaves either the old
 * file or the new one. The temporary file is named path, ".tmp." and six
 * random characters, and a failed call removes it. A process killed during
 * the call leaves it behind, and the next save to path removes it. A killed
 * .npz write also leaves libzip's own temporary file, named like ours with
 * "." and six more characters (libzip 1.7.3), which goes the same way.
 * That cleanup assumes one write to a path at a time, so a second writer
 * of the same path would lose its temporary file and fail with CS_E_IO. The exports and
 * cs_holdout_export_npz() write their files the same way. Errors:
 * CS_E_NULL_ARGUMENT, CS_E_IO, CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_tracker_save(const cs_tracker *tracker, const char *path);

/* Reads a tracker saved by cs_tracker_save() into a new tracker that the
 * caller frees with cs_tracker_free(). Every size is checked against the
 * file's real size before anything is allocated. Errors:
 * CS_E_NULL_ARGUMENT, CS_E_IO, CS_E_FORMAT, CS_E_CHECKSUM,
 * CS_E_UNSUPPORTED_VERSION, CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_tracker_load(const char *path, cs_tracker **out);

/* ------------------------------------------------------------------------
 * Export
 * ------------------------------------------------------------------------ */

/* Writes every proxy of every example as CSV: a header row, then one row
 * per example with its id, its label, each proxy, and for each proxy a
 * column "rank_<name>" holding the example's rank from 1 (least regular
 * under that proxy's direction) with ties averaged. Examples never observed
 * have empty proxy and rank cells. Written to a temporary file and renamed.
 * Errors: CS_E_NULL_ARGUMENT, CS_E_IO, CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_tracker_export_csv(const cs_tracker *tracker,
                                       const char *path);

/* Writes a .npz archive that numpy.load() reads, with arrays ids (int64),
 * labels, cbtl, forgetting, first_learned (int32), cbtl_frac, p_l_last,
 * p_l_mean, p_max_last, p_max_mean, aum, el2n, p_l_std (float32), each of
 * length N, and with history on hist_observed, hist_correct (uint8) and
 * hist_p_l, hist_p_max (float32), each epochs x N over the ended epochs.
 * Written to a temporary file and renamed. Errors: CS_E_NULL_ARGUMENT,
 * CS_E_IO, CS_E_OUT_OF_MEMORY, CS_E_OVERFLOW. */
CS_API cs_status cs_tracker_export_npz(const cs_tracker *tracker,
                                       const char *path);

/* Writes the file of cs_tracker_export_csv() or cs_tracker_export_npz()
 * with n_columns more per-example float32 arrays, such as KDE scores
 * computed by the caller. values[c] contains n floats, with NaN for a
 * missing value (an empty CSV cell), and n must equal the tracker's
 * n_examples. The CSV gets one column per array after every built-in
 * column, with no rank column. The .npz gets one array per name.
 *
 * names[c]: 1 to 63 characters from [A-Za-z0-9_], distinct, and unlike
 * every built-in name (id, ids, label, labels, the proxy names, and the
 * rank_ and hist_ prefixes). n_columns = 0 writes the plain export; names and
 * values may then be NULL. The library copies nothing and keeps no
 * pointer after the call.
 *
 * Errors: those of the plain export, CS_E_NULL_ARGUMENT (names or values
 * with n_columns > 0, or a NULL entry), CS_E_SIZE_MISMATCH (n differs from
 * n_examples), CS_E_INVALID_ARGUMENT (a bad or repeated name, naming its
 * index). On failure no file is written. */
CS_API cs_status cs_tracker_export_csv_extra(const cs_tracker *tracker,
                                             const char *path,
                                             const char *const *names,
                                             const float *const *values,
                                             size_t n_columns, size_t n);
CS_API cs_status cs_tracker_export_npz_extra(const cs_tracker *tracker,
                                             const char *path,
                                             const char *const *names,
                                             const float *const *values,
                                             size_t n_columns, size_t n);

/* ------------------------------------------------------------------------
 * Data sets in IDX files
 *
 * IDX is the file format of MNIST and of drop-in replacements such as
 * Fashion-MNIST: two zero bytes, an element type byte, a dimension count
 * byte, each dimension as a big-endian uint32, then the elements in
 * row-major order. cscore reads such files plain or gzip-compressed.
 * ------------------------------------------------------------------------ */

/* Folder where Debian's dataset-fashion-mnist package installs
 * Fashion-MNIST: 60,000 training and 10,000 test images of 28 x 28 pixels
 * in 10 classes. */
#define CS_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Labeled examples held by the caller or by a cs_dataset. Nothing is
 * copied: the arrays must stay valid during each call they are passed to. */
typedef struct cs_examples {
    const float *inputs;   /* n x n_inputs float32; row i is example i */
    const int32_t *labels; /* n int32 class labels */
    size_t n;              /* number of examples */
    int32_t n_inputs;      /* values per example, e.g. 784 for 28 x 28 */
} cs_examples;

typedef enum cs_split {
    CS_SPLIT_TRAIN = 0, /* the train-* files */
    CS_SPLIT_TEST = 1   /* the t10k-* files */
} cs_split;

/* A data set in memory: float32 inputs and int32 labels of a training and
 * a test split. */
typedef struct cs_dataset cs_dataset;

/* Options for cs_dataset_load_idx(). Initialise with
 * cs_dataset_options_init(); the struct_size rules of cs_tracker_options
 * apply. */
typedef struct cs_dataset_options {
    size_t struct_size;  /* sizeof(cs_dataset_options) at compile time */
    int64_t train_count; /* keep only the first train_count training
                          * examples in file order, so that example ids are
                          * row numbers of the file; 0 (default) keeps all.
                          * The test split is always loaded whole. */
} cs_dataset_options;

/* Sets every field of *options to its default. */
CS_API void cs_dataset_options_init(cs_dataset_options *options);

/* Loads an MNIST-style data set from the four standard files in folder
 * (for example CS_FASHION_MNIST_DIR): train-images-idx3-ubyte,
 * train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
 * t10k-labels-idx1-ubyte, each under that name or gzip-compressed under
 * that name plus ".gz". The plain name wins when both exist.
 *
 * Images must be unsigned bytes (IDX type 0x08) with at least two
 * dimensions, n x rows x cols for MNIST. Each image becomes one row of
 * rows * cols float32 values, the pixel divided by 255, so in [0, 1]. Both
 * splits must have the same image shape. Labels must be unsigned bytes in
 * one dimension, as many as the images of the same split. The class count
 * C is 1 + the largest label in the whole training and test files, so
 * train_count does not change it.
 *
 * Each file is checked before its data is used: magic bytes, element type,
 * dimensions whose product overflows, and a length that differs from what
 * the header declares. A plain file's size is compared with the header
 * before anything is allocated. A gzip file is decompressed in chunks, so
 * a truncated stream fails without allocating the size its header claims,
 * and its CRC-32 and length trailer are verified. Bytes after the end of a
 * gzip stream are ignored, as zlib's gzread() ignores them.
 *
 * On success *out owns a new data set that the caller releases with
 * cs_dataset_free(); on failure *out is set to NULL. Memory: about 5 bytes
 * per training pixel at the peak of loading, 4 bytes per pixel afterwards
 * (219 MB for Fashion-MNIST's two splits).
 *
 * Errors: CS_E_NULL_ARGUMENT, CS_E_INVALID_ARGUMENT (struct_size too small,
 * train_count negative or more than the training file contains), CS_E_IO
 * (a file missing or unreadable), CS_E_OUT_OF_MEMORY, CS_E_OVERFLOW (more
 * float32 pixels than size_t can count), and CS_E_FORMAT. The last is for
 * a file that is malformed, truncated, longer than its header
 * declares, or of another element type or shape than above, and for images
 * and labels of one split with different counts. The last-error record
 * names the file in path and message. For CS_E_FORMAT, offset is the byte
 * at which the problem was found, counted in the decompressed stream for
 * .gz files, or -1 for a corrupt gzip stream, whose damage zlib does not
 * locate. */
CS_API cs_status cs_dataset_load_idx(const char *folder,
                                     const cs_dataset_options *options,
                                     cs_dataset **out);

/* Releases a data set and its arrays. */
CS_API void cs_dataset_free(cs_dataset *dataset);

/* Points *out at one split's examples. The arrays belong to the data set
 * and stay valid until cs_dataset_free(). Errors: CS_E_NULL_ARGUMENT,
 * CS_E_INVALID_ARGUMENT (unknown split). */
CS_API cs_status cs_dataset_examples(const cs_dataset *dataset,
                                     cs_split split, cs_examples *out);

/* Returns the class count C (every label is in [0, C)), or -1 if dataset
 * is NULL. */
CS_API int32_t cs_dataset_n_classes(const cs_dataset *dataset);

/* ------------------------------------------------------------------------
 * Built-in trainer: a multilayer perceptron on OpenBLAS
 *
 * Fully connected layers with ReLU between them and softmax cross-entropy
 * on the last one, trained by minibatch SGD with momentum. The defaults
 * are the recipe of the public MNIST demo by the C-score authors: hidden
 * layers of 512 and 256 units, momentum 0.9, learning rate 0.1 constant,
 * batch 128, 10 epochs, no weight decay.
 *
 * Model and update, both as in PyTorch: a layer with fan_in inputs starts
 * with every weight and bias drawn uniformly between -1/sqrt(fan_in) and
 * 1/sqrt(fan_in), the default of torch.nn.Linear. Each step takes the
 * gradient g of the batch's mean cross-entropy, adds weight_decay * w
 * (biases included), updates the momentum buffer v = momentum * v + g
 * (v starts at 0), then sets w -= lr * v, or w -= lr * (g + momentum * v)
 * with Nesterov momentum: torch.optim.SGD with dampening 0.
 *
 * Random numbers come from xoshiro256** seeded through splitmix64. One
 * stream, seeded from seed, draws the initial weights layer by layer from
 * the input side, each layer's weights (row-major, out x in) before its
 * biases. A second stream, seeded from seed + 1, draws each epoch's order
 * of the training examples, a uniform permutation made by Fisher-Yates.
 *
 * Threads: one cs_trainer must not be used by two threads at once. A
 * trainer with threads > 0 sets OpenBLAS's thread count, which is global
 * to the process, for the duration of each call, and restores the earlier
 * value before returning and around each epoch callback. Trainers that run
 * at the same time in several threads should all use the same threads
 * value, usually 1.
 *
 * Determinism: the same seed, data, options and OpenBLAS thread count give
 * bit-identical results run after run with the same OpenBLAS build and
 * CPU. Another thread count or build may change the last bits, and such
 * differences can grow during training.
 * ------------------------------------------------------------------------ */

#define CS_TRAINER_MAX_HIDDEN_LAYERS 8
#define CS_TRAINER_MAX_DECAY_EPOCHS 8

/* Learning-rate schedules. A run has T = epochs * ceil(m / batch_size)
 * steps for m training examples; steps s count from 0, epochs from 1. */
typedef enum cs_lr_schedule {
    /* The base rate at every step. */
    CS_LR_CONSTANT = 0,
    /* Linear warm-up over the first W = round(warmup_fraction * T) steps,
     * then linear decay towards 0: step s uses
     * base * min((s + 1) / W, (T - s) / (T - W)), without the first term
     * when W = 0 and without the second when W = T. The rate peaks at the
     * base rate at steps W - 1 and W. */
    CS_LR_WARMUP_LINEAR = 1,
    /* Stage-wise constant: epoch e uses base * decay_factor^k, where k is
     * the number of decay_epochs smaller than e, so the rate drops after
     * each listed epoch ends, as PyTorch's MultiStepLR with those
     * milestones does. */
    CS_LR_STAGEWISE = 2
} cs_lr_schedule;

/* Options for cs_trainer_create(). Initialise with
 * cs_trainer_options_init(), which sets struct_size and the defaults; the
 * struct_size rules of cs_tracker_options apply. Every field is checked,
 * including those of schedules not selected. */
typedef struct cs_trainer_options {
    size_t struct_size;      /* sizeof(cs_trainer_options) at compile time */
    int32_t n_inputs;        /* D >= 1, values per example; must be set */
    int32_t n_classes;       /* C >= 2; must be set */
    int32_t n_hidden_layers; /* 0 .. CS_TRAINER_MAX_HIDDEN_LAYERS; default 2 */
    int32_t hidden_widths[CS_TRAINER_MAX_HIDDEN_LAYERS]; /* units per hidden
                              * layer, >= 1, input side first; default
                              * 512, 256 */
    int32_t epochs;          /* epochs per cs_trainer_fit() call, >= 1;
                              * default 10 */
    int32_t batch_size;      /* >= 1; default 128. The last batch of an
                              * epoch contains the remaining examples. */
    double learning_rate;    /* base rate, finite and >= 0; default 0.1 */
    cs_lr_schedule schedule; /* default CS_LR_CONSTANT */
    double warmup_fraction;  /* CS_LR_WARMUP_LINEAR: share of the steps
                              * spent warming up, in [0, 1]; default 0.15 */
    int32_t n_decay_epochs;  /* CS_LR_STAGEWISE: entries of decay_epochs in
                              * use, 0 .. CS_TRAINER_MAX_DECAY_EPOCHS;
                              * default 0 */
    int32_t decay_epochs[CS_TRAINER_MAX_DECAY_EPOCHS]; /* strictly
                              * increasing epochs >= 1 after which the
                              * rate drops */
    double decay_factor;     /* CS_LR_STAGEWISE: finite and > 0; default
                              * 0.1 */
    double momentum;         /* in [0, 1); default 0.9 */
    int32_t nesterov;        /* nonzero selects Nesterov momentum, which
                              * needs momentum > 0; default 0 */
    double weight_decay;     /* L2 coefficient, finite and >= 0; default 0 */
    uint64_t seed;           /* seeds initialisation and shuffling; default 0 */
    int32_t threads;         /* OpenBLAS threads during calls, >= 0; 0
                              * (default) keeps the current setting */
} cs_trainer_options;

/* Sets every field of *options to its default; n_inputs and n_classes are
 * set to 0 and must be filled in. */
CS_API void cs_trainer_options_init(cs_trainer_options *options);

/* A multilayer perceptron with its weights, momentum buffers and
 * workspace. */
typedef struct cs_trainer cs_trainer;

/* Creates a trainer and initialises its weights from options->seed. On
 * success *out owns a new trainer that the caller releases with
 * cs_trainer_free(); on failure *out is set to NULL.
 *
 * Memory: 12 bytes per parameter (weight, momentum, gradient; the default
 * network on 784 inputs and 10 classes has 535,818 parameters) plus a
 * workspace of 4 * R * (D + sum of hidden widths + largest hidden width +
 * C + 1) bytes with R = max(batch_size, 1024) rows (8.5 MB for the default
 * network).
 *
 * Errors: CS_E_NULL_ARGUMENT, CS_E_ZERO_SIZE (n_inputs or n_classes is 0),
 * CS_E_INVALID_ARGUMENT (a field outside the range stated above,
 * struct_size too small), CS_E_OVERFLOW, CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_trainer_create(const cs_trainer_options *options,
                                   cs_trainer **out);

/* Releases a trainer and everything it owns. */
CS_API void cs_trainer_free(cs_trainer *trainer);

/* Copies the trainer's options into *options, writing at most
 * options->struct_size bytes, which the caller sets first. seed reads back
 * as the seed of the last cs_trainer_reset(), if any. Errors:
 * CS_E_NULL_ARGUMENT, CS_E_INVALID_ARGUMENT (struct_size too small). */
CS_API cs_status cs_trainer_get_options(const cs_trainer *trainer,
                                        cs_trainer_options *options);

/* Returns d, the width of the last hidden layer (the features the epoch
 * callback and cs_trainer_predict() give), 0 for a network without hidden
 * layers, or -1 if trainer is NULL. */
CS_API int32_t cs_trainer_feature_dim(const cs_trainer *trainer);

/* Re-initialises the weights from seed, clears the momentum and restarts
 * the shuffling stream, so that the trainer behaves exactly as a new one
 * created with that seed. Meant for running many trainings (the holdout
 * estimator) without reallocating. Errors: CS_E_NULL_ARGUMENT. */
CS_API cs_status cs_trainer_reset(cs_trainer *trainer, uint64_t seed);

/* What cs_trainer_fit() passes to its callback after each epoch. Row r of
 * the arrays is training example indices[r], or example r when fit was
 * given no indices. The arrays belong to the trainer and are valid only
 * during the callback. struct_size lets a callback compiled against a
 * newer header check that a field exists before reading it. */
typedef struct cs_epoch_report {
    size_t struct_size;     /* sizeof(cs_epoch_report) in the library */
    int32_t epoch;          /* 1 .. epochs */
    int32_t epochs;         /* epochs of this cs_trainer_fit() call */
    size_t n;               /* rows: training examples of this call */
    int32_t n_classes;      /* C */
    int32_t feature_dim;    /* d, see cs_trainer_feature_dim() */
    const float *logits;    /* n x C, evaluated after the epoch's last
                             * update, no weight update while evaluating */
    const int32_t *labels;  /* n labels of those rows */
    const int64_t *indices; /* n ids into the training arrays, or NULL when
                             * row r is example r */
    const float *features;  /* n x d, last hidden layer after ReLU; NULL
                             * when d = 0 */
    double train_loss;      /* mean cross-entropy over the epoch's examples,
                             * each measured in its batch before that
                             * batch's update */
    double eval_loss;       /* mean cross-entropy of the logits above */
    double train_accuracy;  /* share of rows whose true-label logit is
                             * strictly the largest (a tie is wrong) */
    double test_accuracy;   /* the same over the test set, or NaN without
                             * one */
    double learning_rate;   /* rate of the epoch's last update */
    double train_seconds;   /* wall-clock seconds of the epoch's updates */
    double eval_seconds;    /* wall-clock seconds of evaluating the
                             * training rows and the test set */
} cs_epoch_report;

/* Called after each epoch. Return CS_OK to go on. Any other status stops
 * training, and cs_trainer_fit() returns it unchanged with whatever
 * last-error record the callback left. */
typedef cs_status (*cs_epoch_callback)(const cs_epoch_report *report,
                                       void *user_data);

/* Trains for options.epochs epochs from the current weights.
 *
 * train:     training examples; train->n_inputs must equal D and every
 *            label used must be in [0, C). Only the rows trained on are
 *            read.
 * indices:   n_indices ids in [0, train->n) of the examples to train on,
 *            in any order; a repeated id is trained on once per
 *            occurrence. NULL with n_indices = 0 trains on all of train.
 * test:      examples evaluated after each epoch for test_accuracy, or
 *            NULL. Read only when callback is set.
 * callback:  called after each epoch with user_data, or NULL. Without a
 *            callback the per-epoch evaluation is skipped.
 *
 * The schedule spans the call: T = epochs * ceil(m / batch_size) steps for
 * m rows. A second call continues from the current weights and momentum
 * and starts the schedule again.
 *
 * All arguments, inputs included (they must be finite), are checked and
 * all memory is allocated before the first update, so those failures leave
 * the trainer unchanged. A later failure leaves the weights of the last
 * completed update: diverged training, detected when an epoch's mean loss
 * or a logit is NaN or infinite, or the callback's status.
 *
 * Memory during the call: 8 bytes per row for the order, and with a
 * callback 4 * (C + d + 1) bytes per row for the report.
 *
 * Errors: CS_E_NULL_ARGUMENT, CS_E_ZERO_SIZE (no examples),
 * CS_E_INVALID_ARGUMENT (n_inputs differs from D, n_indices > 0 without
 * indices or 0 with them), CS_E_LABEL_OUT_OF_RANGE, CS_E_ID_OUT_OF_RANGE,
 * CS_E_NONFINITE_FEATURE (an input is NaN or infinite),
 * CS_E_NONFINITE_PREDICTION (training diverged; lower the learning rate),
 * CS_E_OVERFLOW, CS_E_OUT_OF_MEMORY, or the callback's status. */
CS_API cs_status cs_trainer_fit(cs_trainer *trainer,
                                const cs_examples *train,
                                const int64_t *indices, size_t n_indices,
                                const cs_examples *test,
                                cs_epoch_callback callback, void *user_data);

/* Computes the logits of n examples without changing the weights.
 *
 * inputs:   n x D float32, finite.
 * logits:   n x C output.
 * features: n x d output for the last hidden layer after ReLU, or NULL to
 *           skip it; must be NULL when d = 0.
 *
 * Allocates nothing. The outputs are written only on success. Errors:
 * CS_E_NULL_ARGUMENT, CS_E_ZERO_SIZE, CS_E_INVALID_ARGUMENT (features
 * given with d = 0), CS_E_NONFINITE_FEATURE. */
CS_API cs_status cs_trainer_predict(cs_trainer *trainer, const float *inputs,
                                    size_t n, float *logits,
                                    float *features);

/* Writes the predicted class of each of n examples (inputs as in
 * cs_trainer_predict()) to labels[0 .. n-1]: the index of the largest
 * logit, the lowest index among ties. Allocates nothing. Errors as
 * cs_trainer_predict(). */
CS_API cs_status cs_trainer_predict_labels(cs_trainer *trainer,
                                           const float *inputs, size_t n,
                                           int32_t *labels);

/* Sets *accuracy to the share of examples whose true-label logit is
 * strictly larger than every other logit (a tie counts as wrong, as in the
 * tracker), e.g. test-set accuracy. Allocates nothing. Errors:
 * CS_E_NULL_ARGUMENT, CS_E_ZERO_SIZE, CS_E_INVALID_ARGUMENT (n_inputs
 * differs from D), CS_E_LABEL_OUT_OF_RANGE, CS_E_NONFINITE_FEATURE. */
CS_API cs_status cs_trainer_accuracy(cs_trainer *trainer,
                                     const cs_examples *examples,
                                     double *accuracy);

/* ------------------------------------------------------------------------
 * Statistics
 *
 * Rank statistics for comparing proxies with C-scores: Spearman's rho,
 * Kendall's tau-b and the area under the ROC curve, each exact with ties,
 * with seeded bootstrap confidence intervals.
 *
 * Every statistic takes n pairs (x[i], y[i]) of doubles, converted by the
 * caller. A pair with a NaN on either side is dropped, and so is every
 * element outside the subset when one is given. The pairs left are
 * counted in *n_used. Infinities are ordinary values that sort below or above all
 * finite ones. -0.0 and +0.0 are tied.
 *
 * Where a statistic is undefined (fewer than 2 pairs, every x or every y
 * equal, or for the AUROC a single class) the call still succeeds and the
 * value is NaN, as in scipy.stats, so that a table over many classes or
 * subsets can be filled in one pass. Outputs are written only on success.
 *
 * Limits: at most 2^32 - 1 pairs after filtering (CS_E_OVERFLOW beyond).
 * Time is O(n log n) for Kendall's tau-b and O(n) after one radix sort per
 * side for the others; memory peaks at about 48 bytes per element, freed
 * before returning. Nothing is kept between calls, so every function here
 * may run in many threads at once.
 * ------------------------------------------------------------------------ */

/* Restriction of a statistic to some of its n elements, e.g. one class
 * (a mask) or listed example ids. Set at most one of mask and indices;
 * with neither, every element is used. */
typedef struct cs_subset {
    const uint8_t *mask;    /* n entries; nonzero keeps the element */
    const int64_t *indices; /* n_indices distinct ids in [0, n), any order */
    size_t n_indices;       /* entries of indices; 0 when indices is NULL */
} cs_subset;

/* Writes to ranks[i] the 1-based rank of values[i] among the non-NaN
 * values in ascending order, where tied values share the mean of the ranks
 * they span (scipy.stats.rankdata's "average" method). NaN values get a
 * NaN rank and are not counted. For descending ranks, negate the values.
 * ranks must not overlap values. Errors: CS_E_NULL_ARGUMENT, CS_E_ZERO_SIZE,
 * CS_E_OVERFLOW, CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_rank_average(const double *values, size_t n,
                                 double *ranks);

/* Computes Spearman's rank correlation rho: the Pearson correlation of the
 * average ranks of x and y (scipy.stats.spearmanr).
 *
 * x, y:    n values each.
 * subset:  elements to use, or NULL for all.
 * rho:     output in [-1, 1], or NaN when undefined.
 * n_used:  output, pairs used after filtering; may be NULL.
 *
 * Errors: CS_E_NULL_ARGUMENT, CS_E_ZERO_SIZE (n is 0),
 * CS_E_INVALID_ARGUMENT (both mask and indices set, indices NULL with
 * n_indices > 0 or set with n_indices = 0, an id listed twice),
 * CS_E_ID_OUT_OF_RANGE (an id outside [0, n)), CS_E_OVERFLOW,
 * CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_spearman(const double *x, const double *y, size_t n,
                             const cs_subset *subset, double *rho,
                             size_t *n_used);

/* Computes Kendall's tau-b, (C - D) / sqrt((P - T_x) (P - T_y)), where C
 * and D count the concordant and discordant pairs of pairs, P = m (m - 1)
 * / 2 for the m pairs used, and T_x, T_y count the pairs of pairs tied in
 * x and in y (scipy.stats.kendalltau, variant "b"). Exact: counts are
 * 64-bit integers, in O(m log m) time (Knight's algorithm: sort by x and
 * then y, count discordant pairs while merge-sorting by y). Arguments and
 * errors as cs_spearman(); tau is in [-1, 1], or NaN when undefined. */
CS_API cs_status cs_kendall_tau_b(const double *x, const double *y,
                                  size_t n, const cs_subset *subset,
                                  double *tau, size_t *n_used);

/* Computes the area under the ROC curve of scores for labels: the share of
 * (positive, negative) pairs in which the positive scores higher, ties
 * counting one half, which is the Mann-Whitney U of the positives divided
 * by n_positive * n_negative. A higher score is taken to mean "more likely
 * positive"; negate scores for a score that falls with it. For example,
 * scores = -cbtl and labels = 1 for flipped examples measure how well CBTL
 * finds mislabeled ones.
 *
 * labels: n values, each 0 (negative), 1 (positive) or NaN (dropped).
 * auroc:  output in [0, 1], or NaN without both classes.
 *
 * Other arguments and errors as cs_spearman(), and CS_E_INVALID_ARGUMENT
 * for a label other than 0, 1 or NaN (anywhere in the n, subset or not). */
CS_API cs_status cs_auroc(const double *scores, const double *labels,
                          size_t n, const cs_subset *subset, double *auroc,
                          size_t *n_used);

/* The statistics cs_bootstrap_interval() can resample. */
typedef enum cs_statistic {
    CS_STATISTIC_SPEARMAN = 0,      /* cs_spearman() */
    CS_STATISTIC_KENDALL_TAU_B = 1, /* cs_kendall_tau_b() */
    CS_STATISTIC_AUROC = 2          /* cs_auroc(), x the scores, y labels */
} cs_statistic;

/* Returns the statistic's name ("spearman", "kendall_tau_b", "auroc"), or
 * NULL for an unknown value. Static storage. */
CS_API const char *cs_statistic_name(cs_statistic statistic);

/* Options for cs_bootstrap_interval(). Initialise with
 * cs_bootstrap_options_init(); the struct_size rules of
 * cs_tracker_options apply. */
typedef struct cs_bootstrap_options {
    size_t struct_size; /* sizeof(cs_bootstrap_options) at compile time */
    int32_t resamples;  /* B >= 1 resamples; default 1000 */
    double confidence;  /* level of the interval, in (0, 1); default 0.95 */
    uint64_t seed;      /* seeds the resampling; default 0 */
} cs_bootstrap_options;

/* Sets every field of *options to its default. */
CS_API void cs_bootstrap_options_init(cs_bootstrap_options *options);

/* A bootstrap interval. */
typedef struct cs_interval {
    double estimate;   /* the statistic on all m pairs used */
    double lower;      /* (1 - confidence) / 2 quantile of the resamples */
    double upper;      /* (1 + confidence) / 2 quantile of the resamples */
    size_t n_used;     /* m, pairs used after filtering */
    int32_t resamples; /* resamples in which the statistic was defined */
} cs_interval;

/* Computes a percentile bootstrap confidence interval for a statistic.
 *
 * Each of the B resamples draws m of the m pairs used, uniformly with
 * replacement, and computes the statistic on them. Resamples where it is
 * undefined (NaN, e.g. all draws tied) are left out and not counted in
 * out->resamples. lower and upper are quantiles of the remaining values
 * with linear interpolation between order statistics (numpy.quantile's
 * default); they are NaN when no resample was defined.
 *
 * Random numbers: one splitmix64 stream (Steele, Lea, Flood 2014) started
 * at seed feeds the resamples in order. Each draw of a pair takes the next
 * output u, sets t = (u >> 32) * m, takes again while t mod 2^32 is below
 * 2^32 mod m, and picks pair t >> 32 (Lemire's unbiased bounded integers).
 * The same seed and inputs give the same interval on every platform.
 *
 * Time: B times one statistic on m pairs without its initial sorts, on
 * one thread. With B = 1000 and m = 50,000 of correlated normal data this
 * took 1.1 s for Spearman and 4.8 s for Kendall on one AMD EPYC core.
 *
 * Errors: those of the statistic's function, CS_E_INVALID_ARGUMENT (an
 * unknown statistic, resamples < 1, confidence outside (0, 1), struct_size
 * too small). */
CS_API cs_status cs_bootstrap_interval(cs_statistic statistic,
                                       const double *x, const double *y,
                                       size_t n, const cs_subset *subset,
                                       const cs_bootstrap_options *options,
                                       cs_interval *out);

/* ------------------------------------------------------------------------
 * Hidden-space density proxies
 *
 * Kernel density scores of each example among the others, computed from
 * penultimate-layer features (or from raw inputs, for input-space
 * density). For N examples with features x_i and labels y_i, the kernel
 * K(a, b) = exp(-||a - b||^2 / h^2) and sums over j != i:
 *
 *   kde_pm[i]   = (1/N) sum_j (2 [y_i = y_j] - 1) K(x_i, x_j)   KDE +-L
 *   kde_l[i]    = (1/N) sum_j [y_i = y_j] K(x_i, x_j)           KDE L
 *   kde_free[i] = (1/N) sum_j K(x_i, x_j)                       class-free
 *
 * A higher value marks a more regular example for all three. The default
 * bandwidth h is half the mean Euclidean distance over pairs i != j. The
 * scores and that bandwidth follow the C-score paper cited at the top of
 * this header, in which KDE +-L in hidden space correlated best with the
 * C-score, and all three scores on raw inputs correlated poorly.
 *
 * Methods (cs_kde_method):
 * - CS_KDE_EXACT evaluates every pair once: squared distances by tiled
 *   cblas_sgemm as ||a||^2 + ||b||^2 - 2 a.b (clamped at 0), the kernel,
 *   and per-class kernel sums in the same pass. Time grows as N^2 d.
 *   Memory is about 4 N d + 8 N C bytes plus a tile workspace per thread
 *   (see cs_kde_scores()), never an N x N matrix.
 * - CS_KDE_SAMPLED sums over a random reference set of about M examples,
 *   stratified by class, and scales each class's sum by N_c / M_c (N_c
 *   examples of class c, M_c of them in the reference set, both counted
 *   without the scored example itself), so that each score is an unbiased
 *   estimate of the exact one. Time grows as N M d.
 *
 * Measured with bench/kde/ on the 256 last-layer features of the 60,000
 * Fashion-MNIST training images after 10 epochs of `cscore train`, on 2
 * threads of an AMD EPYC machine shared with other jobs: the exact method
 * took 6 to 10 s and about 70 MB besides the caller's arrays. The default
 * sampled method (M = 5,000) took about 1 s, and its Spearman rho against
 * the exact scores was at least 0.9996 for KDE +-L, 0.997 for KDE L and
 * 0.9998 for class-free over four seeds. NOTE: where the density barely
 * varies between examples, sampling noise weighs more: on 20,000 points
 * of 10 isotropic Gaussian clusters in 256 dimensions, rho was only 0.90
 * to 0.93 at the same M.
 *
 * Precision: features are shifted by their mean and divided by h before
 * the float32 sgemm, and every sum of kernel values is accumulated in
 * double. On the features above, the exact scores were within 1.3e-5 of
 * the class-free score of a float64 evaluation, and the tests check
 * 1e-4 on random data.
 *
 * Threads: these functions take no handle and may be called from any
 * thread. Each call runs options.threads worker threads, the calling
 * thread among them. Every worker calls sgemm on its own tiles, so the
 * call sets OpenBLAS's thread count, which is global to the process, to 1
 * for its duration and restores the earlier value before returning.
 * Other threads that call OpenBLAS meanwhile run single-threaded. Two
 * calls that overlap in time may restore each other's setting in the
 * wrong order, so a program that overlaps them should set the count
 * itself afterwards.
 *
 * Determinism: work is split into fixed tiles whose sums are combined in
 * a fixed order, so the same inputs and options give bit-identical
 * outputs for any thread count with the same OpenBLAS build on the same
 * CPU (the tests compare 1, 2, 3 and 5 threads for equality). The seed
 * fixes the reference sample and the sampled pairs of the automatic
 * bandwidth.
 * ------------------------------------------------------------------------ */

/* How the kernel sums are evaluated. Values are never renumbered; new
 * methods get new values. The neighbour scores below are other
 * quantities, not a method for these sums, so they have their own output
 * buffers and cs_kde_neighbor_index. */
typedef enum cs_kde_method {
    CS_KDE_EXACT = 0,  /* every pair, see above */
    CS_KDE_SAMPLED = 1 /* a stratified random reference set of about
                        * reference_size examples */
} cs_kde_method;

/* Neighbour scores (FAISS)
 *
 * With FAISS built in, cs_kde_scores() and cs_kde_query() also compute
 * scores over the k nearest neighbours of each example, when the result
 * sets any knn_ buffer. kNN(i) is the set of the k examples nearest to
 * example i in Euclidean distance, i itself excluded (in query mode, the
 * k nearest reference examples). With the kernel and bandwidth above:
 *
 *   knn_kde_pm[i]   = (1/N) sum_{j in kNN(i)} (2 [y_i = y_j] - 1) K(x_i, x_j)
 *   knn_kde_l[i]    = (1/N) sum_{j in kNN(i)} [y_i = y_j] K(x_i, x_j)
 *   knn_kde_free[i] = (1/N) sum_{j in kNN(i)} K(x_i, x_j)
 *   knn_agree[i]    = (1/k) #{j in kNN(i) : y_j = y_i}
 *
 * These are local-density scores in their own right, not approximations
 * of kde_pm, kde_l and kde_free. At the default bandwidth, which is wide,
 * most of the kernel mass of the full sums lies beyond the k nearest
 * neighbours, so the truncated sums rank examples differently. A higher
 * value marks a more regular example for all four.
 *
 * FAISS only chooses the neighbours. The kernel values are computed from
 * the caller's rows in double, so flat and approximate indexes that find
 * the same neighbours give the same scores. Rows are shifted by their
 * mean before they go to FAISS, which keeps its float32 distances
 * accurate. The index kinds (cs_kde_neighbor_index):
 *
 * - CS_KDE_NEIGHBORS_FLAT compares each query with every row (BLAS
 *   sgemm for batches of queries): exact, time N^2 d.
 * - CS_KDE_NEIGHBORS_IVF clusters the rows by k-means into ivf_nlist
 *   lists, trained on min(N, 40 ivf_nlist) rows drawn with options.seed,
 *   and scans the ivf_nprobe lists nearest to each query. It can return
 *   fewer than k neighbours when those lists hold fewer rows.
 * - CS_KDE_NEIGHBORS_HNSW links each row to about hnsw_m others in a
 *   layered graph, built with hnsw_ef_construction candidates per
 *   insertion and searched with max(hnsw_ef_search, k + 1) candidates per
 *   example (max(hnsw_ef_search, k) per query in query mode).
 *
 * A slot that an approximate index leaves empty is counted in
 * result->knn_missing and left out of the sums; knn_agree then divides by
 * the neighbours found (NaN when none was found).
 *
 * Memory besides the caller's arrays: FAISS keeps a copy of the rows,
 * 4 N d bytes, and HNSW adds about 8 hnsw_m N bytes of links. The search
 * runs in chunks of rows that take at most about 64 MiB, and four float
 * scores per example (16 N bytes) are held until the call succeeds.
 *
 * Threads and determinism: FAISS runs options.threads OpenMP threads;
 * the call sets the calling thread's OpenMP count and OpenBLAS's count
 * for its duration and restores both. Flat and IVF gave the same
 * neighbours on repeated runs with the same inputs, seed and thread count
 * in the tests. An HNSW graph built by more than one thread depends on
 * their timing, so its neighbours can differ from run to run. */

/* Index that finds the neighbours. Values are never renumbered. */
typedef enum cs_kde_neighbor_index {
    CS_KDE_NEIGHBORS_FLAT = 0, /* exact search over every row */
    CS_KDE_NEIGHBORS_IVF = 1,  /* inverted file of k-means lists */
    CS_KDE_NEIGHBORS_HNSW = 2  /* hierarchical navigable small-world graph */
} cs_kde_neighbor_index;

/* Defaults of the neighbour fields of cs_kde_options. M = 32 is also the
 * default of FAISS's IndexHNSW constructor (FAISS 1.7.3 headers). */
#define CS_KDE_DEFAULT_NEIGHBORS 10
#define CS_KDE_DEFAULT_IVF_NPROBE 16
#define CS_KDE_DEFAULT_HNSW_M 32
#define CS_KDE_DEFAULT_HNSW_EF_CONSTRUCTION 40
#define CS_KDE_DEFAULT_HNSW_EF_SEARCH 64

/* Upper limits of the neighbour fields. FAISS stores HNSW links as int. */
#define CS_KDE_MAX_NEIGHBORS 1000000
#define CS_KDE_MAX_HNSW_M 1024

/* Defaults of cs_kde_options, set by cs_kde_options_init(). The sampled
 * bandwidth's 200,000 pairs give a standard error of about 1e-3 of h when
 * distances vary by 40% around their mean. On one thread of the machine
 * described above, drawing them took about 0.1 s, as long as the pass over
 * all pairs of 5,000 examples of d = 256, which sets the exact limit. */
#define CS_KDE_DEFAULT_REFERENCE_SIZE 5000
#define CS_KDE_DEFAULT_BANDWIDTH_PAIRS 200000
#define CS_KDE_DEFAULT_EXACT_BANDWIDTH_LIMIT 5000
#define CS_KDE_DEFAULT_TILE_SIZE 512

/* Upper limits of cs_kde_options.tile_size and .threads. */
#define CS_KDE_MAX_TILE_SIZE 4096
#define CS_KDE_MAX_THREADS 1024

/* Options for the cs_kde_ functions. Initialise with cs_kde_options_init(),
 * which sets struct_size and the defaults; the struct_size rules of
 * cs_tracker_options apply. Every field is checked, including those that
 * the chosen method does not use. */
typedef struct cs_kde_options {
    size_t struct_size;   /* sizeof(cs_kde_options) at compile time */
    cs_kde_method method; /* default CS_KDE_EXACT */
    double bandwidth;     /* h > 0 in the units of the features, or 0
                           * (default) for half the mean distance over
                           * pairs of the data (the reference set in query
                           * mode), see cs_kde_bandwidth() */
    int64_t reference_size;        /* CS_KDE_SAMPLED: M >= 1, the
                                    * reference set's size; M >= N means
                                    * the exact method. Default
                                    * CS_KDE_DEFAULT_REFERENCE_SIZE */
    int64_t bandwidth_pairs;       /* pairs >= 1 sampled for the automatic
                                    * bandwidth when N is above
                                    * bandwidth_exact_limit; default
                                    * CS_KDE_DEFAULT_BANDWIDTH_PAIRS */
    int64_t bandwidth_exact_limit; /* largest N >= 0 whose automatic
                                    * bandwidth averages over every pair;
                                    * default
                                    * CS_KDE_DEFAULT_EXACT_BANDWIDTH_LIMIT */
    uint64_t seed;     /* seeds the reference set and the sampled pairs;
                        * default 0 */
    int32_t tile_size; /* rows per tile, 1 .. CS_KDE_MAX_TILE_SIZE; default
                        * CS_KDE_DEFAULT_TILE_SIZE */
    int32_t threads;   /* worker threads, 0 .. CS_KDE_MAX_THREADS; 0
                        * (default) uses one per online CPU */

    /* Neighbour scores, used when the result sets a knn_ buffer (see
     * "Neighbour scores" above). A struct_size that ends before these
     * fields leaves them at their defaults. */
    cs_kde_neighbor_index neighbor_index; /* default CS_KDE_NEIGHBORS_FLAT */
    int64_t neighbors;   /* k, 1 .. CS_KDE_MAX_NEIGHBORS and at most N - 1
                          * (N reference examples in query mode); default
                          * CS_KDE_DEFAULT_NEIGHBORS */
    int64_t ivf_nlist;   /* IVF lists, 0 .. N; 0 (default) for
                          * min(N, round(4 sqrt(N))) */
    int64_t ivf_nprobe;  /* IVF lists scanned per query, >= 1, capped at
                          * the list count; default
                          * CS_KDE_DEFAULT_IVF_NPROBE */
    int32_t hnsw_m;      /* HNSW links per row (FAISS's M), 2 ..
                          * CS_KDE_MAX_HNSW_M; default
                          * CS_KDE_DEFAULT_HNSW_M */
    int32_t hnsw_ef_construction; /* HNSW candidates per insertion, >= 1;
                                   * default
                                   * CS_KDE_DEFAULT_HNSW_EF_CONSTRUCTION */
    int32_t hnsw_ef_search;       /* HNSW candidates per query, >= 1;
                                   * default
                                   * CS_KDE_DEFAULT_HNSW_EF_SEARCH */
} cs_kde_options;

/* Sets every field of *options to its default. */
CS_API void cs_kde_options_init(cs_kde_options *options);

/* Output buffers and figures of cs_kde_scores() and cs_kde_query().
 * Initialise with cs_kde_result_init(), then point the buffers you want at
 * arrays of n floats and leave the others NULL. The call writes the
 * buffers and the output fields only when it succeeds. */
typedef struct cs_kde_result {
    size_t struct_size; /* sizeof(cs_kde_result) at compile time */
    size_t n;           /* length of each buffer: the number of examples
                         * (queries for cs_kde_query()) */
    float *kde_pm;      /* KDE +-L per example, or NULL to skip */
    float *kde_l;       /* KDE L per example, or NULL to skip */
    float *kde_free;    /* class-free KDE per example, or NULL to skip */
    double bandwidth;   /* output: h used */
    double bandwidth_se; /* output: standard error of h, 0 when h was given
                          * or averaged over every pair */
    int64_t reference_count; /* output: reference examples summed over,
                              * N for the exact method; 0 when only knn_
                              * buffers are set */

    /* Neighbour scores (see "Neighbour scores" above), each NULL to skip.
     * A struct_size that ends before these fields leaves them unset. */
    float *knn_kde_pm;   /* KDE +-L over the k nearest neighbours */
    float *knn_kde_l;    /* KDE L over the k nearest neighbours */
    float *knn_kde_free; /* class-free KDE over the k nearest neighbours */
    float *knn_agree;    /* fraction of the k nearest neighbours that share
                          * the example's label */
    int64_t knn_missing; /* output: neighbour slots that the index left
                          * empty, over all examples; 0 for flat */
} cs_kde_result;

/* Sets struct_size, n = 0 and every other field to NULL or 0. */
CS_API void cs_kde_result_init(cs_kde_result *result);

/* Computes the three scores of every example among the others, and the
 * neighbour scores when a knn_ buffer is set.
 *
 * examples:  inputs N x d float32 with d = n_inputs >= 1 and N >= 2, all
 *            finite; labels N int32 in [0, n_classes), or NULL when only
 *            kde_free and knn_kde_free are requested. Row i is example i. Labels that are
 *            given are checked, and with CS_KDE_SAMPLED they stratify the
 *            reference set also when only kde_free is requested.
 * n_classes: C >= 1 when labels are given; ignored without labels.
 * options:   NULL for the defaults.
 * result:    result->n must equal N; at least one buffer set. Score i
 *            goes to index i.
 *
 * Automatic bandwidth: the mean distance over all N (N - 1) / 2 pairs when
 * N <= bandwidth_exact_limit (a tiled pass as costly as the exact sums),
 * else the mean over bandwidth_pairs pairs drawn uniformly with
 * replacement, with its standard error in result->bandwidth_se (half the
 * sample standard deviation of the distances over sqrt(pairs)).
 *
 * Memory during the call, besides the caller's arrays: CS_KDE_EXACT uses
 * 4 N d bytes for a shifted copy of the features, 8 N C bytes of sums and
 * 16 N bytes of bookkeeping. CS_KDE_SAMPLED uses 4 M d bytes for the
 * shifted reference set and 8 N bytes of bookkeeping, plus the exact
 * method's copy while the automatic bandwidth averages over every pair.
 * Each worker thread adds 4 T^2 + 8 T C bytes, and 4 T d more for
 * CS_KDE_SAMPLED, for tiles of T = tile_size rows. N = 60,000, d = 256,
 * C = 10 needs about 70 MB with the exact method and the default tile.
 * The neighbour scores add the memory stated under "Neighbour scores".
 *
 * Errors: CS_E_NULL_ARGUMENT (examples, inputs or result; labels when
 * kde_pm, kde_l, knn_kde_pm, knn_kde_l or knn_agree is requested),
 * CS_E_ZERO_SIZE (N, d or n_classes is 0), CS_E_INVALID_ARGUMENT (N = 1,
 * negative sizes, an option outside its range, struct_size too small, no
 * buffer set, a feature row more than 1e15 bandwidths from the mean row,
 * and with knn_ buffers: neighbors above N - 1, ivf_nlist above N, or N
 * above INT32_MAX with HNSW), CS_E_SIZE_MISMATCH (result->n differs from
 * N), CS_E_LABEL_OUT_OF_RANGE, CS_E_NONFINITE_FEATURE,
 * CS_E_ZERO_BANDWIDTH (automatic bandwidth with all feature rows
 * identical, or every sampled pair at distance 0), CS_E_UNSUPPORTED (a
 * knn_ buffer set in a build without FAISS), CS_E_EXTERNAL (FAISS failed;
 * the message has its text), CS_E_OVERFLOW, CS_E_OUT_OF_MEMORY. The
 * last-error record names the argument and, for a bad row or label, its
 * index and value. */
CS_API cs_status cs_kde_scores(const cs_examples *examples,
                               int32_t n_classes,
                               const cs_kde_options *options,
                               cs_kde_result *result);

/* Scores new points (held-out data, a test set, candidates for
 * out-of-distribution screening) against a reference set of N examples:
 * the sums above run over every reference example and exclude nothing,
 * and are divided by N.
 *
 * reference: as examples in cs_kde_scores(), except that N = 1 is allowed
 *            with a given bandwidth.
 * queries:   Q x d float32 with the reference's d, all finite; labels Q
 *            int32 in [0, n_classes), given or predicted by the caller,
 *            or NULL when only kde_free and knn_kde_free are requested.
 *            The reference's labels are needed for the labelled scores
 *            too.
 * result:    result->n must equal Q.
 *
 * To compare query scores with the reference's own scores, pass the
 * bandwidth that cs_kde_scores() reported; the automatic bandwidth here is
 * computed from the reference set alone. With CS_KDE_SAMPLED the
 * reference set is subsampled as in cs_kde_scores(). The neighbour scores
 * search every reference example, with neighbors at most N.
 *
 * Memory: as cs_kde_scores() for CS_KDE_SAMPLED, with the reference set in
 * place of the sample (M = N for CS_KDE_EXACT). Errors: as
 * cs_kde_scores(), plus CS_E_INVALID_ARGUMENT when the queries' d differs
 * from the reference's. */
CS_API cs_status cs_kde_query(const cs_examples *reference,
                              int32_t n_classes, const cs_examples *queries,
                              const cs_kde_options *options,
                              cs_kde_result *result);

/* Computes the automatic bandwidth of cs_kde_scores() for examples (labels
 * are not read): half the mean Euclidean distance over pairs i != j, by
 * the rule of bandwidth_exact_limit and bandwidth_pairs. options->bandwidth
 * is ignored. Writes *bandwidth and *standard_error (0 when every pair was
 * used) only on success. Errors: as cs_kde_scores(). */
CS_API cs_status cs_kde_bandwidth(const cs_examples *examples,
                                  const cs_kde_options *options,
                                  double *bandwidth, double *standard_error);

/* ------------------------------------------------------------------------
 * Arrays
 *
 * Readers for numpy .npy and .npz files and for columns of CSV files, such
 * as published C-scores. Each returns a cs_array that the library
 * allocates and the caller releases with cs_array_free(). Readers check
 * every size in a file against the file before allocating, and reject a
 * malformed file with CS_E_FORMAT and a message naming the file (for .npz
 * also the member) and the problem. The last-error record contains the
 * path and, where known, the byte offset or the line and column.
 * ------------------------------------------------------------------------ */

/* Element types of arrays. Values are part of the ABI. */
typedef enum cs_element_type {
    CS_ELEMENT_BOOL = 0,    /* 1 byte holding 0 or 1 */
    CS_ELEMENT_UINT8 = 1,   /* uint8_t */
    CS_ELEMENT_INT32 = 2,   /* int32_t */
    CS_ELEMENT_INT64 = 3,   /* int64_t */
    CS_ELEMENT_FLOAT32 = 4, /* float */
    CS_ELEMENT_FLOAT64 = 5  /* double */
} cs_element_type;

#define CS_ARRAY_MAX_DIMS 8

/* An array read from a file: count elements of one type in C order and in
 * the host's byte order. The library owns it, and data, until
 * cs_array_free(); the caller may change the values in place. Fields may
 * be appended in later versions, so never allocate or copy one yourself. */
typedef struct cs_array {
    cs_element_type type;
    int32_t ndim;                     /* 0 (a scalar) .. CS_ARRAY_MAX_DIMS */
    int64_t shape[CS_ARRAY_MAX_DIMS]; /* the first ndim entries are used */
    size_t count; /* elements: product of the shape, 1 for a scalar */
    void *data;   /* count elements */
} cs_array;

/* Releases an array and its data. */
CS_API void cs_array_free(cs_array *array);

/* Returns numpy's name of an element type ("bool", "uint8", "int32",
 * "int64", "float32", "float64"), or NULL for an unknown value. Static
 * storage. */
CS_API const char *cs_element_type_name(cs_element_type type);

/* Writes the array's count values, converted to double, to
 * values[0 .. count-1], e.g. to pass them to the statistics. int64 values
 * beyond 2^53 in magnitude are rounded to the nearest double. Errors:
 * CS_E_NULL_ARGUMENT, CS_E_INVALID_ARGUMENT (array->type is not a
 * cs_element_type value). */
CS_API cs_status cs_array_to_float64(const cs_array *array, double *values);

/* Reads a .npy file: format versions 1.0, 2.0 and 3.0; little- or
 * big-endian bool, uint8, int32, int64, float32 or float64; C order, or
 * Fortran order where at most one dimension exceeds 1 (the same layout).
 * On success *out owns a new array; on failure *out is set to NULL.
 * Errors: CS_E_NULL_ARGUMENT, CS_E_IO (cannot open or read),
 * CS_E_FORMAT (malformed, truncated, trailing bytes, unsupported dtype or
 * layout), CS_E_UNSUPPORTED_VERSION, CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_npy_read(const char *path, cs_array **out);

/* An open .npz archive: a zip file of .npy members, as numpy.savez()
 * (stored members) and numpy.savez_compressed() (deflated members) write
 * it, zip64 included. One cs_npz must not be used by two threads at once. */
typedef struct cs_npz cs_npz;

/* Opens an archive and lists its members. On success *out owns a new
 * handle that the caller releases with cs_npz_close(); on failure *out is
 * set to NULL. Errors: CS_E_NULL_ARGUMENT, CS_E_IO, CS_E_FORMAT (not a
 * zip archive, or inconsistent), CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_npz_open(const char *path, cs_npz **out);

/* Closes an archive. Arrays read from it stay valid. */
CS_API void cs_npz_close(cs_npz *npz);

/* Returns the number of members, or 0 if npz is NULL. */
CS_API size_t cs_npz_count(const cs_npz *npz);

/* Returns the key of member index (0 .. count-1): its name without the
 * ".npy" suffix, as numpy's NpzFile.files lists it ("scores" for
 * "scores.npy"). NULL if npz is NULL or index is out of range. The string
 * belongs to the handle and stays valid until cs_npz_close(). */
CS_API const char *cs_npz_key(const cs_npz *npz, size_t index);

/* Returns 1 if cs_npz_read() would find key, 0 if not, -1 if an argument
 * is NULL. */
CS_API int cs_npz_contains(const cs_npz *npz, const char *key);

/* Reads one member as cs_npy_read() reads a file. key is a member's key
 * or its full name ("scores" or "scores.npy"). On success *out owns a new
 * array; on failure *out is set to NULL. Errors: CS_E_NULL_ARGUMENT,
 * CS_E_INVALID_ARGUMENT (no such member; the message lists the keys),
 * CS_E_IO, CS_E_FORMAT (a corrupt deflate stream, a CRC mismatch, a
 * compression method other than stored or deflate, an encrypted member,
 * sizes that disagree, or a malformed .npy image),
 * CS_E_UNSUPPORTED_VERSION, CS_E_OVERFLOW (a member larger than the
 * address space), CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_npz_read(cs_npz *npz, const char *key, cs_array **out);

/* Reads columns of a CSV file by header name into float64 arrays.
 *
 * The file is RFC 4180 text: comma-separated fields, the first record the
 * header, fields optionally in double quotes (a quote inside written as
 * two), lines ending in LF or CRLF. Every record must have as many fields
 * as the header. A cell of a requested column must be empty or only
 * spaces (read as NaN) or a number that strtod() parses in the C locale,
 * such as 0.25, -1e-3, nan or inf, with optional spaces around it. Other
 * columns are not parsed.
 *
 * names:     n_names header names to read, each present exactly once in
 *            the header.
 * columns:   output, n_names pointers; on success columns[k] owns a new
 *            1-D array of the records' values in column names[k]. On
 *            failure every columns[k] is set to NULL.
 *
 * Errors: CS_E_NULL_ARGUMENT, CS_E_ZERO_SIZE (n_names is 0),
 * CS_E_INVALID_ARGUMENT (a requested name that is not in the header; the
 * message lists the header), CS_E_IO, CS_E_FORMAT (an empty file, a
 * requested name that the header repeats, a record with the wrong field
 * count, an unterminated quote, a cell that is not a number),
 * CS_E_OUT_OF_MEMORY. For CS_E_FORMAT the last-error record holds the
 * 1-based line and, for one cell, the 1-based field number as the column,
 * and the message names the file, the line and the column's header name. */
CS_API cs_status cs_csv_read_columns(const char *path,
                                     const char *const *names,
                                     size_t n_names, cs_array **columns);

/* ------------------------------------------------------------------------
 * Holdout estimator
 *
 * Ground-truth C-scores by the holdout procedure of the C-score paper cited
 * at the top of this header. For each subset ratio s (a whole percent R,
 * s = R / 100) and each run r = 0 .. k-1, a fresh model is trained on
 * n = round(s N) of the N examples drawn without replacement, and predicts
 * all N. The C-score of example j at ratio R is the share of the runs that
 * held j out in which the model predicted j's label. The integral C-score
 * is the mean over ratios (the paper uses 10, 20, ..., 90).
 *
 * Only two counts per example and ratio are kept: how many runs held the
 * example out, and how many of them predicted it correctly. Counts from
 * any number of processes add up, so runs can be spread over threads,
 * processes and machines and merged afterwards.
 *
 * Runs are reproducible alone. Run r of ratio R gets the seed
 * cs_holdout_run_seed(master_seed, R, r), which fixes its training subset
 * (cs_holdout_subset()) and is passed to the trainer for its
 * initialisation and shuffling.
 *
 * Record files. A handle may append every finished run to a record file
 * (cs_holdout_open_records()), flushed to disk after each run, so that a
 * crashed or killed job resumes where it stopped. The file starts with a
 * header naming what the runs belong to: N, the labels and their hash, the
 * trainer recipe text and the master seed. Each record that follows
 * contains the ratio, the run index, the seed, the training mask and the
 * correctness of every example as bit arrays, the test accuracy and the
 * seconds the run took, and a CRC-32 of its own. Layout, all integers and
 * IEEE-754 doubles little-endian:
 *
 *   header   magic "CSHOLDRC", uint32 version 1, uint32 header size H,
 *            uint64 N, uint64 label hash, uint64 master seed, uint32
 *            recipe length L, L bytes of recipe text, N int32 labels,
 *            uint32 CRC-32 (zlib's crc32) of the H - 4 bytes before it.
 *   record   "RUN" and a zero byte, int32 ratio, int32 run, uint32 0,
 *            uint64 seed, double test accuracy (NaN if unknown), double
 *            seconds, ceil(N / 8) bytes of training mask, as many of
 *            correctness (bit j of both is bit j % 8 of byte j / 8, 1 for
 *            trained on and correct), uint32 CRC-32 of the record's bytes
 *            before it.
 *
 * The label hash is 64-bit FNV-1a over the labels' int32 little-endian
 * bytes. A record whose CRC fails is accepted as torn, and dropped, only
 * when it is the last one in the file and nothing follows it, or when it
 * is cut short at the end of the file; anywhere else it is an error.
 *
 * Threads: a cs_holdout must not be used by two threads at once, but
 * cs_holdout_run() itself runs its workers in threads of its own.
 * Functions that take no handle may be called from any thread.
 * ------------------------------------------------------------------------ */

/* Limits: ratios are whole percents 1 .. 99, at most one entry per
 * percent; run indices are 0 .. CS_HOLDOUT_MAX_RUNS - 1, which keeps every
 * count within int32; recipe texts have at most
 * CS_HOLDOUT_MAX_RECIPE_LENGTH bytes; cs_holdout_run() starts at most
 * CS_HOLDOUT_MAX_WORKERS workers. */
#define CS_HOLDOUT_MAX_RATIOS 99
#define CS_HOLDOUT_MAX_RUNS (1 << 24)
#define CS_HOLDOUT_MAX_RECIPE_LENGTH 65536
#define CS_HOLDOUT_MAX_WORKERS 1024

/* Returns the seed of run `run` of ratio `ratio`:
 *
 *   mix(master_seed ^ mix(ratio * 2^32 + run))
 *
 * where mix is splitmix64's output function (z ^= z >> 30;
 * z *= 0xbf58476d1ce4e5b9; z ^= z >> 27; z *= 0x94d049bb133111eb;
 * z ^= z >> 31, in 64-bit unsigned arithmetic). mix is a bijection, so
 * under one master seed every (ratio, run) pair gets its own seed. The
 * arguments are not checked: negative values are converted to uint32. */
CS_API uint64_t cs_holdout_run_seed(uint64_t master_seed, int32_t ratio,
                                    int32_t run);

/* Returns round(ratio * n / 100), rounding halves up, computed without
 * overflow: the training subset size of a ratio. Returns 0 for a ratio
 * outside 1 .. 99. */
CS_API size_t cs_holdout_subset_size(size_t n, int32_t ratio);

/* Writes the training subset of a run to indices, in increasing order.
 *
 * The subset is the first n_indices entries of a partial Fisher-Yates
 * shuffle of 0 .. n-1: for i = 0, 1, ..., n_indices - 1, swap entry i with
 * entry i + u_i, where u_i is uniform in [0, n - i), drawn from an
 * xoshiro256** stream seeded through splitmix64 with run_seed ^
 * 0x6a09e667f3bcc909 (so the stream differs from the ones the built-in
 * trainer derives from the same seed). Each u_i is x mod m for m = n - i
 * and the first 64-bit output x below M - (M mod m), where M = 2^64 - 1,
 * so that every residue is equally likely.
 *
 * n_indices must equal cs_holdout_subset_size(n, ratio). Allocates 9 n
 * bytes for the duration of the call. Errors: CS_E_NULL_ARGUMENT,
 * CS_E_ZERO_SIZE (n is 0), CS_E_INVALID_ARGUMENT (ratio outside 1 .. 99,
 * a subset that is empty or all of n, n_indices wrong), CS_E_OVERFLOW,
 * CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_holdout_subset(uint64_t run_seed, size_t n,
                                   int32_t ratio, int64_t *indices,
                                   size_t n_indices);

/* What the estimator should compute. Initialise with
 * cs_holdout_options_init(); the struct_size rules of cs_tracker_options
 * apply.
 *
 * The plan is every run 0 .. runs-1 of every listed ratio, restricted to
 * one slice when slice_count > 1. Slices split the plan into slice_count
 * parts of about equal training cost, the same on every machine, so that
 * separate processes given slice 0, 1, ... of the same options do
 * disjoint runs that together cover the plan. The split lists the runs by
 * ratio from the largest down, and by run index within a ratio, and deals
 * them to slices 0, 1, ..., c-1, c-1, ..., 1, 0, 0, 1, ... in turn (c =
 * slice_count). */
typedef struct cs_holdout_options {
    size_t struct_size; /* sizeof(cs_holdout_options) at compile time */
    int32_t n_ratios;   /* entries of ratios in use, 1 ..
                         * CS_HOLDOUT_MAX_RATIOS; default 0, must be set */
    int32_t ratios[CS_HOLDOUT_MAX_RATIOS]; /* distinct whole percents in
                         * 1 .. 99, in any order */
    int32_t runs;        /* k runs per ratio, 1 .. CS_HOLDOUT_MAX_RUNS;
                          * default 1 */
    uint64_t seed;       /* master seed of every run's seed; default 0 */
    int32_t workers;     /* runs trained at the same time by
                          * cs_holdout_run(), 1 .. CS_HOLDOUT_MAX_WORKERS;
                          * default 1 */
    int32_t slice_index; /* 0 .. slice_count - 1; default 0 */
    int32_t slice_count; /* slices of the plan, >= 1; default 1 */
} cs_holdout_options;

/* Sets every field of *options to its default. */
CS_API void cs_holdout_options_init(cs_holdout_options *options);

/* What the estimator passes to the trainer for each run. The arrays
 * belong to the estimator and are valid only during the call. */
typedef struct cs_holdout_run_info {
    size_t struct_size;           /* sizeof(cs_holdout_run_info) in the
                                   * library */
    int32_t ratio;                /* whole percent */
    int32_t run;                  /* run index within the ratio */
    uint64_t seed;                /* cs_holdout_run_seed() of the run; seed
                                   * the model's initialisation and data
                                   * order from it */
    const int64_t *train_indices; /* n_train example ids in increasing
                                   * order: the training subset */
    size_t n_train;
    size_t n_examples;            /* N: predictions to write */
    int32_t worker;               /* 0 .. workers-1, the worker thread
                                   * calling; lets a trainer keep one model
                                   * per worker */
} cs_holdout_run_info;

/* A trainer the estimator calls. A user's trainer fills this in with its
 * own functions; cs_holdout_mlp_trainer() fills it in for the built-in
 * MLP. Only `train` is required. */
typedef struct cs_holdout_trainer {
    size_t struct_size; /* sizeof(cs_holdout_trainer) at compile time */

    /* Called once by cs_holdout_run() before the first run with the
     * number of workers it will start, e.g. to create one model per
     * worker. A status other than CS_OK ends cs_holdout_run() with that
     * status before any run. May be NULL. */
    cs_status (*begin)(int32_t workers, void *user_data);

    /* Trains a fresh model on run->train_indices and writes the predicted
     * class of every example 0 .. N-1 to predicted[0 .. N-1]. May set
     * *test_accuracy (NaN on entry) to the model's accuracy on a test set.
     * Called from `workers` threads at once, each with its own
     * run->worker. A status other than CS_OK stops the estimator, so
     * workers finish the runs they have started and take no new ones.
     * cs_holdout_run() then returns that status with a message that names
     * the run and includes the trainer's own message, if it recorded one
     * in its thread. */
    cs_status (*train)(const cs_holdout_run_info *run, int32_t *predicted,
                       double *test_accuracy, void *user_data);

    /* Called once after the last run, also after a failure, whenever
     * begin succeeded or was NULL. May be NULL. */
    void (*end)(void *user_data);

    void *user_data; /* passed to the three functions */
} cs_holdout_trainer;

/* What cs_holdout_run() passes to its progress callback after each
 * finished run, once the run is counted and recorded. */
typedef struct cs_holdout_progress {
    size_t struct_size;        /* sizeof(cs_holdout_progress) in the
                                * library */
    int32_t ratio;             /* whole percent */
    int32_t run;               /* run index within the ratio */
    uint64_t seed;             /* the run's seed */
    int64_t runs_done;         /* runs of the plan counted so far, this
                                * one included */
    int64_t runs_planned;      /* runs in the plan */
    int64_t call_runs_done;    /* runs finished by this cs_holdout_run()
                                * call, this one included */
    int64_t call_runs_total;   /* runs this call set out to do: the plan's
                                * runs not yet counted when it started */
    double heldout_accuracy;   /* share of the held-out examples that the
                                * model predicted correctly */
    double test_accuracy;      /* as the trainer reported it, or NaN */
    double train_seconds;      /* wall-clock seconds of the trainer call */
} cs_holdout_progress;

/* Called after each finished run from the worker that ran it, never from
 * two threads at once. Return CS_OK to go on. Any other status stops the
 * estimator as a failing trainer does, and cs_holdout_run() returns it
 * unchanged with whatever last-error record the callback left. Once the
 * estimator is stopping, runs that still finish are counted and recorded
 * without a call. */
typedef cs_status (*cs_holdout_progress_fn)(
    const cs_holdout_progress *progress, void *user_data);

/* Figures of a handle since it was created. */
typedef struct cs_holdout_summary {
    size_t struct_size;        /* sizeof(cs_holdout_summary) at compile
                                * time */
    int64_t runs_planned;      /* runs in the plan, or -1 for a handle made
                                * by cs_holdout_create_from_records() */
    int64_t runs_done;         /* counted runs, added counts included */
    int64_t records_read;      /* valid records read from record files */
    int64_t records_duplicate; /* of those, runs already counted, which
                                * were not counted again */
    int64_t records_outside;   /* of those, runs outside the plan, which
                                * stay in the file but are not counted */
    int64_t records_torn;      /* torn last records dropped */
    double train_seconds;      /* wall-clock seconds inside the trainer's
                                * train function, summed over runs */
    double overhead_seconds;   /* wall-clock seconds the workers spent on
                                * each run outside the trainer: drawing
                                * the subset, counting, encoding and
                                * appending the record with its fsync, and
                                * waiting for the handle's lock, summed
                                * over runs. The progress callback is not
                                * included. */
} cs_holdout_summary;

/* Accumulated counts and the plan of one estimate. */
typedef struct cs_holdout cs_holdout;

/* Creates an estimate with no runs counted.
 *
 * options: the plan; see cs_holdout_options.
 * labels:  N int32 class labels >= 0; copied.
 * n:       N >= 2, and every ratio must leave at least one example on each
 *          side: 1 <= cs_holdout_subset_size(N, R) <= N - 1.
 * recipe:  text naming the trainer and its settings, at most
 *          CS_HOLDOUT_MAX_RECIPE_LENGTH bytes before its NUL; copied. It
 *          goes into record file headers, and runs of another recipe are
 *          never mixed in. For the built-in trainer use
 *          cs_holdout_mlp_recipe().
 *
 * On success *out owns a new handle that the caller releases with
 * cs_holdout_free(); on failure *out is set to NULL. Memory: 4 N bytes
 * plus 8 N bytes per ratio. Errors: CS_E_NULL_ARGUMENT, CS_E_ZERO_SIZE,
 * CS_E_INVALID_ARGUMENT (an option outside its range, a repeated ratio, a
 * ratio whose subset is empty or all of N, a recipe too long,
 * struct_size too small), CS_E_LABEL_OUT_OF_RANGE (a negative label),
 * CS_E_OVERFLOW, CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_holdout_create(const cs_holdout_options *options,
                                   const int32_t *labels, size_t n,
                                   const char *recipe, cs_holdout **out);

/* Creates an estimate from a record file alone: N, the labels, the recipe
 * and the master seed come from its header, and every valid record is
 * counted, whatever its ratio or run. The handle has no plan, so
 * cs_holdout_run() rejects it; add more files with
 * cs_holdout_merge_records(). The file is only read, and a torn last
 * record is skipped, not removed. Errors: as cs_holdout_merge_records(),
 * and CS_E_NULL_ARGUMENT. */
CS_API cs_status cs_holdout_create_from_records(const char *path,
                                                cs_holdout **out);

/* Releases a handle, closing its record file. */
CS_API void cs_holdout_free(cs_holdout *holdout);

/* Returns the handle's recipe text, owned by the handle and valid until
 * cs_holdout_free(), or NULL if holdout is NULL. */
CS_API const char *cs_holdout_recipe(const cs_holdout *holdout);

/* Returns N, the number of examples, or -1 if holdout is NULL. */
CS_API int64_t cs_holdout_n_examples(const cs_holdout *holdout);

/* Opens the record file that cs_holdout_run() appends to, creating it when
 * path does not exist, and counts the runs it already holds.
 *
 * A new file is written with its header under a temporary name and linked
 * into place, so that it never exists half-written. A process killed
 * meanwhile may leave that name (path, ".tmp." and six random characters)
 * behind, which can be deleted. An existing file must
 * have a header equal to the handle's, or else the call fails with
 * CS_E_RECORDS_MISMATCH. The message names the first field that differs
 * (N, labels, master seed, recipe), and the last-error record's value is
 * that field: "n", "labels", "master_seed" or "recipe".
 *
 * The file's records are checked (CRC, a ratio in 1 .. 99, a run index in
 * range, the seed that cs_holdout_run_seed() gives, a training mask of the
 * subset's size), and those of runs in the plan not yet counted are
 * counted. A torn last record is cut off the file. The file stays open
 * with an exclusive flock(2) lock until the handle is freed or opens
 * another record file, so a second process or handle cannot append to it
 * at the same time. On a file system without flock(2) locks (the call
 * fails with ENOLCK or EINVAL) the file is used without a lock.
 *
 * On failure the handle is unchanged and keeps its earlier record file,
 * if any. The file is unchanged too, except that a torn last record may
 * already be cut off, and that a file the call created stays with its
 * header. Errors: CS_E_NULL_ARGUMENT,
 * CS_E_IO (the file cannot be created, read, locked or truncated),
 * CS_E_FORMAT (not a record file, or a record with impossible contents),
 * CS_E_CHECKSUM (a damaged header, or a damaged record other than the
 * last), CS_E_UNSUPPORTED_VERSION, CS_E_RECORDS_MISMATCH,
 * CS_E_OUT_OF_MEMORY. The last-error record gives the path and, for a bad
 * record, its byte offset. */
CS_API cs_status cs_holdout_open_records(cs_holdout *holdout,
                                         const char *path);

/* Reads a record file, for example one written by another process, and
 * counts its runs that are in the handle's plan and not yet counted, so
 * that a run found in several files counts once. The file is only read: a
 * torn last record is skipped, not removed, so a file still being written
 * can be merged. The header must equal the handle's as for
 * cs_holdout_open_records(). On failure the handle is unchanged. Errors:
 * as cs_holdout_open_records(). */
CS_API cs_status cs_holdout_merge_records(cs_holdout *holdout,
                                          const char *path);

/* Runs every run of the plan not yet counted, options.workers at a time.
 *
 * Runs start in order of run index, and within one run index in the order
 * of options.ratios. Each worker draws the run's subset, calls
 * trainer->train, and then, holding the handle's lock, appends the record
 * to the record file (with fsync(2)) when one is open, adds the run to
 * the counts, and calls progress. The counts are sums of integers, so the
 * result does not depend on the worker count or on the order in which
 * runs finish.
 *
 * trainer:  see cs_holdout_trainer; copied for the call.
 * progress: called after each run, or NULL.
 *
 * A call with nothing left to run succeeds at once without calling the
 * trainer. On failure, runs that finished before it stay counted and
 * recorded, so calling again resumes. Memory: per worker about 14 N bytes
 * plus 8 bytes per example of the largest training subset.
 *
 * Errors: CS_E_NULL_ARGUMENT, CS_E_INVALID_ARGUMENT (trainer->train NULL,
 * struct_size too small, a handle without a plan or with added counts),
 * CS_E_OUT_OF_MEMORY, CS_E_IO (appending a record failed; the file is
 * cut back to its last whole record), or the status of a failing trainer
 * or progress callback. */
CS_API cs_status cs_holdout_run(cs_holdout *holdout,
                                const cs_holdout_trainer *trainer,
                                cs_holdout_progress_fn progress,
                                void *user_data);

/* Copies the handle's figures into *summary, writing at most
 * summary->struct_size bytes, which the caller sets first. Errors:
 * CS_E_NULL_ARGUMENT, CS_E_INVALID_ARGUMENT (struct_size too small). */
CS_API cs_status cs_holdout_get_summary(const cs_holdout *holdout,
                                        cs_holdout_summary *summary);

/* Writes the ratios of the estimate in increasing order to ratios and
 * their number to *count: the planned ratios, or for a handle made from
 * record files the ratios with at least one counted run. capacity is
 * the room in ratios; CS_HOLDOUT_MAX_RATIOS always suffices, and ratios
 * may be NULL with capacity 0 to ask for the count alone. Errors:
 * CS_E_NULL_ARGUMENT, CS_E_INVALID_ARGUMENT (capacity too small). */
CS_API cs_status cs_holdout_ratios(const cs_holdout *holdout,
                                   int32_t *ratios, size_t capacity,
                                   size_t *count);

/* Computes the per-example results of one ratio into N-element arrays;
 * any of them may be NULL to skip it.
 *
 * score: mean correctness over the counted runs that held the example
 *        out, or NaN when none did.
 * count: number of those runs (0 for NaN scores).
 * se:    binomial standard error sqrt(p (1 - p) / count) of score p, or
 *        NaN when count is 0.
 *
 * n must equal N. Errors: CS_E_NULL_ARGUMENT (holdout), CS_E_SIZE_MISMATCH,
 * CS_E_INVALID_ARGUMENT (a ratio not listed by cs_holdout_ratios()). */
CS_API cs_status cs_holdout_scores(const cs_holdout *holdout, int32_t ratio,
                                   double *score, int32_t *count, double *se,
                                   size_t n);

/* Computes the results across ratios into N-element arrays; either may be
 * NULL to skip it. integral is the mean over the ratios of
 * cs_holdout_ratios() of the scores that are not NaN, and NaN only when
 * all are. heldout_count is the total of the counts over those ratios.
 * Errors: as cs_holdout_scores(), without the ratio. */
CS_API cs_status cs_holdout_integral(const cs_holdout *holdout,
                                     double *integral,
                                     int32_t *heldout_count, size_t n);

/* Copies the raw counts of one ratio: heldout[j] runs held example j out,
 * correct[j] of them predicted it correctly, and *runs runs were counted.
 * Any output may be NULL. Errors: as cs_holdout_scores(). */
CS_API cs_status cs_holdout_counts(const cs_holdout *holdout, int32_t ratio,
                                   int32_t *heldout, int32_t *correct,
                                   size_t n, int64_t *runs);

/* Adds counts computed elsewhere to one ratio, for example the sum over
 * MPI ranks that each ran their own slice. The caller vouches that those
 * runs were not counted here already: the handle cannot tell which runs
 * they were, so afterwards it reports results but cs_holdout_run()
 * rejects it. ratio must be planned (any 1 .. 99 for a handle without a
 * plan). Every count is checked before anything is added:
 * 0 <= correct[j] <= heldout[j] <= runs, and the totals must stay within
 * CS_HOLDOUT_MAX_RUNS runs. Errors: CS_E_NULL_ARGUMENT,
 * CS_E_SIZE_MISMATCH, CS_E_INVALID_ARGUMENT, CS_E_OVERFLOW,
 * CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_holdout_add_counts(cs_holdout *holdout, int32_t ratio,
                                       const int32_t *heldout,
                                       const int32_t *correct, size_t n,
                                       int64_t runs);

/* Writes a .npz archive that numpy.load() reads, with labels (int32) and,
 * for each ratio R of cs_holdout_ratios(), score_sR (float64), count_sR
 * (int32) and se_sR (float64), then integral (float64) and heldout_count
 * (int32), each of length N; for example score_s50 for ratio 50. Written
 * to a temporary file and renamed. Errors: CS_E_NULL_ARGUMENT, CS_E_IO,
 * CS_E_OVERFLOW, CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_holdout_export_npz(const cs_holdout *holdout,
                                       const char *path);

/* The built-in MLP trainer as a cs_holdout_trainer. Each worker keeps one
 * cs_trainer. Each run calls cs_trainer_reset() with the run's seed and
 * cs_trainer_fit() on the subset without a callback, then
 * cs_trainer_predict_labels() on all N training examples and
 * cs_trainer_accuracy() on the test set, if any. */
typedef struct cs_holdout_mlp cs_holdout_mlp;

/* Creates the built-in trainer for one data set.
 *
 * recipe: trainer options; n_inputs and n_classes must match the data.
 *         seed is ignored (each run has its own). threads applies as in
 *         cs_trainer_options with one worker. With more workers it must be
 *         0 or 1: every trainer then runs single-threaded, and
 *         cs_holdout_run() sets OpenBLAS's global thread count to 1 for
 *         the call and restores it afterwards.
 * train:  the N examples of the estimate, in the order of its labels.
 * test:   examples for the test accuracy of each run, or NULL.
 *
 * Nothing is copied: train and test must stay valid while the trainer is
 * used. The recipe text (cs_holdout_mlp_recipe()) lists the options other
 * than seed and threads and a 64-bit FNV-1a hash of the training inputs,
 * so a record file cannot resume with other data. On success *out owns a
 * new trainer that the caller releases with cs_holdout_mlp_free(). Errors:
 * those of cs_trainer_create() for the options, and
 * CS_E_INVALID_ARGUMENT when recipe and data disagree, CS_E_NULL_ARGUMENT,
 * CS_E_ZERO_SIZE, CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_holdout_mlp_create(const cs_trainer_options *recipe,
                                       const cs_examples *train,
                                       const cs_examples *test,
                                       cs_holdout_mlp **out);

/* Releases the built-in trainer. */
CS_API void cs_holdout_mlp_free(cs_holdout_mlp *mlp);

/* Returns the recipe text to pass to cs_holdout_create(), owned by mlp and
 * valid until cs_holdout_mlp_free(), or NULL if mlp is NULL. */
CS_API const char *cs_holdout_mlp_recipe(const cs_holdout_mlp *mlp);

/* Fills *trainer with the built-in trainer's functions and mlp as their
 * user data. One cs_holdout_mlp must not serve two cs_holdout_run() calls
 * at once. Errors: CS_E_NULL_ARGUMENT, CS_E_INVALID_ARGUMENT
 * (struct_size too small). */
CS_API cs_status cs_holdout_mlp_trainer(cs_holdout_mlp *mlp,
                                        cs_holdout_trainer *trainer);

#ifdef __cplusplus
}
#endif

#endif /* CSCORE_H */
