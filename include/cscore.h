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
 * Threads: functions that take no handle are safe to call from any thread.
 * One cs_tracker must not be used by two threads at once, and that includes
 * read-only getters running while another thread observes. Distinct
 * trackers may be used from distinct threads without locking. The last-error
 * record is per thread.
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
    X(CS_E_SIZE_MISMATCH, 4, "n does not equal the tracker's example count")  \
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
    X(CS_E_UNSUPPORTED_VERSION, 23, "a file has an unsupported format version")

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
    /* The first observation stands; later ones in the same epoch are
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
 * Memory: about 64 bytes per example, plus 4 * d bytes per example when
 * feature_dim = d > 0, plus 18 bytes per example and epoch with history on
 * (observed and correct flags, p_L, p_max, margin and EL2N per epoch).
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
 * CS_E_OUT_OF_MEMORY (starting an epoch's history). */
CS_API cs_status cs_observe_batch(cs_tracker *tracker,
                                  const float *predictions,
                                  const int32_t *labels, const int64_t *ids,
                                  const float *features, size_t n);

/* Ends the current epoch; the next observation belongs to the next epoch.
 * Epochs are numbered from 1. An epoch with no observations is allowed (a
 * data-parallel worker may see none) and still counts as an epoch.
 * Errors: CS_E_NULL_ARGUMENT, CS_E_OUT_OF_MEMORY (history of an epoch with
 * no observations). */
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

/* Merges src into dst: dst afterwards holds the union of both trackers'
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
 * CS_E_LABEL_CHANGED, CS_E_EPOCH_OPEN, CS_E_OUT_OF_MEMORY. */
CS_API cs_status cs_tracker_merge(cs_tracker *dst, const cs_tracker *src);

/* Writes the whole tracker state to path: a versioned binary format with a
 * CRC-32 over the contents, written to a temporary file in the same folder,
 * flushed to disk and renamed over path, so a crash leaves either the old
 * file or the new one. Errors: CS_E_NULL_ARGUMENT, CS_E_IO. */
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

#ifdef __cplusplus
}
#endif

#endif /* CSCORE_H */
