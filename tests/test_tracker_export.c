/*
 * cs_tracker_export_csv and cs_tracker_export_npz: the CSV header row,
 * values and ranks (from 1 = least regular, ties averaged, first_learned
 * -1 least regular, empty cells for examples never observed), the .npz
 * arrays as numpy reads them (names, dtypes, shapes, values, history), and
 * atomic replacement of an existing file.
 *
 * The .npz checks run Debian's /usr/bin/python3 with python3-numpy. They
 * are skipped, with the reason printed, where that interpreter cannot
 * import numpy.
 */
#include "tracker_fixtures.h"

#include "internal.h"

#define X_N 5
#define X_C 2
#define X_EPOCHS 3

/* Logits per epoch. Example 4 is never observed. */
static const float x_logits[X_EPOCHS][4 * X_C] = {
    {2, 0, 0, 1, 0, 1, 0, 0},
    {2, 0, 1, 0, 0, 1, 1, 0},
    {2, 0, 0, 1, 1, 0, 1, 0},
};
static const int32_t x_labels[4] = {0, 1, 0, 1};
static const int64_t x_ids[4] = {0, 1, 2, 3};

/* Hand-computed from the rows above. Example 0 is always right. Example 1
 * is right, wrong, right. Example 2 is wrong twice, then right. Example 3
 * is a tie, then wrong twice. */
static const int32_t x_cbtl[4] = {3, 2, 1, 0};
static const int32_t x_forgetting[4] = {0, 1, 0, 0};
static const int32_t x_first_learned[4] = {1, 1, 3, -1};
/* Ranks from 1 = least regular. Forgetting: example 1 has the most, the
 * other three tie for ranks 2 to 4. First learned: -1 ranks as later than
 * any epoch, then epoch 3, then a tie of epoch 1 for ranks 3 and 4. */
static const double x_rank_cbtl[4] = {4, 3, 2, 1};
static const double x_rank_forgetting[4] = {3, 1, 3, 3};
static const double x_rank_first_learned[4] = {3.5, 3.5, 2, 1};

static char temp_dir[64];

static int group_setup(void **state)
{
    (void)state;
    tf_make_temp_dir(temp_dir, sizeof(temp_dir));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tf_remove_dir(temp_dir);
    return 0;
}

/* The small case above, with history. */
static cs_tracker *make_case_tracker(void)
{
    cs_tracker *tracker = tf_create(X_N, X_C, CS_INPUT_LOGITS, 0, 1,
                                    CS_REPEAT_REJECT);

    for (int e = 0; e < X_EPOCHS; e++) {
        assert_int_equal(cs_observe_batch(tracker, x_logits[e], x_labels,
                                          x_ids, NULL, 4),
                         CS_OK);
        assert_int_equal(cs_end_epoch(tracker), CS_OK);
    }
    return tracker;
}

/* ------------------------------------------------------------------------
 * CSV parsing
 * ------------------------------------------------------------------------ */

#define MAX_COLUMNS 32
#define MAX_ROWS 8

/* A parsed CSV file: cells point into the file's text. */
typedef struct csv {
    char *text;
    size_t n_rows; /* rows after the header row */
    size_t n_columns;
    const char *header[MAX_COLUMNS];
    const char *cells[MAX_ROWS][MAX_COLUMNS];
} csv;

/* Splits line at commas in place and returns the number of fields. */
static size_t split_fields(char *line, const char **fields)
{
    size_t count = 0;

    fields[count++] = line;
    for (char *p = line; *p != '\0'; p++) {
        if (*p == ',') {
            *p = '\0';
            assert_true(count < MAX_COLUMNS);
            fields[count++] = p + 1;
        }
    }
    return count;
}

/* Cuts the line that starts at *cursor at its newline (a "\r\n" ending
 * too), moves *cursor past it, and returns the line, or NULL at the end of
 * the text. */
static char *next_line(char **cursor)
{
    char *line = *cursor;
    char *end;

    if (*line == '\0')
        return NULL;
    end = strchr(line, '\n');
    if (end == NULL) {
        *cursor = line + strlen(line);
    } else {
        *end = '\0';
        *cursor = end + 1;
        if (end > line && end[-1] == '\r')
            end[-1] = '\0';
    }
    return line;
}

static void csv_read(const char *path, csv *table)
{
    size_t size;
    char *cursor;
    char *line;

    memset(table, 0, sizeof(*table));
    table->text = tf_read_file(path, &size);
    cursor = table->text;
    line = next_line(&cursor);
    assert_non_null(line);
    table->n_columns = split_fields(line, table->header);
    while ((line = next_line(&cursor)) != NULL) {
        const char *fields[MAX_COLUMNS];

        assert_true(table->n_rows < MAX_ROWS);
        assert_int_equal(split_fields(line, fields), table->n_columns);
        memcpy(table->cells[table->n_rows], fields, sizeof(fields));
        table->n_rows++;
    }
}

/* Returns the index of the column named name, failing if it is missing or
 * appears twice. */
static size_t csv_column(const csv *table, const char *name)
{
    size_t found = MAX_COLUMNS;

    for (size_t c = 0; c < table->n_columns; c++) {
        if (strcmp(table->header[c], name) == 0) {
            assert_int_equal(found, MAX_COLUMNS);
            found = c;
        }
    }
    if (found == MAX_COLUMNS) {
        print_error("column %s is missing\n", name);
        fail();
    }
    return found;
}

/* Parses a cell that must hold a whole number. */
static long long cell_integer(const char *cell)
{
    char *end;
    const long long value = strtoll(cell, &end, 10);

    assert_true(end != cell);
    assert_true(*end == '\0');
    return value;
}

static double cell_number(const char *cell)
{
    char *end;
    const double value = strtod(cell, &end);

    assert_true(end != cell);
    assert_true(*end == '\0');
    return value;
}

/* Expected rank of example i under proxy (1 = least regular, ties
 * averaged) among the observed examples, computed from the tracker's own
 * values by counting. first_learned = -1 counts as later than any epoch. */
static double expected_rank(const double *values, const int32_t *observed,
                            size_t n, size_t i, int direction)
{
    size_t less_regular = 0;
    size_t equal = 0;

    for (size_t j = 0; j < n; j++) {
        if (observed[j] == 0)
            continue;
        if (values[j] == values[i])
            equal++;
        else if ((direction > 0 && values[j] < values[i]) ||
                 (direction < 0 && values[j] > values[i]))
            less_regular++;
    }
    return (double)less_regular + (double)(equal + 1) / 2.0;
}

/* ------------------------------------------------------------------------
 * CSV
 * ------------------------------------------------------------------------ */

static void csv_header_row(void **state)
{
    cs_tracker *tracker = make_case_tracker();
    char path[256];
    csv table;

    (void)state;
    tf_join_path(path, sizeof(path), temp_dir, "header.csv");
    assert_int_equal(cs_tracker_export_csv(tracker, path), CS_OK);
    csv_read(path, &table);
    assert_int_equal(table.n_columns, 2 + 2 * CS_PROXY_COUNT);
    assert_string_equal(table.header[0], "id");
    assert_string_equal(table.header[1], "label");
    for (int p = 0; p < CS_PROXY_COUNT; p++) {
        char rank_name[64];

        snprintf(rank_name, sizeof(rank_name), "rank_%s",
                 cs_proxy_name((cs_proxy)p));
        (void)csv_column(&table, cs_proxy_name((cs_proxy)p));
        (void)csv_column(&table, rank_name);
    }
    assert_int_equal(table.n_rows, X_N);
    free(table.text);
    cs_tracker_free(tracker);
    unlink(path);
}

static void csv_values(void **state)
{
    cs_tracker *tracker = make_case_tracker();
    char path[256];
    csv table;
    float floats[X_N];

    (void)state;
    tf_join_path(path, sizeof(path), temp_dir, "values.csv");
    assert_int_equal(cs_tracker_export_csv(tracker, path), CS_OK);
    csv_read(path, &table);
    assert_int_equal(table.n_rows, X_N);

    const size_t id = csv_column(&table, "id");
    const size_t label = csv_column(&table, "label");
    const size_t cbtl = csv_column(&table, "cbtl");
    const size_t forgetting = csv_column(&table, "forgetting");
    const size_t first_learned = csv_column(&table, "first_learned");

    for (size_t i = 0; i < X_N; i++)
        assert_int_equal(cell_integer(table.cells[i][id]), (long long)i);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(cell_integer(table.cells[i][label]), x_labels[i]);
        assert_int_equal(cell_integer(table.cells[i][cbtl]), x_cbtl[i]);
        assert_int_equal(cell_integer(table.cells[i][forgetting]),
                         x_forgetting[i]);
        assert_int_equal(cell_integer(table.cells[i][first_learned]),
                         x_first_learned[i]);
    }

    /* Float cells may be printed with as few as 6 significant digits. */
    for (int p = 0; p < CS_PROXY_COUNT; p++) {
        if (cs_proxy_is_integer((cs_proxy)p))
            continue;

        const size_t column = csv_column(&table, cs_proxy_name((cs_proxy)p));

        assert_int_equal(cs_tracker_proxy_f32(tracker, (cs_proxy)p, floats,
                                              X_N),
                         CS_OK);
        for (size_t i = 0; i < 4; i++)
            TF_ASSERT_CLOSE(cell_number(table.cells[i][column]), floats[i],
                            1e-6 * fmax(1.0, fabs(floats[i])));
    }
    free(table.text);
    cs_tracker_free(tracker);
    unlink(path);
}

static void csv_ranks(void **state)
{
    cs_tracker *tracker = make_case_tracker();
    char path[256];
    csv table;
    int32_t observed[X_N];
    int32_t ints[X_N];
    float floats[X_N];
    double values[X_N];

    (void)state;
    tf_join_path(path, sizeof(path), temp_dir, "ranks.csv");
    assert_int_equal(cs_tracker_export_csv(tracker, path), CS_OK);
    csv_read(path, &table);
    assert_int_equal(cs_tracker_epochs_observed(tracker, observed, X_N),
                     CS_OK);

    const size_t rank_cbtl = csv_column(&table, "rank_cbtl");
    const size_t rank_forgetting = csv_column(&table, "rank_forgetting");
    const size_t rank_first = csv_column(&table, "rank_first_learned");

    for (size_t i = 0; i < 4; i++) {
        assert_true(cell_number(table.cells[i][rank_cbtl]) == x_rank_cbtl[i]);
        assert_true(cell_number(table.cells[i][rank_forgetting]) ==
                    x_rank_forgetting[i]);
        assert_true(cell_number(table.cells[i][rank_first]) ==
                    x_rank_first_learned[i]);
    }

    for (int p = 0; p < CS_PROXY_COUNT; p++) {
        const cs_proxy proxy = (cs_proxy)p;
        char rank_name[64];

        snprintf(rank_name, sizeof(rank_name), "rank_%s",
                 cs_proxy_name(proxy));

        const size_t column = csv_column(&table, rank_name);

        if (cs_proxy_is_integer(proxy)) {
            assert_int_equal(cs_tracker_proxy_i32(tracker, proxy, ints, X_N),
                             CS_OK);
            for (size_t i = 0; i < X_N; i++) {
                values[i] = ints[i];
                if (proxy == CS_PROXY_FIRST_LEARNED && ints[i] == -1)
                    values[i] = INFINITY;
            }
        } else {
            assert_int_equal(cs_tracker_proxy_f32(tracker, proxy, floats, X_N),
                             CS_OK);
            for (size_t i = 0; i < X_N; i++)
                values[i] = floats[i];
        }
        for (size_t i = 0; i < 4; i++) {
            const double want = expected_rank(values, observed, X_N, i,
                                              cs_proxy_direction(proxy));
            const double got = cell_number(table.cells[i][column]);

            if (got != want) {
                print_error("%s of example %zu: got %g, expected %g\n",
                            rank_name, i, got, want);
                fail();
            }
        }
    }
    free(table.text);
    cs_tracker_free(tracker);
    unlink(path);
}

static void csv_never_observed_empty(void **state)
{
    cs_tracker *tracker = make_case_tracker();
    char path[256];
    csv table;

    (void)state;
    tf_join_path(path, sizeof(path), temp_dir, "empty.csv");
    assert_int_equal(cs_tracker_export_csv(tracker, path), CS_OK);
    csv_read(path, &table);
    assert_int_equal(cell_integer(table.cells[4][csv_column(&table, "id")]),
                     4);
    for (size_t c = 2; c < table.n_columns; c++) {
        if (table.cells[4][c][0] != '\0') {
            print_error("column %s of example 4: \"%s\", expected empty\n",
                        table.header[c], table.cells[4][c]);
            fail();
        }
    }
    free(table.text);
    cs_tracker_free(tracker);
    unlink(path);
}

/* Before any observation every proxy and rank cell is empty. */
static void csv_fresh_tracker(void **state)
{
    cs_tracker *tracker = tf_create(3, 2, CS_INPUT_LOGITS, 0, 0,
                                    CS_REPEAT_REJECT);
    char path[256];
    csv table;

    (void)state;
    tf_join_path(path, sizeof(path), temp_dir, "fresh.csv");
    assert_int_equal(cs_tracker_export_csv(tracker, path), CS_OK);
    csv_read(path, &table);
    assert_int_equal(table.n_rows, 3);
    for (size_t i = 0; i < 3; i++) {
        for (size_t c = 2; c < table.n_columns; c++)
            assert_string_equal(table.cells[i][c], "");
    }
    free(table.text);
    cs_tracker_free(tracker);
    unlink(path);
}

/* ------------------------------------------------------------------------
 * Atomic replace and errors, both formats
 * ------------------------------------------------------------------------ */

typedef cs_status (*export_function)(const cs_tracker *, const char *);

/* Zeroes the modification time and date of every zip header in bytes, so
 * that two .npz exports made a second apart compare equal. The fields sit
 * at offset 10 of a local header ("PK\3\4") and offset 12 of a central
 * directory header ("PK\1\2"), 2 bytes of time then 2 of date in MS-DOS
 * format. A CSV file has neither signature and is left as it is. */
static void blank_zip_times(char *bytes, size_t size)
{
    for (size_t i = 0; i + 16 <= size; i++) {
        if (memcmp(bytes + i, "PK\3\4", 4) == 0)
            memset(bytes + i + 10, 0, 4);
        else if (memcmp(bytes + i, "PK\1\2", 4) == 0)
            memset(bytes + i + 12, 0, 4);
    }
}

/* Exports over an existing, longer file. The result must equal a fresh
 * export elsewhere, and the folder must contain nothing else. */
static void check_replaces_whole_file(export_function export_file,
                                      const char *name)
{
    cs_tracker *tracker = make_case_tracker();
    char dir[64];
    char path[256];
    char fresh_path[256];
    size_t size;
    size_t fresh_size;

    tf_make_temp_dir(dir, sizeof(dir));
    tf_join_path(path, sizeof(path), dir, name);
    tf_join_path(fresh_path, sizeof(fresh_path), temp_dir, name);

    char *junk = malloc(100000);

    assert_non_null(junk);
    memset(junk, 'x', 100000);
    tf_write_file(path, junk, 100000);
    free(junk);

    assert_int_equal(export_file(tracker, path), CS_OK);
    TF_ASSERT_DIR_HOLDS_ONLY(dir, name);
    assert_int_equal(export_file(tracker, fresh_path), CS_OK);

    char *bytes = tf_read_file(path, &size);
    char *fresh = tf_read_file(fresh_path, &fresh_size);

    assert_int_equal(size, fresh_size);
    blank_zip_times(bytes, size);
    blank_zip_times(fresh, fresh_size);
    assert_memory_equal(bytes, fresh, size);
    free(bytes);
    free(fresh);
    unlink(fresh_path);
    cs_tracker_free(tracker);
    tf_remove_dir(dir);
}

static void csv_replaces_whole_file(void **state)
{
    (void)state;
    check_replaces_whole_file(cs_tracker_export_csv, "scores.csv");
}

static void npz_replaces_whole_file(void **state)
{
    (void)state;
    check_replaces_whole_file(cs_tracker_export_npz, "scores.npz");
}

static void export_errors(void **state)
{
    cs_tracker *tracker = make_case_tracker();
    char path[256];
    char missing[256];

    (void)state;
    tf_join_path(path, sizeof(path), temp_dir, "errors.out");
    tf_join_path(missing, sizeof(missing), temp_dir, "no-such-folder/x.out");
    TF_EXPECT_ERROR(cs_tracker_export_csv(NULL, path), CS_E_NULL_ARGUMENT,
                    "cs_tracker_export_csv", "tracker");
    TF_EXPECT_ERROR(cs_tracker_export_csv(tracker, NULL), CS_E_NULL_ARGUMENT,
                    "cs_tracker_export_csv", "path");
    TF_EXPECT_ERROR(cs_tracker_export_csv(tracker, missing), CS_E_IO,
                    "cs_tracker_export_csv", NULL);
    assert_string_equal(cs_last_error()->path, missing);
    TF_EXPECT_ERROR(cs_tracker_export_npz(NULL, path), CS_E_NULL_ARGUMENT,
                    "cs_tracker_export_npz", "tracker");
    TF_EXPECT_ERROR(cs_tracker_export_npz(tracker, NULL), CS_E_NULL_ARGUMENT,
                    "cs_tracker_export_npz", "path");
    TF_EXPECT_ERROR(cs_tracker_export_npz(tracker, missing), CS_E_IO,
                    "cs_tracker_export_npz", NULL);
    assert_string_equal(cs_last_error()->path, missing);
    assert_int_equal(access(path, F_OK), -1);
    cs_tracker_free(tracker);
}

/* An export that fails for lack of memory reports CS_E_OUT_OF_MEMORY and
 * leaves the old file whole and no temporary file. */
static void check_allocation_failures(export_function export_file,
                                      const char *function)
{
    cs_tracker *tracker = make_case_tracker();
    const char old[] = "old contents\n";
    char dir[64];
    char path[256];
    long countdown;

    tf_make_temp_dir(dir, sizeof(dir));
    tf_join_path(path, sizeof(path), dir, "scores.out");
    tf_write_file(path, old, sizeof(old) - 1);
    for (countdown = 1; countdown < 1000; countdown++) {
        cs__set_alloc_failure_countdown(countdown);

        const cs_status status = export_file(tracker, path);

        cs__set_alloc_failure_countdown(0);
        TF_ASSERT_DIR_HOLDS_ONLY(dir, "scores.out");
        if (status == CS_OK)
            break;
        TF_EXPECT_ERROR(status, CS_E_OUT_OF_MEMORY, function, NULL);

        size_t size;
        char *bytes = tf_read_file(path, &size);

        assert_int_equal(size, sizeof(old) - 1);
        assert_memory_equal(bytes, old, size);
        free(bytes);
    }
    assert_true(countdown < 1000);
    cs_tracker_free(tracker);
    tf_remove_dir(dir);
}

static void export_allocation_failures(void **state)
{
    (void)state;
    check_allocation_failures(cs_tracker_export_csv, "cs_tracker_export_csv");
    check_allocation_failures(cs_tracker_export_npz, "cs_tracker_export_npz");
}

/* ------------------------------------------------------------------------
 * .npz read back by numpy
 * ------------------------------------------------------------------------ */

#define PYTHON "/usr/bin/python3"

/* A growing string. */
typedef struct text {
    char *data;
    size_t length;
    size_t capacity;
} text;

static void text_append(text *t, const char *format, ...)
    CMOCKA_PRINTF_ATTRIBUTE(2, 3);

static void text_append(text *t, const char *format, ...)
{
    va_list arguments;
    va_list copy;
    int needed;

    va_start(arguments, format);
    va_copy(copy, arguments);
    needed = vsnprintf(NULL, 0, format, copy);
    va_end(copy);
    assert_true(needed >= 0);
    if (t->length + (size_t)needed + 1 > t->capacity) {
        t->capacity = 2 * (t->length + (size_t)needed + 1);
        t->data = realloc(t->data, t->capacity);
        assert_non_null(t->data);
    }
    vsnprintf(t->data + t->length, (size_t)needed + 1, format, arguments);
    t->length += (size_t)needed;
    va_end(arguments);
}

static int numpy_available(void)
{
    return system(PYTHON " -c 'import numpy' >/dev/null 2>&1") == 0;
}

/* Writes a script that loads the archive at argv[1] into z, runs body,
 * and exits 0. Returns the script's exit status. */
static int run_numpy_check(const char *npz_path, const char *body)
{
    char script_path[256];
    char command[768];
    text script = {0};

    tf_join_path(script_path, sizeof(script_path), temp_dir, "check.py");
    text_append(&script,
                "import sys\nimport numpy as np\nnan = np.nan\n"
                "z = np.load(sys.argv[1])\n"
                "def fail(*what):\n"
                "    print('npz check:', *what)\n"
                "    sys.exit(1)\n"
                "%s",
                body);
    tf_write_file(script_path, script.data, script.length);
    free(script.data);
    snprintf(command, sizeof(command), PYTHON " %s %s", script_path, npz_path);

    const int status = system(command);

    unlink(script_path);
    return status;
}

/* Appends "name: (dtype, [values])," for an int32 array. */
static void append_ints(text *t, const char *name, const char *dtype,
                        const int32_t *values, size_t n)
{
    text_append(t, "    '%s': ('%s', [", name, dtype);
    for (size_t i = 0; i < n; i++)
        text_append(t, "%d, ", values[i]);
    text_append(t, "]),\n");
}

/* float32 values printed with 9 significant digits read back exactly. */
static void append_floats(text *t, const char *name, const float *values,
                          size_t n)
{
    text_append(t, "    '%s': ('float32', [", name);
    for (size_t i = 0; i < n; i++) {
        if (isnan(values[i]))
            text_append(t, "nan, ");
        else
            text_append(t, "%.9g, ", (double)values[i]);
    }
    text_append(t, "]),\n");
}

/* Compares every array named in the dict `expected` with the archive:
 * the set of names, dtype, shape and values (NaN equal to NaN). */
static const char compare_script[] =
    "if sorted(z.files) != sorted(expected):\n"
    "    fail('names', sorted(z.files), 'expected', sorted(expected))\n"
    "for name, (dtype, values) in expected.items():\n"
    "    got = z[name]\n"
    "    want = np.array(values, dtype=dtype)\n"
    "    if got.dtype != want.dtype:\n"
    "        fail(name, 'dtype', got.dtype, 'expected', want.dtype)\n"
    "    if got.shape != want.shape:\n"
    "        fail(name, 'shape', got.shape, 'expected', want.shape)\n"
    "    same = np.array_equal(got, want, equal_nan=True) "
    "if want.dtype.kind == 'f' else np.array_equal(got, want)\n"
    "    if not same:\n"
    "        fail(name, 'values', got.tolist(), 'expected', want.tolist())\n";

/* Builds the `expected` dict of every array the tracker exports. */
static void append_expected_arrays(text *t, const cs_tracker *tracker,
                                   int with_history)
{
    tf_snapshot s;

    tf_snapshot_take(tracker, &s);
    text_append(t, "expected = {\n    'ids': ('int64', list(range(%zu))),\n",
                s.n);
    append_ints(t, "labels", "int32", s.labels, s.n);
    for (int p = 0; p < CS_PROXY_COUNT; p++) {
        if (s.ints[p] != NULL)
            append_ints(t, cs_proxy_name((cs_proxy)p), "int32", s.ints[p],
                        s.n);
        else
            append_floats(t, cs_proxy_name((cs_proxy)p), s.floats[p], s.n);
    }
    if (with_history) {
        const char *names[4] = {"hist_observed", "hist_correct", "hist_p_l",
                                "hist_p_max"};

        assert_int_equal(s.history_epochs, s.epochs);
        for (int a = 0; a < 4; a++) {
            text_append(t, "    '%s': ('%s', [\n", names[a],
                        a < 2 ? "uint8" : "float32");
            for (int32_t e = 0; e < s.epochs; e++) {
                const size_t at = (size_t)e * s.n;

                text_append(t, "        [");
                for (size_t i = 0; i < s.n; i++) {
                    if (a == 0)
                        text_append(t, "%u, ",
                                    (unsigned)s.hist_observed[at + i]);
                    else if (a == 1)
                        text_append(t, "%u, ",
                                    (unsigned)s.hist_correct[at + i]);
                    else {
                        const float value = a == 2 ? s.hist_p_l[at + i]
                                                   : s.hist_p_max[at + i];

                        if (isnan(value))
                            text_append(t, "nan, ");
                        else
                            text_append(t, "%.9g, ", (double)value);
                    }
                }
                text_append(t, "],\n");
            }
            text_append(t, "    ]),\n");
        }
    }
    text_append(t, "}\n%s", compare_script);
    tf_snapshot_free(&s);
}

static void npz_arrays(void **state)
{
    cs_tracker *tracker;
    char path[256];
    text body = {0};

    (void)state;
    if (!numpy_available()) {
        print_message("skipped: " PYTHON " cannot import numpy "
                      "(install python3-numpy)\n");
        skip();
    }
    tracker = make_case_tracker();
    tf_join_path(path, sizeof(path), temp_dir, "scores.npz");
    assert_int_equal(cs_tracker_export_npz(tracker, path), CS_OK);
    append_expected_arrays(&body, tracker, 1);
    /* Spot checks that do not depend on the getters. */
    text_append(&body,
                "if z['hist_p_l'].shape != (3, 5):\n"
                "    fail('hist_p_l shape', z['hist_p_l'].shape)\n"
                "if z['cbtl'].tolist() != [3, 2, 1, 0, 0]:\n"
                "    fail('cbtl', z['cbtl'].tolist())\n"
                "if z['first_learned'].tolist() != [1, 1, 3, -1, -1]:\n"
                "    fail('first_learned', z['first_learned'].tolist())\n"
                "if z['hist_correct'][:, 1].tolist() != [1, 0, 1]:\n"
                "    fail('hist_correct of example 1')\n"
                "if not np.isnan(z['hist_p_l'][:, 4]).all():\n"
                "    fail('hist_p_l of example 4 is not NaN')\n"
                "if abs(z['p_l_last'][0] - 1 / (1 + np.exp(-2.0))) > 2e-6:\n"
                "    fail('p_l_last[0]', z['p_l_last'][0])\n"
                "if not np.isnan(z['aum'][4]):\n"
                "    fail('aum[4] is not NaN')\n");
    assert_int_equal(run_numpy_check(path, body.data), 0);
    free(body.data);
    cs_tracker_free(tracker);
    unlink(path);
}

static void npz_without_history(void **state)
{
    cs_tracker *tracker;
    char path[256];
    text body = {0};

    (void)state;
    if (!numpy_available()) {
        print_message("skipped: " PYTHON " cannot import numpy\n");
        skip();
    }
    tracker = tf_create(X_N, X_C, CS_INPUT_LOGITS, 0, 0, CS_REPEAT_REJECT);
    for (int e = 0; e < X_EPOCHS; e++) {
        assert_int_equal(cs_observe_batch(tracker, x_logits[e], x_labels,
                                          x_ids, NULL, 4),
                         CS_OK);
        assert_int_equal(cs_end_epoch(tracker), CS_OK);
    }
    tf_join_path(path, sizeof(path), temp_dir, "plain.npz");
    assert_int_equal(cs_tracker_export_npz(tracker, path), CS_OK);
    append_expected_arrays(&body, tracker, 0);
    assert_int_equal(run_numpy_check(path, body.data), 0);
    free(body.data);
    cs_tracker_free(tracker);
    unlink(path);
}

/* Before the first epoch ends, the history arrays are empty: 0 x N. */
static void npz_no_epochs(void **state)
{
    cs_tracker *tracker;
    char path[256];
    const char body[] =
        "for name in ('hist_observed', 'hist_correct', 'hist_p_l', "
        "'hist_p_max'):\n"
        "    if z[name].shape != (0, 3):\n"
        "        fail(name, 'shape', z[name].shape)\n"
        "if z['ids'].tolist() != [0, 1, 2]:\n"
        "    fail('ids', z['ids'].tolist())\n"
        "if not np.isnan(z['p_l_mean']).all():\n"
        "    fail('p_l_mean', z['p_l_mean'].tolist())\n"
        "if z['first_learned'].tolist() != [-1, -1, -1]:\n"
        "    fail('first_learned', z['first_learned'].tolist())\n";

    (void)state;
    if (!numpy_available()) {
        print_message("skipped: " PYTHON " cannot import numpy\n");
        skip();
    }
    tracker = tf_create(3, 2, CS_INPUT_LOGITS, 0, 1, CS_REPEAT_REJECT);
    tf_join_path(path, sizeof(path), temp_dir, "empty.npz");
    assert_int_equal(cs_tracker_export_npz(tracker, path), CS_OK);
    assert_int_equal(run_numpy_check(path, body), 0);
    cs_tracker_free(tracker);
    unlink(path);
}

/* History arrays cover the ended epochs only, while the proxies include
 * the open epoch's observations. */
static void npz_open_epoch(void **state)
{
    cs_tracker *tracker;
    char path[256];
    const char body[] =
        "if z['hist_observed'].shape != (3, 5):\n"
        "    fail('hist_observed shape', z['hist_observed'].shape)\n"
        "if z['hist_p_max'].shape != (3, 5):\n"
        "    fail('hist_p_max shape', z['hist_p_max'].shape)\n"
        "if z['cbtl'].tolist() != [4, 2, 1, 0, 0]:\n"
        "    fail('cbtl', z['cbtl'].tolist())\n";

    (void)state;
    if (!numpy_available()) {
        print_message("skipped: " PYTHON " cannot import numpy\n");
        skip();
    }
    tracker = make_case_tracker();
    assert_int_equal(cs_observe_batch(tracker, x_logits[0], x_labels, x_ids,
                                      NULL, 1),
                     CS_OK);
    tf_join_path(path, sizeof(path), temp_dir, "open.npz");
    assert_int_equal(cs_tracker_export_npz(tracker, path), CS_OK);
    assert_int_equal(run_numpy_check(path, body), 0);
    cs_tracker_free(tracker);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_header_row),
        cmocka_unit_test(csv_values),
        cmocka_unit_test(csv_ranks),
        cmocka_unit_test(csv_never_observed_empty),
        cmocka_unit_test(csv_fresh_tracker),
        cmocka_unit_test(csv_replaces_whole_file),
        cmocka_unit_test(npz_replaces_whole_file),
        cmocka_unit_test(export_errors),
        cmocka_unit_test(export_allocation_failures),
        cmocka_unit_test(npz_arrays),
        cmocka_unit_test(npz_without_history),
        cmocka_unit_test(npz_open_epoch),
        cmocka_unit_test(npz_no_epochs),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
