/*
 * cs_tracker_export_csv_extra() and cs_tracker_export_npz_extra(): the
 * caller's columns after the built-in ones (values, NaN as an empty cell),
 * the .npz arrays read back with cs_npz_read(), a plain export when no
 * column is given, and every rejected argument, each leaving no file.
 */
#include "tracker_fixtures.h"

#include "internal.h"

#define N 6
#define CLASSES 3

static char temp_dir[64];

static int setup(void **state)
{
    (void)state;
    tf_make_temp_dir(temp_dir, sizeof temp_dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tf_remove_dir(temp_dir);
    return 0;
}

/* A tracker with two observed epochs of seeded logits. */
static cs_tracker *make_tracker(void)
{
    cs_tracker *tracker = tf_create(N, CLASSES, CS_INPUT_LOGITS, 0, 1,
                                    CS_REPEAT_REJECT);
    uint64_t seed = 11;
    float logits[N * CLASSES];
    int32_t labels[N];
    tf_fill_labels(labels, N, &seed, CLASSES);
    for (int epoch = 0; epoch < 2; epoch++) {
        tf_fill_uniform(logits, N * CLASSES, &seed, -2.0, 2.0);
        assert_int_equal(cs_observe_epoch(tracker, logits, labels, NULL, N),
                         CS_OK);
    }
    return tracker;
}

static const float first_column[N] = {0.5f, -1.25f, 3.0f, NAN, 1e-7f, 2.0f};
static const float second_column[N] = {1, 2, 3, 4, 5, 6};
static const char *const column_names[2] = {"kde_pm_e1", "Score2"};

static char *read_text(const char *path)
{
    FILE *file = fopen(path, "rb");
    assert_non_null(file);
    static char text[1 << 16];
    const size_t size = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[size] = '\0';
    return text;
}

/* Returns the cell of column `column` (0-based) of CSV line `line` (0 is
 * the header) in text, copied into cell. */
static const char *csv_cell(const char *text, int line, int column,
                            char *cell, size_t capacity)
{
    const char *p = text;
    for (int l = 0; l < line; l++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    for (int c = 0; c < column; c++) {
        p = strpbrk(p, ",\n");
        assert_non_null(p);
        assert_true(*p == ',');
        p++;
    }
    const size_t length = strcspn(p, ",\n");
    assert_true(length < capacity);
    memcpy(cell, p, length);
    cell[length] = '\0';
    return cell;
}

static void csv_columns_appended(void **state)
{
    (void)state;
    cs_tracker *tracker = make_tracker();
    const float *values[2] = {first_column, second_column};
    char path[256];
    tf_join_path(path, sizeof path, temp_dir, "extra.csv");

    assert_int_equal(cs_tracker_export_csv_extra(tracker, path, column_names,
                                                 values, 2, N),
                     CS_OK);
    const char *text = read_text(path);
    const int first = 2 + 2 * CS_PROXY_COUNT;
    char cell[64];
    assert_string_equal(csv_cell(text, 0, first, cell, sizeof cell),
                        "kde_pm_e1");
    assert_string_equal(csv_cell(text, 0, first + 1, cell, sizeof cell),
                        "Score2");
    assert_string_equal(csv_cell(text, 1, first, cell, sizeof cell), "0.5");
    assert_string_equal(csv_cell(text, 2, first, cell, sizeof cell), "-1.25");
    assert_string_equal(csv_cell(text, 4, first, cell, sizeof cell), "");
    assert_true(strtof(csv_cell(text, 5, first, cell, sizeof cell), NULL) ==
                1e-7f);
    assert_string_equal(csv_cell(text, 6, first + 1, cell, sizeof cell), "6");
    cs_tracker_free(tracker);
    unlink(path);
}

static void npz_arrays_appended(void **state)
{
    (void)state;
    cs_tracker *tracker = make_tracker();
    const float *values[2] = {first_column, second_column};
    char path[256];
    tf_join_path(path, sizeof path, temp_dir, "extra.npz");

    assert_int_equal(cs_tracker_export_npz_extra(tracker, path, column_names,
                                                 values, 2, N),
                     CS_OK);
    cs_npz *npz = NULL;
    assert_int_equal(cs_npz_open(path, &npz), CS_OK);
    for (int c = 0; c < 2; c++) {
        cs_array *array = NULL;
        assert_int_equal(cs_npz_read(npz, column_names[c], &array), CS_OK);
        assert_int_equal(array->type, CS_ELEMENT_FLOAT32);
        assert_int_equal(array->ndim, 1);
        assert_int_equal(array->shape[0], N);
        tf_assert_same_floats_at(values[c], array->data, N, column_names[c],
                                 __FILE__, __LINE__);
        cs_array_free(array);
    }
    cs_array *cbtl = NULL;
    assert_int_equal(cs_npz_read(npz, "cbtl", &cbtl), CS_OK);
    cs_array_free(cbtl);
    cs_npz_close(npz);
    cs_tracker_free(tracker);
    unlink(path);
}

/* No columns gives the plain export, byte for byte. */
static void no_columns_is_plain_export(void **state)
{
    (void)state;
    cs_tracker *tracker = make_tracker();
    char plain[256], extra[256];
    tf_join_path(plain, sizeof plain, temp_dir, "plain.csv");
    tf_join_path(extra, sizeof extra, temp_dir, "none.csv");

    assert_int_equal(cs_tracker_export_csv(tracker, plain), CS_OK);
    assert_int_equal(
        cs_tracker_export_csv_extra(tracker, extra, NULL, NULL, 0, 0), CS_OK);
    char *plain_text = strdup(read_text(plain));
    assert_string_equal(plain_text, read_text(extra));
    free(plain_text);

    cs_tracker_free(tracker);
    unlink(plain);
    unlink(extra);
}

typedef cs_status (*extra_export)(const cs_tracker *, const char *,
                                  const char *const *, const float *const *,
                                  size_t, size_t);

/* Runs one rejected call of both exports and checks that no file is left
 * in the temporary folder. */
static void expect_rejected(cs_tracker *tracker, const char *const *names,
                            const float *const *values, size_t count,
                            size_t n, cs_status expected,
                            const char *argument, int64_t index)
{
    static const extra_export exports[2] = {cs_tracker_export_csv_extra,
                                            cs_tracker_export_npz_extra};
    static const char *const functions[2] = {"cs_tracker_export_csv_extra",
                                             "cs_tracker_export_npz_extra"};
    char path[256];
    tf_join_path(path, sizeof path, temp_dir, "rejected");
    for (int e = 0; e < 2; e++) {
        TF_EXPECT_ERROR(exports[e](tracker, path, names, values, count, n),
                        expected, functions[e], argument);
        assert_int_equal(cs_last_error()->index, index);
        assert_int_equal(tf_count_dir_entries(temp_dir), 0);
    }
}

static void rejected_arguments(void **state)
{
    (void)state;
    cs_tracker *tracker = make_tracker();
    const float *values[2] = {first_column, second_column};
    const float *missing_values[2] = {first_column, NULL};
    const char *missing_names[2] = {"a", NULL};

    expect_rejected(tracker, NULL, values, 2, N, CS_E_NULL_ARGUMENT, "names",
                    -1);
    expect_rejected(tracker, column_names, NULL, 2, N, CS_E_NULL_ARGUMENT,
                    "values", -1);
    expect_rejected(tracker, missing_names, values, 2, N, CS_E_NULL_ARGUMENT,
                    "names", 1);
    expect_rejected(tracker, column_names, missing_values, 2, N,
                    CS_E_NULL_ARGUMENT, "values", 1);
    expect_rejected(tracker, column_names, values, 2, N - 1,
                    CS_E_SIZE_MISMATCH, "n", -1);
    assert_string_equal(cs_last_error()->value, "5");

    static const char *const bad_names[] = {
        "",      "a-b",    "a b",    "cbtl",   "p_l_mean", "rank_kde",
        "hist_x", "id",    "ids",    "label",  "labels",
        "x123456789012345678901234567890123456789012345678901234567890123"};
    for (size_t b = 0; b < sizeof bad_names / sizeof bad_names[0]; b++) {
        const char *names[2] = {"fine", bad_names[b]};
        expect_rejected(tracker, names, values, 2, N, CS_E_INVALID_ARGUMENT,
                        "names", 1);
    }
    const char *repeated[2] = {"same", "same"};
    expect_rejected(tracker, repeated, values, 2, N, CS_E_INVALID_ARGUMENT,
                    "names", 1);
    assert_non_null(strstr(cs_last_error_message(), "repeats"));

    /* The checks of the plain export come first. */
    TF_EXPECT_ERROR(cs_tracker_export_npz_extra(NULL, "x", column_names,
                                                values, 2, N),
                    CS_E_NULL_ARGUMENT, "cs_tracker_export_npz_extra",
                    "tracker");
    TF_EXPECT_ERROR(cs_tracker_export_csv_extra(tracker, NULL, column_names,
                                                values, 2, N),
                    CS_E_NULL_ARGUMENT, "cs_tracker_export_csv_extra", "path");
    cs_tracker_free(tracker);
}

/* Fails each allocation of both exports in turn: every failure is reported
 * as out of memory and leaves no file, and the call succeeds once the
 * countdown passes its last allocation. */
static void allocation_failures(void **state)
{
    (void)state;
    static const extra_export exports[2] = {cs_tracker_export_csv_extra,
                                            cs_tracker_export_npz_extra};
    static const char *const functions[2] = {"cs_tracker_export_csv_extra",
                                             "cs_tracker_export_npz_extra"};
    cs_tracker *tracker = make_tracker();
    const float *values[2] = {first_column, second_column};
    char path[256];
    tf_join_path(path, sizeof path, temp_dir, "alloc.out");

    for (int e = 0; e < 2; e++) {
        long countdown = 1;
        for (; countdown < 1000; countdown++) {
            cs__set_alloc_failure_countdown(countdown);

            const cs_status status =
                exports[e](tracker, path, column_names, values, 2, N);

            cs__set_alloc_failure_countdown(0);
            if (status == CS_OK)
                break;
            TF_EXPECT_ERROR(status, CS_E_OUT_OF_MEMORY, functions[e], NULL);
            assert_int_equal(tf_count_dir_entries(temp_dir), 0);
        }
        assert_true(countdown > 1);
        assert_true(countdown < 1000);
        assert_int_equal(unlink(path), 0);
    }
    cs_tracker_free(tracker);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_columns_appended),
        cmocka_unit_test(npz_arrays_appended),
        cmocka_unit_test(no_columns_is_plain_export),
        cmocka_unit_test(rejected_arguments),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
