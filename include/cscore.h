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
 * file or the new one. Errors: CS_E_NULL_ARGUMENT, CS_E_IO,
 * CS_E_OUT_OF_MEMORY. */
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
 * train_count negative or more than the training file holds), CS_E_IO (a
 * file missing or unreadable), CS_E_FORMAT (a file malformed, truncated,
 * longer than its header declares, of another element type or shape than
 * above, or images and labels of one split with different counts),
 * CS_E_OUT_OF_MEMORY. The last-error record names the file in path and
 * message. For CS_E_FORMAT, offset is the byte at which the problem was
 * found, counted in the decompressed stream for .gz files, or -1 for a
 * corrupt gzip stream, whose damage zlib does not locate. */
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
 * Random numbers come from xoshiro256** seeded through splitmix64: one
 * stream seeded from seed draws the initial weights, layer by layer from
 * the input side, weights (row-major, out x in) before biases; a second
 * stream seeded from seed + 1 draws each epoch's order of the training
 * examples, a uniform permutation made by Fisher-Yates.
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
                              * epoch holds what remains. */
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
 * element outside the subset when one is given; the pairs left are counted
 * in *n_used. Infinities are ordinary values that sort below or above all
 * finite ones. -0.0 and +0.0 are tied.
 *
 * Where a statistic is undefined (fewer than 2 pairs, every x or every y
 * equal, or for the AUROC a single class) the call still succeeds and the
 * value is NaN, as in scipy.stats, so that a table over many classes or
 * subsets can be filled in one pass. Outputs are written only on success.
 *
 * Limits: at most 2^32 - 1 pairs after filtering (CS_E_OVERFLOW beyond).
 * Time is O(n log n) for Kendall's tau-b and O(n) after one radix sort per
 * side for the others; memory is about 40 bytes per element, freed before
 * returning. Nothing is kept between calls, so every function here may run
 * in many threads at once.
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
 * Time: B times one statistic on m pairs without its initial sorts, e.g.
 * an estimated 3 s for Spearman and 6 s for Kendall with B = 1000 and
 * m = 50,000 on one core.
 *
 * Errors: those of the statistic's function, CS_E_INVALID_ARGUMENT (an
 * unknown statistic, resamples < 1, confidence outside (0, 1), struct_size
 * too small). */
CS_API cs_status cs_bootstrap_interval(cs_statistic statistic,
                                       const double *x, const double *y,
                                       size_t n, const cs_subset *subset,
                                       const cs_bootstrap_options *options,
                                       cs_interval *out);

#ifdef __cplusplus
}
#endif

#endif /* CSCORE_H */
