/*
 * Bad input to every tracker function. Each case gets its own status and a
 * last-error record that names the function and the argument, and where
 * the header promises it the row, example id and value. A rejected call
 * leaves the tracker and output buffers as they were. Also covers status
 * names, version functions, options handling, the per-thread error record
 * and allocation failures.
 */
#include "tracker_fixtures.h"

#include <ctype.h>
#include <pthread.h>

#include "internal.h"

#define ERR_N 4
#define ERR_C 3
#define ERR_D 2

static const int32_t good_labels[ERR_N] = {0, 1, 2, 1};

/* Whole-epoch rows, where row i is example i. The probability rows are
 * dyadic so that they sum to exactly 1. */
static const float good_logits[ERR_N * ERR_C] = {
    2, 0, 1, 0, 1, -1, 0.5f, 0, 3, 1, 2, 0,
};
static const float good_probabilities[ERR_N * ERR_C] = {
    0.5f,  0.25f, 0.25f, 0.125f, 0.75f, 0.125f,
    0.25f, 0.25f, 0.5f,  0.5f,   0.25f, 0.25f,
};
static const float good_features[ERR_N * ERR_D] = {
    0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f,
};

/* A batch of three rows, for ids 2, 0, 1 in that order. */
#define BATCH_N 3
static const int64_t batch_ids[BATCH_N] = {2, 0, 1};

typedef struct batch {
    float predictions[BATCH_N * ERR_C];
    int32_t labels[BATCH_N];
    int64_t ids[BATCH_N];
    float features[BATCH_N * ERR_D];
} batch;

/* Fills a valid batch for ids 2, 0, 1. */
static void make_batch(batch *b, cs_input_kind kind)
{
    const float *rows = kind == CS_INPUT_LOGITS ? good_logits
                                                : good_probabilities;

    for (size_t r = 0; r < BATCH_N; r++) {
        const size_t id = (size_t)batch_ids[r];

        memcpy(b->predictions + r * ERR_C, rows + id * ERR_C,
               ERR_C * sizeof(float));
        memcpy(b->features + r * ERR_D, good_features + id * ERR_D,
               ERR_D * sizeof(float));
        b->labels[r] = good_labels[id];
        b->ids[r] = (int64_t)id;
    }
}

/* Creates an N = 4, C = 3 tracker with history, one ended epoch, and an
 * open epoch in which example 3 has been observed, so that a rejected call
 * has state to disturb. */
static cs_tracker *make_busy_tracker(cs_input_kind kind, int32_t feature_dim,
                                     cs_repeat_policy policy)
{
    const float *rows = kind == CS_INPUT_LOGITS ? good_logits
                                                : good_probabilities;
    const float *features = feature_dim > 0 ? good_features : NULL;
    const int64_t open_ids[1] = {3};
    cs_tracker *tracker = tf_create(ERR_N, ERR_C, kind, feature_dim, 1,
                                    policy);

    assert_int_equal(cs_observe_epoch(tracker, rows, good_labels, features,
                                      ERR_N),
                     CS_OK);
    assert_int_equal(cs_observe_batch(tracker, rows + 3 * ERR_C,
                                      good_labels + 3, open_ids,
                                      features != NULL ? features + 3 * ERR_D
                                                       : NULL,
                                      1),
                     CS_OK);
    return tracker;
}

/* What the last-error record must hold after a rejected observation. */
typedef struct expected_error {
    cs_status status;
    const char *function;
    const char *argument;
    int64_t index;          /* the row, or -2 to skip the check */
    int64_t element_index;  /* also accepted for index, or -2 for none */
    int64_t example_id;     /* or -2 to skip the check */
    const char *value;      /* exact text, or NULL */
    const char *value_part; /* text it contains ignoring case, or NULL */
} expected_error;

static int contains_ignoring_case(const char *text, const char *part)
{
    const size_t length = strlen(part);

    for (; *text != '\0'; text++) {
        size_t k = 0;

        while (k < length && text[k] != '\0' &&
               tolower((unsigned char)text[k]) ==
                   tolower((unsigned char)part[k]))
            k++;
        if (k == length)
            return 1;
    }
    return 0;
}

static void check_error_record_at(cs_status status, const expected_error *want,
                                  const char *file, int line)
{
    const cs_error_info *info = cs_last_error();

    tf_expect_error_at(status, want->status, want->function, want->argument,
                       file, line);
    if (want->index != -2 && info->index != want->index &&
        info->index != want->element_index) {
        print_error("index %lld, expected %lld (or element index %lld)\n",
                    (long long)info->index, (long long)want->index,
                    (long long)want->element_index);
        _fail(file, line);
    }
    if (want->example_id != -2)
        _assert_int_equal((uint64_t)info->example_id,
                          (uint64_t)want->example_id, file, line);
    if (want->value != NULL)
        _assert_string_equal(info->value, want->value, file, line);
    if (want->value_part != NULL &&
        !contains_ignoring_case(info->value, want->value_part)) {
        print_error("value \"%s\" does not contain \"%s\"\n", info->value,
                    want->value_part);
        _fail(file, line);
    }
}

/* Observes a batch that must be rejected as *want describes, and checks
 * that the tracker did not change. */
static void check_batch_rejected_at(cs_tracker *tracker, const batch *b,
                                    const float *features, size_t n,
                                    const expected_error *want,
                                    const char *file, int line)
{
    tf_snapshot before;

    tf_snapshot_take(tracker, &before);

    const cs_status status = cs_observe_batch(tracker, b->predictions,
                                              b->labels, b->ids, features, n);

    check_error_record_at(status, want, file, line);
    tf_assert_unchanged_at(tracker, &before, file, line);
    tf_snapshot_free(&before);
}

#define CHECK_BATCH_REJECTED(tracker, b, features, n, want)                   \
    check_batch_rejected_at((tracker), (b), (features), (n), (want),          \
                            __FILE__, __LINE__)

/* The same for the epoch form, on a tracker without an open epoch. */
static void
check_epoch_rejected_at(cs_tracker *tracker, const float *predictions,
                        const int32_t *labels, const float *features, size_t n,
                        const expected_error *want, const char *file, int line)
{
    tf_snapshot before;

    tf_snapshot_take(tracker, &before);

    const cs_status status = cs_observe_epoch(tracker, predictions, labels,
                                              features, n);

    check_error_record_at(status, want, file, line);
    tf_assert_unchanged_at(tracker, &before, file, line);
    tf_snapshot_free(&before);
}

#define CHECK_EPOCH_REJECTED(tracker, predictions, labels, features, n, want) \
    check_epoch_rejected_at((tracker), (predictions), (labels), (features),   \
                            (n), (want), __FILE__, __LINE__)

/* A tracker with one ended epoch and nothing open, for the epoch form. */
static cs_tracker *make_ended_tracker(cs_input_kind kind, int32_t feature_dim)
{
    const float *rows = kind == CS_INPUT_LOGITS ? good_logits
                                                : good_probabilities;
    cs_tracker *tracker = tf_create(ERR_N, ERR_C, kind, feature_dim, 1,
                                    CS_REPEAT_REJECT);

    assert_int_equal(cs_observe_epoch(tracker, rows, good_labels,
                                      feature_dim > 0 ? good_features : NULL,
                                      ERR_N),
                     CS_OK);
    return tracker;
}

/* ------------------------------------------------------------------------
 * cs_tracker_create and options
 * ------------------------------------------------------------------------ */

static cs_tracker_options valid_options(void)
{
    cs_tracker_options options;

    cs_tracker_options_init(&options);
    options.n_examples = ERR_N;
    options.n_classes = ERR_C;
    return options;
}

/* Creates with *options and expects status with an argument name that
 * contains argument_part, and *out set to NULL. */
static void check_create_rejected_at(const cs_tracker_options *options,
                                     cs_status status,
                                     const char *argument_part,
                                     const char *file, int line)
{
    cs_tracker *out = (cs_tracker *)&out;
    const cs_status got = cs_tracker_create(options, &out);

    tf_expect_error_at(got, status, "cs_tracker_create", NULL, file, line);
    if (strstr(cs_last_error()->argument, argument_part) == NULL) {
        print_error("argument \"%s\" does not name \"%s\"\n",
                    cs_last_error()->argument, argument_part);
        _fail(file, line);
    }
    _assert_true(out == NULL, "*out is NULL after a failure", file, line);
}

#define CHECK_CREATE_REJECTED(options, status, argument_part)                 \
    check_create_rejected_at((options), (status), (argument_part), __FILE__,  \
                             __LINE__)

static void options_defaults(void **state)
{
    cs_tracker_options options;

    (void)state;
    memset(&options, 0x5a, sizeof(options));
    cs_tracker_options_init(&options);
    assert_int_equal(options.struct_size, sizeof(cs_tracker_options));
    assert_int_equal(options.n_examples, 0);
    assert_int_equal(options.n_classes, 0);
    assert_int_equal(options.input_kind, CS_INPUT_LOGITS);
    assert_int_equal(options.feature_dim, 0);
    assert_int_equal(options.keep_history, 0);
    assert_int_equal(options.repeat_policy, CS_REPEAT_REJECT);
    assert_true(options.probability_tolerance ==
                CS_DEFAULT_PROBABILITY_TOLERANCE);
}

static void create_null_arguments(void **state)
{
    const cs_tracker_options options = valid_options();
    cs_tracker *out = (cs_tracker *)&out;

    (void)state;
    TF_EXPECT_ERROR(cs_tracker_create(NULL, &out), CS_E_NULL_ARGUMENT,
                    "cs_tracker_create", "options");
    assert_null(out);
    TF_EXPECT_ERROR(cs_tracker_create(&options, NULL), CS_E_NULL_ARGUMENT,
                    "cs_tracker_create", "out");
}

static void create_zero_sizes(void **state)
{
    cs_tracker_options options = valid_options();

    (void)state;
    options.n_examples = 0;
    CHECK_CREATE_REJECTED(&options, CS_E_ZERO_SIZE, "n_examples");
    options = valid_options();
    options.n_classes = 0;
    CHECK_CREATE_REJECTED(&options, CS_E_ZERO_SIZE, "n_classes");
}

static void create_invalid_options(void **state)
{
    cs_tracker_options options;

    (void)state;
    options = valid_options();
    options.n_examples = -1;
    CHECK_CREATE_REJECTED(&options, CS_E_INVALID_ARGUMENT, "n_examples");
    options = valid_options();
    options.n_classes = -3;
    CHECK_CREATE_REJECTED(&options, CS_E_INVALID_ARGUMENT, "n_classes");
    options = valid_options();
    options.n_classes = 1;
    CHECK_CREATE_REJECTED(&options, CS_E_INVALID_ARGUMENT, "n_classes");
    options = valid_options();
    options.input_kind = (cs_input_kind)2;
    CHECK_CREATE_REJECTED(&options, CS_E_INVALID_ARGUMENT, "input_kind");
    options = valid_options();
    options.input_kind = (cs_input_kind)-1;
    CHECK_CREATE_REJECTED(&options, CS_E_INVALID_ARGUMENT, "input_kind");
    options = valid_options();
    options.repeat_policy = (cs_repeat_policy)2;
    CHECK_CREATE_REJECTED(&options, CS_E_INVALID_ARGUMENT, "repeat_policy");
    options = valid_options();
    options.feature_dim = -1;
    CHECK_CREATE_REJECTED(&options, CS_E_INVALID_ARGUMENT, "feature_dim");
    options = valid_options();
    options.probability_tolerance = -1e-3;
    CHECK_CREATE_REJECTED(&options, CS_E_INVALID_ARGUMENT,
                          "probability_tolerance");
    options = valid_options();
    options.probability_tolerance = NAN;
    CHECK_CREATE_REJECTED(&options, CS_E_INVALID_ARGUMENT,
                          "probability_tolerance");
    options = valid_options();
    options.struct_size = 0;
    CHECK_CREATE_REJECTED(&options, CS_E_INVALID_ARGUMENT, "struct_size");
    options = valid_options();
    options.struct_size = sizeof(size_t);
    CHECK_CREATE_REJECTED(&options, CS_E_INVALID_ARGUMENT, "struct_size");
}

static void create_overflow(void **state)
{
    cs_tracker_options options = valid_options();

    (void)state;
    options.n_examples = INT64_MAX;
    CHECK_CREATE_REJECTED(&options, CS_E_OVERFLOW, "");

    /* 2^40 examples of 2^30 features need 2^72 bytes. */
    options = valid_options();
    options.n_examples = INT64_C(1) << 40;
    options.feature_dim = INT32_C(1) << 30;
    CHECK_CREATE_REJECTED(&options, CS_E_OVERFLOW, "");
}

/* A tolerance of 0 is valid, and so is every enum value. */
static void create_edge_options(void **state)
{
    cs_tracker_options options = valid_options();
    cs_tracker *tracker = NULL;

    (void)state;
    options.n_examples = 1;
    options.n_classes = 2;
    options.probability_tolerance = 0.0;
    options.input_kind = CS_INPUT_PROBABILITIES;
    options.repeat_policy = CS_REPEAT_KEEP_FIRST;
    assert_int_equal(cs_tracker_create(&options, &tracker), CS_OK);
    assert_non_null(tracker);

    const float row[2] = {0.25f, 0.75f};
    const int32_t label = 1;

    assert_int_equal(cs_observe_epoch(tracker, row, &label, NULL, 1), CS_OK);
    cs_tracker_free(tracker);
}

static void get_options_roundtrip(void **state)
{
    cs_tracker_options options = valid_options();
    cs_tracker_options copy;
    cs_tracker *tracker = NULL;

    (void)state;
    options.input_kind = CS_INPUT_PROBABILITIES;
    options.feature_dim = 5;
    options.keep_history = 1;
    options.repeat_policy = CS_REPEAT_KEEP_FIRST;
    options.probability_tolerance = 0.125;
    assert_int_equal(cs_tracker_create(&options, &tracker), CS_OK);

    cs_tracker_options_init(&copy);
    assert_int_equal(cs_tracker_get_options(tracker, &copy), CS_OK);
    assert_int_equal(copy.struct_size, sizeof(cs_tracker_options));
    assert_int_equal(copy.n_examples, ERR_N);
    assert_int_equal(copy.n_classes, ERR_C);
    assert_int_equal(copy.input_kind, CS_INPUT_PROBABILITIES);
    assert_int_equal(copy.feature_dim, 5);
    assert_true(copy.keep_history != 0);
    assert_int_equal(copy.repeat_policy, CS_REPEAT_KEEP_FIRST);
    assert_true(copy.probability_tolerance == 0.125);

    TF_EXPECT_ERROR(cs_tracker_get_options(NULL, &copy), CS_E_NULL_ARGUMENT,
                    "cs_tracker_get_options", "tracker");
    TF_EXPECT_ERROR(cs_tracker_get_options(tracker, NULL), CS_E_NULL_ARGUMENT,
                    "cs_tracker_get_options", "options");
    cs_tracker_free(tracker);
}

/* A caller compiled against an older, shorter struct gets only the bytes
 * it has room for. */
static void get_options_short_struct(void **state)
{
    const size_t short_size = offsetof(cs_tracker_options, input_kind);
    cs_tracker_options copy;
    unsigned char after[sizeof(cs_tracker_options)];
    cs_tracker *tracker = make_ended_tracker(CS_INPUT_LOGITS, 0);

    (void)state;
    memset(&copy, 0xa5, sizeof(copy));
    copy.struct_size = short_size;
    memcpy(after, &copy, sizeof(copy));
    assert_int_equal(cs_tracker_get_options(tracker, &copy), CS_OK);
    assert_int_equal(copy.n_examples, ERR_N);
    assert_int_equal(copy.n_classes, ERR_C);
    assert_memory_equal((const unsigned char *)&copy + short_size,
                        after + short_size, sizeof(copy) - short_size);
    cs_tracker_free(tracker);
}

static void create_allocation_failures(void **state)
{
    cs_tracker_options options = valid_options();
    long countdown;

    (void)state;
    options.feature_dim = 3;
    options.keep_history = 1;
    for (countdown = 1; countdown < 1000; countdown++) {
        cs_tracker *out = (cs_tracker *)&out;

        cs__set_alloc_failure_countdown(countdown);

        const cs_status status = cs_tracker_create(&options, &out);

        cs__set_alloc_failure_countdown(0);
        if (status == CS_OK) {
            cs_tracker_free(out);
            break;
        }
        TF_EXPECT_ERROR(status, CS_E_OUT_OF_MEMORY, "cs_tracker_create", NULL);
        assert_null(out);
    }
    /* At least one allocation went through the library's allocator. */
    assert_true(countdown > 1);
    assert_true(countdown < 1000);
}

/* Fails each allocation in turn while observing an epoch, ending an empty
 * epoch and merging. Each failure must leave the tracker as it was, and
 * the run must end as one that never failed. */
static void observe_allocation_failures(void **state)
{
    cs_tracker *tracker = tf_create(ERR_N, ERR_C, CS_INPUT_LOGITS, ERR_D, 1,
                                    CS_REPEAT_REJECT);
    cs_tracker *reference = tf_create(ERR_N, ERR_C, CS_INPUT_LOGITS, ERR_D, 1,
                                      CS_REPEAT_REJECT);
    int failures = 0;

    (void)state;
    for (int e = 0; e < 20; e++) {
        for (long countdown = 1;; countdown++) {
            tf_snapshot before;

            assert_true(countdown < 1000);
            tf_snapshot_take(tracker, &before);
            cs__set_alloc_failure_countdown(countdown);

            const cs_status status = e == 3 ? cs_end_epoch(tracker)
                                            : cs_observe_epoch(tracker,
                                                               good_logits,
                                                               good_labels,
                                                               good_features,
                                                               ERR_N);

            cs__set_alloc_failure_countdown(0);
            if (status == CS_OK) {
                tf_snapshot_free(&before);
                break;
            }
            failures++;
            TF_EXPECT_ERROR(status, CS_E_OUT_OF_MEMORY,
                            e == 3 ? "cs_end_epoch" : "cs_observe_epoch",
                            NULL);
            TF_ASSERT_UNCHANGED(tracker, &before);
            tf_snapshot_free(&before);
        }
        if (e == 3)
            assert_int_equal(cs_end_epoch(reference), CS_OK);
        else
            assert_int_equal(cs_observe_epoch(reference, good_logits,
                                              good_labels, good_features,
                                              ERR_N),
                             CS_OK);
    }
    /* History grows with the epochs, so some of those calls allocate. */
    assert_true(failures > 0);
    TF_ASSERT_TRACKERS_EQUAL(reference, tracker);

    cs_tracker *other = tf_create(ERR_N, ERR_C, CS_INPUT_LOGITS, ERR_D, 1,
                                  CS_REPEAT_REJECT);

    for (int e = 0; e < 23; e++)
        assert_int_equal(cs_observe_epoch(other, good_logits, good_labels,
                                          good_features, ERR_N),
                         CS_OK);
    for (long countdown = 1;; countdown++) {
        tf_snapshot before;

        assert_true(countdown < 1000);
        tf_snapshot_take(tracker, &before);
        cs__set_alloc_failure_countdown(countdown);

        const cs_status status = cs_tracker_merge(tracker, other);

        cs__set_alloc_failure_countdown(0);
        if (status == CS_OK) {
            tf_snapshot_free(&before);
            break;
        }
        TF_EXPECT_ERROR(status, CS_E_OUT_OF_MEMORY, "cs_tracker_merge", NULL);
        TF_ASSERT_UNCHANGED(tracker, &before);
        tf_snapshot_free(&before);
    }
    assert_int_equal(cs_tracker_epochs(tracker), 23);
    cs_tracker_free(other);
    cs_tracker_free(reference);
    cs_tracker_free(tracker);
}

/* ------------------------------------------------------------------------
 * cs_observe_batch and cs_observe_epoch
 * ------------------------------------------------------------------------ */

static void observe_null_arguments(void **state)
{
    cs_tracker *tracker = make_busy_tracker(CS_INPUT_LOGITS, 0,
                                            CS_REPEAT_REJECT);
    batch b;
    tf_snapshot before;

    (void)state;
    make_batch(&b, CS_INPUT_LOGITS);
    tf_snapshot_take(tracker, &before);
    TF_EXPECT_ERROR(cs_observe_batch(NULL, b.predictions, b.labels, b.ids,
                                     NULL, BATCH_N),
                    CS_E_NULL_ARGUMENT, "cs_observe_batch", "tracker");
    TF_EXPECT_ERROR(cs_observe_batch(tracker, NULL, b.labels, b.ids, NULL,
                                     BATCH_N),
                    CS_E_NULL_ARGUMENT, "cs_observe_batch", "predictions");
    TF_EXPECT_ERROR(cs_observe_batch(tracker, b.predictions, NULL, b.ids, NULL,
                                     BATCH_N),
                    CS_E_NULL_ARGUMENT, "cs_observe_batch", "labels");
    TF_EXPECT_ERROR(cs_observe_batch(tracker, b.predictions, b.labels, NULL,
                                     NULL, BATCH_N),
                    CS_E_NULL_ARGUMENT, "cs_observe_batch", "ids");
    TF_ASSERT_UNCHANGED(tracker, &before);
    tf_snapshot_free(&before);
    cs_tracker_free(tracker);

    tracker = make_ended_tracker(CS_INPUT_LOGITS, 0);
    tf_snapshot_take(tracker, &before);
    TF_EXPECT_ERROR(cs_observe_epoch(NULL, good_logits, good_labels, NULL,
                                     ERR_N),
                    CS_E_NULL_ARGUMENT, "cs_observe_epoch", "tracker");
    TF_EXPECT_ERROR(cs_observe_epoch(tracker, NULL, good_labels, NULL, ERR_N),
                    CS_E_NULL_ARGUMENT, "cs_observe_epoch", "predictions");
    TF_EXPECT_ERROR(cs_observe_epoch(tracker, good_logits, NULL, NULL, ERR_N),
                    CS_E_NULL_ARGUMENT, "cs_observe_epoch", "labels");
    TF_ASSERT_UNCHANGED(tracker, &before);
    tf_snapshot_free(&before);
    TF_EXPECT_ERROR(cs_end_epoch(NULL), CS_E_NULL_ARGUMENT, "cs_end_epoch",
                    "tracker");
    cs_tracker_free(tracker);
}

static void observe_zero_size(void **state)
{
    cs_tracker *tracker = make_busy_tracker(CS_INPUT_LOGITS, 0,
                                            CS_REPEAT_REJECT);
    const expected_error batch_want =
        {CS_E_ZERO_SIZE, "cs_observe_batch", "n", -2, -2, -2, NULL, NULL};
    const expected_error epoch_want =
        {CS_E_ZERO_SIZE, "cs_observe_epoch", "n", -2, -2, -2, NULL, NULL};
    batch b;

    (void)state;
    make_batch(&b, CS_INPUT_LOGITS);
    CHECK_BATCH_REJECTED(tracker, &b, NULL, 0, &batch_want);
    cs_tracker_free(tracker);

    tracker = make_ended_tracker(CS_INPUT_LOGITS, 0);
    CHECK_EPOCH_REJECTED(tracker, good_logits, good_labels, NULL, 0,
                         &epoch_want);
    cs_tracker_free(tracker);
}

static void epoch_size_mismatch(void **state)
{
    cs_tracker *tracker = make_ended_tracker(CS_INPUT_LOGITS, 0);
    const expected_error fewer =
        {CS_E_SIZE_MISMATCH, "cs_observe_epoch", "n", -2, -2, -2, "3", NULL};
    const expected_error more =
        {CS_E_SIZE_MISMATCH, "cs_observe_epoch", "n", -2, -2, -2, "5", NULL};
    float logits[(ERR_N + 1) * ERR_C] = {0};
    int32_t labels[ERR_N + 1] = {0};

    (void)state;
    memcpy(logits, good_logits, sizeof(good_logits));
    memcpy(labels, good_labels, sizeof(good_labels));
    CHECK_EPOCH_REJECTED(tracker, logits, labels, NULL, ERR_N - 1, &fewer);
    CHECK_EPOCH_REJECTED(tracker, logits, labels, NULL, ERR_N + 1, &more);
    cs_tracker_free(tracker);
}

static void epoch_while_open(void **state)
{
    cs_tracker *tracker = make_busy_tracker(CS_INPUT_LOGITS, 0,
                                            CS_REPEAT_REJECT);
    tf_snapshot before;

    (void)state;
    tf_snapshot_take(tracker, &before);
    TF_EXPECT_ERROR(cs_observe_epoch(tracker, good_logits, good_labels, NULL,
                                     ERR_N),
                    CS_E_EPOCH_OPEN, "cs_observe_epoch", NULL);
    TF_ASSERT_UNCHANGED(tracker, &before);
    tf_snapshot_free(&before);
    cs_tracker_free(tracker);
}

static void nonfinite_predictions(void **state)
{
    const float bad_values[3] = {NAN, INFINITY, -INFINITY};
    const char *bad_text[3] = {"nan", "inf", "inf"};

    (void)state;
    for (int v = 0; v < 3; v++) {
        for (int kind = 0; kind <= 1; kind++) {
            cs_tracker *tracker = make_busy_tracker((cs_input_kind)kind, 0,
                                                    CS_REPEAT_REJECT);
            batch b;
            /* Row 1 of the batch is example 0, and its column 2 is bad. */
            const expected_error want = {CS_E_NONFINITE_PREDICTION,
                                         "cs_observe_batch",
                                         "predictions",
                                         1,
                                         1 * ERR_C + 2,
                                         0,
                                         NULL,
                                         bad_text[v]};

            make_batch(&b, (cs_input_kind)kind);
            b.predictions[1 * ERR_C + 2] = bad_values[v];
            CHECK_BATCH_REJECTED(tracker, &b, NULL, BATCH_N, &want);
            cs_tracker_free(tracker);
        }

        cs_tracker *tracker = make_ended_tracker(CS_INPUT_LOGITS, 0);
        float logits[ERR_N * ERR_C];
        const expected_error want = {CS_E_NONFINITE_PREDICTION,
                                     "cs_observe_epoch",
                                     "predictions",
                                     2,
                                     2 * ERR_C + 1,
                                     2,
                                     NULL,
                                     bad_text[v]};

        memcpy(logits, good_logits, sizeof(logits));
        logits[2 * ERR_C + 1] = bad_values[v];
        CHECK_EPOCH_REJECTED(tracker, logits, good_labels, NULL, ERR_N, &want);
        cs_tracker_free(tracker);
    }
}

static void invalid_probabilities(void **state)
{
    /* Row 2 of the batch (example 1) breaks the rule in each case. */
    const float negative[ERR_C] = {-0.25f, 0.75f, 0.5f};
    const float sum_high[ERR_C] = {0.25f, 0.75f, 0.05f};
    const float sum_low[ERR_C] = {0.25f, 0.5f, 0.2f};
    const float logits[ERR_C] = {2.0f, -1.0f, 0.5f};
    const float *rows[4] = {negative, sum_high, sum_low, logits};

    (void)state;
    for (int c = 0; c < 4; c++) {
        cs_tracker *tracker = make_busy_tracker(CS_INPUT_PROBABILITIES, 0,
                                                CS_REPEAT_REJECT);
        const expected_error want = {CS_E_INVALID_PROBABILITY,
                                     "cs_observe_batch",
                                     "predictions",
                                     2,
                                     c == 0 ? 2 * ERR_C : 2,
                                     1,
                                     NULL,
                                     NULL};
        batch b;

        make_batch(&b, CS_INPUT_PROBABILITIES);
        memcpy(b.predictions + 2 * ERR_C, rows[c], sizeof(negative));
        CHECK_BATCH_REJECTED(tracker, &b, NULL, BATCH_N, &want);
        cs_tracker_free(tracker);
    }

    cs_tracker *tracker = make_ended_tracker(CS_INPUT_PROBABILITIES, 0);
    float epoch_rows[ERR_N * ERR_C];
    const expected_error want = {CS_E_INVALID_PROBABILITY,
                                 "cs_observe_epoch",
                                 "predictions",
                                 3,
                                 3 * ERR_C,
                                 3,
                                 NULL,
                                 NULL};

    memcpy(epoch_rows, good_probabilities, sizeof(epoch_rows));
    memcpy(epoch_rows + 3 * ERR_C, sum_high, sizeof(sum_high));
    CHECK_EPOCH_REJECTED(tracker, epoch_rows, good_labels, NULL, ERR_N, &want);
    cs_tracker_free(tracker);
}

/* Rows off by about 1e-3, as a half-precision softmax leaves them, pass
 * the default tolerance, and a tolerance of 1e-6 rejects them. */
static void probability_tolerance(void **state)
{
    const float rows[ERR_N * ERR_C] = {
        0.5f,    0.25f, 0.251f, 0.125f, 0.75f, 0.124f,
        0.2495f, 0.25f, 0.5f,   0.5f,   0.25f, 0.2512f,
    };
    cs_tracker_options options = valid_options();
    cs_tracker *tracker = NULL;

    (void)state;
    options.input_kind = CS_INPUT_PROBABILITIES;
    assert_int_equal(cs_tracker_create(&options, &tracker), CS_OK);
    assert_int_equal(cs_observe_epoch(tracker, rows, good_labels, NULL, ERR_N),
                     CS_OK);
    cs_tracker_free(tracker);

    options.probability_tolerance = 1e-6;
    assert_int_equal(cs_tracker_create(&options, &tracker), CS_OK);

    const expected_error want = {CS_E_INVALID_PROBABILITY,
                                 "cs_observe_epoch",
                                 "predictions",
                                 0,
                                 -2,
                                 0,
                                 NULL,
                                 NULL};

    CHECK_EPOCH_REJECTED(tracker, rows, good_labels, NULL, ERR_N, &want);
    assert_int_equal(cs_observe_epoch(tracker, good_probabilities, good_labels,
                                      NULL, ERR_N),
                     CS_OK);
    cs_tracker_free(tracker);
}

static void labels_out_of_range(void **state)
{
    const int32_t bad_labels[3] = {-1, ERR_C, INT32_MAX};
    const char *bad_text[3] = {"-1", "3", "2147483647"};

    (void)state;
    for (int v = 0; v < 3; v++) {
        cs_tracker *tracker = make_busy_tracker(CS_INPUT_LOGITS, 0,
                                                CS_REPEAT_REJECT);
        const expected_error want = {CS_E_LABEL_OUT_OF_RANGE,
                                     "cs_observe_batch",
                                     "labels",
                                     2,
                                     2,
                                     1,
                                     bad_text[v],
                                     NULL};
        batch b;

        make_batch(&b, CS_INPUT_LOGITS);
        b.labels[2] = bad_labels[v];
        CHECK_BATCH_REJECTED(tracker, &b, NULL, BATCH_N, &want);
        cs_tracker_free(tracker);

        /* A fresh tracker has no first-seen label to blame instead. */
        tracker = tf_create(ERR_N, ERR_C, CS_INPUT_LOGITS, 0, 0,
                            CS_REPEAT_REJECT);
        int32_t labels[ERR_N];
        const expected_error epoch_want = {CS_E_LABEL_OUT_OF_RANGE,
                                           "cs_observe_epoch",
                                           "labels",
                                           3,
                                           3,
                                           3,
                                           bad_text[v],
                                           NULL};

        memcpy(labels, good_labels, sizeof(labels));
        labels[3] = bad_labels[v];
        CHECK_EPOCH_REJECTED(tracker, good_logits, labels, NULL, ERR_N,
                             &epoch_want);
        cs_tracker_free(tracker);
    }
}

static void label_changed(void **state)
{
    cs_tracker *tracker = make_busy_tracker(CS_INPUT_LOGITS, 0,
                                            CS_REPEAT_REJECT);
    const expected_error want =
        {CS_E_LABEL_CHANGED, "cs_observe_batch", "labels", 1, 1, 0, "2", NULL};
    batch b;

    (void)state;
    make_batch(&b, CS_INPUT_LOGITS);
    b.labels[1] = 2;
    CHECK_BATCH_REJECTED(tracker, &b, NULL, BATCH_N, &want);
    cs_tracker_free(tracker);

    tracker = make_ended_tracker(CS_INPUT_LOGITS, 0);

    int32_t labels[ERR_N];
    const expected_error epoch_want =
        {CS_E_LABEL_CHANGED, "cs_observe_epoch", "labels", 2, 2, 2, "0", NULL};

    memcpy(labels, good_labels, sizeof(labels));
    labels[2] = 0;
    CHECK_EPOCH_REJECTED(tracker, good_logits, labels, NULL, ERR_N,
                         &epoch_want);
    cs_tracker_free(tracker);
}

static void ids_out_of_range(void **state)
{
    const int64_t bad_ids[3] = {-1, ERR_N, INT64_MAX};
    const char *bad_text[3] = {"-1", "4", "9223372036854775807"};

    (void)state;
    for (int v = 0; v < 3; v++) {
        cs_tracker *tracker = make_busy_tracker(CS_INPUT_LOGITS, 0,
                                                CS_REPEAT_REJECT);
        const expected_error want = {CS_E_ID_OUT_OF_RANGE,
                                     "cs_observe_batch",
                                     "ids",
                                     2,
                                     2,
                                     -2,
                                     bad_text[v],
                                     NULL};
        batch b;

        make_batch(&b, CS_INPUT_LOGITS);
        b.ids[2] = bad_ids[v];
        CHECK_BATCH_REJECTED(tracker, &b, NULL, BATCH_N, &want);
        cs_tracker_free(tracker);
    }
}

/* Under keep-first a batch whose last row is bad records nothing, so the
 * repeats in its earlier rows are not counted either. */
static void whole_batch_checked_first(void **state)
{
    cs_tracker *tracker = make_busy_tracker(CS_INPUT_LOGITS, 0,
                                            CS_REPEAT_KEEP_FIRST);
    const expected_error want = {CS_E_LABEL_OUT_OF_RANGE,
                                 "cs_observe_batch",
                                 "labels",
                                 3,
                                 3,
                                 1,
                                 "7",
                                 NULL};
    float predictions[4 * ERR_C];
    int32_t labels[4];
    int64_t ids[4] = {2, 3, 0, 1};
    tf_snapshot before;

    (void)state;
    /* Id 3 repeats the open epoch's observation. */
    memcpy(predictions, good_logits + 2 * ERR_C, ERR_C * sizeof(float));
    memcpy(predictions + ERR_C, good_logits + 3 * ERR_C,
           ERR_C * sizeof(float));
    memcpy(predictions + 2 * ERR_C, good_logits, 2 * ERR_C * sizeof(float));
    labels[0] = good_labels[2];
    labels[1] = good_labels[3];
    labels[2] = good_labels[0];
    labels[3] = 7;
    tf_snapshot_take(tracker, &before);
    check_error_record_at(cs_observe_batch(tracker, predictions, labels, ids,
                                           NULL, 4),
                          &want, __FILE__, __LINE__);
    TF_ASSERT_UNCHANGED(tracker, &before);
    assert_int_equal(cs_tracker_repeats_dropped(tracker), 0);
    tf_snapshot_free(&before);
    cs_tracker_free(tracker);
}

static void features_mismatch(void **state)
{
    cs_tracker *tracker = make_busy_tracker(CS_INPUT_LOGITS, 0,
                                            CS_REPEAT_REJECT);
    const expected_error unexpected = {CS_E_UNEXPECTED_FEATURES,
                                       "cs_observe_batch",
                                       "features",
                                       -2,
                                       -2,
                                       -2,
                                       NULL,
                                       NULL};
    const expected_error missing = {CS_E_MISSING_FEATURES,
                                    "cs_observe_batch",
                                    "features",
                                    -2,
                                    -2,
                                    -2,
                                    NULL,
                                    NULL};
    const expected_error epoch_unexpected = {CS_E_UNEXPECTED_FEATURES,
                                             "cs_observe_epoch",
                                             "features",
                                             -2,
                                             -2,
                                             -2,
                                             NULL,
                                             NULL};
    const expected_error epoch_missing = {CS_E_MISSING_FEATURES,
                                          "cs_observe_epoch",
                                          "features",
                                          -2,
                                          -2,
                                          -2,
                                          NULL,
                                          NULL};
    batch b;

    (void)state;
    make_batch(&b, CS_INPUT_LOGITS);
    CHECK_BATCH_REJECTED(tracker, &b, b.features, BATCH_N, &unexpected);
    cs_tracker_free(tracker);

    tracker = make_busy_tracker(CS_INPUT_LOGITS, ERR_D, CS_REPEAT_REJECT);
    CHECK_BATCH_REJECTED(tracker, &b, NULL, BATCH_N, &missing);
    cs_tracker_free(tracker);

    tracker = make_ended_tracker(CS_INPUT_LOGITS, 0);
    CHECK_EPOCH_REJECTED(tracker, good_logits, good_labels, good_features,
                         ERR_N, &epoch_unexpected);
    cs_tracker_free(tracker);

    tracker = make_ended_tracker(CS_INPUT_LOGITS, ERR_D);
    CHECK_EPOCH_REJECTED(tracker, good_logits, good_labels, NULL, ERR_N,
                         &epoch_missing);
    cs_tracker_free(tracker);
}

static void nonfinite_features(void **state)
{
    const float bad_values[2] = {NAN, -INFINITY};
    const char *bad_text[2] = {"nan", "inf"};

    (void)state;
    for (int v = 0; v < 2; v++) {
        cs_tracker *tracker = make_busy_tracker(CS_INPUT_LOGITS, ERR_D,
                                                CS_REPEAT_REJECT);
        /* Row 2 of the batch is example 1, and its second feature is bad. */
        const expected_error want = {CS_E_NONFINITE_FEATURE,
                                     "cs_observe_batch",
                                     "features",
                                     2,
                                     2 * ERR_D + 1,
                                     1,
                                     NULL,
                                     bad_text[v]};
        batch b;

        make_batch(&b, CS_INPUT_LOGITS);
        b.features[2 * ERR_D + 1] = bad_values[v];
        CHECK_BATCH_REJECTED(tracker, &b, b.features, BATCH_N, &want);
        cs_tracker_free(tracker);
    }
}

/* ------------------------------------------------------------------------
 * Getters
 * ------------------------------------------------------------------------ */

/* Fills a buffer with a pattern that no getter writes by chance. */
#define SENTINEL 0x6b

static int untouched(const void *buffer, size_t size)
{
    const unsigned char *bytes = buffer;

    for (size_t i = 0; i < size; i++) {
        if (bytes[i] != SENTINEL)
            return 0;
    }
    return 1;
}

static void proxy_getter_errors(void **state)
{
    cs_tracker *tracker = make_busy_tracker(CS_INPUT_LOGITS, 0,
                                            CS_REPEAT_REJECT);
    int32_t ints[ERR_N + 1];
    float floats[ERR_N + 1];

    (void)state;
    memset(ints, SENTINEL, sizeof(ints));
    memset(floats, SENTINEL, sizeof(floats));
    TF_EXPECT_ERROR(cs_tracker_proxy_i32(NULL, CS_PROXY_CBTL, ints, ERR_N),
                    CS_E_NULL_ARGUMENT, "cs_tracker_proxy_i32", "tracker");
    TF_EXPECT_ERROR(cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, NULL, ERR_N),
                    CS_E_NULL_ARGUMENT, "cs_tracker_proxy_i32", "out");
    TF_EXPECT_ERROR(cs_tracker_proxy_i32(tracker, (cs_proxy)CS_PROXY_COUNT,
                                         ints, ERR_N),
                    CS_E_INVALID_ARGUMENT, "cs_tracker_proxy_i32", "proxy");
    assert_string_equal(cs_last_error()->value, "11");
    TF_EXPECT_ERROR(cs_tracker_proxy_i32(tracker, (cs_proxy)-1, ints, ERR_N),
                    CS_E_INVALID_ARGUMENT, "cs_tracker_proxy_i32", "proxy");
    TF_EXPECT_ERROR(cs_tracker_proxy_i32(tracker, CS_PROXY_P_L_MEAN, ints,
                                         ERR_N),
                    CS_E_WRONG_TYPE, "cs_tracker_proxy_i32", "proxy");
    TF_EXPECT_ERROR(cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, ints,
                                         ERR_N - 1),
                    CS_E_SIZE_MISMATCH, "cs_tracker_proxy_i32", "n");
    TF_EXPECT_ERROR(cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, ints,
                                         ERR_N + 1),
                    CS_E_SIZE_MISMATCH, "cs_tracker_proxy_i32", "n");
    assert_string_equal(cs_last_error()->value, "5");
    assert_true(untouched(ints, sizeof(ints)));

    TF_EXPECT_ERROR(cs_tracker_proxy_f32(NULL, CS_PROXY_AUM, floats, ERR_N),
                    CS_E_NULL_ARGUMENT, "cs_tracker_proxy_f32", "tracker");
    TF_EXPECT_ERROR(cs_tracker_proxy_f32(tracker, CS_PROXY_AUM, NULL, ERR_N),
                    CS_E_NULL_ARGUMENT, "cs_tracker_proxy_f32", "out");
    TF_EXPECT_ERROR(cs_tracker_proxy_f32(tracker, (cs_proxy)CS_PROXY_COUNT,
                                         floats, ERR_N),
                    CS_E_INVALID_ARGUMENT, "cs_tracker_proxy_f32", "proxy");
    TF_EXPECT_ERROR(cs_tracker_proxy_f32(tracker, CS_PROXY_FORGETTING, floats,
                                         ERR_N),
                    CS_E_WRONG_TYPE, "cs_tracker_proxy_f32", "proxy");
    TF_EXPECT_ERROR(cs_tracker_proxy_f32(tracker, CS_PROXY_FIRST_LEARNED,
                                         floats, ERR_N),
                    CS_E_WRONG_TYPE, "cs_tracker_proxy_f32", "proxy");
    TF_EXPECT_ERROR(cs_tracker_proxy_f32(tracker, CS_PROXY_AUM, floats,
                                         ERR_N + 1),
                    CS_E_SIZE_MISMATCH, "cs_tracker_proxy_f32", "n");
    assert_true(untouched(floats, sizeof(floats)));
    cs_tracker_free(tracker);
}

static void array_getter_errors(void **state)
{
    cs_tracker *tracker = make_busy_tracker(CS_INPUT_LOGITS, 0,
                                            CS_REPEAT_REJECT);
    int32_t ints[ERR_N + 1];
    float floats[ERR_N * ERR_D + 1];

    (void)state;
    memset(ints, SENTINEL, sizeof(ints));
    memset(floats, SENTINEL, sizeof(floats));
    TF_EXPECT_ERROR(cs_tracker_labels(NULL, ints, ERR_N), CS_E_NULL_ARGUMENT,
                    "cs_tracker_labels", "tracker");
    TF_EXPECT_ERROR(cs_tracker_labels(tracker, NULL, ERR_N),
                    CS_E_NULL_ARGUMENT, "cs_tracker_labels", "out");
    TF_EXPECT_ERROR(cs_tracker_labels(tracker, ints, ERR_N + 1),
                    CS_E_SIZE_MISMATCH, "cs_tracker_labels", "n");
    TF_EXPECT_ERROR(cs_tracker_epochs_observed(NULL, ints, ERR_N),
                    CS_E_NULL_ARGUMENT, "cs_tracker_epochs_observed",
                    "tracker");
    TF_EXPECT_ERROR(cs_tracker_epochs_observed(tracker, NULL, ERR_N),
                    CS_E_NULL_ARGUMENT, "cs_tracker_epochs_observed", "out");
    TF_EXPECT_ERROR(cs_tracker_epochs_observed(tracker, ints, ERR_N - 1),
                    CS_E_SIZE_MISMATCH, "cs_tracker_epochs_observed", "n");
    assert_true(untouched(ints, sizeof(ints)));

    TF_EXPECT_ERROR(cs_tracker_features(tracker, floats, ERR_N * ERR_D),
                    CS_E_MISSING_FEATURES, "cs_tracker_features", NULL);
    cs_tracker_free(tracker);

    tracker = make_busy_tracker(CS_INPUT_LOGITS, ERR_D, CS_REPEAT_REJECT);
    TF_EXPECT_ERROR(cs_tracker_features(NULL, floats, ERR_N * ERR_D),
                    CS_E_NULL_ARGUMENT, "cs_tracker_features", "tracker");
    TF_EXPECT_ERROR(cs_tracker_features(tracker, NULL, ERR_N * ERR_D),
                    CS_E_NULL_ARGUMENT, "cs_tracker_features", "out");
    TF_EXPECT_ERROR(cs_tracker_features(tracker, floats, ERR_N),
                    CS_E_SIZE_MISMATCH, "cs_tracker_features", "n_values");
    TF_EXPECT_ERROR(cs_tracker_features(tracker, floats, ERR_N * ERR_D + 1),
                    CS_E_SIZE_MISMATCH, "cs_tracker_features", "n_values");
    assert_true(untouched(floats, sizeof(floats)));

    assert_int_equal(cs_tracker_epochs(NULL), -1);
    assert_int_equal(cs_tracker_repeats_dropped(NULL), -1);
    cs_tracker_free(NULL);
    cs_tracker_free(tracker);
}

static void history_errors(void **state)
{
    cs_tracker *tracker = make_busy_tracker(CS_INPUT_LOGITS, 0,
                                            CS_REPEAT_REJECT);
    cs_tracker *no_history = tf_create(ERR_N, ERR_C, CS_INPUT_LOGITS, 0, 0,
                                       CS_REPEAT_REJECT);
    uint8_t observed[ERR_N + 1];
    float p_l[ERR_N + 1];
    const int32_t bad_epochs[4] = {0, -1, 3, INT32_MAX};
    const char *bad_text[4] = {"0", "-1", "3", "2147483647"};

    (void)state;
    memset(observed, SENTINEL, sizeof(observed));
    memset(p_l, SENTINEL, sizeof(p_l));
    TF_EXPECT_ERROR(cs_tracker_history(NULL, 1, observed, NULL, p_l, NULL,
                                       ERR_N),
                    CS_E_NULL_ARGUMENT, "cs_tracker_history", "tracker");
    assert_int_equal(cs_observe_epoch(no_history, good_logits, good_labels,
                                      NULL, ERR_N),
                     CS_OK);
    TF_EXPECT_ERROR(cs_tracker_history(no_history, 1, observed, NULL, p_l,
                                       NULL, ERR_N),
                    CS_E_NO_HISTORY, "cs_tracker_history", NULL);
    /* Epoch 1 is ended and epoch 2 is open, so 3 is out of range. */
    for (int v = 0; v < 4; v++) {
        TF_EXPECT_ERROR(cs_tracker_history(tracker, bad_epochs[v], observed,
                                           NULL, p_l, NULL, ERR_N),
                        CS_E_INVALID_ARGUMENT, "cs_tracker_history", "epoch");
        assert_string_equal(cs_last_error()->value, bad_text[v]);
    }
    TF_EXPECT_ERROR(cs_tracker_history(tracker, 1, observed, NULL, p_l, NULL,
                                       ERR_N + 1),
                    CS_E_SIZE_MISMATCH, "cs_tracker_history", "n");
    assert_true(untouched(observed, sizeof(observed)));
    assert_true(untouched(p_l, sizeof(p_l)));
    cs_tracker_free(no_history);
    cs_tracker_free(tracker);
}

/* ------------------------------------------------------------------------
 * Status codes, versions and the last-error record
 * ------------------------------------------------------------------------ */

static void status_names_and_messages(void **state)
{
    static const struct {
        cs_status status;
        const char *name;
        const char *text;
    } table[] = {
#define STATUS_ROW(name, value, text) {name, #name, text},
        CS_STATUS_TABLE(STATUS_ROW)
#undef STATUS_ROW
    };
    const size_t count = sizeof(table) / sizeof(table[0]);

    (void)state;
    /* The tracker's 24 codes come first; other modules append theirs. */
    assert_true(count >= 24);
    assert_int_equal(table[23].status, CS_E_UNSUPPORTED_VERSION);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(table[i].status, (int)i);
        assert_string_equal(cs_status_name(table[i].status), table[i].name);
        assert_string_equal(cs_strerror(table[i].status), table[i].text);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(cs_strerror(table[i].status),
                                    cs_strerror(table[j].status));
    }
    assert_string_equal(cs_status_name((cs_status)count), "CS_UNKNOWN_STATUS");
    assert_string_equal(cs_status_name((cs_status)-1), "CS_UNKNOWN_STATUS");
    assert_non_null(cs_strerror((cs_status)count));
    assert_true(cs_strerror((cs_status)count)[0] != '\0');
    assert_non_null(cs_strerror((cs_status)-1));
}

static void version_functions(void **state)
{
    (void)state;
    assert_int_equal(cs_version_number(), CS_VERSION_NUMBER);
    assert_string_equal(cs_version_string(), CS_VERSION_STRING);
    assert_int_equal(CS_VERSION_NUMBER, 100);
}

/* A successful call keeps the previous failure's record. */
static void success_keeps_last_error(void **state)
{
    cs_tracker *tracker = make_ended_tracker(CS_INPUT_LOGITS, 0);
    int32_t cbtl[ERR_N];

    (void)state;
    TF_EXPECT_ERROR(cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, cbtl, 1),
                    CS_E_SIZE_MISMATCH, "cs_tracker_proxy_i32", "n");
    assert_int_equal(cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, cbtl, ERR_N),
                     CS_OK);
    assert_int_equal(cs_last_error()->status, CS_E_SIZE_MISMATCH);
    assert_string_equal(cs_last_error()->function, "cs_tracker_proxy_i32");
    cs_tracker_free(tracker);
}

typedef struct thread_report {
    char message_at_start[8];
    cs_status status_at_start;
    cs_status status_after_failure;
} thread_report;

static void *fail_in_thread(void *argument)
{
    thread_report *report = argument;

    snprintf(report->message_at_start, sizeof(report->message_at_start), "%s",
             cs_last_error_message());
    report->status_at_start = cs_last_error()->status;
    (void)cs_tracker_create(NULL, NULL);
    report->status_after_failure = cs_last_error()->status;
    return NULL;
}

/* Each thread has its own record: a new thread starts with an empty
 * message, and its failure does not touch this thread's record. */
static void last_error_per_thread(void **state)
{
    cs_tracker *tracker = make_ended_tracker(CS_INPUT_LOGITS, 0);
    thread_report report;
    pthread_t thread;
    int32_t cbtl[ERR_N];

    (void)state;
    memset(&report, 'x', sizeof(report));
    TF_EXPECT_ERROR(cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, cbtl, 2),
                    CS_E_SIZE_MISMATCH, "cs_tracker_proxy_i32", "n");
    assert_int_equal(pthread_create(&thread, NULL, fail_in_thread, &report),
                     0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_string_equal(report.message_at_start, "");
    assert_int_equal(report.status_at_start, CS_OK);
    assert_int_equal(report.status_after_failure, CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_last_error()->status, CS_E_SIZE_MISMATCH);
    assert_string_equal(cs_last_error()->argument, "n");
    cs_tracker_free(tracker);
}

/* Fields that do not apply are -1 or empty. */
static void error_record_unused_fields(void **state)
{
    const cs_error_info *info;

    (void)state;
    TF_EXPECT_ERROR(cs_end_epoch(NULL), CS_E_NULL_ARGUMENT, "cs_end_epoch",
                    "tracker");
    info = cs_last_error();
    assert_int_equal(info->index, -1);
    assert_int_equal(info->example_id, -1);
    assert_int_equal(info->offset, -1);
    assert_int_equal(info->line, -1);
    assert_int_equal(info->column, -1);
    assert_string_equal(info->path, "");
    assert_string_equal(info->value, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_defaults),
        cmocka_unit_test(create_null_arguments),
        cmocka_unit_test(create_zero_sizes),
        cmocka_unit_test(create_invalid_options),
        cmocka_unit_test(create_overflow),
        cmocka_unit_test(create_edge_options),
        cmocka_unit_test(get_options_roundtrip),
        cmocka_unit_test(get_options_short_struct),
        cmocka_unit_test(create_allocation_failures),
        cmocka_unit_test(observe_allocation_failures),
        cmocka_unit_test(observe_null_arguments),
        cmocka_unit_test(observe_zero_size),
        cmocka_unit_test(epoch_size_mismatch),
        cmocka_unit_test(epoch_while_open),
        cmocka_unit_test(nonfinite_predictions),
        cmocka_unit_test(invalid_probabilities),
        cmocka_unit_test(probability_tolerance),
        cmocka_unit_test(labels_out_of_range),
        cmocka_unit_test(label_changed),
        cmocka_unit_test(ids_out_of_range),
        cmocka_unit_test(whole_batch_checked_first),
        cmocka_unit_test(features_mismatch),
        cmocka_unit_test(nonfinite_features),
        cmocka_unit_test(proxy_getter_errors),
        cmocka_unit_test(array_getter_errors),
        cmocka_unit_test(history_errors),
        cmocka_unit_test(status_names_and_messages),
        cmocka_unit_test(version_functions),
        cmocka_unit_test(success_keeps_last_error),
        cmocka_unit_test(last_error_per_thread),
        cmocka_unit_test(error_record_unused_fields),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
