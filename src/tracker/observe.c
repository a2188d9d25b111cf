/*
 * The observation path: cs_observe_batch(), cs_end_epoch() and
 * cs_observe_epoch(). A batch is checked whole, and its row statistics
 * computed, before anything is recorded, so a rejected batch leaves the
 * tracker as it was.
 */
#include "tracker_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

/* A batch being checked: the caller's arrays, with ids NULL meaning row r
 * is example r (the whole-epoch form). Exactly one of labels and labels64
 * is set, because each entry point takes one label type. */
typedef struct batch {
    const float *predictions;
    const int32_t *labels;
    const int64_t *labels64;
    const int64_t *ids;
    const float *features;
    size_t n;
    const char *function;
    bool whole_epoch;
} batch;

/* The most epochs a tracker counts, so epoch numbers fit an int32. */
#define CS__MAX_EPOCHS (INT32_MAX - 1)

static int64_t batch_id(const batch *b, size_t row)
{
    return b->ids ? b->ids[row] : (int64_t)row;
}

static int64_t batch_label(const batch *b, size_t row)
{
    return b->labels ? b->labels[row] : b->labels64[row];
}

/* A cs__where naming one row of the batch and, when known, its example. */
static cs__where row_where(const batch *b, const char *argument, size_t row,
                           int64_t id)
{
    cs__where where = cs__where_none(b->function);
    where.argument = argument;
    where.index = (int64_t)row;
    where.example_id = id;
    return where;
}

/* Rejects a batch whose n x C predictions or n x feature_dim features
 * cannot be addressed, before any row offset or scratch size wraps. */
static cs_status check_batch_size(const cs_tracker *t, const batch *b)
{
    const size_t width = t->n_classes > t->feature_dim ? t->n_classes
                                                       : t->feature_dim;
    size_t values;
    if (cs__mul_size(b->n, width, &values) &&
        values <= SIZE_MAX / sizeof(float) &&
        b->n <= SIZE_MAX / sizeof(cs__row_stats))
        return CS_OK;
    return cs__fail_arg(CS_E_OVERFLOW, b->function, "n",
                        "n is %zu, and n rows of %zu floats overflow "
                        "size_t, so pass the batch in smaller parts",
                        b->n, width);
}

static cs_status check_arguments(const cs_tracker *t, const batch *b)
{
    const char *fn = b->function;
    if (t == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "tracker",
                            "tracker is NULL");
    if (b->n == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, fn, "n",
                            "n is 0; pass at least one example");
    if (b->predictions == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "predictions",
                            "predictions is NULL; pass n x %zu floats",
                            t->n_classes);
    if (b->labels == NULL && b->labels64 == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "labels",
                            "labels is NULL; pass one label per row");
    if (b->ids == NULL && !b->whole_epoch)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "ids",
                            "ids is NULL; pass n int64 example ids");
    if (b->features != NULL && t->feature_dim == 0)
        return cs__fail_arg(CS_E_UNEXPECTED_FEATURES, fn, "features",
                            "features were given but the tracker was created "
                            "with feature_dim 0; pass NULL, or create the "
                            "tracker with the feature width");
    if (b->features == NULL && t->feature_dim > 0)
        return cs__fail_arg(CS_E_MISSING_FEATURES, fn, "features",
                            "features is NULL but the tracker was created "
                            "with feature_dim %zu; pass n x %zu floats",
                            t->feature_dim, t->feature_dim);
    return check_batch_size(t, b);
}

static cs_status check_id(const cs_tracker *t, const batch *b, size_t row)
{
    const int64_t id = batch_id(b, row);
    if (id >= 0 && (uint64_t)id < t->n_examples)
        return CS_OK;

    cs__where where = row_where(b, "ids", row, id);
    char value[32];
    snprintf(value, sizeof value, "%lld", (long long)id);
    return cs__fail(CS_E_ID_OUT_OF_RANGE, &where, value,
                    "ids[%zu] is %lld, outside [0, %zu); ids must index the "
                    "tracker's n_examples",
                    row, (long long)id, t->n_examples);
}

/* The label an example must carry: the one first seen, or if the example
 * is new, the one at its first row in this batch; -1 if neither. */
static int32_t expected_label(const cs_tracker *t, const batch *b, size_t i)
{
    const cs__example *x = &t->examples[i];
    if (x->label >= 0)
        return x->label;
    if (x->batch_mark == t->batch_serial)
        return (int32_t)batch_label(b, x->batch_first_row);
    return -1;
}

static cs_status check_label(const cs_tracker *t, const batch *b, size_t row,
                             size_t i)
{
    const int64_t y = batch_label(b, row);
    char value[32];

    if (y < 0 || (uint64_t)y >= t->n_classes) {
        snprintf(value, sizeof value, "%lld", (long long)y);
        cs__where where = row_where(b, "labels", row, (int64_t)i);
        return cs__fail(CS_E_LABEL_OUT_OF_RANGE, &where, value,
                        "labels[%zu] is %lld for example id %zu, outside "
                        "[0, %zu); labels are class indices below "
                        "n_classes, so check the label encoding or the "
                        "tracker's n_classes",
                        row, (long long)y, i, t->n_classes);
    }

    const int32_t expected = expected_label(t, b, i);
    if (expected >= 0 && expected != y) {
        snprintf(value, sizeof value, "%lld", (long long)y);
        cs__where where = row_where(b, "labels", row, (int64_t)i);
        return cs__fail(CS_E_LABEL_CHANGED, &where, value,
                        "labels[%zu] is %lld for example id %zu, which was "
                        "first seen with label %d; an example's label is "
                        "fixed, so check that ids and labels come from the "
                        "same sample",
                        row, (long long)y, i, (int)expected);
    }
    return CS_OK;
}

/* Finds the entry that made a prediction row invalid and reports it. */
static cs_status report_bad_row(const cs_tracker *t, const batch *b,
                                size_t row, size_t i)
{
    const float *p = b->predictions + row * t->n_classes;
    const bool probabilities =
        t->options.input_kind == CS_INPUT_PROBABILITIES;
    cs__where where = row_where(b, "predictions", row, (int64_t)i);
    char value[32];

    for (size_t k = 0; k < t->n_classes; k++) {
        if (isfinite(p[k]) && !(probabilities && p[k] < 0.0f))
            continue;
        snprintf(value, sizeof value, "%g", (double)p[k]);
        if (!isfinite(p[k]))
            return cs__fail(CS_E_NONFINITE_PREDICTION, &where, value,
                            "predictions[%zu][%zu] is %s for example id %zu; "
                            "predictions must be finite, so check the model "
                            "for a diverged loss",
                            row, k, value, i);
        return cs__fail(CS_E_INVALID_PROBABILITY, &where, value,
                        "predictions[%zu][%zu] is %s for example id %zu; "
                        "probabilities must be nonnegative (pass logits "
                        "with CS_INPUT_LOGITS instead)",
                        row, k, value, i);
    }

    double sum = 0.0;
    for (size_t k = 0; k < t->n_classes; k++)
        sum += p[k];
    snprintf(value, sizeof value, "%.9g", sum);
    return cs__fail(CS_E_INVALID_PROBABILITY, &where, value,
                    "predictions row %zu (example id %zu) sums to %.9g, more "
                    "than %g from 1; pass softmax outputs, or logits with "
                    "CS_INPUT_LOGITS",
                    row, i, sum, t->options.probability_tolerance);
}

static cs_status check_features(const cs_tracker *t, const batch *b,
                                size_t row, size_t i)
{
    const size_t d = t->feature_dim;
    const float *f = b->features + row * d;
    if (cs__all_finite(f, d))
        return CS_OK;

    for (size_t k = 0; k < d; k++) {
        if (isfinite(f[k]))
            continue;
        cs__where where = row_where(b, "features", row, (int64_t)i);
        char value[32];
        snprintf(value, sizeof value, "%g", (double)f[k]);
        return cs__fail(CS_E_NONFINITE_FEATURE, &where, value,
                        "features[%zu][%zu] is %s for example id %zu; "
                        "features must be finite",
                        row, k, value, i);
    }
    return CS_OK;
}

/* Decides whether a row is a repeat of an observation already in this
 * epoch (an earlier batch, or an earlier row of this batch). Under
 * CS_REPEAT_REJECT a repeat is an error; otherwise *kept is set to 0. */
static cs_status check_repeat(const cs_tracker *t, const batch *b, size_t row,
                              size_t i, uint8_t *kept)
{
    const cs__example *x = &t->examples[i];
    const int32_t open_epoch = t->epochs_ended + 1;
    const bool earlier_batch = x->last_epoch == open_epoch;
    const bool earlier_row = x->batch_mark == t->batch_serial;

    *kept = !(earlier_batch || earlier_row);
    if (*kept || t->options.repeat_policy == CS_REPEAT_KEEP_FIRST)
        return CS_OK;

    cs__where where = row_where(b, "ids", row, (int64_t)i);
    char value[32];
    snprintf(value, sizeof value, "%zu", i);
    if (earlier_row)
        return cs__fail(CS_E_REPEATED_OBSERVATION, &where, value,
                        "example id %zu appears at rows %zu and %zu of this "
                        "batch; create the tracker with "
                        "CS_REPEAT_KEEP_FIRST if the sampler pads batches "
                        "with repeats",
                        i, x->batch_first_row, row);
    return cs__fail(CS_E_REPEATED_OBSERVATION, &where, value,
                    "example id %zu was already observed in epoch %d; call "
                    "cs_end_epoch() between epochs, or create the tracker "
                    "with CS_REPEAT_KEEP_FIRST if the sampler pads batches "
                    "with repeats",
                    i, (int)open_epoch);
}

static cs_status check_row(cs_tracker *t, const batch *b, size_t row)
{
    cs_status st = check_id(t, b, row);
    if (st != CS_OK)
        return st;
    const size_t i = (size_t)batch_id(b, row);

    st = check_label(t, b, row, i);
    if (st == CS_OK)
        st = check_repeat(t, b, row, i, &t->row_kept[row]);
    if (st != CS_OK)
        return st;

    const float *p = b->predictions + row * t->n_classes;
    const size_t y = (size_t)batch_label(b, row);
    bool valid;
    if (t->options.input_kind == CS_INPUT_LOGITS)
        valid = cs__row_stats_logits(p, t->n_classes, y,
                                     (b->n - row) * t->n_classes,
                                     &t->rows[row]);
    else
        valid = cs__row_stats_probabilities(
            p, t->n_classes, y, t->options.probability_tolerance,
            &t->rows[row]);
    if (!valid)
        return report_bad_row(t, b, row, i);

    if (b->features != NULL) {
        st = check_features(t, b, row, i);
        if (st != CS_OK)
            return st;
    }

    cs__example *x = &t->examples[i];
    if (x->batch_mark != t->batch_serial) {
        x->batch_mark = t->batch_serial;
        x->batch_first_row = row;
    }
    return CS_OK;
}

/* Grows the per-row scratch to n rows. */
static cs_status reserve_rows(cs_tracker *t, size_t n, const char *fn)
{
    if (n <= t->rows_capacity)
        return CS_OK;

    cs__row_stats *rows = cs__alloc_array(n, sizeof *rows);
    uint8_t *kept = cs__alloc_array(n, 1);
    if (rows == NULL || kept == NULL) {
        cs__free(rows);
        cs__free(kept);
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, "n",
                            "out of memory allocating scratch for a batch of "
                            "%zu rows",
                            n);
    }
    cs__free(t->rows);
    cs__free(t->row_kept);
    t->rows = rows;
    t->row_kept = kept;
    t->rows_capacity = n;
    return CS_OK;
}

/* Starts a new batch's repeat marks; on wrap-around the marks are cleared
 * so an old mark can never equal the new serial. */
static void next_batch_serial(cs_tracker *t)
{
    t->batch_serial++;
    if (t->batch_serial == 0) {
        for (size_t i = 0; i < t->n_examples; i++)
            t->examples[i].batch_mark = 0;
        t->batch_serial = 1;
    }
}

/* Rows ahead whose records are requested from memory. A row's checks and
 * statistics take a few hundred instructions, more than the CPU runs ahead,
 * so without prefetching each row waits for its own cache misses once a
 * training step has evicted the state. 4, 8 and 16 measured alike. */
#define CS__PREFETCH_ROWS 8

/* Requests the cache lines that recording the example at `row` will write,
 * if the batch has that row and its id is valid. Always inlined because
 * GCC 12 treats a function of prefetches alone as free of effects and
 * drops the calls. */
static inline __attribute__((always_inline)) void
prefetch_record(const cs_tracker *t, const batch *b, size_t row)
{
    if (row >= b->n)
        return;
    const int64_t id = batch_id(b, row);
    if (id < 0 || (uint64_t)id >= t->n_examples)
        return;
    const char *record = (const char *)&t->examples[id];
    __builtin_prefetch(record, 1);
    __builtin_prefetch(record + sizeof(cs__example) - 1, 1);
    if (!t->options.keep_history)
        return;

    /* The open epoch's block exists: check_batch() reserved it. */
    const cs__epoch_history *h = &t->history[t->epochs_ended];
    __builtin_prefetch(&h->p_l[id], 1);
    __builtin_prefetch(&h->p_max[id], 1);
    __builtin_prefetch(&h->margin[id], 1);
    __builtin_prefetch(&h->el2n[id], 1);
    __builtin_prefetch(&h->observed[id], 1);
    __builtin_prefetch(&h->correct[id], 1);
}

static cs_status check_batch(cs_tracker *t, const batch *b)
{
    cs_status st = check_arguments(t, b);
    if (st != CS_OK)
        return st;
    st = reserve_rows(t, b->n, b->function);
    if (st != CS_OK)
        return st;
    if (t->options.keep_history) {
        st = cs__tracker_reserve_history(t, t->epochs_ended + 1);
        if (st != CS_OK)
            return cs__tracker_history_failure(st, b->function, "tracker", t,
                                               t->epochs_ended + 1);
    }

    next_batch_serial(t);
    for (size_t row = 0; row < CS__PREFETCH_ROWS; row++)
        prefetch_record(t, b, row);
    for (size_t row = 0; row < b->n; row++) {
        prefetch_record(t, b, row + CS__PREFETCH_ROWS);
        st = check_row(t, b, row);
        if (st != CS_OK)
            return st;
    }
    return CS_OK;
}

static void record_history(cs_tracker *t, size_t i, const cs__row_stats *r)
{
    cs__epoch_history *h = &t->history[t->epochs_ended];
    h->observed[i] = 1;
    h->correct[i] = r->correct;
    h->p_l[i] = r->p_l;
    h->p_max[i] = r->p_max;
    h->margin[i] = r->margin;
    h->el2n[i] = r->el2n;
}

/* Copies one feature row into the state. Observing never reads the row
 * back, so on x86-64 the copy uses streaming stores, which do not first
 * read the old cache lines from memory. With 1 KiB rows (d = 256) at random
 * ids that cut a batch of 1024 from about 250 to 205 microseconds. */
static void store_feature_row(float *to, const float *from, size_t d)
{
#if defined(__SSE2__)
    if (((uintptr_t)to & 15) == 0 && d % 4 == 0) {
        for (size_t k = 0; k < d; k += 4)
            _mm_stream_ps(to + k, _mm_loadu_ps(from + k));
        return;
    }
#endif
    memcpy(to, from, d * sizeof(float));
}

static void record_batch(cs_tracker *t, const batch *b)
{
    const int32_t epoch = t->epochs_ended + 1;
    const size_t d = t->feature_dim;

    for (size_t row = 0; row < b->n; row++) {
        if (!t->row_kept[row]) {
            t->repeats_dropped++;
            continue;
        }
        const size_t i = (size_t)batch_id(b, row);
        t->examples[i].label = (int32_t)batch_label(b, row);
        cs__tracker_accumulate(t, i, epoch, &t->rows[row]);
        if (t->options.keep_history)
            record_history(t, i, &t->rows[row]);
        if (d > 0)
            store_feature_row(t->features + i * d, b->features + row * d, d);
        t->open_observations++;
    }
#if defined(__SSE2__)
    /* Streaming stores are weakly ordered, so fence them before returning. */
    if (d > 0)
        _mm_sfence();
#endif
}

static cs_status observe(cs_tracker *t, const batch *b)
{
    cs_status st = check_batch(t, b);
    if (st != CS_OK)
        return st;
    record_batch(t, b);
    return CS_OK;
}

cs_status cs_observe_batch(cs_tracker *tracker, const float *predictions,
                           const int32_t *labels, const int64_t *ids,
                           const float *features, size_t n)
{
    const batch b = {predictions, labels,   NULL, ids, features,
                     n,           "cs_observe_batch", false};
    return observe(tracker, &b);
}

cs_status cs_observe_batch_int64(cs_tracker *tracker,
                                 const float *predictions,
                                 const int64_t *labels, const int64_t *ids,
                                 const float *features, size_t n)
{
    const batch b = {predictions, NULL,     labels, ids, features,
                     n,           "cs_observe_batch_int64", false};
    return observe(tracker, &b);
}

static cs_status epoch_limit_error(const char *fn)
{
    return cs__fail_arg(CS_E_OVERFLOW, fn, "tracker",
                        "the tracker has reached the maximum number of "
                        "epochs (%d)",
                        (int)CS__MAX_EPOCHS);
}

cs_status cs_end_epoch(cs_tracker *tracker)
{
    if (tracker == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, "cs_end_epoch", "tracker",
                            "tracker is NULL");
    if (tracker->epochs_ended == CS__MAX_EPOCHS)
        return epoch_limit_error("cs_end_epoch");
    if (tracker->options.keep_history) {
        cs_status st =
            cs__tracker_reserve_history(tracker, tracker->epochs_ended + 1);
        if (st != CS_OK)
            return cs__tracker_history_failure(st, "cs_end_epoch", "tracker",
                                               tracker,
                                               tracker->epochs_ended + 1);
    }
    tracker->epochs_ended++;
    tracker->open_observations = 0;
    return CS_OK;
}

cs_status cs_observe_epoch(cs_tracker *tracker, const float *predictions,
                           const int32_t *labels, const float *features,
                           size_t n)
{
    const char *fn = "cs_observe_epoch";
    const batch b = {predictions, labels, NULL, NULL, features, n, fn, true};

    cs_status st = check_arguments(tracker, &b);
    if (st != CS_OK)
        return st;
    if (n != tracker->n_examples) {
        cs__where where = cs__where_none(fn);
        where.argument = "n";
        char value[32];
        snprintf(value, sizeof value, "%zu", n);
        return cs__fail(CS_E_SIZE_MISMATCH, &where, value,
                        "n is %zu but the tracker has %zu examples; the "
                        "epoch form needs every example, row i for id i "
                        "(use cs_observe_batch for part of an epoch)",
                        n, tracker->n_examples);
    }
    if (tracker->open_observations > 0)
        return cs__fail_arg(CS_E_EPOCH_OPEN, fn, "tracker",
                            "%lld observations of epoch %d were already made "
                            "with cs_observe_batch; call cs_end_epoch() "
                            "first",
                            (long long)tracker->open_observations,
                            (int)(tracker->epochs_ended + 1));
    if (tracker->epochs_ended == CS__MAX_EPOCHS)
        return epoch_limit_error(fn);

    st = observe(tracker, &b);
    if (st != CS_OK)
        return st;
    return cs_end_epoch(tracker);
}
