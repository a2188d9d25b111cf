/*
 * Helpers shared by the tracker tests: tracker construction, a seeded
 * random generator, batch feeding, snapshots of every getter for
 * bit-for-bit comparisons, last-error checks and temporary folders.
 * Header-only, and every function is static.
 */
#ifndef TRACKER_FIXTURES_H
#define TRACKER_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cscore.h"

/* Creates a tracker with the given options and fails the test if that
 * fails. */
static inline cs_tracker *tf_create(int64_t n_examples, int32_t n_classes,
                                    cs_input_kind input_kind,
                                    int32_t feature_dim, int32_t keep_history,
                                    cs_repeat_policy repeat_policy)
{
    cs_tracker_options options;
    cs_tracker *tracker = NULL;

    cs_tracker_options_init(&options);
    options.n_examples = n_examples;
    options.n_classes = n_classes;
    options.input_kind = input_kind;
    options.feature_dim = feature_dim;
    options.keep_history = keep_history;
    options.repeat_policy = repeat_policy;
    assert_int_equal(cs_tracker_create(&options, &tracker), CS_OK);
    assert_non_null(tracker);
    return tracker;
}

/* xorshift64*: a small seeded generator so that every run feeds the same
 * numbers. The state must start nonzero. */
static inline uint64_t tf_random_u64(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * UINT64_C(2685821657736338717);
}

/* Uniform double in [0, 1). */
static inline double tf_random_uniform(uint64_t *state)
{
    return (double)(tf_random_u64(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* Fills values[0 .. count-1] with uniform floats in [low, high). */
static inline void tf_fill_uniform(float *values, size_t count,
                                   uint64_t *state, double low, double high)
{
    for (size_t i = 0; i < count; i++)
        values[i] = (float)(low + (high - low) * tf_random_uniform(state));
}

/* Fills labels[0 .. count-1] with uniform labels in [0, n_classes). */
static inline void tf_fill_labels(int32_t *labels, size_t count,
                                  uint64_t *state, int32_t n_classes)
{
    for (size_t i = 0; i < count; i++)
        labels[i] = (int32_t)(tf_random_u64(state) % (uint64_t)n_classes);
}

/* Shuffles ids[0 .. count-1] in place (Fisher-Yates). */
static inline void tf_shuffle(int64_t *ids, size_t count, uint64_t *state)
{
    for (size_t i = count; i > 1; i--) {
        const size_t j = (size_t)(tf_random_u64(state) % i);
        const int64_t swap = ids[i - 1];
        ids[i - 1] = ids[j];
        ids[j] = swap;
    }
}

/* Converts each row of logits into float32 softmax probabilities,
 * computed in double. */
static inline void tf_softmax_rows(const float *logits, float *probabilities,
                                   size_t rows, int32_t n_classes)
{
    for (size_t r = 0; r < rows; r++) {
        const float *row = logits + r * (size_t)n_classes;
        double max = row[0];
        double sum = 0.0;

        for (int32_t k = 1; k < n_classes; k++)
            max = row[k] > max ? row[k] : max;
        for (int32_t k = 0; k < n_classes; k++)
            sum += exp((double)row[k] - max);
        for (int32_t k = 0; k < n_classes; k++)
            probabilities[r * (size_t)n_classes + (size_t)k] =
                (float)(exp((double)row[k] - max) / sum);
    }
}

/* Observes the rows ids[0 .. count-1] of a whole-epoch array (row i is
 * example i) in batches of batch_sizes[0], batch_sizes[1], ..., starting
 * over after batch_sizes[n_sizes - 1], and fails the test if any call
 * fails. The last batch contains the remaining rows. features is N x d
 * or NULL. */
static inline void
tf_observe_rows(cs_tracker *tracker, const float *predictions,
                const int32_t *labels, const float *features,
                int32_t n_classes, int32_t feature_dim, const int64_t *ids,
                size_t count, const size_t *batch_sizes, size_t n_sizes)
{
    const size_t c = (size_t)n_classes;
    const size_t d = (size_t)feature_dim;
    float *batch_predictions = malloc(count * c * sizeof(float));
    int32_t *batch_labels = malloc(count * sizeof(int32_t));
    float *batch_features = malloc((count * d + 1) * sizeof(float));
    size_t start = 0;
    size_t size_index = 0;

    assert_non_null(batch_predictions);
    assert_non_null(batch_labels);
    assert_non_null(batch_features);

    while (start < count) {
        size_t size = batch_sizes[size_index % n_sizes];

        size_index++;
        if (size > count - start)
            size = count - start;

        for (size_t r = 0; r < size; r++) {
            const size_t id = (size_t)ids[start + r];

            memcpy(batch_predictions + r * c, predictions + id * c,
                   c * sizeof(float));
            batch_labels[r] = labels[id];
            if (features != NULL)
                memcpy(batch_features + r * d, features + id * d,
                       d * sizeof(float));
        }
        assert_int_equal(cs_observe_batch(tracker, batch_predictions,
                                          batch_labels, ids + start,
                                          features != NULL ? batch_features
                                                           : NULL,
                                          size),
                         CS_OK);
        start += size;
    }

    free(batch_predictions);
    free(batch_labels);
    free(batch_features);
}

/* ------------------------------------------------------------------------
 * Snapshots
 * ------------------------------------------------------------------------ */

/* Everything the public getters return for one tracker. */
typedef struct tf_snapshot {
    cs_tracker_options options;
    int32_t epochs;
    int64_t repeats_dropped;
    size_t n;
    int32_t *ints[CS_PROXY_COUNT]; /* integer proxies, else NULL */
    float *floats[CS_PROXY_COUNT]; /* float proxies, else NULL */
    int32_t *labels;
    int32_t *epochs_observed;
    float *features;        /* N x d, NULL when d = 0 */
    int32_t history_epochs; /* ended epochs, plus an open one */
    uint8_t *hist_observed; /* history_epochs x N */
    uint8_t *hist_correct;
    float *hist_p_l;
    float *hist_p_max;
} tf_snapshot;

/* Copies every getter's output into *snapshot. Call it only after the
 * last-error record has been checked: probing the open epoch's history may
 * fail and overwrite that record. */
static inline void tf_snapshot_take(const cs_tracker *tracker,
                                    tf_snapshot *snapshot)
{
    memset(snapshot, 0, sizeof(*snapshot));
    cs_tracker_options_init(&snapshot->options);
    assert_int_equal(cs_tracker_get_options(tracker, &snapshot->options),
                     CS_OK);
    snapshot->epochs = cs_tracker_epochs(tracker);
    snapshot->repeats_dropped = cs_tracker_repeats_dropped(tracker);
    snapshot->n = (size_t)snapshot->options.n_examples;

    const size_t n = snapshot->n;

    for (int p = 0; p < CS_PROXY_COUNT; p++) {
        if (cs_proxy_is_integer((cs_proxy)p) == 1) {
            snapshot->ints[p] = malloc(n * sizeof(int32_t));
            assert_non_null(snapshot->ints[p]);
            assert_int_equal(cs_tracker_proxy_i32(tracker, (cs_proxy)p,
                                                  snapshot->ints[p], n),
                             CS_OK);
        } else {
            snapshot->floats[p] = malloc(n * sizeof(float));
            assert_non_null(snapshot->floats[p]);
            assert_int_equal(cs_tracker_proxy_f32(tracker, (cs_proxy)p,
                                                  snapshot->floats[p], n),
                             CS_OK);
        }
    }

    snapshot->labels = malloc(n * sizeof(int32_t));
    snapshot->epochs_observed = malloc(n * sizeof(int32_t));
    assert_non_null(snapshot->labels);
    assert_non_null(snapshot->epochs_observed);
    assert_int_equal(cs_tracker_labels(tracker, snapshot->labels, n), CS_OK);
    assert_int_equal(cs_tracker_epochs_observed(tracker,
                                                snapshot->epochs_observed, n),
                     CS_OK);

    if (snapshot->options.feature_dim > 0) {
        const size_t values = n * (size_t)snapshot->options.feature_dim;

        snapshot->features = malloc(values * sizeof(float));
        assert_non_null(snapshot->features);
        assert_int_equal(cs_tracker_features(tracker, snapshot->features,
                                             values),
                         CS_OK);
    }

    if (snapshot->options.keep_history) {
        int32_t epochs = snapshot->epochs;

        if (cs_tracker_history(tracker, epochs + 1, NULL, NULL, NULL, NULL,
                               n) == CS_OK)
            epochs++;
        snapshot->history_epochs = epochs;

        const size_t cells = (size_t)epochs * n + 1;

        snapshot->hist_observed = malloc(cells);
        snapshot->hist_correct = malloc(cells);
        snapshot->hist_p_l = malloc(cells * sizeof(float));
        snapshot->hist_p_max = malloc(cells * sizeof(float));
        assert_non_null(snapshot->hist_observed);
        assert_non_null(snapshot->hist_correct);
        assert_non_null(snapshot->hist_p_l);
        assert_non_null(snapshot->hist_p_max);
        for (int32_t e = 0; e < epochs; e++) {
            const size_t at = (size_t)e * n;

            assert_int_equal(cs_tracker_history(tracker, e + 1,
                                                snapshot->hist_observed + at,
                                                snapshot->hist_correct + at,
                                                snapshot->hist_p_l + at,
                                                snapshot->hist_p_max + at, n),
                             CS_OK);
        }
    }
}

static inline void tf_snapshot_free(tf_snapshot *snapshot)
{
    for (int p = 0; p < CS_PROXY_COUNT; p++) {
        free(snapshot->ints[p]);
        free(snapshot->floats[p]);
    }
    free(snapshot->labels);
    free(snapshot->epochs_observed);
    free(snapshot->features);
    free(snapshot->hist_observed);
    free(snapshot->hist_correct);
    free(snapshot->hist_p_l);
    free(snapshot->hist_p_max);
    memset(snapshot, 0, sizeof(*snapshot));
}

/* Bit-for-bit equality of two floats, except that any two NaNs are equal:
 * NaN payloads and signs carry no meaning here. */
static inline int tf_same_float(float a, float b)
{
    if (isnan(a) && isnan(b))
        return 1;
    return memcmp(&a, &b, sizeof(float)) == 0;
}

static inline void tf_assert_same_floats_at(const float *want,
                                            const float *got, size_t count,
                                            const char *what, const char *file,
                                            int line)
{
    for (size_t i = 0; i < count; i++) {
        if (!tf_same_float(want[i], got[i])) {
            print_error("%s[%zu]: got %.9g, expected %.9g (bit for bit)\n",
                        what, i, (double)got[i], (double)want[i]);
            _fail(file, line);
        }
    }
}

static inline void tf_assert_same_ints_at(const int32_t *want,
                                          const int32_t *got, size_t count,
                                          const char *what, const char *file,
                                          int line)
{
    for (size_t i = 0; i < count; i++) {
        if (want[i] != got[i]) {
            print_error("%s[%zu]: got %d, expected %d\n", what, i, got[i],
                        want[i]);
            _fail(file, line);
        }
    }
}

static inline void tf_assert_same_bytes_at(const uint8_t *want,
                                           const uint8_t *got, size_t count,
                                           const char *what, const char *file,
                                           int line)
{
    for (size_t i = 0; i < count; i++) {
        if (want[i] != got[i]) {
            print_error("%s[%zu]: got %u, expected %u\n", what, i,
                        (unsigned)got[i], (unsigned)want[i]);
            _fail(file, line);
        }
    }
}

/* Fails unless two snapshots agree on options, epoch count, dropped
 * repeats, every proxy, labels, observed-epoch counts, features and
 * history, floats bit for bit. */
static inline void tf_assert_snapshots_equal_at(const tf_snapshot *want,
                                                const tf_snapshot *got,
                                                const char *file, int line)
{
    const cs_tracker_options *a = &want->options;
    const cs_tracker_options *b = &got->options;

    _assert_int_equal((uint64_t)a->n_examples, (uint64_t)b->n_examples, file,
                      line);
    _assert_int_equal(a->n_classes, b->n_classes, file, line);
    _assert_int_equal(a->input_kind, b->input_kind, file, line);
    _assert_int_equal(a->feature_dim, b->feature_dim, file, line);
    _assert_int_equal(a->keep_history != 0, b->keep_history != 0, file, line);
    _assert_int_equal(a->repeat_policy, b->repeat_policy, file, line);
    _assert_true(a->probability_tolerance == b->probability_tolerance,
                 "same probability_tolerance", file, line);
    _assert_int_equal((uint64_t)want->epochs, (uint64_t)got->epochs, file,
                      line);
    _assert_int_equal((uint64_t)want->repeats_dropped,
                      (uint64_t)got->repeats_dropped, file, line);

    const size_t n = want->n;

    for (int p = 0; p < CS_PROXY_COUNT; p++) {
        const char *name = cs_proxy_name((cs_proxy)p);

        if (want->ints[p] != NULL)
            tf_assert_same_ints_at(want->ints[p], got->ints[p], n, name, file,
                                   line);
        else
            tf_assert_same_floats_at(want->floats[p], got->floats[p], n, name,
                                     file, line);
    }
    tf_assert_same_ints_at(want->labels, got->labels, n, "labels", file, line);
    tf_assert_same_ints_at(want->epochs_observed, got->epochs_observed, n,
                           "epochs_observed", file, line);
    if (want->features != NULL)
        tf_assert_same_floats_at(want->features, got->features,
                                 n * (size_t)a->feature_dim, "features", file,
                                 line);

    _assert_int_equal((uint64_t)want->history_epochs,
                      (uint64_t)got->history_epochs, file, line);
    if (want->hist_observed != NULL) {
        const size_t cells = (size_t)want->history_epochs * n;

        tf_assert_same_bytes_at(want->hist_observed, got->hist_observed, cells,
                                "hist_observed", file, line);
        tf_assert_same_bytes_at(want->hist_correct, got->hist_correct, cells,
                                "hist_correct", file, line);
        tf_assert_same_floats_at(want->hist_p_l, got->hist_p_l, cells,
                                 "hist_p_l", file, line);
        tf_assert_same_floats_at(want->hist_p_max, got->hist_p_max, cells,
                                 "hist_p_max", file, line);
    }
}

#define TF_ASSERT_SNAPSHOTS_EQUAL(want, got)                                  \
    tf_assert_snapshots_equal_at((want), (got), __FILE__, __LINE__)

/* Fails unless the tracker's getters return what *before holds. */
static inline void tf_assert_unchanged_at(const cs_tracker *tracker,
                                          const tf_snapshot *before,
                                          const char *file, int line)
{
    tf_snapshot after;

    tf_snapshot_take(tracker, &after);
    tf_assert_snapshots_equal_at(before, &after, file, line);
    tf_snapshot_free(&after);
}

#define TF_ASSERT_UNCHANGED(tracker, before)                                  \
    tf_assert_unchanged_at((tracker), (before), __FILE__, __LINE__)

/* Fails unless two trackers' getters agree bit for bit. */
static inline void tf_assert_trackers_equal_at(const cs_tracker *want,
                                               const cs_tracker *got,
                                               const char *file, int line)
{
    tf_snapshot a;
    tf_snapshot b;

    tf_snapshot_take(want, &a);
    tf_snapshot_take(got, &b);
    tf_assert_snapshots_equal_at(&a, &b, file, line);
    tf_snapshot_free(&a);
    tf_snapshot_free(&b);
}

#define TF_ASSERT_TRACKERS_EQUAL(want, got)                                   \
    tf_assert_trackers_equal_at((want), (got), __FILE__, __LINE__)

/* ------------------------------------------------------------------------
 * Values and errors
 * ------------------------------------------------------------------------ */

/* Fails unless |got - want| <= tolerance. A NaN want expects a NaN got. */
static inline void tf_assert_close_at(double got, double want,
                                      double tolerance, const char *what,
                                      const char *file, int line)
{
    if (isnan(want)) {
        if (!isnan(got)) {
            print_error("%s: got %.9g, expected NaN\n", what, got);
            _fail(file, line);
        }
        return;
    }
    if (!(fabs(got - want) <= tolerance)) {
        print_error("%s: got %.9g, expected %.9g within %.3g\n", what, got,
                    want, tolerance);
        _fail(file, line);
    }
}

#define TF_ASSERT_CLOSE(got, want, tolerance)                                 \
    tf_assert_close_at((got), (want), (tolerance), #got, __FILE__, __LINE__)

/* Fails unless status is expected and this thread's last-error record
 * carries that status, the function name, a message, and (when argument is
 * not NULL) exactly that argument name. */
static inline void tf_expect_error_at(cs_status status, cs_status expected,
                                      const char *function,
                                      const char *argument, const char *file,
                                      int line)
{
    const cs_error_info *info = cs_last_error();

    if (status != expected) {
        print_error("status %s, expected %s\n", cs_status_name(status),
                    cs_status_name(expected));
        _fail(file, line);
    }
    if (info->status != expected) {
        print_error("last error status %s, expected %s\n",
                    cs_status_name(info->status), cs_status_name(expected));
        _fail(file, line);
    }
    _assert_string_equal(info->function, function, file, line);
    if (argument != NULL)
        _assert_string_equal(info->argument, argument, file, line);
    _assert_true(info->message[0] != '\0', "message is not empty", file, line);
    _assert_string_equal(cs_last_error_message(), info->message, file, line);
}

#define TF_EXPECT_ERROR(status, expected, function, argument)                 \
    tf_expect_error_at((status), (expected), (function), (argument),          \
                       __FILE__, __LINE__)

/* ------------------------------------------------------------------------
 * Temporary folders
 * ------------------------------------------------------------------------ */

/* Creates a fresh folder under /tmp and writes its path into dir. */
static inline void tf_make_temp_dir(char *dir, size_t size)
{
    assert_true(size > 32);
    snprintf(dir, size, "/tmp/cscore_tracker_test_XXXXXX");
    assert_non_null(mkdtemp(dir));
}

/* Writes dir/name into path. */
static inline void tf_join_path(char *path, size_t size, const char *dir,
                                const char *name)
{
    const int written = snprintf(path, size, "%s/%s", dir, name);

    assert_true(written > 0 && (size_t)written < size);
}

/* Returns the number of entries in dir other than "." and "..". */
static inline int tf_count_dir_entries(const char *dir)
{
    DIR *handle = opendir(dir);
    const struct dirent *entry;
    int count = 0;

    assert_non_null(handle);
    while ((entry = readdir(handle)) != NULL) {
        if (strcmp(entry->d_name, ".") != 0 &&
            strcmp(entry->d_name, "..") != 0)
            count++;
    }
    closedir(handle);
    return count;
}

/* Fails unless dir contains exactly one entry, named name, so that no
 * temporary file was left beside it. */
static inline void tf_assert_dir_holds_only_at(const char *dir,
                                               const char *name,
                                               const char *file, int line)
{
    DIR *handle = opendir(dir);
    const struct dirent *entry;

    _assert_true(handle != NULL, "opendir", file, line);
    while ((entry = readdir(handle)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 ||
            strcmp(entry->d_name, "..") == 0)
            continue;
        if (strcmp(entry->d_name, name) != 0) {
            print_error("unexpected file %s/%s\n", dir, entry->d_name);
            closedir(handle);
            _fail(file, line);
        }
    }
    closedir(handle);
    _assert_int_equal((uint64_t)tf_count_dir_entries(dir), 1, file, line);
}

#define TF_ASSERT_DIR_HOLDS_ONLY(dir, name)                                   \
    tf_assert_dir_holds_only_at((dir), (name), __FILE__, __LINE__)

/* Removes every plain file in dir, then dir itself. */
static inline void tf_remove_dir(const char *dir)
{
    DIR *handle = opendir(dir);
    const struct dirent *entry;
    char path[1024];

    if (handle == NULL)
        return;
    while ((entry = readdir(handle)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 ||
            strcmp(entry->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
        unlink(path);
    }
    closedir(handle);
    rmdir(dir);
}

/* Reads a whole file into a NUL-terminated buffer that the caller frees,
 * and stores its length in *size. */
static inline char *tf_read_file(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    char *data;
    long length;

    assert_non_null(file);
    assert_int_equal(fseek(file, 0, SEEK_END), 0);
    length = ftell(file);
    assert_true(length >= 0);
    assert_int_equal(fseek(file, 0, SEEK_SET), 0);
    data = malloc((size_t)length + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)length, file), (size_t)length);
    data[length] = '\0';
    fclose(file);
    *size = (size_t)length;
    return data;
}

/* Writes size bytes of data to path, replacing it. */
static inline void tf_write_file(const char *path, const void *data,
                                 size_t size)
{
    FILE *file = fopen(path, "wb");

    assert_non_null(file);
    assert_int_equal(fwrite(data, 1, size, file), size);
    assert_int_equal(fclose(file), 0);
}

#endif /* TRACKER_FIXTURES_H */
