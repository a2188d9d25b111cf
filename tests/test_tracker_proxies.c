/*
 * Proxy values of the tracker against hand-computed expectations and
 * against a plain double-precision reference written here: every proxy,
 * ties, missing epochs, never-observed examples, probability inputs,
 * softmax stability, per-epoch history, and the proxy metadata functions.
 */
#include "tracker_fixtures.h"

/* float32 results against exact or double-precision values. Probabilities
 * and norms lie in [0, 2], so a few float32 ulps stay below 2e-6. */
#define TOLERANCE_PROBABILITY 2e-6
/* Margins are differences of float32 logits up to about 2e4 in size. */
#define TOLERANCE_MARGIN_RELATIVE 1e-5

#define MAX_CLASSES 1000
#define MAX_EPOCHS 8

/* ------------------------------------------------------------------------
 * Double-precision reference
 * ------------------------------------------------------------------------ */

/* Quantities of one observation, computed in double from a float32 row. */
typedef struct ref_row {
    double p_l;
    double p_max;
    double margin;
    double el2n;
    int correct;
} ref_row;

/* Expected proxies of one example, indexed like cs_proxy. */
typedef struct ref_proxies {
    double value[CS_PROXY_COUNT];
    int32_t epochs_observed;
} ref_proxies;

static ref_row ref_evaluate_row(const float *row, int32_t n_classes,
                                int32_t label, cs_input_kind kind)
{
    double p[MAX_CLASSES];
    double score[MAX_CLASSES];
    ref_row result = {0};

    assert_true(n_classes <= MAX_CLASSES);
    if (kind == CS_INPUT_LOGITS) {
        double max = row[0];
        double sum = 0.0;

        for (int32_t k = 0; k < n_classes; k++) {
            score[k] = row[k];
            max = row[k] > max ? row[k] : max;
        }
        for (int32_t k = 0; k < n_classes; k++)
            sum += exp(score[k] - max);
        for (int32_t k = 0; k < n_classes; k++)
            p[k] = exp(score[k] - max) / sum;
    } else {
        for (int32_t k = 0; k < n_classes; k++) {
            p[k] = row[k];
            score[k] = log(fmax((double)row[k], (double)FLT_MIN));
        }
    }

    double other_score = -INFINITY;
    double squares = 0.0;

    result.correct = 1;
    result.p_max = p[0];
    for (int32_t k = 0; k < n_classes; k++) {
        const double target = k == label ? 1.0 : 0.0;

        squares += (p[k] - target) * (p[k] - target);
        result.p_max = p[k] > result.p_max ? p[k] : result.p_max;
        if (k == label)
            continue;
        if (!(row[label] > row[k]))
            result.correct = 0;
        other_score = score[k] > other_score ? score[k] : other_score;
    }
    result.p_l = p[label];
    result.margin = score[label] - other_score;
    result.el2n = sqrt(squares);
    return result;
}

/* Computes every proxy of example i from the epochs it was observed in.
 * epochs[e] is an N x C array, and observed[e][i] is nonzero when example
 * i was observed in epoch e + 1. A NULL observed means every example in
 * every epoch. */
static ref_proxies ref_example(const float *const *epochs,
                               const uint8_t *const *observed,
                               int32_t n_epochs, size_t i, int32_t n_classes,
                               int32_t label, cs_input_kind kind)
{
    ref_proxies out;
    double p_l[MAX_EPOCHS];
    double p_l_sum = 0.0;
    double p_max_sum = 0.0;
    double margin_sum = 0.0;
    int32_t seen = 0;
    int32_t cbtl = 0;
    int32_t forgetting = 0;
    int32_t first_learned = -1;
    int previous_correct = 0;
    ref_row last = {0};

    assert_true(n_epochs <= MAX_EPOCHS);
    for (int32_t e = 0; e < n_epochs; e++) {
        if (observed != NULL && !observed[e][i])
            continue;

        const ref_row row = ref_evaluate_row(epochs[e] + i * (size_t)n_classes,
                                             n_classes, label, kind);

        if (seen > 0 && previous_correct && !row.correct)
            forgetting++;
        if (row.correct) {
            cbtl++;
            if (first_learned < 0)
                first_learned = e + 1;
        }
        previous_correct = row.correct;
        p_l[seen] = row.p_l;
        p_l_sum += row.p_l;
        p_max_sum += row.p_max;
        margin_sum += row.margin;
        last = row;
        seen++;
    }

    out.epochs_observed = seen;
    out.value[CS_PROXY_CBTL] = cbtl;
    out.value[CS_PROXY_FORGETTING] = forgetting;
    out.value[CS_PROXY_FIRST_LEARNED] = first_learned;
    if (seen == 0) {
        for (int p = 0; p < CS_PROXY_COUNT; p++) {
            if (cs_proxy_is_integer((cs_proxy)p) == 0)
                out.value[p] = NAN;
        }
        return out;
    }

    const double p_l_mean = p_l_sum / seen;
    double deviations = 0.0;

    for (int32_t k = 0; k < seen; k++)
        deviations += (p_l[k] - p_l_mean) * (p_l[k] - p_l_mean);

    out.value[CS_PROXY_CBTL_FRAC] = (double)cbtl / seen;
    out.value[CS_PROXY_P_L_LAST] = last.p_l;
    out.value[CS_PROXY_P_L_MEAN] = p_l_mean;
    out.value[CS_PROXY_P_MAX_LAST] = last.p_max;
    out.value[CS_PROXY_P_MAX_MEAN] = p_max_sum / seen;
    out.value[CS_PROXY_P_L_STD] = sqrt(deviations / seen);
    out.value[CS_PROXY_AUM] = margin_sum / seen;
    out.value[CS_PROXY_EL2N] = last.el2n;
    return out;
}

/* Fails unless every proxy of every example matches the reference: integer
 * proxies exactly, probabilities within tolerance_probability, margins
 * within tolerance_margin relative to max(1, |expected|). */
static void
check_against_reference_at(const cs_tracker *tracker,
                           const float *const *epochs,
                           const uint8_t *const *observed, int32_t n_epochs,
                           size_t n, int32_t n_classes, const int32_t *labels,
                           cs_input_kind kind, double tolerance_probability,
                           double tolerance_margin, const char *file, int line)
{
    tf_snapshot snapshot;
    char what[64];

    tf_snapshot_take(tracker, &snapshot);
    _assert_int_equal((uint64_t)snapshot.epochs, (uint64_t)n_epochs, file,
                      line);
    for (size_t i = 0; i < n; i++) {
        const ref_proxies want = ref_example(epochs, observed, n_epochs, i,
                                             n_classes, labels[i], kind);

        _assert_int_equal((uint64_t)snapshot.epochs_observed[i],
                          (uint64_t)want.epochs_observed, file, line);
        for (int p = 0; p < CS_PROXY_COUNT; p++) {
            snprintf(what, sizeof(what), "%s[%zu]", cs_proxy_name((cs_proxy)p),
                     i);
            if (snapshot.ints[p] != NULL) {
                if (snapshot.ints[p][i] != (int32_t)want.value[p]) {
                    print_error("%s: got %d, expected %d\n", what,
                                snapshot.ints[p][i], (int32_t)want.value[p]);
                    _fail(file, line);
                }
                continue;
            }

            double tolerance = tolerance_probability;

            if (p == CS_PROXY_AUM)
                tolerance = tolerance_margin * fmax(1.0, fabs(want.value[p]));
            tf_assert_close_at(snapshot.floats[p][i], want.value[p], tolerance,
                               what, file, line);
        }
    }
    tf_snapshot_free(&snapshot);
}

#define CHECK_AGAINST_REFERENCE(tracker, epochs, observed, n_epochs, n, c,    \
                                labels, kind, tol_p, tol_m)                   \
    check_against_reference_at((tracker), (epochs), (observed), (n_epochs),   \
                               (n), (c), (labels), (kind), (tol_p), (tol_m),  \
                               __FILE__, __LINE__)

/* ------------------------------------------------------------------------
 * Hand-computed case: N = 6, C = 3, 4 epochs, fed in batches
 * ------------------------------------------------------------------------ */

#define HAND_N 6
#define HAND_C 3
#define HAND_EPOCHS 4

/* Example 3 is never observed, so its label is never seen. */
static const int32_t hand_labels[HAND_N] = {2, 0, 1, 0, 1, 0};

/* Unnormalised class weights. The logits are their logarithms, so softmax
 * gives weight / (sum of weights) and margins are logs of weight ratios.
 * A row of zeros marks an example not observed in that epoch. */
static const float hand_weights[HAND_EPOCHS][HAND_N][HAND_C] = {
    {{1, 2, 5}, {1, 2, 1}, {1, 4, 1}, {0, 0, 0}, {1, 3, 1}, {1, 1, 2}},
    {{5, 2, 1}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {1, 1, 2}},
    {{1, 1, 3}, {3, 1, 1}, {2, 3, 1}, {0, 0, 0}, {2, 1, 1}, {1, 1, 2}},
    {{1, 1, 1}, {1, 1, 2}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {1, 1, 2}},
};

static const int32_t hand_cbtl[HAND_N] = {2, 1, 2, 0, 1, 0};
/* Example 4 is correct in epoch 1 and wrong in epoch 3, its next observed
 * epoch, so the gap still makes one forgetting event. */
static const int32_t hand_forgetting[HAND_N] = {2, 1, 0, 0, 1, 0};
/* Example 1 is first correct in epoch 3, its second observed epoch. */
static const int32_t hand_first_learned[HAND_N] = {1, 3, 1, -1, 1, -1};
static const int32_t hand_epochs_observed[HAND_N] = {4, 3, 2, 0, 2, 4};
static const int32_t hand_seen_labels[HAND_N] = {2, 0, 1, -1, 1, 0};

/* Fills expected[proxy][i] for the float proxies of the hand case. */
static void hand_expected_floats(double expected[CS_PROXY_COUNT][HAND_N])
{
    /* Example 0, label 2: p_L is 5/8, 1/8, 3/5, 1/3 (the last row is a
     * tie, so wrong), and p_max is 5/8, 5/8, 3/5, 1/3. Over 480ths p_L is 300,
     * 60, 288, 160 with mean 202, so the variance is (98^2 + 142^2 + 86^2 +
     * 42^2) / 4 / 480^2 = 9732 / 480^2. */
    expected[CS_PROXY_CBTL_FRAC][0] = 2.0 / 4;
    expected[CS_PROXY_P_L_LAST][0] = 1.0 / 3;
    expected[CS_PROXY_P_L_MEAN][0] = (5.0 / 8 + 1.0 / 8 + 3.0 / 5 + 1.0 / 3) /
                                     4;
    expected[CS_PROXY_P_MAX_LAST][0] = 1.0 / 3;
    expected[CS_PROXY_P_MAX_MEAN][0] = (5.0 / 8 + 5.0 / 8 + 3.0 / 5 +
                                        1.0 / 3) /
                                       4;
    expected[CS_PROXY_P_L_STD][0] = sqrt(9732.0) / 480;
    expected[CS_PROXY_AUM][0] = (log(5.0 / 2) + log(1.0 / 5) + log(3.0) +
                                 0.0) /
                                4;
    expected[CS_PROXY_EL2N][0] = sqrt(2.0 / 3);

    /* Example 1, label 0, not observed in epoch 2: p_L 1/4, 3/5, 1/4 with
     * mean 11/30 and variance (7^2 + 14^2 + 7^2) / 60^2 / 3 = 49 / 1800. */
    expected[CS_PROXY_CBTL_FRAC][1] = 1.0 / 3;
    expected[CS_PROXY_P_L_LAST][1] = 1.0 / 4;
    expected[CS_PROXY_P_L_MEAN][1] = (1.0 / 4 + 3.0 / 5 + 1.0 / 4) / 3;
    expected[CS_PROXY_P_MAX_LAST][1] = 1.0 / 2;
    expected[CS_PROXY_P_MAX_MEAN][1] = (1.0 / 2 + 3.0 / 5 + 1.0 / 2) / 3;
    expected[CS_PROXY_P_L_STD][1] = sqrt(49.0 / 1800);
    expected[CS_PROXY_AUM][1] = (log(1.0 / 2) + log(3.0) + log(1.0 / 2)) / 3;
    expected[CS_PROXY_EL2N][1] = sqrt(0.75 * 0.75 + 0.25 * 0.25 + 0.5 * 0.5);

    /* Example 2, label 1, last observed in epoch 3 with p = 1/3, 1/2, 1/6. */
    expected[CS_PROXY_CBTL_FRAC][2] = 1.0;
    expected[CS_PROXY_P_L_LAST][2] = 1.0 / 2;
    expected[CS_PROXY_P_L_MEAN][2] = (2.0 / 3 + 1.0 / 2) / 2;
    expected[CS_PROXY_P_MAX_LAST][2] = 1.0 / 2;
    expected[CS_PROXY_P_MAX_MEAN][2] = (2.0 / 3 + 1.0 / 2) / 2;
    expected[CS_PROXY_P_L_STD][2] = (2.0 / 3 - 1.0 / 2) / 2;
    expected[CS_PROXY_AUM][2] = (log(4.0) + log(3.0 / 2)) / 2;
    expected[CS_PROXY_EL2N][2] = sqrt(1.0 / 9 + 1.0 / 4 + 1.0 / 36);

    /* Example 3 is never observed. */
    for (int p = 0; p < CS_PROXY_COUNT; p++)
        expected[p][3] = NAN;

    /* Example 4, label 1: p = 1/5, 3/5, 1/5 then 1/2, 1/4, 1/4. */
    expected[CS_PROXY_CBTL_FRAC][4] = 1.0 / 2;
    expected[CS_PROXY_P_L_LAST][4] = 1.0 / 4;
    expected[CS_PROXY_P_L_MEAN][4] = (3.0 / 5 + 1.0 / 4) / 2;
    expected[CS_PROXY_P_MAX_LAST][4] = 1.0 / 2;
    expected[CS_PROXY_P_MAX_MEAN][4] = (3.0 / 5 + 1.0 / 2) / 2;
    expected[CS_PROXY_P_L_STD][4] = (3.0 / 5 - 1.0 / 4) / 2;
    expected[CS_PROXY_AUM][4] = (log(3.0) + log(1.0 / 2)) / 2;
    expected[CS_PROXY_EL2N][4] = sqrt(0.5 * 0.5 + 0.75 * 0.75 + 0.25 * 0.25);

    /* Example 5, label 0: the same row p = 1/4, 1/4, 1/2 in every epoch,
     * so its p_L has no spread at all. */
    expected[CS_PROXY_CBTL_FRAC][5] = 0.0;
    expected[CS_PROXY_P_L_LAST][5] = 1.0 / 4;
    expected[CS_PROXY_P_L_MEAN][5] = 1.0 / 4;
    expected[CS_PROXY_P_MAX_LAST][5] = 1.0 / 2;
    expected[CS_PROXY_P_MAX_MEAN][5] = 1.0 / 2;
    expected[CS_PROXY_P_L_STD][5] = 0.0;
    expected[CS_PROXY_AUM][5] = log(1.0 / 2);
    expected[CS_PROXY_EL2N][5] = sqrt(0.75 * 0.75 + 0.25 * 0.25 + 0.5 * 0.5);
}

/* Observes one epoch of the hand case, in reverse id order and batches of
 * two, and leaves the epoch open. */
static void hand_observe_epoch(cs_tracker *tracker, int epoch)
{
    float predictions[HAND_N * HAND_C];
    int64_t ids[HAND_N];
    size_t count = 0;
    const size_t batch_sizes[] = {2};

    for (size_t i = 0; i < HAND_N; i++) {
        for (size_t k = 0; k < HAND_C; k++) {
            const float weight = hand_weights[epoch][i][k];

            predictions[i * HAND_C + k] = weight > 0 ? logf(weight) : 0.0f;
        }
    }
    for (int64_t i = HAND_N - 1; i >= 0; i--) {
        if (hand_weights[epoch][i][0] > 0)
            ids[count++] = i;
    }
    tf_observe_rows(tracker, predictions, hand_labels, NULL, HAND_C, 0, ids,
                    count, batch_sizes, 1);
}

static cs_tracker *hand_tracker;

static int hand_setup(void **state)
{
    (void)state;
    hand_tracker = tf_create(HAND_N, HAND_C, CS_INPUT_LOGITS, 0, 1,
                             CS_REPEAT_REJECT);
    for (int e = 0; e < HAND_EPOCHS; e++) {
        hand_observe_epoch(hand_tracker, e);
        assert_int_equal(cs_end_epoch(hand_tracker), CS_OK);
    }
    return 0;
}

static int hand_teardown(void **state)
{
    (void)state;
    cs_tracker_free(hand_tracker);
    hand_tracker = NULL;
    return 0;
}

static void hand_integer_proxies(void **state)
{
    int32_t values[HAND_N];

    (void)state;
    assert_int_equal(cs_tracker_epochs(hand_tracker), HAND_EPOCHS);
    assert_int_equal(cs_tracker_proxy_i32(hand_tracker, CS_PROXY_CBTL, values,
                                          HAND_N),
                     CS_OK);
    assert_memory_equal(values, hand_cbtl, sizeof(values));
    assert_int_equal(cs_tracker_proxy_i32(hand_tracker, CS_PROXY_FORGETTING,
                                          values, HAND_N),
                     CS_OK);
    assert_memory_equal(values, hand_forgetting, sizeof(values));
    assert_int_equal(cs_tracker_proxy_i32(hand_tracker, CS_PROXY_FIRST_LEARNED,
                                          values, HAND_N),
                     CS_OK);
    assert_memory_equal(values, hand_first_learned, sizeof(values));
}

static void hand_float_proxies(void **state)
{
    double expected[CS_PROXY_COUNT][HAND_N];
    float values[HAND_N];
    char what[64];

    (void)state;
    hand_expected_floats(expected);
    for (int p = 0; p < CS_PROXY_COUNT; p++) {
        if (cs_proxy_is_integer((cs_proxy)p))
            continue;
        assert_int_equal(cs_tracker_proxy_f32(hand_tracker, (cs_proxy)p,
                                              values, HAND_N),
                         CS_OK);
        for (size_t i = 0; i < HAND_N; i++) {
            snprintf(what, sizeof(what), "%s[%zu]", cs_proxy_name((cs_proxy)p),
                     i);
            tf_assert_close_at(values[i], expected[p][i],
                               TOLERANCE_PROBABILITY, what, __FILE__,
                               __LINE__);
        }
    }
}

static void hand_labels_and_counts(void **state)
{
    int32_t values[HAND_N];

    (void)state;
    assert_int_equal(cs_tracker_labels(hand_tracker, values, HAND_N), CS_OK);
    assert_memory_equal(values, hand_seen_labels, sizeof(values));
    assert_int_equal(cs_tracker_epochs_observed(hand_tracker, values, HAND_N),
                     CS_OK);
    assert_memory_equal(values, hand_epochs_observed, sizeof(values));
}

/* The hand case through the double reference too, so that the reference
 * itself is checked against the hand values above. */
static void hand_matches_reference(void **state)
{
    float logits[HAND_EPOCHS][HAND_N * HAND_C];
    uint8_t observed[HAND_EPOCHS][HAND_N];
    const float *epochs[HAND_EPOCHS];
    const uint8_t *observed_rows[HAND_EPOCHS];

    (void)state;
    for (int e = 0; e < HAND_EPOCHS; e++) {
        for (size_t i = 0; i < HAND_N; i++) {
            observed[e][i] = hand_weights[e][i][0] > 0;
            for (size_t k = 0; k < HAND_C; k++) {
                const float weight = hand_weights[e][i][k];

                logits[e][i * HAND_C + k] = weight > 0 ? logf(weight) : 0.0f;
            }
        }
        epochs[e] = logits[e];
        observed_rows[e] = observed[e];
    }
    CHECK_AGAINST_REFERENCE(hand_tracker, epochs, observed_rows, HAND_EPOCHS,
                            HAND_N, HAND_C, hand_labels, CS_INPUT_LOGITS,
                            TOLERANCE_PROBABILITY, TOLERANCE_MARGIN_RELATIVE);
}

static void hand_never_observed(void **state)
{
    float values[HAND_N];
    int32_t ints[HAND_N];

    (void)state;
    for (int p = 0; p < CS_PROXY_COUNT; p++) {
        if (cs_proxy_is_integer((cs_proxy)p)) {
            assert_int_equal(cs_tracker_proxy_i32(hand_tracker, (cs_proxy)p,
                                                  ints, HAND_N),
                             CS_OK);
            assert_int_equal(ints[3], p == CS_PROXY_FIRST_LEARNED ? -1 : 0);
        } else {
            assert_int_equal(cs_tracker_proxy_f32(hand_tracker, (cs_proxy)p,
                                                  values, HAND_N),
                             CS_OK);
            assert_true(isnan(values[3]));
        }
    }
}

/* Per-epoch history of the hand case against the weights table. */
static void hand_history(void **state)
{
    uint8_t observed[HAND_N];
    uint8_t correct[HAND_N];
    float p_l[HAND_N];
    float p_max[HAND_N];

    (void)state;
    for (int e = 0; e < HAND_EPOCHS; e++) {
        memset(observed, 7, sizeof(observed));
        memset(correct, 7, sizeof(correct));
        assert_int_equal(cs_tracker_history(hand_tracker, e + 1, observed,
                                            correct, p_l, p_max, HAND_N),
                         CS_OK);
        for (size_t i = 0; i < HAND_N; i++) {
            const float *w = hand_weights[e][i];
            const int32_t label = hand_labels[i];
            const double sum = (double)w[0] + w[1] + w[2];
            double max = w[0];
            int is_correct = 1;

            for (int k = 0; k < HAND_C; k++) {
                max = w[k] > max ? w[k] : max;
                if (k != label && !(w[label] > w[k]))
                    is_correct = 0;
            }
            if (sum == 0) {
                assert_int_equal(observed[i], 0);
                assert_int_equal(correct[i], 0);
                assert_true(isnan(p_l[i]));
                assert_true(isnan(p_max[i]));
                continue;
            }
            assert_int_equal(observed[i], 1);
            assert_int_equal(correct[i], is_correct);
            TF_ASSERT_CLOSE(p_l[i], w[label] / sum, TOLERANCE_PROBABILITY);
            TF_ASSERT_CLOSE(p_max[i], max / sum, TOLERANCE_PROBABILITY);
        }
    }
}

/* NULL output pointers skip those outputs. */
static void history_null_outputs(void **state)
{
    uint8_t correct[HAND_N];
    float p_max[HAND_N];
    const uint8_t expected_correct[HAND_N] = {1, 1, 1, 0, 0, 0};

    (void)state;
    assert_int_equal(cs_tracker_history(hand_tracker, 3, NULL, correct, NULL,
                                        p_max, HAND_N),
                     CS_OK);
    assert_memory_equal(correct, expected_correct, sizeof(correct));
    TF_ASSERT_CLOSE(p_max[2], 0.5, TOLERANCE_PROBABILITY);
    assert_int_equal(cs_tracker_history(hand_tracker, 1, NULL, NULL, NULL,
                                        NULL, HAND_N),
                     CS_OK);
}

/* The open epoch's history is readable once it has observations, and
 * proxies include it before cs_end_epoch(). */
static void history_open_epoch(void **state)
{
    cs_tracker *tracker = tf_create(HAND_N, HAND_C, CS_INPUT_LOGITS, 0, 1,
                                    CS_REPEAT_REJECT);
    uint8_t observed[HAND_N];
    uint8_t correct[HAND_N];
    float p_l[HAND_N];
    int32_t cbtl[HAND_N];

    (void)state;
    hand_observe_epoch(tracker, 0);
    assert_int_equal(cs_end_epoch(tracker), CS_OK);
    assert_int_equal(cs_tracker_history(tracker, 2, observed, NULL, NULL, NULL,
                                        HAND_N),
                     CS_E_INVALID_ARGUMENT);

    hand_observe_epoch(tracker, 2);
    assert_int_equal(cs_tracker_epochs(tracker), 1);
    assert_int_equal(cs_tracker_history(tracker, 2, observed, correct, p_l,
                                        NULL, HAND_N),
                     CS_OK);
    assert_int_equal(observed[1], 1);
    assert_int_equal(correct[1], 1);
    TF_ASSERT_CLOSE(p_l[1], 3.0 / 5, TOLERANCE_PROBABILITY);
    assert_int_equal(observed[3], 0);
    assert_true(isnan(p_l[3]));
    assert_int_equal(cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, cbtl,
                                          HAND_N),
                     CS_OK);
    /* Example 1 is wrong in epoch 1 and right in the open epoch 2. */
    assert_int_equal(cbtl[1], 1);
    assert_int_equal(cs_tracker_history(tracker, 3, observed, NULL, NULL, NULL,
                                        HAND_N),
                     CS_E_INVALID_ARGUMENT);
    cs_tracker_free(tracker);
}

/* ------------------------------------------------------------------------
 * Ties
 * ------------------------------------------------------------------------ */

static void ties_two_classes(void **state)
{
    /* Example 0: [1, 1] every epoch. Example 1 (label 1): a tie, then
     * right, then a tie again. Example 2: always right. */
    const float logits[3][3 * 2] = {
        {1, 1, 1, 1, 3, 1},
        {1, 1, 0, 1, 3, 1},
        {1, 1, 1, 1, 3, 1},
    };
    const int32_t labels[3] = {0, 1, 0};
    const int32_t want_cbtl[3] = {0, 1, 3};
    const int32_t want_forgetting[3] = {0, 1, 0};
    const int32_t want_first[3] = {-1, 2, 1};
    cs_tracker *tracker = tf_create(3, 2, CS_INPUT_LOGITS, 0, 0,
                                    CS_REPEAT_REJECT);
    int32_t ints[3];
    float floats[3];

    (void)state;
    for (int e = 0; e < 3; e++)
        assert_int_equal(cs_observe_epoch(tracker, logits[e], labels, NULL, 3),
                         CS_OK);
    assert_int_equal(cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, ints, 3),
                     CS_OK);
    assert_memory_equal(ints, want_cbtl, sizeof(ints));
    assert_int_equal(cs_tracker_proxy_i32(tracker, CS_PROXY_FORGETTING, ints,
                                          3),
                     CS_OK);
    assert_memory_equal(ints, want_forgetting, sizeof(ints));
    assert_int_equal(cs_tracker_proxy_i32(tracker, CS_PROXY_FIRST_LEARNED,
                                          ints, 3),
                     CS_OK);
    assert_memory_equal(ints, want_first, sizeof(ints));
    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_AUM, floats, 3),
                     CS_OK);
    TF_ASSERT_CLOSE(floats[0], 0.0, 0.0);
    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_P_L_MEAN, floats,
                                          3),
                     CS_OK);
    TF_ASSERT_CLOSE(floats[0], 0.5, TOLERANCE_PROBABILITY);
    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_EL2N, floats, 3),
                     CS_OK);
    TF_ASSERT_CLOSE(floats[0], sqrt(0.5), TOLERANCE_PROBABILITY);
    cs_tracker_free(tracker);
}

static void ties_three_classes(void **state)
{
    /* Every row ties the true label with another class, above or below the
     * third class, so none of them is correct. */
    const float logits[3 * 3] = {2, 2, 1, 2, 1, 2, 1, 2, 2};
    const int32_t labels[3] = {0, 2, 1};
    cs_tracker *tracker = tf_create(3, 3, CS_INPUT_LOGITS, 0, 0,
                                    CS_REPEAT_REJECT);
    int32_t ints[3];

    (void)state;
    for (int e = 0; e < 3; e++)
        assert_int_equal(cs_observe_epoch(tracker, logits, labels, NULL, 3),
                         CS_OK);
    assert_int_equal(cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, ints, 3),
                     CS_OK);
    assert_int_equal(ints[0], 0);
    assert_int_equal(ints[1], 0);
    assert_int_equal(ints[2], 0);
    assert_int_equal(cs_tracker_proxy_i32(tracker, CS_PROXY_FIRST_LEARNED,
                                          ints, 3),
                     CS_OK);
    assert_int_equal(ints[0], -1);
    assert_int_equal(ints[1], -1);
    assert_int_equal(ints[2], -1);
    cs_tracker_free(tracker);
}

/* ------------------------------------------------------------------------
 * Probability inputs
 * ------------------------------------------------------------------------ */

#define PROB_N 4
#define PROB_C 4
#define PROB_EPOCHS 3

/* Dyadic rows that sum to exactly 1 in float32, with ties, zeros and a
 * true-label probability of 0. */
static const float prob_rows[PROB_EPOCHS][PROB_N * PROB_C] = {
    {0.5f, 0.25f, 0.125f, 0.125f, 0, 0.5f, 0.5f, 0, 0.25f, 0.25f, 0, 0.5f, 0,
     0, 0, 1},
    {0.25f, 0.5f, 0.125f, 0.125f, 0.125f, 0.75f, 0.125f, 0, 0, 0, 1, 0, 0.25f,
     0.25f, 0.25f, 0.25f},
    {1, 0, 0, 0, 0.5f, 0.25f, 0.25f, 0, 0.0625f, 0.0625f, 0.375f, 0.5f, 0, 0,
     0, 1},
};
static const int32_t prob_labels[PROB_N] = {0, 1, 2, 3};

static void probabilities_hand(void **state)
{
    cs_tracker *tracker = tf_create(PROB_N, PROB_C, CS_INPUT_PROBABILITIES, 0,
                                    0, CS_REPEAT_REJECT);
    const double log_min = log((double)FLT_MIN);
    const int32_t want_cbtl[PROB_N] = {2, 1, 1, 2};
    const int32_t want_first[PROB_N] = {1, 2, 2, 1};
    int32_t ints[PROB_N];
    float aum[PROB_N];
    float p_l[PROB_N];

    (void)state;
    for (int e = 0; e < PROB_EPOCHS; e++)
        assert_int_equal(cs_observe_epoch(tracker, prob_rows[e], prob_labels,
                                          NULL, PROB_N),
                         CS_OK);
    assert_int_equal(cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, ints,
                                          PROB_N),
                     CS_OK);
    assert_memory_equal(ints, want_cbtl, sizeof(ints));
    assert_int_equal(cs_tracker_proxy_i32(tracker, CS_PROXY_FIRST_LEARNED,
                                          ints, PROB_N),
                     CS_OK);
    assert_memory_equal(ints, want_first, sizeof(ints));

    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_AUM, aum, PROB_N),
                     CS_OK);
    /* Margins reach log(FLT_MIN), about -87.3, so they get a tolerance
     * relative to 87. Example 0: log(1/2 / 1/4), log(1/4 / 1/2), then
     * log(1) - log(FLT_MIN) because the other classes have probability 0. */
    TF_ASSERT_CLOSE(aum[0], (log(2.0) + log(0.5) - log_min) / 3,
                    TOLERANCE_MARGIN_RELATIVE * 87);
    /* Example 2: p_L = 0 in epoch 1 is clamped to FLT_MIN, then 1 against
     * zeros, then 3/8 against 1/2. The two clamped logs cancel. */
    TF_ASSERT_CLOSE(aum[2],
                    ((log_min - log(0.5)) + (0.0 - log_min) + log(0.75)) / 3,
                    TOLERANCE_MARGIN_RELATIVE * 87);
    /* Example 3: 1 against zeros twice, a four-way tie once. */
    TF_ASSERT_CLOSE(aum[3], (-log_min + 0.0 - log_min) / 3,
                    TOLERANCE_MARGIN_RELATIVE * 87);
    assert_true(isfinite(aum[2]));

    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_P_L_MEAN, p_l,
                                          PROB_N),
                     CS_OK);
    TF_ASSERT_CLOSE(p_l[2], (0.0 + 1.0 + 0.375) / 3, TOLERANCE_PROBABILITY);
    TF_ASSERT_CLOSE(p_l[1], (0.5 + 0.75 + 0.25) / 3, TOLERANCE_PROBABILITY);

    const float *epochs[PROB_EPOCHS] = {prob_rows[0], prob_rows[1],
                                        prob_rows[2]};

    CHECK_AGAINST_REFERENCE(tracker, epochs, NULL, PROB_EPOCHS, PROB_N, PROB_C,
                            prob_labels, CS_INPUT_PROBABILITIES,
                            TOLERANCE_PROBABILITY, TOLERANCE_MARGIN_RELATIVE);
    cs_tracker_free(tracker);
}

/* ------------------------------------------------------------------------
 * Seeded cases against the reference
 * ------------------------------------------------------------------------ */

#define RANDOM_N 6
#define RANDOM_C 4
#define RANDOM_EPOCHS 4

/* Feeds seeded rows in batches, skipping some (example, epoch) pairs, and
 * compares every proxy with the reference after each epoch. */
static void check_random_case(cs_input_kind kind, uint64_t seed)
{
    float logits[RANDOM_EPOCHS][RANDOM_N * RANDOM_C];
    float rows[RANDOM_EPOCHS][RANDOM_N * RANDOM_C];
    uint8_t observed[RANDOM_EPOCHS][RANDOM_N];
    const float *epochs[RANDOM_EPOCHS];
    const uint8_t *observed_rows[RANDOM_EPOCHS];
    int32_t labels[RANDOM_N];
    const size_t batch_sizes[] = {3, 1};
    uint64_t random = seed;
    cs_tracker *tracker = tf_create(RANDOM_N, RANDOM_C, kind, 0, 1,
                                    CS_REPEAT_REJECT);

    tf_fill_labels(labels, RANDOM_N, &random, RANDOM_C);
    for (int e = 0; e < RANDOM_EPOCHS; e++) {
        int64_t ids[RANDOM_N];
        size_t count = 0;

        tf_fill_uniform(logits[e], RANDOM_N * RANDOM_C, &random, -2.5, 2.5);
        if (kind == CS_INPUT_PROBABILITIES)
            tf_softmax_rows(logits[e], rows[e], RANDOM_N, RANDOM_C);
        else
            memcpy(rows[e], logits[e], sizeof(rows[e]));
        for (size_t i = 0; i < RANDOM_N; i++) {
            /* Example 5 is skipped in epochs 2 and 3, the others now and
             * then. */
            observed[e][i] = (e + 3 * (int)i) % 5 != 1;
            if (i == 5)
                observed[e][i] = e == 0 || e == 3;
            if (observed[e][i])
                ids[count++] = (int64_t)i;
        }
        tf_shuffle(ids, count, &random);
        tf_observe_rows(tracker, rows[e], labels, NULL, RANDOM_C, 0, ids,
                        count, batch_sizes, 2);
        assert_int_equal(cs_end_epoch(tracker), CS_OK);
        epochs[e] = rows[e];
        observed_rows[e] = observed[e];
        CHECK_AGAINST_REFERENCE(tracker, epochs, observed_rows, e + 1,
                                RANDOM_N, RANDOM_C, labels, kind,
                                TOLERANCE_PROBABILITY,
                                TOLERANCE_MARGIN_RELATIVE);
    }
    cs_tracker_free(tracker);
}

static void random_logits_reference(void **state)
{
    (void)state;
    check_random_case(CS_INPUT_LOGITS, 0x9e3779b97f4a7c15u);
    check_random_case(CS_INPUT_LOGITS, 12345u);
}

static void random_probabilities_reference(void **state)
{
    (void)state;
    check_random_case(CS_INPUT_PROBABILITIES, 0x2545f4914f6cdd1du);
    check_random_case(CS_INPUT_PROBABILITIES, 777u);
}

/* An example whose p_L never changes has a standard deviation of 0, not
 * the rounding noise of E[p^2] - E[p]^2 (about 3e-4 in float32). */
static void p_l_std_constant_zero(void **state)
{
    const float logits[3 * 3] = {1.0f, 0.0f,  0.0f,  0.3f, -2.2f,
                                 5.0f, -0.7f, 0.11f, 0.13f};
    const int32_t labels[3] = {0, 2, 1};
    cs_tracker *tracker = tf_create(3, 3, CS_INPUT_LOGITS, 0, 0,
                                    CS_REPEAT_REJECT);
    float std[3];

    (void)state;
    for (int e = 0; e < 4; e++)
        assert_int_equal(cs_observe_epoch(tracker, logits, labels, NULL, 3),
                         CS_OK);
    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_P_L_STD, std, 3),
                     CS_OK);
    TF_ASSERT_CLOSE(std[0], 0.0, 1e-6);
    TF_ASSERT_CLOSE(std[1], 0.0, 1e-6);
    TF_ASSERT_CLOSE(std[2], 0.0, 1e-6);
    cs_tracker_free(tracker);
}

/* ------------------------------------------------------------------------
 * Softmax stability
 * ------------------------------------------------------------------------ */

static void softmax_large_logits(void **state)
{
    const float logits[5 * 3] = {
        1e4f,  -1e4f,   0.0f,     /* p_L = 1, margin 1e4 */
        1e4f,  9999.0f, -1e4f,    /* p_L = 1 / (1 + e), wrong */
        -1e4f, -1e4f,   -9997.0f, /* p_L = e^3 / (2 + e^3) */
        -1e4f, 1e4f,    -1e4f,    /* p_L underflows to 0, margin -2e4 */
        1e4f,  1e4f,    1e4f,     /* three-way tie */
    };
    const int32_t labels[5] = {0, 1, 2, 0, 1};
    const float *epochs[2] = {logits, logits};
    cs_tracker *tracker = tf_create(5, 3, CS_INPUT_LOGITS, 0, 0,
                                    CS_REPEAT_REJECT);
    float values[5];

    (void)state;
    for (int e = 0; e < 2; e++)
        assert_int_equal(cs_observe_epoch(tracker, logits, labels, NULL, 5),
                         CS_OK);
    for (int p = 0; p < CS_PROXY_COUNT; p++) {
        if (cs_proxy_is_integer((cs_proxy)p))
            continue;
        assert_int_equal(cs_tracker_proxy_f32(tracker, (cs_proxy)p, values, 5),
                         CS_OK);
        for (int i = 0; i < 5; i++)
            assert_true(isfinite(values[i]));
    }
    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_P_L_LAST, values,
                                          5),
                     CS_OK);
    TF_ASSERT_CLOSE(values[0], 1.0, TOLERANCE_PROBABILITY);
    TF_ASSERT_CLOSE(values[1], 1.0 / (1.0 + exp(1.0)), TOLERANCE_PROBABILITY);
    TF_ASSERT_CLOSE(values[2], exp(3.0) / (2.0 + exp(3.0)),
                    TOLERANCE_PROBABILITY);
    TF_ASSERT_CLOSE(values[3], 0.0, TOLERANCE_PROBABILITY);
    TF_ASSERT_CLOSE(values[4], 1.0 / 3, TOLERANCE_PROBABILITY);
    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_AUM, values, 5),
                     CS_OK);
    TF_ASSERT_CLOSE(values[0], 1e4, 1e4 * TOLERANCE_MARGIN_RELATIVE);
    TF_ASSERT_CLOSE(values[3], -2e4, 2e4 * TOLERANCE_MARGIN_RELATIVE);
    CHECK_AGAINST_REFERENCE(tracker, epochs, NULL, 2, 5, 3, labels,
                            CS_INPUT_LOGITS, TOLERANCE_PROBABILITY,
                            TOLERANCE_MARGIN_RELATIVE);
    cs_tracker_free(tracker);
}

static void softmax_equal_logits(void **state)
{
    const float logits[3 * 4] = {0,   0,   0,    0,    -50,  -50,
                                 -50, -50, 1e4f, 1e4f, 1e4f, 1e4f};
    const int32_t labels[3] = {0, 3, 1};
    cs_tracker *tracker = tf_create(3, 4, CS_INPUT_LOGITS, 0, 0,
                                    CS_REPEAT_REJECT);
    float values[3];
    int32_t cbtl[3];

    (void)state;
    assert_int_equal(cs_observe_epoch(tracker, logits, labels, NULL, 3),
                     CS_OK);
    assert_int_equal(cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, cbtl, 3),
                     CS_OK);
    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_P_L_LAST, values,
                                          3),
                     CS_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cbtl[i], 0);
        TF_ASSERT_CLOSE(values[i], 0.25, TOLERANCE_PROBABILITY);
    }
    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_P_MAX_LAST, values,
                                          3),
                     CS_OK);
    for (int i = 0; i < 3; i++)
        TF_ASSERT_CLOSE(values[i], 0.25, TOLERANCE_PROBABILITY);
    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_EL2N, values, 3),
                     CS_OK);
    /* softmax - one-hot = (-3/4, 1/4, 1/4, 1/4) in some order. */
    for (int i = 0; i < 3; i++)
        TF_ASSERT_CLOSE(values[i], sqrt(0.75), TOLERANCE_PROBABILITY);
    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_AUM, values, 3),
                     CS_OK);
    for (int i = 0; i < 3; i++)
        TF_ASSERT_CLOSE(values[i], 0.0, 0.0);
    cs_tracker_free(tracker);
}

#define WIDE_N 4
#define WIDE_C 1000

/* C = 1000: the float32 sum of 1000 exponentials may be off by a few
 * parts in 1e6, so probabilities get a tolerance of 1e-5. */
static void softmax_thousand_classes(void **state)
{
    static float logits[2][WIDE_N * WIDE_C];
    const float *epochs[2] = {logits[0], logits[1]};
    int32_t labels[WIDE_N];
    uint64_t random = 99;
    cs_tracker *tracker = tf_create(WIDE_N, WIDE_C, CS_INPUT_LOGITS, 0, 0,
                                    CS_REPEAT_REJECT);

    (void)state;
    tf_fill_labels(labels, WIDE_N, &random, WIDE_C);
    for (int e = 0; e < 2; e++) {
        tf_fill_uniform(logits[e], WIDE_N * WIDE_C, &random, -10.0, 10.0);
        /* Example 0 is right by a wide margin, example 1 far off the
         * origin, example 3 all equal. */
        logits[e][0 * WIDE_C + (size_t)labels[0]] = 25.0f;
        for (size_t k = 0; k < WIDE_C; k++) {
            logits[e][1 * WIDE_C + k] += 5000.0f;
            logits[e][3 * WIDE_C + k] = -3.0f;
        }
        assert_int_equal(cs_observe_epoch(tracker, logits[e], labels, NULL,
                                          WIDE_N),
                         CS_OK);
    }
    CHECK_AGAINST_REFERENCE(tracker, epochs, NULL, 2, WIDE_N, WIDE_C, labels,
                            CS_INPUT_LOGITS, 1e-5, TOLERANCE_MARGIN_RELATIVE);

    float p_l[WIDE_N];

    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_P_L_LAST, p_l,
                                          WIDE_N),
                     CS_OK);
    TF_ASSERT_CLOSE(p_l[3], 1.0 / WIDE_C, 1e-8);
    cs_tracker_free(tracker);
}

/* ------------------------------------------------------------------------
 * Proxy metadata
 * ------------------------------------------------------------------------ */

static void proxy_metadata(void **state)
{
    static const struct {
        cs_proxy proxy;
        const char *name;
        int direction;
        int is_integer;
    } table[CS_PROXY_COUNT] = {
        {CS_PROXY_CBTL, "cbtl", 1, 1},
        {CS_PROXY_CBTL_FRAC, "cbtl_frac", 1, 0},
        {CS_PROXY_P_L_LAST, "p_l_last", 1, 0},
        {CS_PROXY_P_L_MEAN, "p_l_mean", 1, 0},
        {CS_PROXY_P_MAX_LAST, "p_max_last", 1, 0},
        {CS_PROXY_P_MAX_MEAN, "p_max_mean", 1, 0},
        {CS_PROXY_P_L_STD, "p_l_std", -1, 0},
        {CS_PROXY_FORGETTING, "forgetting", -1, 1},
        {CS_PROXY_FIRST_LEARNED, "first_learned", -1, 1},
        {CS_PROXY_AUM, "aum", 1, 0},
        {CS_PROXY_EL2N, "el2n", -1, 0},
    };

    (void)state;
    for (int i = 0; i < CS_PROXY_COUNT; i++) {
        assert_int_equal(table[i].proxy, i);
        assert_non_null(cs_proxy_name(table[i].proxy));
        assert_string_equal(cs_proxy_name(table[i].proxy), table[i].name);
        assert_int_equal(cs_proxy_direction(table[i].proxy),
                         table[i].direction);
        assert_int_equal(cs_proxy_is_integer(table[i].proxy),
                         table[i].is_integer);
    }
}

static void proxy_metadata_unknown(void **state)
{
    const cs_proxy unknown[] = {(cs_proxy)CS_PROXY_COUNT, (cs_proxy)-1,
                                (cs_proxy)1000};

    (void)state;
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        assert_null(cs_proxy_name(unknown[i]));
        assert_int_equal(cs_proxy_direction(unknown[i]), 0);
        assert_int_equal(cs_proxy_is_integer(unknown[i]), -1);
    }
}

int main(void)
{
    const struct CMUnitTest hand_tests[] = {
        cmocka_unit_test(hand_integer_proxies),
        cmocka_unit_test(hand_float_proxies),
        cmocka_unit_test(hand_labels_and_counts),
        cmocka_unit_test(hand_matches_reference),
        cmocka_unit_test(hand_never_observed),
        cmocka_unit_test(hand_history),
        cmocka_unit_test(history_null_outputs),
    };
    const struct CMUnitTest other_tests[] = {
        cmocka_unit_test(history_open_epoch),
        cmocka_unit_test(ties_two_classes),
        cmocka_unit_test(ties_three_classes),
        cmocka_unit_test(probabilities_hand),
        cmocka_unit_test(random_logits_reference),
        cmocka_unit_test(random_probabilities_reference),
        cmocka_unit_test(p_l_std_constant_zero),
        cmocka_unit_test(softmax_large_logits),
        cmocka_unit_test(softmax_equal_logits),
        cmocka_unit_test(softmax_thousand_classes),
        cmocka_unit_test(proxy_metadata),
        cmocka_unit_test(proxy_metadata_unknown),
    };
    int failures = 0;

    failures += cmocka_run_group_tests_name("hand case", hand_tests,
                                            hand_setup, hand_teardown);
    failures += cmocka_run_group_tests_name("proxies", other_tests, NULL,
                                            NULL);
    return failures != 0;
}
