/*
 * cs_tracker_merge. Shards that between them saw every observation must
 * merge to the state of one tracker fed everything, every getter bit for
 * bit. Cases: disjoint shards, examples that move between shards, shards
 * that overlap the way a padded DistributedSampler makes them, and shards
 * with different epoch counts. Also every merge error, and src staying
 * unchanged.
 */
#include "tracker_fixtures.h"

#define M_N 20
#define M_C 3
#define M_D 2
#define M_EPOCHS 6

/* Seeded predictions and features for every (epoch, example). The
 * alternative rows are a second, different observation of the same
 * example in the same epoch, as a padded copy on another rank would be. */
typedef struct run_data {
    float predictions[M_EPOCHS][M_N * M_C];
    float alternative[M_EPOCHS][M_N * M_C];
    float features[M_EPOCHS][M_N * M_D];
    float alternative_features[M_EPOCHS][M_N * M_D];
    int32_t labels[M_N];
} run_data;

static run_data data;

static int data_setup(void **state)
{
    uint64_t random = 0x5eed5eed5eedu;

    (void)state;
    tf_fill_labels(data.labels, M_N, &random, M_C);
    for (int e = 0; e < M_EPOCHS; e++) {
        tf_fill_uniform(data.predictions[e], M_N * M_C, &random, -2.0, 2.0);
        tf_fill_uniform(data.alternative[e], M_N * M_C, &random, -2.0, 2.0);
        tf_fill_uniform(data.features[e], M_N * M_D, &random, -1.0, 1.0);
        tf_fill_uniform(data.alternative_features[e], M_N * M_D, &random, -1.0,
                        1.0);
    }
    return 0;
}

static cs_tracker *create_tracker(cs_repeat_policy policy)
{
    return tf_create(M_N, M_C, CS_INPUT_LOGITS, M_D, 1, policy);
}

/* Observes ids[0 .. count-1] of epoch e (0-based) in batches of two. Rows
 * whose use_alternative flag is set take the alternative prediction and
 * features. use_alternative may be NULL. */
static void feed(cs_tracker *tracker, int e, const int64_t *ids,
                 const uint8_t *use_alternative, size_t count)
{
    for (size_t start = 0; start < count; start += 2) {
        const size_t size = count - start < 2 ? count - start : 2;
        float predictions[2 * M_C];
        float features[2 * M_D];
        int32_t labels[2];

        for (size_t r = 0; r < size; r++) {
            const size_t id = (size_t)ids[start + r];
            const int alternative = use_alternative != NULL &&
                                    use_alternative[start + r];
            const float *row = alternative ? data.alternative[e]
                                           : data.predictions[e];
            const float *feature_row = alternative
                                           ? data.alternative_features[e]
                                           : data.features[e];

            memcpy(predictions + r * M_C, row + id * M_C, M_C * sizeof(float));
            memcpy(features + r * M_D, feature_row + id * M_D,
                   M_D * sizeof(float));
            labels[r] = data.labels[id];
        }
        assert_int_equal(cs_observe_batch(tracker, predictions, labels,
                                          ids + start, features, size),
                         CS_OK);
    }
}

/* Merges src into dst, checking that the call succeeds and leaves src
 * unchanged. */
static void merge_checked_at(cs_tracker *dst, const cs_tracker *src,
                             const char *file, int line)
{
    tf_snapshot before;

    tf_snapshot_take(src, &before);

    const cs_status status = cs_tracker_merge(dst, src);

    if (status != CS_OK) {
        print_error("cs_tracker_merge: %s: %s\n", cs_status_name(status),
                    cs_last_error_message());
        _fail(file, line);
    }
    tf_assert_unchanged_at(src, &before, file, line);
    tf_snapshot_free(&before);
}

#define MERGE_CHECKED(dst, src)                                               \
    merge_checked_at((dst), (src), __FILE__, __LINE__)

/* ------------------------------------------------------------------------
 * Shards equal one tracker
 * ------------------------------------------------------------------------ */

/* Two shards over 5 epochs. Each epoch reshuffles the examples and splits
 * them at a different point, so examples move between shards. The merged
 * tracker then keeps training alongside the single one. */
static void merge_moving_shards(void **state)
{
    cs_tracker *full = create_tracker(CS_REPEAT_REJECT);
    cs_tracker *shards[2] = {create_tracker(CS_REPEAT_REJECT),
                             create_tracker(CS_REPEAT_REJECT)};
    uint64_t random = 17;
    int64_t ids[M_N];

    (void)state;
    for (int e = 0; e < 5; e++) {
        const size_t split = 5 + 3 * (size_t)e;

        for (int64_t i = 0; i < M_N; i++)
            ids[i] = i;
        tf_shuffle(ids, M_N, &random);
        feed(shards[0], e, ids, NULL, split);
        feed(shards[1], e, ids + split, NULL, M_N - split);
        feed(full, e, ids, NULL, M_N);
        assert_int_equal(cs_end_epoch(shards[0]), CS_OK);
        assert_int_equal(cs_end_epoch(shards[1]), CS_OK);
        assert_int_equal(cs_end_epoch(full), CS_OK);
    }

    MERGE_CHECKED(shards[0], shards[1]);
    TF_ASSERT_TRACKERS_EQUAL(full, shards[0]);
    assert_int_equal(cs_tracker_repeats_dropped(shards[0]), 0);

    for (int64_t i = 0; i < M_N; i++)
        ids[i] = M_N - 1 - i;
    feed(shards[0], 5, ids, NULL, M_N);
    feed(full, 5, ids, NULL, M_N);
    assert_int_equal(cs_end_epoch(shards[0]), CS_OK);
    assert_int_equal(cs_end_epoch(full), CS_OK);
    TF_ASSERT_TRACKERS_EQUAL(full, shards[0]);

    cs_tracker_free(shards[0]);
    cs_tracker_free(shards[1]);
    cs_tracker_free(full);
}

/* Three shards. Some examples are skipped in some epochs, example 19 is
 * never observed, and shard 2 observes nothing in epoch 2. */
static void merge_three_shards_with_gaps(void **state)
{
    cs_tracker *full = create_tracker(CS_REPEAT_REJECT);
    cs_tracker *shards[3];
    uint64_t random = 31;
    int64_t ids[M_N];

    (void)state;
    for (int s = 0; s < 3; s++)
        shards[s] = create_tracker(CS_REPEAT_REJECT);
    for (int e = 0; e < 4; e++) {
        size_t count = 0;

        for (int64_t i = 0; i < M_N - 1; i++) {
            if ((i + e) % 4 != 0)
                ids[count++] = i;
        }
        tf_shuffle(ids, count, &random);

        const size_t first = count / 3;
        const size_t second = e == 1 ? count - first : count / 3;

        feed(shards[0], e, ids, NULL, first);
        feed(shards[1], e, ids + first, NULL, second);
        feed(shards[2], e, ids + first + second, NULL, count - first - second);
        feed(full, e, ids, NULL, count);
        for (int s = 0; s < 3; s++)
            assert_int_equal(cs_end_epoch(shards[s]), CS_OK);
        assert_int_equal(cs_end_epoch(full), CS_OK);
    }

    MERGE_CHECKED(shards[0], shards[1]);
    MERGE_CHECKED(shards[0], shards[2]);
    TF_ASSERT_TRACKERS_EQUAL(full, shards[0]);

    for (int s = 0; s < 3; s++)
        cs_tracker_free(shards[s]);
    cs_tracker_free(full);
}

/* DistributedSampler without drop_last pads the shuffled index list with
 * its own first entries up to a multiple of the world size, and rank r
 * takes positions r, r + world, ... So the first few ids of each epoch
 * are observed twice, on different ranks, and the padded copy here has a
 * different prediction. Rank 0 merges the others in rank order, which
 * keeps the same observation as one keep-first tracker fed rank 0's
 * batches first. */
static void check_padded_sampler(size_t world)
{
    const size_t total = (M_N + world - 1) / world * world;
    cs_tracker *full = create_tracker(CS_REPEAT_KEEP_FIRST);
    cs_tracker *ranks[8];
    uint64_t random = 1000 + world;
    int64_t order[M_N];
    int64_t rank_ids[M_N];
    uint8_t rank_alternative[M_N];

    assert_true(world <= 8);
    assert_true(total > M_N);
    for (size_t r = 0; r < world; r++)
        ranks[r] = create_tracker(CS_REPEAT_KEEP_FIRST);

    for (int e = 0; e < 4; e++) {
        for (int64_t i = 0; i < M_N; i++)
            order[i] = i;
        tf_shuffle(order, M_N, &random);
        for (size_t r = 0; r < world; r++) {
            size_t count = 0;

            for (size_t position = r; position < total; position += world) {
                rank_ids[count] = order[position % M_N];
                rank_alternative[count] = position >= M_N;
                count++;
            }
            feed(ranks[r], e, rank_ids, rank_alternative, count);
            feed(full, e, rank_ids, rank_alternative, count);
            assert_int_equal(cs_end_epoch(ranks[r]), CS_OK);
        }
        assert_int_equal(cs_end_epoch(full), CS_OK);
    }
    assert_int_equal(cs_tracker_repeats_dropped(full),
                     (int64_t)(4 * (total - M_N)));

    for (size_t r = 1; r < world; r++)
        MERGE_CHECKED(ranks[0], ranks[r]);
    TF_ASSERT_TRACKERS_EQUAL(full, ranks[0]);

    for (int64_t i = 0; i < M_N; i++)
        order[i] = i;
    feed(ranks[0], 4, order, NULL, M_N);
    feed(full, 4, order, NULL, M_N);
    assert_int_equal(cs_end_epoch(ranks[0]), CS_OK);
    assert_int_equal(cs_end_epoch(full), CS_OK);
    TF_ASSERT_TRACKERS_EQUAL(full, ranks[0]);

    for (size_t r = 0; r < world; r++)
        cs_tracker_free(ranks[r]);
    cs_tracker_free(full);
}

static void merge_padded_sampler(void **state)
{
    (void)state;
    check_padded_sampler(3);
    check_padded_sampler(6);
    check_padded_sampler(8);
}

/* Shard a stops after 3 epochs, shard b runs 5: the merge has 5 epochs
 * whichever side is dst. */
static void build_uneven_shards(cs_tracker **a, cs_tracker **b,
                                cs_tracker **full)
{
    uint64_t random = 555;
    int64_t ids[M_N];

    *a = create_tracker(CS_REPEAT_REJECT);
    *b = create_tracker(CS_REPEAT_REJECT);
    *full = create_tracker(CS_REPEAT_REJECT);
    for (int e = 0; e < 5; e++) {
        for (int64_t i = 0; i < M_N; i++)
            ids[i] = i;
        tf_shuffle(ids, M_N, &random);
        if (e < 3) {
            feed(*a, e, ids, NULL, 8);
            feed(*b, e, ids + 8, NULL, M_N - 8);
            feed(*full, e, ids, NULL, M_N);
            assert_int_equal(cs_end_epoch(*a), CS_OK);
        } else {
            feed(*b, e, ids, NULL, 12);
            feed(*full, e, ids, NULL, 12);
        }
        assert_int_equal(cs_end_epoch(*b), CS_OK);
        assert_int_equal(cs_end_epoch(*full), CS_OK);
    }
}

static void merge_different_epoch_counts(void **state)
{
    cs_tracker *a;
    cs_tracker *b;
    cs_tracker *full;

    (void)state;
    build_uneven_shards(&a, &b, &full);
    assert_int_equal(cs_tracker_epochs(a), 3);
    MERGE_CHECKED(a, b);
    assert_int_equal(cs_tracker_epochs(a), 5);
    TF_ASSERT_TRACKERS_EQUAL(full, a);
    cs_tracker_free(a);
    cs_tracker_free(b);
    cs_tracker_free(full);

    build_uneven_shards(&a, &b, &full);
    MERGE_CHECKED(b, a);
    assert_int_equal(cs_tracker_epochs(b), 5);
    TF_ASSERT_TRACKERS_EQUAL(full, b);
    cs_tracker_free(a);
    cs_tracker_free(b);
    cs_tracker_free(full);
}

/* Two trackers fed the same data: every (example, epoch) pair is a repeat,
 * dst keeps its own observations and counts each pair as dropped. */
static void merge_identical_trackers(void **state)
{
    cs_tracker *dst = create_tracker(CS_REPEAT_REJECT);
    cs_tracker *src = create_tracker(CS_REPEAT_REJECT);
    cs_tracker *copy = create_tracker(CS_REPEAT_REJECT);
    int64_t ids[M_N];
    uint8_t all_alternative[M_N];
    tf_snapshot want;
    tf_snapshot got;

    (void)state;
    for (int64_t i = 0; i < M_N; i++)
        ids[i] = i;
    memset(all_alternative, 1, sizeof(all_alternative));
    for (int e = 0; e < 3; e++) {
        feed(dst, e, ids, NULL, M_N);
        feed(copy, e, ids, NULL, M_N);
        /* src saw different predictions, and dst's must win. */
        feed(src, e, ids, all_alternative, M_N);
        assert_int_equal(cs_end_epoch(dst), CS_OK);
        assert_int_equal(cs_end_epoch(copy), CS_OK);
        assert_int_equal(cs_end_epoch(src), CS_OK);
    }
    MERGE_CHECKED(dst, src);
    assert_int_equal(cs_tracker_repeats_dropped(dst), 3 * M_N);

    tf_snapshot_take(copy, &want);
    tf_snapshot_take(dst, &got);
    want.repeats_dropped = 3 * M_N;
    TF_ASSERT_SNAPSHOTS_EQUAL(&want, &got);
    tf_snapshot_free(&want);
    tf_snapshot_free(&got);
    cs_tracker_free(dst);
    cs_tracker_free(src);
    cs_tracker_free(copy);
}

/* Merging into a tracker that has seen nothing gives src's state. */
static void merge_into_empty(void **state)
{
    cs_tracker *dst = create_tracker(CS_REPEAT_REJECT);
    cs_tracker *src = create_tracker(CS_REPEAT_REJECT);
    int64_t ids[M_N];

    (void)state;
    for (int64_t i = 0; i < M_N; i++)
        ids[i] = (i * 7) % M_N;
    for (int e = 0; e < 3; e++) {
        feed(src, e, ids, NULL, M_N - 4);
        assert_int_equal(cs_end_epoch(src), CS_OK);
    }
    MERGE_CHECKED(dst, src);
    TF_ASSERT_TRACKERS_EQUAL(src, dst);
    cs_tracker_free(dst);
    cs_tracker_free(src);
}

/* Only N, C, input kind, feature_dim and history must agree: a different
 * repeat policy or probability tolerance does not stop a merge. */
static void merge_other_options_differ(void **state)
{
    cs_tracker_options options;
    cs_tracker *dst = create_tracker(CS_REPEAT_KEEP_FIRST);
    cs_tracker *src = NULL;
    int64_t ids[M_N];

    (void)state;
    cs_tracker_options_init(&options);
    options.n_examples = M_N;
    options.n_classes = M_C;
    options.feature_dim = M_D;
    options.keep_history = 1;
    options.probability_tolerance = 0.25;
    assert_int_equal(cs_tracker_create(&options, &src), CS_OK);
    for (int64_t i = 0; i < M_N; i++)
        ids[i] = i;
    feed(dst, 0, ids, NULL, 10);
    feed(src, 0, ids + 10, NULL, 10);
    assert_int_equal(cs_end_epoch(dst), CS_OK);
    assert_int_equal(cs_end_epoch(src), CS_OK);
    MERGE_CHECKED(dst, src);

    int32_t observed[M_N];

    assert_int_equal(cs_tracker_epochs_observed(dst, observed, M_N), CS_OK);
    for (size_t i = 0; i < M_N; i++)
        assert_int_equal(observed[i], 1);
    cs_tracker_free(dst);
    cs_tracker_free(src);
}

/* ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------ */

/* Expects the merge to fail with status, naming argument unless it is
 * NULL and example_id unless it is -2, and to leave both trackers
 * unchanged. */
static void check_merge_rejected_at(cs_tracker *dst, const cs_tracker *src,
                                    cs_status status, const char *argument,
                                    int64_t example_id, const char *file,
                                    int line)
{
    tf_snapshot dst_before;
    tf_snapshot src_before;

    tf_snapshot_take(dst, &dst_before);
    tf_snapshot_take(src, &src_before);

    const cs_status got = cs_tracker_merge(dst, src);

    tf_expect_error_at(got, status, "cs_tracker_merge", argument, file, line);
    if (example_id != -2)
        _assert_int_equal((uint64_t)cs_last_error()->example_id,
                          (uint64_t)example_id, file, line);
    tf_assert_unchanged_at(dst, &dst_before, file, line);
    tf_assert_unchanged_at(src, &src_before, file, line);
    tf_snapshot_free(&dst_before);
    tf_snapshot_free(&src_before);
}

#define CHECK_MERGE_REJECTED(dst, src, status, argument, example_id)          \
    check_merge_rejected_at((dst), (src), (status), (argument), (example_id), \
                            __FILE__, __LINE__)

/* A tracker with history and one ended epoch over examples 0 .. 9. */
static cs_tracker *one_epoch_tracker(int64_t n, int32_t c, cs_input_kind kind,
                                     int32_t d, int32_t history)
{
    cs_tracker *tracker = tf_create(n, c, kind, d, history, CS_REPEAT_REJECT);
    float predictions[10 * 4];
    float features[10 * 3];
    int32_t labels[10];
    int64_t ids[10];

    assert_true(c <= 4 && d <= 3);
    for (size_t r = 0; r < 10; r++) {
        for (int32_t k = 0; k < c; k++)
            predictions[r * (size_t)c + (size_t)k] = k == 0
                                                         ? 0.5f
                                                         : 0.5f /
                                                               (float)(c - 1);
        for (int32_t j = 0; j < d; j++)
            features[r * (size_t)d + (size_t)j] = (float)r;
        labels[r] = (int32_t)(r % 2);
        ids[r] = (int64_t)r;
    }
    /* The rows are valid as probabilities too when c is 2 or 3. */
    assert_int_equal(cs_observe_batch(tracker, predictions, labels, ids,
                                      d > 0 ? features : NULL, 10),
                     CS_OK);
    assert_int_equal(cs_end_epoch(tracker), CS_OK);
    return tracker;
}

static void merge_null_arguments(void **state)
{
    cs_tracker *tracker = one_epoch_tracker(M_N, 3, CS_INPUT_LOGITS, 0, 1);
    tf_snapshot before;

    (void)state;
    tf_snapshot_take(tracker, &before);
    TF_EXPECT_ERROR(cs_tracker_merge(NULL, tracker), CS_E_NULL_ARGUMENT,
                    "cs_tracker_merge", "dst");
    TF_EXPECT_ERROR(cs_tracker_merge(tracker, NULL), CS_E_NULL_ARGUMENT,
                    "cs_tracker_merge", "src");
    TF_ASSERT_UNCHANGED(tracker, &before);
    tf_snapshot_free(&before);
    cs_tracker_free(tracker);
}

static void merge_without_history(void **state)
{
    cs_tracker *with = one_epoch_tracker(M_N, 3, CS_INPUT_LOGITS, 0, 1);
    cs_tracker *without = one_epoch_tracker(M_N, 3, CS_INPUT_LOGITS, 0, 0);

    (void)state;
    CHECK_MERGE_REJECTED(without, with, CS_E_NO_HISTORY, "dst", -2);
    CHECK_MERGE_REJECTED(with, without, CS_E_NO_HISTORY, "src", -2);
    cs_tracker_free(with);
    cs_tracker_free(without);
}

static void merge_incompatible(void **state)
{
    cs_tracker *dst = one_epoch_tracker(M_N, 3, CS_INPUT_LOGITS, 2, 1);
    cs_tracker *others[4] = {
        one_epoch_tracker(M_N + 1, 3, CS_INPUT_LOGITS, 2, 1),
        one_epoch_tracker(M_N, 4, CS_INPUT_LOGITS, 2, 1),
        one_epoch_tracker(M_N, 3, CS_INPUT_PROBABILITIES, 2, 1),
        one_epoch_tracker(M_N, 3, CS_INPUT_LOGITS, 3, 1),
    };

    (void)state;
    for (int i = 0; i < 4; i++) {
        CHECK_MERGE_REJECTED(dst, others[i], CS_E_INCOMPATIBLE, NULL, -2);
        CHECK_MERGE_REJECTED(others[i], dst, CS_E_INCOMPATIBLE, NULL, -2);
        cs_tracker_free(others[i]);
    }
    cs_tracker_free(dst);
}

static void merge_conflicting_labels(void **state)
{
    cs_tracker *dst = one_epoch_tracker(M_N, 3, CS_INPUT_LOGITS, 0, 1);
    cs_tracker *src = tf_create(M_N, 3, CS_INPUT_LOGITS, 0, 1,
                                CS_REPEAT_REJECT);
    /* Example 15 is new to dst, and example 7 has label 1 in dst. */
    const float logits[2 * 3] = {1, 0, 0, 0, 1, 0};
    const int32_t labels[2] = {2, 0};
    const int64_t ids[2] = {15, 7};

    (void)state;
    assert_int_equal(cs_end_epoch(src), CS_OK);
    assert_int_equal(cs_observe_batch(src, logits, labels, ids, NULL, 2),
                     CS_OK);
    assert_int_equal(cs_end_epoch(src), CS_OK);
    CHECK_MERGE_REJECTED(dst, src, CS_E_LABEL_CHANGED, NULL, 7);
    cs_tracker_free(dst);
    cs_tracker_free(src);
}

static void merge_open_epoch(void **state)
{
    cs_tracker *ended = one_epoch_tracker(M_N, 3, CS_INPUT_LOGITS, 0, 1);
    cs_tracker *open = one_epoch_tracker(M_N, 3, CS_INPUT_LOGITS, 0, 1);
    const float logits[3] = {1, 0, 0};
    const int32_t label = 0;
    const int64_t id = 12;

    (void)state;
    assert_int_equal(cs_observe_batch(open, logits, &label, &id, NULL, 1),
                     CS_OK);
    CHECK_MERGE_REJECTED(open, ended, CS_E_EPOCH_OPEN, "dst", -2);
    CHECK_MERGE_REJECTED(ended, open, CS_E_EPOCH_OPEN, "src", -2);
    cs_tracker_free(ended);
    cs_tracker_free(open);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge_moving_shards),
        cmocka_unit_test(merge_three_shards_with_gaps),
        cmocka_unit_test(merge_padded_sampler),
        cmocka_unit_test(merge_different_epoch_counts),
        cmocka_unit_test(merge_identical_trackers),
        cmocka_unit_test(merge_into_empty),
        cmocka_unit_test(merge_other_options_differ),
        cmocka_unit_test(merge_null_arguments),
        cmocka_unit_test(merge_without_history),
        cmocka_unit_test(merge_incompatible),
        cmocka_unit_test(merge_conflicting_labels),
        cmocka_unit_test(merge_open_epoch),
    };

    return cmocka_run_group_tests(tests, data_setup, NULL);
}
