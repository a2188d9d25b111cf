/*
 * Size limits: caller-given counts whose products overflow size_t, and file
 * headers that declare more data than the file holds. Each case must fail
 * with the documented status before anything of the bad size is allocated.
 * The sanitizer build would report an allocation that wrapped around or
 * that asked for terabytes.
 */
#include "tracker_fixtures.h"

#include "internal.h"
#include "io/idx.h"
#include "tracker/tracker_internal.h"

/* A temporary folder for the file cases, made once for the whole group. */
static char temp_dir[64];

static int group_setup(void **state)
{
    (void)state;
    tf_make_temp_dir(temp_dir, sizeof temp_dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tf_remove_dir(temp_dir);
    return 0;
}

static void put_u32_le(unsigned char *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

static void put_u64_le(unsigned char *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

/* ------------------------------------------------------------------------
 * Tracker
 * ------------------------------------------------------------------------ */

/* 2^40 rows of 2^30 logits are 2^72 bytes: the batch is rejected before a
 * row offset wraps, and the small arrays passed are never read. */
static void observe_batch_overflow(void **state)
{
    (void)state;
    cs_tracker *tracker = tf_create(4, INT32_C(1) << 30, CS_INPUT_LOGITS, 0,
                                    1, CS_REPEAT_REJECT);
    const float predictions[4] = {0};
    const int32_t labels[2] = {0};
    const int64_t labels64[2] = {0};
    const int64_t ids[2] = {0, 1};
    const size_t huge = (size_t)1 << 40;

    TF_EXPECT_ERROR(cs_observe_batch(tracker, predictions, labels, ids, NULL,
                                     huge),
                    CS_E_OVERFLOW, "cs_observe_batch", "n");
    assert_non_null(strstr(cs_last_error()->message, "1099511627776"));
    TF_EXPECT_ERROR(cs_observe_batch_int64(tracker, predictions, labels64,
                                           ids, NULL, huge),
                    CS_E_OVERFLOW, "cs_observe_batch_int64", "n");
    TF_EXPECT_ERROR(cs_observe_epoch(tracker, predictions, labels, NULL,
                                     huge),
                    CS_E_OVERFLOW, "cs_observe_epoch", "n");
    assert_int_equal(cs_tracker_epochs(tracker), 0);
    cs_tracker_free(tracker);
}

/* The feature width counts too: 2^62 rows of 4 features overflow even with
 * 2 classes. */
static void observe_features_overflow(void **state)
{
    (void)state;
    cs_tracker *tracker = tf_create(4, 2, CS_INPUT_LOGITS, 4, 0,
                                    CS_REPEAT_REJECT);
    const float values[8] = {0};
    const int32_t labels[2] = {0};
    const int64_t ids[2] = {0, 1};

    TF_EXPECT_ERROR(cs_observe_batch(tracker, values, labels, ids, values,
                                     (size_t)1 << 62),
                    CS_E_OVERFLOW, "cs_observe_batch", "n");
    cs_tracker_free(tracker);
}

/* One epoch of history for SIZE_MAX / 4 examples overflows size_t. No
 * public call reaches this, because creating such a tracker fails first,
 * so the check runs on a tracker with only the fields it reads. */
static void history_block_overflow(void **state)
{
    (void)state;
    cs_tracker tracker;
    memset(&tracker, 0, sizeof tracker);
    tracker.n_examples = SIZE_MAX / 4;

    const cs_status status = cs__tracker_reserve_history(&tracker, 1);

    assert_int_equal(status, CS_E_OVERFLOW);
    assert_int_equal(tracker.history_count, 0);
    TF_EXPECT_ERROR(cs__tracker_history_failure(status, "cs_end_epoch",
                                                "tracker", &tracker, 1),
                    CS_E_OVERFLOW, "cs_end_epoch", "tracker");
    assert_non_null(strstr(cs_last_error()->message, "overflows"));
    cs__free(tracker.history);
}

/* The epoch counter stops at INT32_MAX - 1 instead of wrapping. */
static void end_epoch_at_limit(void **state)
{
    (void)state;
    cs_tracker *tracker = tf_create(4, 2, CS_INPUT_LOGITS, 0, 0,
                                    CS_REPEAT_REJECT);
    tracker->epochs_ended = INT32_MAX - 2;

    assert_int_equal(cs_end_epoch(tracker), CS_OK);
    TF_EXPECT_ERROR(cs_end_epoch(tracker), CS_E_OVERFLOW, "cs_end_epoch",
                    "tracker");
    assert_int_equal(cs_tracker_epochs(tracker), INT32_MAX - 1);
    cs_tracker_free(tracker);
}

/* Saves a small tracker and rewrites N in its header. */
static void write_checkpoint_with_n(const char *path, int64_t n_examples)
{
    cs_tracker *tracker = tf_create(4, 2, CS_INPUT_LOGITS, 0, 1,
                                    CS_REPEAT_REJECT);
    assert_int_equal(cs_tracker_save(tracker, path), CS_OK);
    cs_tracker_free(tracker);

    size_t size;
    char *bytes = tf_read_file(path, &size);
    /* N is the first header field, after the 8-byte magic, the version and
     * the byte-order mark. */
    memcpy(bytes + 16, &n_examples, sizeof n_examples);
    tf_write_file(path, bytes, size);
    free(bytes);
}

/* A header that declares 2^40 or 2^62 examples is rejected by its implied
 * size, before the state or the CRC buffer is allocated. */
static void checkpoint_header_too_large(void **state)
{
    (void)state;
    char path[256];
    tf_join_path(path, sizeof path, temp_dir, "large.ckpt");
    cs_tracker *out = NULL;

    write_checkpoint_with_n(path, INT64_C(1) << 40);
    TF_EXPECT_ERROR(cs_tracker_load(path, &out), CS_E_FORMAT,
                    "cs_tracker_load", NULL);
    assert_non_null(strstr(cs_last_error()->message, "truncated"));
    assert_null(out);

    write_checkpoint_with_n(path, INT64_C(1) << 62);
    TF_EXPECT_ERROR(cs_tracker_load(path, &out), CS_E_FORMAT,
                    "cs_tracker_load", NULL);
    assert_non_null(strstr(cs_last_error()->message, "too large"));
    assert_null(out);
}

/* ------------------------------------------------------------------------
 * KDE
 * ------------------------------------------------------------------------ */

static void kde_examples_overflow(void **state)
{
    (void)state;
    const float inputs[8] = {0};
    const int32_t labels[2] = {0, 1};
    float scores[2];
    const cs_examples examples = {inputs, labels, SIZE_MAX / 2, 4};
    cs_kde_result result;
    cs_kde_result_init(&result);
    result.n = examples.n;
    result.kde_free = scores;

    TF_EXPECT_ERROR(cs_kde_scores(&examples, 2, NULL, &result), CS_E_OVERFLOW,
                    "cs_kde_scores", "examples");

    double bandwidth = 0.0;
    double standard_error = 0.0;
    TF_EXPECT_ERROR(cs_kde_bandwidth(&examples, NULL, &bandwidth,
                                     &standard_error),
                    CS_E_OVERFLOW, "cs_kde_bandwidth", "examples");
}

/* ------------------------------------------------------------------------
 * Trainer
 * ------------------------------------------------------------------------ */

/* D = H = INT32_MAX gives about 4.6e18 parameters: three copies of them
 * still fit in size_t as a count, but not as bytes of float32. */
static void trainer_parameters_overflow(void **state)
{
    (void)state;
    cs_trainer_options options;
    cs_trainer_options_init(&options);
    options.n_inputs = INT32_MAX;
    options.n_classes = 2;
    options.n_hidden_layers = 1;
    options.hidden_widths[0] = INT32_MAX;
    cs_trainer *trainer = NULL;

    TF_EXPECT_ERROR(cs_trainer_create(&options, &trainer), CS_E_OVERFLOW,
                    "cs_trainer_create", NULL);
    assert_null(trainer);

    /* Two such layers overflow the parameter count itself. */
    options.n_hidden_layers = 2;
    options.hidden_widths[1] = INT32_MAX;
    TF_EXPECT_ERROR(cs_trainer_create(&options, &trainer), CS_E_OVERFLOW,
                    "cs_trainer_create", NULL);
    assert_null(trainer);
}

/* ------------------------------------------------------------------------
 * Hold-out estimates
 * ------------------------------------------------------------------------ */

static void holdout_subset_overflow(void **state)
{
    (void)state;
    const size_t n = SIZE_MAX / 4;
    int64_t indices[1];

    TF_EXPECT_ERROR(cs_holdout_subset(1, n, 50,
                                      indices, cs_holdout_subset_size(n, 50)),
                    CS_E_OVERFLOW, "cs_holdout_subset", "n");
}

/* A record file whose header declares 2^28 labels (a 1 GiB header) but
 * contains 64 bytes is rejected before the header buffer is allocated. */
static void records_header_too_large(void **state)
{
    (void)state;
    const uint64_t n = UINT64_C(1) << 28;
    const uint32_t recipe_length = 4;
    unsigned char bytes[64];
    memset(bytes, 0, sizeof bytes);
    memcpy(bytes, "CSHOLDRC", 8);
    put_u32_le(bytes + 8, 1);
    put_u32_le(bytes + 12, (uint32_t)(44 + recipe_length + 4 * n + 4));
    put_u64_le(bytes + 16, n);
    put_u32_le(bytes + 40, recipe_length);

    char path[256];
    tf_join_path(path, sizeof path, temp_dir, "large.records");
    tf_write_file(path, bytes, sizeof bytes);
    cs_holdout *holdout = NULL;

    TF_EXPECT_ERROR(cs_holdout_create_from_records(path, &holdout),
                    CS_E_FORMAT, "cs_holdout_create_from_records", NULL);
    assert_non_null(strstr(cs_last_error()->message, "shorter than its "
                                                     "header"));
    assert_null(holdout);
}

/* ------------------------------------------------------------------------
 * File readers
 * ------------------------------------------------------------------------ */

/* Writes a version 1.0 .npy file with the given header dictionary and
 * data_bytes zero bytes of data. */
static void write_npy(const char *path, const char *dict, size_t data_bytes)
{
    unsigned char bytes[256];
    const size_t dict_length = strlen(dict);
    /* Magic, version and length take 10 bytes. The header ends in '\n' and
     * is padded with spaces to a multiple of 64. */
    const size_t header_end = (10 + dict_length + 1 + 63) / 64 * 64;
    assert_true(header_end + data_bytes <= sizeof bytes);

    memcpy(bytes, "\x93NUMPY\x01\x00", 8);
    bytes[8] = (unsigned char)((header_end - 10) & 0xff);
    bytes[9] = (unsigned char)((header_end - 10) >> 8);
    memcpy(bytes + 10, dict, dict_length);
    memset(bytes + 10 + dict_length, ' ', header_end - 10 - dict_length);
    bytes[header_end - 1] = '\n';
    memset(bytes + header_end, 0, data_bytes);
    tf_write_file(path, bytes, header_end + data_bytes);
}

static void npy_shape_too_large(void **state)
{
    (void)state;
    char path[256];
    tf_join_path(path, sizeof path, temp_dir, "large.npy");
    cs_array *array = NULL;

    /* 2^61 float64 values are 2^64 bytes. */
    write_npy(path,
              "{'descr': '<f8', 'fortran_order': False, "
              "'shape': (2305843009213693952,), }",
              8);
    TF_EXPECT_ERROR(cs_npy_read(path, &array), CS_E_FORMAT, "cs_npy_read",
                    NULL);
    assert_non_null(strstr(cs_last_error()->message, "overflows"));
    assert_null(array);

    /* The product of the dimensions overflows before the element size. */
    write_npy(path,
              "{'descr': '|u1', 'fortran_order': False, "
              "'shape': (4294967296, 4294967296), }",
              8);
    TF_EXPECT_ERROR(cs_npy_read(path, &array), CS_E_FORMAT, "cs_npy_read",
                    NULL);
    assert_non_null(strstr(cs_last_error()->message, "overflows"));
    assert_null(array);

    /* 10^12 float32 values in a file with 8 bytes of data. */
    write_npy(path,
              "{'descr': '<f4', 'fortran_order': False, "
              "'shape': (1000000000000,), }",
              8);
    TF_EXPECT_ERROR(cs_npy_read(path, &array), CS_E_FORMAT, "cs_npy_read",
                    NULL);
    assert_non_null(strstr(cs_last_error()->message, "truncated"));
    assert_null(array);
}

/* An IDX header of three dimensions of 2^32 - 1 declares about 2^96
 * bytes. A header of one such dimension declares more than the 24-byte
 * file contains. */
static void idx_dims_too_large(void **state)
{
    (void)state;
    unsigned char bytes[24] = {0, 0, 0x08, 3};
    memset(bytes + 4, 0xff, 12);
    char path[256];
    tf_join_path(path, sizeof path, temp_dir, "large-idx3-ubyte");
    tf_write_file(path, bytes, sizeof bytes);
    cs__idx_array array;

    TF_EXPECT_ERROR(cs__idx_read(path, "cs_dataset_load_idx", &array),
                    CS_E_FORMAT, "cs_dataset_load_idx", NULL);
    assert_non_null(strstr(cs_last_error()->message, "address"));
    assert_null(array.data);

    bytes[3] = 1;
    tf_write_file(path, bytes, sizeof bytes);
    TF_EXPECT_ERROR(cs__idx_read(path, "cs_dataset_load_idx", &array),
                    CS_E_FORMAT, "cs_dataset_load_idx", NULL);
    assert_non_null(strstr(cs_last_error()->message, "truncated"));
    assert_null(array.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(observe_batch_overflow),
        cmocka_unit_test(observe_features_overflow),
        cmocka_unit_test(history_block_overflow),
        cmocka_unit_test(end_epoch_at_limit),
        cmocka_unit_test(checkpoint_header_too_large),
        cmocka_unit_test(kde_examples_overflow),
        cmocka_unit_test(trainer_parameters_overflow),
        cmocka_unit_test(holdout_subset_overflow),
        cmocka_unit_test(records_header_too_large),
        cmocka_unit_test(npy_shape_too_large),
        cmocka_unit_test(idx_dims_too_large),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
