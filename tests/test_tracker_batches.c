/*
 * The batch form of the tracker: batches in shuffled order and uneven sizes
 * equal the epoch form bit for bit, features keep the most recent row, the
 * open epoch shows in the proxies, and empty epochs count. Repeats are
 * rejected or dropped according to the repeat policy.
 */
#include "tracker_fixtures.h"

#include <pthread.h>

#define BIG_N 23
#define BIG_C 4
#define BIG_D 3
#define BIG_EPOCHS 4

/* Feeds the same seeded epochs to one tracker in epoch form and to another
 * in shuffled batches, and compares all getters after every epoch. */
static void check_batches_equal_epochs(cs_input_kind kind, uint64_t seed)
{
    /* Sizes 7 + 1 + 5 + 8 = 21 leave a last partial batch of 2, and the
     * size list starts at a different place each epoch. */
    const size_t batch_sizes[] = {7, 1, 5, 8, 1, 7, 5};
    float logits[BIG_N * BIG_C];
    float predictions[BIG_N * BIG_C];
    float features[BIG_N * BIG_D];
    int32_t labels[BIG_N];
    int64_t ids[BIG_N];
    uint64_t random = seed;
    cs_tracker *whole = tf_create(BIG_N, BIG_C, kind, BIG_D, 1,
                                  CS_REPEAT_REJECT);
    cs_tracker *batched = tf_create(BIG_N, BIG_C, kind, BIG_D, 1,
                                    CS_REPEAT_REJECT);

    tf_fill_labels(labels, BIG_N, &random, BIG_C);
    for (int e = 0; e < BIG_EPOCHS; e++) {
        tf_fill_uniform(logits, BIG_N * BIG_C, &random, -3.0, 3.0);
        /* A tie and a clear win, so that both branches of "correct" are
         * exercised on fixed rows. */
        logits[0 * BIG_C + 0] = logits[0 * BIG_C + 1] = 4.0f;
        logits[1 * BIG_C + (size_t)labels[1]] = 9.0f;
        if (kind == CS_INPUT_PROBABILITIES)
            tf_softmax_rows(logits, predictions, BIG_N, BIG_C);
        else
            memcpy(predictions, logits, sizeof(predictions));
        tf_fill_uniform(features, BIG_N * BIG_D, &random, -1.0, 1.0);
        for (int64_t i = 0; i < BIG_N; i++)
            ids[i] = i;
        tf_shuffle(ids, BIG_N, &random);

        assert_int_equal(cs_observe_epoch(whole, predictions, labels, features,
                                          BIG_N),
                         CS_OK);
        tf_observe_rows(batched, predictions, labels, features, BIG_C, BIG_D,
                        ids, BIG_N, batch_sizes + e % 3, 4);
        assert_int_equal(cs_end_epoch(batched), CS_OK);
        TF_ASSERT_TRACKERS_EQUAL(whole, batched);
    }
    assert_int_equal(cs_tracker_epochs(batched), BIG_EPOCHS);

    float last_features[BIG_N * BIG_D];

    assert_int_equal(cs_tracker_features(batched, last_features,
                                         BIG_N * BIG_D),
                     CS_OK);
    assert_memory_equal(last_features, features, sizeof(features));
    cs_tracker_free(whole);
    cs_tracker_free(batched);
}

static void batches_equal_epoch_logits(void **state)
{
    (void)state;
    check_batches_equal_epochs(CS_INPUT_LOGITS, 0x1234567887654321u);
}

static void batches_equal_epoch_probabilities(void **state)
{
    (void)state;
    check_batches_equal_epochs(CS_INPUT_PROBABILITIES, 0xdeadbeefcafef00du);
}

/* A batch of one per call, in descending id order, still equals the epoch
 * form, with and without history. */
static void batches_of_one(void **state)
{
    const size_t one[] = {1};
    float logits[BIG_N * BIG_C];
    int32_t labels[BIG_N];
    int64_t ids[BIG_N];
    uint64_t random = 4242;

    (void)state;
    for (int history = 0; history <= 1; history++) {
        cs_tracker *whole = tf_create(BIG_N, BIG_C, CS_INPUT_LOGITS, 0,
                                      history, CS_REPEAT_REJECT);
        cs_tracker *batched = tf_create(BIG_N, BIG_C, CS_INPUT_LOGITS, 0,
                                        history, CS_REPEAT_REJECT);

        tf_fill_labels(labels, BIG_N, &random, BIG_C);
        for (int e = 0; e < 3; e++) {
            tf_fill_uniform(logits, BIG_N * BIG_C, &random, -2.0, 2.0);
            for (int64_t i = 0; i < BIG_N; i++)
                ids[i] = BIG_N - 1 - i;
            assert_int_equal(cs_observe_epoch(whole, logits, labels, NULL,
                                              BIG_N),
                             CS_OK);
            tf_observe_rows(batched, logits, labels, NULL, BIG_C, 0, ids,
                            BIG_N, one, 1);
            assert_int_equal(cs_end_epoch(batched), CS_OK);
        }
        TF_ASSERT_TRACKERS_EQUAL(whole, batched);
        cs_tracker_free(whole);
        cs_tracker_free(batched);
    }
}

/* ------------------------------------------------------------------------
 * Features
 * ------------------------------------------------------------------------ */

static void features_most_recent_row(void **state)
{
    const float logits[4 * 2] = {1, 0, 0, 1, 1, 0, 0, 1};
    const float epoch1[4 * 2] = {1, 2, 3, 4, 5, 6, 7, 8};
    const float epoch2[2 * 2] = {-1, -2, -3, -4};
    const float epoch3[1 * 2] = {42, 43};
    const int64_t ids1[4] = {0, 1, 2, 3};
    const int64_t ids2[2] = {2, 0};
    const int64_t ids3[1] = {1};
    const int32_t labels1[4] = {0, 1, 0, 1};
    const int32_t labels2[2] = {0, 0};
    const int32_t labels3[1] = {1};
    cs_tracker *tracker = tf_create(5, 2, CS_INPUT_LOGITS, 2, 0,
                                    CS_REPEAT_REJECT);
    float out[5 * 2];

    (void)state;
    assert_int_equal(cs_observe_batch(tracker, logits, labels1, ids1, epoch1,
                                      4),
                     CS_OK);
    assert_int_equal(cs_end_epoch(tracker), CS_OK);
    assert_int_equal(cs_observe_batch(tracker, logits, labels2, ids2, epoch2,
                                      2),
                     CS_OK);
    assert_int_equal(cs_end_epoch(tracker), CS_OK);

    assert_int_equal(cs_tracker_features(tracker, out, 10), CS_OK);
    /* Ids 0 and 2 were seen again in epoch 2 (rows 1 and 0 of that batch),
     * ids 1 and 3 only in epoch 1, id 4 never. */
    assert_true(out[0] == -3.0f);
    assert_true(out[1] == -4.0f);
    assert_true(out[2] == 3.0f);
    assert_true(out[3] == 4.0f);
    assert_true(out[4] == -1.0f);
    assert_true(out[5] == -2.0f);
    assert_true(out[6] == 7.0f);
    assert_true(out[7] == 8.0f);
    assert_true(isnan(out[8]));
    assert_true(isnan(out[9]));

    /* The open epoch's rows count as most recent. */
    assert_int_equal(cs_observe_batch(tracker, logits, labels3, ids3, epoch3,
                                      1),
                     CS_OK);
    assert_int_equal(cs_tracker_features(tracker, out, 10), CS_OK);
    assert_true(out[2] == 42.0f);
    assert_true(out[3] == 43.0f);
    cs_tracker_free(tracker);
}

/* ------------------------------------------------------------------------
 * Open and empty epochs
 * ------------------------------------------------------------------------ */

static void open_epoch_in_proxies(void **state)
{
    const float logits[2 * 2] = {2, 0, 2, 0};
    const int32_t labels[2] = {0, 1};
    const int64_t ids[2] = {1, 0};
    cs_tracker *tracker = tf_create(3, 2, CS_INPUT_LOGITS, 0, 0,
                                    CS_REPEAT_REJECT);
    int32_t cbtl[3];
    int32_t observed[3];
    float p_l[3];

    (void)state;
    /* Row 0 is id 1 with label 0: right. Row 1 is id 0 with label 1:
     * wrong. */
    assert_int_equal(cs_observe_batch(tracker, logits, labels, ids, NULL, 2),
                     CS_OK);
    assert_int_equal(cs_tracker_epochs(tracker), 0);
    assert_int_equal(cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, cbtl, 3),
                     CS_OK);
    assert_int_equal(cbtl[0], 0);
    assert_int_equal(cbtl[1], 1);
    assert_int_equal(cbtl[2], 0);
    assert_int_equal(cs_tracker_epochs_observed(tracker, observed, 3), CS_OK);
    assert_int_equal(observed[0], 1);
    assert_int_equal(observed[1], 1);
    assert_int_equal(observed[2], 0);
    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_P_L_LAST, p_l, 3),
                     CS_OK);
    TF_ASSERT_CLOSE(p_l[1], 1.0 / (1.0 + exp(-2.0)), 2e-6);
    assert_true(isnan(p_l[2]));

    assert_int_equal(cs_end_epoch(tracker), CS_OK);
    assert_int_equal(cs_tracker_epochs(tracker), 1);
    assert_int_equal(cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, cbtl, 3),
                     CS_OK);
    assert_int_equal(cbtl[1], 1);
    cs_tracker_free(tracker);
}

/* An epoch without observations counts, is not counted as wrong, and
 * shifts the epoch numbers that first_learned reports. */
static void empty_epoch_counts(void **state)
{
    const float logits[2 * 2] = {2, 0, 0, 2};
    const int32_t labels[2] = {0, 0};
    cs_tracker *tracker = tf_create(2, 2, CS_INPUT_LOGITS, 0, 1,
                                    CS_REPEAT_REJECT);
    int32_t ints[2];
    float floats[2];
    uint8_t observed[2];
    float p_l[2];

    (void)state;
    assert_int_equal(cs_end_epoch(tracker), CS_OK);
    assert_int_equal(cs_tracker_epochs(tracker), 1);
    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_P_L_MEAN, floats,
                                          2),
                     CS_OK);
    assert_true(isnan(floats[0]));
    assert_true(isnan(floats[1]));
    assert_int_equal(cs_tracker_history(tracker, 1, observed, NULL, p_l, NULL,
                                        2),
                     CS_OK);
    assert_int_equal(observed[0], 0);
    assert_int_equal(observed[1], 0);
    assert_true(isnan(p_l[0]));
    assert_true(isnan(p_l[1]));

    assert_int_equal(cs_observe_epoch(tracker, logits, labels, NULL, 2),
                     CS_OK);
    assert_int_equal(cs_end_epoch(tracker), CS_OK);
    assert_int_equal(cs_tracker_epochs(tracker), 3);
    assert_int_equal(cs_tracker_proxy_i32(tracker, CS_PROXY_FIRST_LEARNED,
                                          ints, 2),
                     CS_OK);
    assert_int_equal(ints[0], 2);
    assert_int_equal(ints[1], -1);
    assert_int_equal(cs_tracker_proxy_f32(tracker, CS_PROXY_CBTL_FRAC, floats,
                                          2),
                     CS_OK);
    /* Only epoch 2 was observed. Epochs 1 and 3 do not count as wrong. */
    TF_ASSERT_CLOSE(floats[0], 1.0, 0.0);
    TF_ASSERT_CLOSE(floats[1], 0.0, 0.0);
    assert_int_equal(cs_tracker_epochs_observed(tracker, ints, 2), CS_OK);
    assert_int_equal(ints[0], 1);
    assert_int_equal(ints[1], 1);
    cs_tracker_free(tracker);
}

/* ------------------------------------------------------------------------
 * Repeats
 * ------------------------------------------------------------------------ */

/* Label 0 for every example, so "right" rows favour class 0. */
static const float right_row[2] = {3, 0};
static const float wrong_row[2] = {0, 3};

static void fill_rows(float *predictions, const int *right, size_t n)
{
    for (size_t r = 0; r < n; r++)
        memcpy(predictions + 2 * r, right[r] ? right_row : wrong_row,
               sizeof(right_row));
}

static void repeat_rejected_across_batches(void **state)
{
    cs_tracker *tracker = tf_create(4, 2, CS_INPUT_LOGITS, 0, 1,
                                    CS_REPEAT_REJECT);
    const int32_t labels[2] = {0, 0};
    const int64_t first[2] = {0, 1};
    const int64_t second[2] = {1, 2};
    const int right[2] = {1, 1};
    float predictions[2 * 2];
    tf_snapshot before;

    (void)state;
    fill_rows(predictions, right, 2);
    assert_int_equal(cs_observe_batch(tracker, predictions, labels, first,
                                      NULL, 2),
                     CS_OK);
    tf_snapshot_take(tracker, &before);

    const cs_status status = cs_observe_batch(tracker, predictions, labels,
                                              second, NULL, 2);

    TF_EXPECT_ERROR(status, CS_E_REPEATED_OBSERVATION, "cs_observe_batch",
                    "ids");
    assert_int_equal(cs_last_error()->example_id, 1);
    assert_int_equal(cs_last_error()->index, 0);
    TF_ASSERT_UNCHANGED(tracker, &before);
    tf_snapshot_free(&before);

    /* The same id in the next epoch is no repeat. */
    assert_int_equal(cs_end_epoch(tracker), CS_OK);
    assert_int_equal(cs_observe_batch(tracker, predictions, labels, second,
                                      NULL, 2),
                     CS_OK);
    assert_int_equal(cs_tracker_repeats_dropped(tracker), 0);
    cs_tracker_free(tracker);
}

static void repeat_rejected_within_batch(void **state)
{
    cs_tracker *tracker = tf_create(4, 2, CS_INPUT_LOGITS, 0, 1,
                                    CS_REPEAT_REJECT);
    const int32_t labels[3] = {0, 0, 0};
    const int64_t ids[3] = {0, 2, 0};
    const int right[3] = {1, 1, 0};
    float predictions[3 * 2];
    tf_snapshot before;

    (void)state;
    fill_rows(predictions, right, 3);
    tf_snapshot_take(tracker, &before);

    const cs_status status = cs_observe_batch(tracker, predictions, labels,
                                              ids, NULL, 3);

    TF_EXPECT_ERROR(status, CS_E_REPEATED_OBSERVATION, "cs_observe_batch",
                    "ids");
    assert_int_equal(cs_last_error()->example_id, 0);
    assert_int_equal(cs_last_error()->index, 2);
    /* Nothing is recorded, not even ids 0 and 2 from rows 0 and 1. */
    TF_ASSERT_UNCHANGED(tracker, &before);
    tf_snapshot_free(&before);
    cs_tracker_free(tracker);
}

static void keep_first_across_batches(void **state)
{
    cs_tracker *tracker = tf_create(4, 2, CS_INPUT_LOGITS, 1, 1,
                                    CS_REPEAT_KEEP_FIRST);
    const int32_t labels[2] = {0, 0};
    const int64_t first[2] = {0, 1};
    const int64_t second[2] = {1, 2};
    const int right_first[2] = {1, 1};
    const int right_second[2] = {0, 0};
    const float features_first[2] = {10, 11};
    const float features_second[2] = {20, 21};
    float predictions[2 * 2];
    int32_t cbtl[4];
    float features[4];
    uint8_t correct[4];

    (void)state;
    fill_rows(predictions, right_first, 2);
    assert_int_equal(cs_observe_batch(tracker, predictions, labels, first,
                                      features_first, 2),
                     CS_OK);
    fill_rows(predictions, right_second, 2);
    assert_int_equal(cs_observe_batch(tracker, predictions, labels, second,
                                      features_second, 2),
                     CS_OK);
    assert_int_equal(cs_tracker_repeats_dropped(tracker), 1);
    assert_int_equal(cs_end_epoch(tracker), CS_OK);

    assert_int_equal(cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, cbtl, 4),
                     CS_OK);
    /* Id 1 keeps its first, right observation, and id 2 is recorded. */
    assert_int_equal(cbtl[0], 1);
    assert_int_equal(cbtl[1], 1);
    assert_int_equal(cbtl[2], 0);
    assert_int_equal(cbtl[3], 0);
    assert_int_equal(cs_tracker_features(tracker, features, 4), CS_OK);
    assert_true(features[1] == 11.0f);
    assert_true(features[2] == 21.0f);
    assert_int_equal(cs_tracker_history(tracker, 1, NULL, correct, NULL, NULL,
                                        4),
                     CS_OK);
    assert_int_equal(correct[1], 1);
    assert_int_equal(cs_tracker_epochs_observed(tracker, cbtl, 4), CS_OK);
    assert_int_equal(cbtl[1], 1);
    cs_tracker_free(tracker);
}

static void keep_first_within_batch(void **state)
{
    cs_tracker *tracker = tf_create(4, 2, CS_INPUT_LOGITS, 0, 0,
                                    CS_REPEAT_KEEP_FIRST);
    const int32_t labels[4] = {0, 0, 0, 0};
    const int64_t ids[4] = {3, 0, 3, 3};
    const int right[4] = {0, 1, 1, 1};
    float predictions[4 * 2];
    int32_t cbtl[4];
    int32_t observed[4];

    (void)state;
    fill_rows(predictions, right, 4);
    assert_int_equal(cs_observe_batch(tracker, predictions, labels, ids, NULL,
                                      4),
                     CS_OK);
    assert_int_equal(cs_tracker_repeats_dropped(tracker), 2);
    assert_int_equal(cs_end_epoch(tracker), CS_OK);
    assert_int_equal(cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, cbtl, 4),
                     CS_OK);
    /* The first row for id 3 is wrong, and it is the one kept. */
    assert_int_equal(cbtl[3], 0);
    assert_int_equal(cbtl[0], 1);
    assert_int_equal(cs_tracker_epochs_observed(tracker, observed, 4), CS_OK);
    assert_int_equal(observed[3], 1);
    cs_tracker_free(tracker);
}

/* A label change is an error even on a repeat that would be dropped. */
static void keep_first_label_changed(void **state)
{
    cs_tracker *tracker = tf_create(4, 2, CS_INPUT_LOGITS, 0, 1,
                                    CS_REPEAT_KEEP_FIRST);
    const int32_t labels[2] = {0, 0};
    const int32_t changed[2] = {0, 1};
    const int64_t ids[2] = {2, 1};
    const int right[2] = {1, 1};
    float predictions[2 * 2];
    tf_snapshot before;

    (void)state;
    fill_rows(predictions, right, 2);
    assert_int_equal(cs_observe_batch(tracker, predictions, labels, ids, NULL,
                                      2),
                     CS_OK);
    tf_snapshot_take(tracker, &before);

    const cs_status status = cs_observe_batch(tracker, predictions, changed,
                                              ids, NULL, 2);

    TF_EXPECT_ERROR(status, CS_E_LABEL_CHANGED, "cs_observe_batch", "labels");
    assert_int_equal(cs_last_error()->example_id, 1);
    assert_int_equal(cs_last_error()->index, 1);
    assert_string_equal(cs_last_error()->value, "1");
    TF_ASSERT_UNCHANGED(tracker, &before);
    tf_snapshot_free(&before);
    cs_tracker_free(tracker);
}

/* Repeats are counted per epoch: the same id in each epoch drops nothing,
 * and the count adds up over epochs. */
static void keep_first_counts_per_epoch(void **state)
{
    cs_tracker *tracker = tf_create(3, 2, CS_INPUT_LOGITS, 0, 0,
                                    CS_REPEAT_KEEP_FIRST);
    const int32_t labels[3] = {0, 0, 0};
    const int64_t ids[3] = {0, 1, 0};
    const int right[3] = {1, 1, 1};
    float predictions[3 * 2];

    (void)state;
    fill_rows(predictions, right, 3);
    assert_int_equal(cs_observe_batch(tracker, predictions, labels, ids, NULL,
                                      2),
                     CS_OK);
    assert_int_equal(cs_end_epoch(tracker), CS_OK);
    assert_int_equal(cs_observe_batch(tracker, predictions, labels, ids, NULL,
                                      2),
                     CS_OK);
    assert_int_equal(cs_tracker_repeats_dropped(tracker), 0);
    assert_int_equal(cs_observe_batch(tracker, predictions, labels, ids, NULL,
                                      3),
                     CS_OK);
    assert_int_equal(cs_tracker_repeats_dropped(tracker), 3);
    assert_int_equal(cs_end_epoch(tracker), CS_OK);
    assert_int_equal(cs_tracker_epochs(tracker), 2);
    assert_int_equal(cs_tracker_repeats_dropped(tracker), 3);
    cs_tracker_free(tracker);
}

/* Under keep-first, the epoch form after batches of the same epoch is
 * still an open-epoch error, not a set of dropped repeats. */
static void keep_first_epoch_form_open(void **state)
{
    cs_tracker *tracker = tf_create(2, 2, CS_INPUT_LOGITS, 0, 0,
                                    CS_REPEAT_KEEP_FIRST);
    const float logits[2 * 2] = {1, 0, 1, 0};
    const int32_t labels[2] = {0, 0};
    const int64_t ids[1] = {1};
    tf_snapshot before;

    (void)state;
    assert_int_equal(cs_observe_batch(tracker, logits, labels, ids, NULL, 1),
                     CS_OK);
    tf_snapshot_take(tracker, &before);

    const cs_status status = cs_observe_epoch(tracker, logits, labels, NULL,
                                              2);

    TF_EXPECT_ERROR(status, CS_E_EPOCH_OPEN, "cs_observe_epoch", NULL);
    TF_ASSERT_UNCHANGED(tracker, &before);
    tf_snapshot_free(&before);
    cs_tracker_free(tracker);
}

/* ------------------------------------------------------------------------
 * Threads
 * ------------------------------------------------------------------------ */

#define THREAD_COUNT 4

typedef struct thread_job {
    cs_tracker *tracker;
    uint64_t seed;
    cs_status status;
} thread_job;

/* Feeds a tracker BIG_EPOCHS seeded epochs in shuffled batches of 5 and
 * returns the first failure. It runs in worker threads, so it makes no
 * cmocka assertions. */
static cs_status feed_seeded_run(cs_tracker *tracker, uint64_t seed)
{
    float logits[BIG_N * BIG_C];
    float features[BIG_N * BIG_D];
    int32_t labels[BIG_N];
    int64_t ids[BIG_N];
    uint64_t random = seed;

    tf_fill_labels(labels, BIG_N, &random, BIG_C);
    for (int e = 0; e < BIG_EPOCHS; e++) {
        tf_fill_uniform(logits, BIG_N * BIG_C, &random, -3.0, 3.0);
        tf_fill_uniform(features, BIG_N * BIG_D, &random, -1.0, 1.0);
        for (int64_t i = 0; i < BIG_N; i++)
            ids[i] = i;
        tf_shuffle(ids, BIG_N, &random);
        for (size_t start = 0; start < BIG_N; start += 5) {
            const size_t size = BIG_N - start < 5 ? BIG_N - start : 5;
            float batch_logits[5 * BIG_C];
            float batch_features[5 * BIG_D];
            int32_t batch_labels[5];

            for (size_t r = 0; r < size; r++) {
                const size_t id = (size_t)ids[start + r];

                memcpy(batch_logits + r * BIG_C, logits + id * BIG_C,
                       BIG_C * sizeof(float));
                memcpy(batch_features + r * BIG_D, features + id * BIG_D,
                       BIG_D * sizeof(float));
                batch_labels[r] = labels[id];
            }

            const cs_status status = cs_observe_batch(tracker, batch_logits,
                                                      batch_labels,
                                                      ids + start,
                                                      batch_features, size);

            if (status != CS_OK)
                return status;
        }

        const cs_status status = cs_end_epoch(tracker);

        if (status != CS_OK)
            return status;
    }
    return CS_OK;
}

static void *run_job(void *argument)
{
    thread_job *job = argument;
    cs_tracker_options options;

    cs_tracker_options_init(&options);
    options.n_examples = BIG_N;
    options.n_classes = BIG_C;
    options.feature_dim = BIG_D;
    options.keep_history = 1;
    job->status = CS_OK;
    for (int round = 0; round < 50 && job->status == CS_OK; round++) {
        cs_tracker *scratch = NULL;

        job->status = cs_tracker_create(&options, &scratch);
        if (job->status == CS_OK)
            job->status = feed_seeded_run(scratch, job->seed);
        cs_tracker_free(scratch);
    }
    if (job->status == CS_OK)
        job->status = feed_seeded_run(job->tracker, job->seed);
    return NULL;
}

/* Distinct trackers used from distinct threads at the same time end as
 * the same runs made one after another. */
static void threads_distinct_trackers(void **state)
{
    pthread_t threads[THREAD_COUNT];
    thread_job jobs[THREAD_COUNT];

    (void)state;
    for (int t = 0; t < THREAD_COUNT; t++) {
        jobs[t].tracker = tf_create(BIG_N, BIG_C, CS_INPUT_LOGITS, BIG_D, 1,
                                    CS_REPEAT_REJECT);
        jobs[t].seed = 100 + (uint64_t)t;
        assert_int_equal(pthread_create(&threads[t], NULL, run_job, &jobs[t]),
                         0);
    }
    for (int t = 0; t < THREAD_COUNT; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    for (int t = 0; t < THREAD_COUNT; t++) {
        cs_tracker *serial = tf_create(BIG_N, BIG_C, CS_INPUT_LOGITS, BIG_D, 1,
                                       CS_REPEAT_REJECT);

        assert_int_equal(jobs[t].status, CS_OK);
        assert_int_equal(feed_seeded_run(serial, jobs[t].seed), CS_OK);
        TF_ASSERT_TRACKERS_EQUAL(serial, jobs[t].tracker);
        cs_tracker_free(serial);
        cs_tracker_free(jobs[t].tracker);
    }
}

/* ------------------------------------------------------------------------
 * int64 labels
 * ------------------------------------------------------------------------ */

/* The int64 entry records what the int32 one does, and checks the labels
 * as int64 values, so 2^32 + 1 is out of range rather than label 1. */
static void int64_labels_match_int32(void **state)
{
    const float logits[3 * 2] = {2, 0, 0, 1, 1, 3};
    const int32_t labels32[3] = {0, 1, 1};
    const int64_t labels64[3] = {0, 1, 1};
    const int64_t wrapping[1] = {((int64_t)1 << 32) + 1};
    const int64_t ids[3] = {2, 0, 1};
    cs_tracker *narrow = tf_create(3, 2, CS_INPUT_LOGITS, 0, 0,
                                   CS_REPEAT_REJECT);
    cs_tracker *wide = tf_create(3, 2, CS_INPUT_LOGITS, 0, 0,
                                 CS_REPEAT_REJECT);
    float p_narrow[3], p_wide[3];
    int32_t cbtl_narrow[3], cbtl_wide[3];

    (void)state;
    assert_int_equal(cs_observe_batch(narrow, logits, labels32, ids, NULL, 3),
                     CS_OK);
    assert_int_equal(
        cs_observe_batch_int64(wide, logits, labels64, ids, NULL, 3), CS_OK);
    assert_int_equal(cs_tracker_proxy_f32(narrow, CS_PROXY_P_L_MEAN, p_narrow,
                                          3),
                     CS_OK);
    assert_int_equal(
        cs_tracker_proxy_f32(wide, CS_PROXY_P_L_MEAN, p_wide, 3), CS_OK);
    assert_int_equal(
        cs_tracker_proxy_i32(narrow, CS_PROXY_CBTL, cbtl_narrow, 3), CS_OK);
    assert_int_equal(cs_tracker_proxy_i32(wide, CS_PROXY_CBTL, cbtl_wide, 3),
                     CS_OK);
    assert_memory_equal(p_narrow, p_wide, sizeof p_narrow);
    assert_memory_equal(cbtl_narrow, cbtl_wide, sizeof cbtl_narrow);

    assert_int_equal(cs_end_epoch(wide), CS_OK);
    TF_EXPECT_ERROR(
        cs_observe_batch_int64(wide, logits, wrapping, ids, NULL, 1),
        CS_E_LABEL_OUT_OF_RANGE, "cs_observe_batch_int64", "labels");
    assert_string_equal(cs_last_error()->value, "4294967297");
    TF_EXPECT_ERROR(
        cs_observe_batch_int64(wide, logits, labels64 + 1, ids, NULL, 1),
        CS_E_LABEL_CHANGED, "cs_observe_batch_int64", "labels");
    TF_EXPECT_ERROR(cs_observe_batch_int64(wide, logits, NULL, ids, NULL, 1),
                    CS_E_NULL_ARGUMENT, "cs_observe_batch_int64", "labels");

    cs_tracker_free(narrow);
    cs_tracker_free(wide);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batches_equal_epoch_logits),
        cmocka_unit_test(batches_equal_epoch_probabilities),
        cmocka_unit_test(batches_of_one),
        cmocka_unit_test(features_most_recent_row),
        cmocka_unit_test(open_epoch_in_proxies),
        cmocka_unit_test(empty_epoch_counts),
        cmocka_unit_test(repeat_rejected_across_batches),
        cmocka_unit_test(repeat_rejected_within_batch),
        cmocka_unit_test(keep_first_across_batches),
        cmocka_unit_test(keep_first_within_batch),
        cmocka_unit_test(keep_first_label_changed),
        cmocka_unit_test(keep_first_counts_per_epoch),
        cmocka_unit_test(keep_first_epoch_form_open),
        cmocka_unit_test(int64_labels_match_int32),
        cmocka_unit_test(threads_distinct_trackers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
