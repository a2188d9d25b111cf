/*
 * The tracker's state, shared by the files of src/tracker/. Per-example
 * state is one record per example, which recording touches as a whole;
 * history stays one array per quantity and epoch, as checkpoints store it.
 */
#ifndef CS_TRACKER_INTERNAL_H
#define CS_TRACKER_INTERNAL_H

#include "internal.h"

/* One epoch of history: N entries per array, carved from one allocation. */
typedef struct cs__epoch_history {
    float *p_l;
    float *p_max;
    float *margin;
    float *el2n;
    uint8_t *observed;
    uint8_t *correct;
} cs__epoch_history;

/* Bytes of one epoch's history for N examples. */
#define CS__HISTORY_BYTES_PER_EXAMPLE (4 * sizeof(float) + 2)

/* What one prediction row contributes; computed before any state changes. */
typedef struct cs__row_stats {
    float p_l;
    float p_max;
    float margin; /* true-label logit minus the largest other logit */
    float el2n;
    uint8_t correct;
} cs__row_stats;

/* The running state of one example. Recording an observation reads or
 * writes nearly every field, so they share one record. At 96 bytes with
 * 32-byte alignment it spans exactly two cache lines, where separate arrays
 * took about fourteen per row. With the state evicted, a batch of 1024
 * rows (C = 10, bench_observe_batch) took 169 microseconds with separate
 * arrays, about 120 with those prefetched, and 57 as prefetched records. */
typedef struct cs__example {
    _Alignas(32) double p_l_mean; /* running mean (Welford) */
    double p_l_m2;    /* running sum of squared deviations (Welford) */
    double p_max_sum;
    double margin_sum;
    /* Batch scratch, not part of the state: batch_mark equals the
     * tracker's batch_serial when the example already appeared in this
     * batch, first at row batch_first_row. */
    size_t batch_first_row;
    int32_t label;       /* -1 until the example is first observed */
    int32_t epochs_observed;
    int32_t cbtl;
    int32_t forgetting;
    int32_t first_learned;
    int32_t last_epoch;  /* 0 before the first observation */
    float p_l_last;
    float p_max_last;
    float el2n_last;
    uint32_t batch_mark;
    uint8_t last_correct;
} cs__example;

_Static_assert(sizeof(cs__example) == 96,
               "a record spans two cache lines only at 96 bytes");

struct cs_tracker {
    cs_tracker_options options;
    size_t n_examples;
    size_t n_classes;
    size_t feature_dim;

    int32_t epochs_ended;    /* the open epoch is epochs_ended + 1 */
    int64_t open_observations; /* observations recorded in the open epoch */
    int64_t repeats_dropped;

    /* Per-example state, one record per example, and N x d features (the
     * most recent row; NaN until observed). */
    cs__example *examples;
    float *features;

    /* History: history_count blocks, one per ended epoch plus the open
     * epoch's block once it exists. */
    cs__epoch_history *history;
    int32_t history_count;
    int32_t history_capacity;

    /* Scratch for one batch, not part of the state: row results and
     * whether each row is kept. */
    cs__row_stats *rows;
    uint8_t *row_kept;
    size_t rows_capacity;
    uint32_t batch_serial;
};

/* Allocates zeroed per-example arrays and sets their initial values.
 * Returns CS_E_OUT_OF_MEMORY or CS_E_OVERFLOW without recording an error. */
cs_status cs__tracker_alloc_state(cs_tracker *t);

/* Resets the accumulators (not labels, features or history) to the state of
 * a tracker that has observed nothing. */
void cs__tracker_reset_accumulators(cs_tracker *t);

/* Adds one observation of example i in the given epoch to the
 * accumulators. The single place proxies are updated, so replaying history
 * reproduces the live results exactly. */
void cs__tracker_accumulate(cs_tracker *t, size_t i, int32_t epoch,
                            const cs__row_stats *row);

/* Makes sure history has a block for epoch `epoch` (1-based), allocating
 * blocks as needed; blocks start with nothing observed. */
cs_status cs__tracker_reserve_history(cs_tracker *t, int32_t epoch);

/* Records a failure of cs__tracker_reserve_history() (CS_E_OVERFLOW or
 * CS_E_OUT_OF_MEMORY) for public function fn and returns status. */
cs_status cs__tracker_history_failure(cs_status status, const char *fn,
                                       const char *argument,
                                       const cs_tracker *t, int32_t epoch);

/* Computes the row statistics for logits or probabilities; for logits,
 * `readable` (>= n_classes) floats from row[0] may be read, which lets the
 * kernel read a whole vector at the end of a row that has another row
 * after it. Returns false if
 * the row is invalid (non-finite, or an invalid probability row); the
 * caller then locates the offending entry for the error message. */
bool cs__row_stats_logits(const float *row, size_t n_classes, size_t label,
                          size_t readable, cs__row_stats *out);
bool cs__row_stats_probabilities(const float *row, size_t n_classes,
                                 size_t label, double tolerance,
                                 cs__row_stats *out);

/* Returns true when every x[0 .. n-1] is finite (not NaN or infinite). */
bool cs__all_finite(const float *x, size_t n);

/* Fills out[0 .. N-1] with the float value of a float proxy. */
void cs__tracker_fill_f32(const cs_tracker *t, cs_proxy proxy, float *out);

/* Fills out[0 .. N-1] with the value of an int32 proxy. */
void cs__tracker_fill_i32(const cs_tracker *t, cs_proxy proxy, int32_t *out);

/* Fills out[0 .. N-1] with the labels, -1 for examples never observed. */
void cs__tracker_fill_labels(const cs_tracker *t, int32_t *out);

#endif /* CS_TRACKER_INTERNAL_H */
