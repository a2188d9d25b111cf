/*
 * Neighbour scores of cs_kde_scores() and cs_kde_query() (knn_kde_pm,
 * knn_kde_l, knn_kde_free, knn_agree) and the FAISS index behind them,
 * against a brute-force neighbour search in double written here.
 *
 * Covered:
 * - the flat index finds exactly the brute-force neighbours, and IVF and
 *   HNSW find at least a stated share of them (recall);
 * - the scores of the flat index, of IVF scanning every list and of HNSW
 *   with a wide search equal the brute-force scores;
 * - query mode, scores without labels, empty IVF slots, restored thread
 *   counts;
 * - every bad input, each with its status and untouched outputs.
 * In a build without FAISS the FAISS tests are skipped with a message,
 * and the CS_E_UNSUPPORTED error is checked instead.
 *
 * Tolerance: scores are sums in double cast to float, so they are
 * compared with a relative error of 1e-5.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cblas.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cscore.h"
#include "internal.h"
#include "kde_fixtures.h"
#include "kde/faiss_index.h"

#define RELATIVE_TOLERANCE 1e-5

/* Written to output buffers before a call that must fail. */
#define UNTOUCHED (-7.25f)

/* Recall floors of the approximate indexes on make_data(2000, 16, 8)
 * with the settings of approximate_recall(). Debian's FAISS 1.7.3 gave
 * 0.985 (IVF) and 0.988 (HNSW); the floors leave room for other FAISS
 * versions. */
#define IVF_RECALL_FLOOR 0.90
#define HNSW_RECALL_FLOOR 0.95

/* ------------------------------------------------------------------------
 * Data and the brute-force reference
 * ------------------------------------------------------------------------ */

static cs_examples examples_of(const dataset *data)
{
    const cs_examples examples = {data->x, data->y, data->n,
                                  (int32_t)data->d};
    return examples;
}

static double squared_distance(const float *a, const float *b, size_t d)
{
    double sum = 0.0;
    for (size_t k = 0; k < d; k++) {
        const double t = (double)a[k] - (double)b[k];
        sum += t * t;
    }
    return sum;
}

typedef struct candidate {
    double distance;
    size_t id;
} candidate;

static int compare_candidates(const void *a, const void *b)
{
    const candidate *x = a;
    const candidate *y = b;
    if (x->distance != y->distance)
        return x->distance < y->distance ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Sorts every row of data by its squared distance from point, leaving out
 * row skip (SIZE_MAX: none). Returns the count written to sorted. */
static size_t sort_by_distance(const dataset *data, const float *point,
                               size_t skip, candidate *sorted)
{
    size_t count = 0;
    for (size_t j = 0; j < data->n; j++) {
        if (j == skip)
            continue;
        sorted[count].distance =
            squared_distance(point, data->x + j * data->d, data->d);
        sorted[count].id = j;
        count++;
    }
    qsort(sorted, count, sizeof *sorted, compare_candidates);
    return count;
}

/* Brute-force neighbour scores of a point with label `label` among the
 * rows of data (row skip left out), in double: knn_kde_pm, knn_kde_l,
 * knn_kde_free, knn_agree. */
static void reference_scores(const dataset *data, const float *point,
                             int32_t label, size_t skip, size_t k, double h,
                             candidate *scratch, double out[4])
{
    sort_by_distance(data, point, skip, scratch);
    double total = 0.0;
    double same = 0.0;
    size_t agree = 0;
    for (size_t s = 0; s < k; s++) {
        const double kernel = exp(-scratch[s].distance / (h * h));
        total += kernel;
        if (data->y[scratch[s].id] == label) {
            same += kernel;
            agree++;
        }
    }
    const double n = (double)data->n;
    out[0] = (2.0 * same - total) / n;
    out[1] = same / n;
    out[2] = total / n;
    out[3] = (double)agree / (double)k;
}

static void assert_close_at(double actual, double expected, const char *what,
                            size_t index, const char *file, int line)
{
    const double allowed = RELATIVE_TOLERANCE * fabs(expected) + 1e-12;
    if (fabs(actual - expected) <= allowed)
        return;
    print_error("%s[%zu] is %.9g, expected %.9g\n", what, index, actual,
                expected);
    _fail(file, line);
}

#define assert_close(actual, expected, what, index)                           \
    assert_close_at(actual, expected, what, index, __FILE__, __LINE__)

/* ------------------------------------------------------------------------
 * Output buffers
 * ------------------------------------------------------------------------ */

typedef struct outputs {
    float *arrays[4]; /* knn_kde_pm, knn_kde_l, knn_kde_free, knn_agree */
    size_t n;
    cs_kde_result result;
} outputs;

static const char *const output_names[4] = {"knn_kde_pm", "knn_kde_l",
                                            "knn_kde_free", "knn_agree"};

/* Four buffers of n floats set to UNTOUCHED, and a result that requests
 * only the neighbour scores. */
static outputs make_outputs(size_t n)
{
    outputs o = {{NULL, NULL, NULL, NULL}, n, {0}};
    for (size_t a = 0; a < 4; a++) {
        o.arrays[a] = malloc(n * sizeof(float));
        assert_non_null(o.arrays[a]);
        for (size_t i = 0; i < n; i++)
            o.arrays[a][i] = UNTOUCHED;
    }
    cs_kde_result_init(&o.result);
    o.result.n = n;
    o.result.knn_kde_pm = o.arrays[0];
    o.result.knn_kde_l = o.arrays[1];
    o.result.knn_kde_free = o.arrays[2];
    o.result.knn_agree = o.arrays[3];
    o.result.knn_missing = -5;
    return o;
}

static void free_outputs(outputs *o)
{
    for (size_t a = 0; a < 4; a++)
        free(o->arrays[a]);
}

static void assert_untouched(const outputs *o)
{
    for (size_t a = 0; a < 4; a++)
        for (size_t i = 0; i < o->n; i++)
            assert_true(o->arrays[a][i] == UNTOUCHED);
    assert_int_equal(o->result.knn_missing, -5);
}

/* Compares the four outputs of examples scored among themselves
 * (queries NULL) or of queries against data, with brute force. */
static void assert_matches_reference(const dataset *data,
                                     const dataset *queries,
                                     const outputs *o, size_t k, double h)
{
    const dataset *scored = queries != NULL ? queries : data;
    candidate *scratch = malloc(data->n * sizeof *scratch);
    assert_non_null(scratch);

    for (size_t i = 0; i < scored->n; i++) {
        double expected[4];
        reference_scores(data, scored->x + i * scored->d, scored->y[i],
                         queries != NULL ? SIZE_MAX : i, k, h, scratch,
                         expected);
        for (size_t a = 0; a < 4; a++)
            assert_close(o->arrays[a][i], expected[a], output_names[a], i);
    }
    free(scratch);
}

/* ------------------------------------------------------------------------
 * Whether this build has FAISS
 * ------------------------------------------------------------------------ */

static bool faiss_built_in(void)
{
    char message[CS__FAISS_MESSAGE_SIZE];
    return cs__faiss_check_available(message) == CS_OK;
}

static void skip_without_faiss(void)
{
    if (faiss_built_in())
        return;
    print_message("skipped: this cscore was built without FAISS "
                  "(CSCORE_WITH_FAISS=OFF or libfaiss-dev missing)\n");
    skip();
}

/* ------------------------------------------------------------------------
 * The index against brute force (internal interface)
 * ------------------------------------------------------------------------ */

typedef struct search_run {
    int64_t *ids;
    float *distances;
} search_run;

/* Builds an index of the given settings over every row of data and
 * searches every row for its k nearest rows. */
static search_run search_all(const dataset *data, cs__faiss_params params,
                             int64_t k)
{
    char message[CS__FAISS_MESSAGE_SIZE] = "";
    cs__faiss_index *index = NULL;
    params.dim = (int32_t)data->d;
    assert_int_equal(cs__faiss_create(&params, &index, message), CS_OK);
    if (params.kind == CS_KDE_NEIGHBORS_IVF)
        assert_int_equal(cs__faiss_train(index, (int64_t)data->n, data->x,
                                         message),
                         CS_OK);
    assert_int_equal(cs__faiss_add(index, (int64_t)data->n, data->x, message),
                     CS_OK);

    search_run run = {malloc(data->n * (size_t)k * sizeof(int64_t)),
                      malloc(data->n * (size_t)k * sizeof(float))};
    assert_non_null(run.ids);
    assert_non_null(run.distances);
    assert_int_equal(cs__faiss_search(index, (int64_t)data->n, data->x, k,
                                      run.distances, run.ids, message),
                     CS_OK);
    cs__faiss_free(index);
    return run;
}

static void free_run(search_run *run)
{
    free(run->ids);
    free(run->distances);
}

/* Share of the true k nearest rows (self included) that the search found,
 * over every query. */
static double recall(const dataset *data, const search_run *run, size_t k)
{
    candidate *sorted = malloc(data->n * sizeof *sorted);
    assert_non_null(sorted);
    size_t found = 0;
    for (size_t i = 0; i < data->n; i++) {
        sort_by_distance(data, data->x + i * data->d, SIZE_MAX, sorted);
        for (size_t s = 0; s < k; s++)
            for (size_t t = 0; t < k; t++)
                if (run->ids[i * k + t] == (int64_t)sorted[s].id) {
                    found++;
                    break;
                }
    }
    free(sorted);
    return (double)found / (double)(data->n * k);
}

static void flat_finds_exact_neighbors(void **state)
{
    (void)state;
    skip_without_faiss();
    const size_t k = 8;
    dataset data = make_data(400, 12, 5, 1);
    /* Shifted to the origin as the library does, so that float32
     * distances are exact enough to keep the brute-force order. */
    for (size_t v = 0; v < data.n * data.d; v++)
        data.x[v] -= 102.0f;
    const cs__faiss_params params = {.kind = CS_KDE_NEIGHBORS_FLAT};
    search_run run = search_all(&data, params, (int64_t)k);

    candidate *sorted = malloc(data.n * sizeof *sorted);
    assert_non_null(sorted);
    size_t ties = 0;
    for (size_t i = 0; i < data.n; i++) {
        sort_by_distance(&data, data.x + i * data.d, SIZE_MAX, sorted);
        for (size_t s = 0; s < k; s++) {
            /* Two distances within float32 rounding may swap places. */
            if (s + 1 < data.n && sorted[s + 1].distance -
                                          sorted[s].distance <
                                      1e-5 * sorted[s].distance) {
                ties++;
                break;
            }
            assert_int_equal(run.ids[i * k + s], (int64_t)sorted[s].id);
            assert_true(fabs(run.distances[i * k + s] - sorted[s].distance) <=
                        1e-4 * sorted[s].distance + 1e-4);
        }
    }
    assert_true(ties < data.n / 50);

    free(sorted);
    free_run(&run);
    free_data(&data);
}

static void approximate_recall(void **state)
{
    (void)state;
    skip_without_faiss();
    const size_t k = 10;
    dataset data = make_data(2000, 16, 8, 2);
    for (size_t v = 0; v < data.n * data.d; v++)
        data.x[v] -= 102.0f;

    const cs__faiss_params ivf = {.kind = CS_KDE_NEIGHBORS_IVF,
                                  .nlist = 32,
                                  .nprobe = 4};
    search_run run = search_all(&data, ivf, (int64_t)k);
    const double ivf_recall = recall(&data, &run, k);
    print_message("IVF nlist 32, nprobe 4: recall %.4f\n", ivf_recall);
    assert_true(ivf_recall >= IVF_RECALL_FLOOR);
    free_run(&run);

    /* One thread builds the same graph on every run. */
    const cs__faiss_params hnsw = {.kind = CS_KDE_NEIGHBORS_HNSW,
                                   .hnsw_m = 8,
                                   .ef_construction = 40,
                                   .ef_search = 16};
    const int threads = cs__faiss_set_threads(1);
    run = search_all(&data, hnsw, (int64_t)k);
    cs__faiss_set_threads(threads);
    const double hnsw_recall = recall(&data, &run, k);
    print_message("HNSW M 8, efSearch 16: recall %.4f\n", hnsw_recall);
    assert_true(hnsw_recall >= HNSW_RECALL_FLOOR);
    free_run(&run);

    free_data(&data);
}

/* ------------------------------------------------------------------------
 * Scores against brute force
 * ------------------------------------------------------------------------ */

static void flat_scores_match_reference(void **state)
{
    (void)state;
    skip_without_faiss();
    const size_t k = 7;
    dataset data = make_data(300, 10, 4, 3);
    const cs_examples examples = examples_of(&data);
    cs_kde_options options;
    cs_kde_options_init(&options);
    options.neighbors = (int64_t)k;
    options.threads = 2;
    outputs o = make_outputs(data.n);

    assert_int_equal(cs_kde_scores(&examples, 4, &options, &o.result), CS_OK);
    assert_int_equal(o.result.knn_missing, 0);
    assert_int_equal(o.result.reference_count, 0);
    assert_true(o.result.bandwidth > 0.0);
    assert_matches_reference(&data, NULL, &o, k, o.result.bandwidth);

    /* A given bandwidth and every other example as a neighbour. */
    options.bandwidth = 0.75;
    options.neighbors = (int64_t)data.n - 1;
    assert_int_equal(cs_kde_scores(&examples, 4, &options, &o.result), CS_OK);
    assert_true(o.result.bandwidth == 0.75);
    assert_matches_reference(&data, NULL, &o, data.n - 1, 0.75);

    free_outputs(&o);
    free_data(&data);
}

/* IVF scanning every list is exact, and so is HNSW with a large efSearch
 * on small data. Both must then give the brute-force scores. */
static void approximate_scores_match_reference(void **state)
{
    (void)state;
    skip_without_faiss();
    const size_t k = 5;
    dataset data = make_data(500, 8, 3, 4);
    const cs_examples examples = examples_of(&data);
    cs_kde_options options;
    cs_kde_options_init(&options);
    options.neighbors = (int64_t)k;
    options.bandwidth = 1.0;
    outputs o = make_outputs(data.n);

    options.neighbor_index = CS_KDE_NEIGHBORS_IVF;
    options.ivf_nlist = 10;
    options.ivf_nprobe = 10;
    assert_int_equal(cs_kde_scores(&examples, 3, &options, &o.result), CS_OK);
    assert_int_equal(o.result.knn_missing, 0);
    assert_matches_reference(&data, NULL, &o, k, 1.0);

    options.neighbor_index = CS_KDE_NEIGHBORS_HNSW;
    options.hnsw_ef_search = 500;
    options.hnsw_ef_construction = 200;
    assert_int_equal(cs_kde_scores(&examples, 3, &options, &o.result), CS_OK);
    assert_int_equal(o.result.knn_missing, 0);
    assert_matches_reference(&data, NULL, &o, k, 1.0);

    free_outputs(&o);
    free_data(&data);
}

static void scores_with_kernel_sums(void **state)
{
    (void)state;
    skip_without_faiss();
    dataset data = make_data(200, 6, 3, 5);
    const cs_examples examples = examples_of(&data);
    cs_kde_options options;
    cs_kde_options_init(&options);
    outputs o = make_outputs(data.n);
    float *kde_free = malloc(data.n * sizeof(float));
    assert_non_null(kde_free);
    o.result.kde_free = kde_free;

    assert_int_equal(cs_kde_scores(&examples, 3, &options, &o.result), CS_OK);
    assert_int_equal(o.result.reference_count, (int64_t)data.n);
    assert_matches_reference(&data, NULL, &o, CS_KDE_DEFAULT_NEIGHBORS,
                             o.result.bandwidth);
    /* The truncated sum never exceeds the full one. */
    for (size_t i = 0; i < data.n; i++)
        assert_true(o.arrays[2][i] <= kde_free[i] * (1.0f + 1e-6f));

    free(kde_free);
    free_outputs(&o);
    free_data(&data);
}

static void class_free_without_labels(void **state)
{
    (void)state;
    skip_without_faiss();
    dataset data = make_data(150, 5, 2, 6);
    cs_examples examples = examples_of(&data);
    examples.labels = NULL;
    cs_kde_options options;
    cs_kde_options_init(&options);
    options.bandwidth = 1.5;
    outputs o = make_outputs(data.n);
    o.result.knn_kde_pm = NULL;
    o.result.knn_kde_l = NULL;
    o.result.knn_agree = NULL;

    assert_int_equal(cs_kde_scores(&examples, 0, &options, &o.result), CS_OK);
    candidate *scratch = malloc(data.n * sizeof *scratch);
    assert_non_null(scratch);
    for (size_t i = 0; i < data.n; i++) {
        double expected[4];
        reference_scores(&data, data.x + i * data.d, 0, i,
                         CS_KDE_DEFAULT_NEIGHBORS, 1.5, scratch, expected);
        assert_close(o.arrays[2][i], expected[2], "knn_kde_free", i);
        assert_true(o.arrays[0][i] == UNTOUCHED);
        assert_true(o.arrays[3][i] == UNTOUCHED);
    }
    free(scratch);
    free_outputs(&o);
    free_data(&data);
}

static void query_matches_reference(void **state)
{
    (void)state;
    skip_without_faiss();
    const size_t k = 6;
    dataset reference = make_data(250, 7, 3, 7);
    dataset queries = make_data(40, 7, 3, 8);
    const cs_examples reference_examples = examples_of(&reference);
    const cs_examples query_examples = examples_of(&queries);
    cs_kde_options options;
    cs_kde_options_init(&options);
    options.neighbors = (int64_t)k;
    options.bandwidth = 1.25;
    outputs o = make_outputs(queries.n);

    assert_int_equal(cs_kde_query(&reference_examples, 3, &query_examples,
                                  &options, &o.result),
                     CS_OK);
    assert_int_equal(o.result.knn_missing, 0);
    assert_matches_reference(&reference, &queries, &o, k, 1.25);

    /* Every reference example may be a neighbour of a query. */
    options.neighbors = (int64_t)reference.n;
    assert_int_equal(cs_kde_query(&reference_examples, 3, &query_examples,
                                  &options, &o.result),
                     CS_OK);
    assert_matches_reference(&reference, &queries, &o, reference.n, 1.25);

    free_outputs(&o);
    free_data(&reference);
    free_data(&queries);
}

/* Many IVF lists with one probed leave slots empty; those are counted and
 * left out of the sums and of knn_agree's denominator. */
static void ivf_empty_slots_counted(void **state)
{
    (void)state;
    skip_without_faiss();
    dataset data = make_data(200, 4, 2, 9);
    const cs_examples examples = examples_of(&data);
    cs_kde_options options;
    cs_kde_options_init(&options);
    options.neighbor_index = CS_KDE_NEIGHBORS_IVF;
    options.ivf_nlist = 100;
    options.ivf_nprobe = 1;
    options.neighbors = 20;
    outputs o = make_outputs(data.n);

    assert_int_equal(cs_kde_scores(&examples, 2, &options, &o.result), CS_OK);
    assert_true(o.result.knn_missing > 0);
    assert_true(o.result.knn_missing < (int64_t)(data.n * 20));
    for (size_t i = 0; i < data.n; i++) {
        const float agree = o.arrays[3][i];
        assert_true(isnan(agree) || (agree >= 0.0f && agree <= 1.0f));
        assert_true(o.arrays[2][i] >= 0.0f);
        assert_true(o.arrays[2][i] <= 20.0f / (float)data.n);
    }
    free_outputs(&o);
    free_data(&data);
}

static int openmp_threads(void)
{
    /* The shim's setter returns the count it replaces. */
    const int current = cs__faiss_set_threads(1);
    cs__faiss_set_threads(current);
    return current;
}

static void thread_settings_restored(void **state)
{
    (void)state;
    skip_without_faiss();
    dataset data = make_data(300, 8, 3, 10);
    const cs_examples examples = examples_of(&data);
    cs_kde_options options;
    cs_kde_options_init(&options);
    outputs o = make_outputs(data.n);

    /* The setter reaches OpenMP: it returns the count set before it. */
    const int saved = cs__faiss_set_threads(3);
    assert_int_equal(cs__faiss_set_threads(saved), 3);

    const int blas_before = openblas_get_num_threads();
    const int openmp_before = openmp_threads();
    for (int threads = 1; threads <= 3; threads++) {
        options.threads = threads;
        options.neighbor_index = (cs_kde_neighbor_index)(threads - 1);
        assert_int_equal(cs_kde_scores(&examples, 3, &options, &o.result),
                         CS_OK);
        assert_int_equal(openblas_get_num_threads(), blas_before);
        assert_int_equal(openmp_threads(), openmp_before);
    }
    free_outputs(&o);
    free_data(&data);
}

/* ------------------------------------------------------------------------
 * Bad input
 * ------------------------------------------------------------------------ */

static void assert_scores_fail(const cs_examples *examples, int32_t classes,
                               const cs_kde_options *options, outputs *o,
                               cs_status expected, const char *argument,
                               const char *value)
{
    assert_int_equal(cs_kde_scores(examples, classes, options, &o->result),
                     expected);
    assert_int_equal(cs_last_error()->status, expected);
    assert_string_equal(cs_last_error()->function, "cs_kde_scores");
    if (argument != NULL)
        assert_string_equal(cs_last_error()->argument, argument);
    if (value != NULL)
        assert_string_equal(cs_last_error()->value, value);
    assert_untouched(o);
}

static void bad_neighbor_count(void **state)
{
    (void)state;
    skip_without_faiss();
    dataset data = make_data(30, 4, 2, 11);
    const cs_examples examples = examples_of(&data);
    cs_kde_options options;
    cs_kde_options_init(&options);
    outputs o = make_outputs(data.n);

    /* k = N leaves no room for the example itself. */
    options.neighbors = 30;
    assert_scores_fail(&examples, 2, &options, &o, CS_E_INVALID_ARGUMENT,
                       "neighbors", "30");
    assert_non_null(strstr(cs_last_error_message(), "N - 1"));
    assert_non_null(strstr(cs_last_error_message(), "29"));

    options.neighbors = 0;
    assert_scores_fail(&examples, 2, &options, &o, CS_E_INVALID_ARGUMENT,
                       "neighbors", NULL);
    options.neighbors = CS_KDE_MAX_NEIGHBORS + 1;
    assert_scores_fail(&examples, 2, &options, &o, CS_E_INVALID_ARGUMENT,
                       "neighbors", NULL);

    /* More IVF lists than examples. */
    cs_kde_options_init(&options);
    options.neighbor_index = CS_KDE_NEIGHBORS_IVF;
    options.ivf_nlist = 31;
    assert_scores_fail(&examples, 2, &options, &o, CS_E_INVALID_ARGUMENT,
                       "ivf_nlist", "31");

    /* In query mode k may equal the reference count, but not exceed it. */
    dataset queries = make_data(5, 4, 2, 12);
    const cs_examples query_examples = examples_of(&queries);
    outputs q = make_outputs(queries.n);
    cs_kde_options_init(&options);
    options.neighbors = 31;
    assert_int_equal(cs_kde_query(&examples, 2, &query_examples, &options,
                                  &q.result),
                     CS_E_INVALID_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "neighbors");
    assert_string_equal(cs_last_error()->value, "31");
    assert_untouched(&q);

    free_outputs(&q);
    free_data(&queries);
    free_outputs(&o);
    free_data(&data);
}

static void bad_neighbor_options(void **state)
{
    (void)state;
    dataset data = make_data(30, 4, 2, 13);
    const cs_examples examples = examples_of(&data);
    cs_kde_options options;
    outputs o = make_outputs(data.n);

    /* Option ranges are checked whether or not FAISS is built in. */
#define REJECT_OPTION(field, value)                                           \
    do {                                                                      \
        cs_kde_options_init(&options);                                        \
        options.field = value;                                                \
        assert_scores_fail(&examples, 2, &options, &o, CS_E_INVALID_ARGUMENT, \
                           #field, NULL);                                     \
    } while (0)

    REJECT_OPTION(neighbor_index, (cs_kde_neighbor_index)3);
    REJECT_OPTION(neighbor_index, (cs_kde_neighbor_index)-1);
    REJECT_OPTION(neighbors, -1);
    REJECT_OPTION(ivf_nlist, -1);
    REJECT_OPTION(ivf_nprobe, 0);
    REJECT_OPTION(hnsw_m, 1);
    REJECT_OPTION(hnsw_m, CS_KDE_MAX_HNSW_M + 1);
    REJECT_OPTION(hnsw_ef_construction, 0);
    REJECT_OPTION(hnsw_ef_search, 0);
#undef REJECT_OPTION

    free_outputs(&o);
    free_data(&data);
}

static void bad_inputs(void **state)
{
    (void)state;
    skip_without_faiss();
    dataset data = make_data(30, 4, 2, 14);
    cs_examples examples = examples_of(&data);
    outputs o = make_outputs(data.n);

    /* Labelled neighbour scores need labels. */
    examples.labels = NULL;
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_NULL_ARGUMENT, "examples",
                       NULL);
    examples.labels = data.y;

    data.y[3] = 2;
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_LABEL_OUT_OF_RANGE,
                       "examples", "2");
    data.y[3] = 0;

    data.x[7 * 4 + 1] = NAN;
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_NONFINITE_FEATURE,
                       "examples", NULL);
    assert_int_equal(cs_last_error()->index, 7);
    data.x[7 * 4 + 1] = INFINITY;
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_NONFINITE_FEATURE,
                       "examples", NULL);
    data.x[7 * 4 + 1] = 1.0f;

    /* Identical rows have no automatic bandwidth. */
    for (size_t i = 1; i < data.n; i++)
        memcpy(data.x + i * 4, data.x, 4 * sizeof(float));
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_ZERO_BANDWIDTH, "inputs",
                       NULL);

    o.result.n = data.n + 1;
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_SIZE_MISMATCH, "result",
                       NULL);
    o.result.n = data.n;

    /* A caller compiled before the knn_ fields existed cannot set them:
     * with a struct_size that ends before them, they are not read. */
    o.result.struct_size = offsetof(cs_kde_result, knn_kde_pm);
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_INVALID_ARGUMENT,
                       "result", NULL);

    free_outputs(&o);
    free_data(&data);
}

/* Every allocation of the neighbour stage, failed in turn, gives
 * CS_E_OUT_OF_MEMORY and leaves the outputs untouched, for each index
 * kind and in query mode, together with the kernel sums. */
static void allocation_failures(void **state)
{
    (void)state;
    skip_without_faiss();
    dataset data = make_data(120, 4, 3, 16);
    dataset queries = make_data(15, 4, 3, 17);
    const cs_examples examples = examples_of(&data);
    const cs_examples query_examples = examples_of(&queries);

    for (int mode = 0; mode < 4; mode++) {
        cs_kde_options options;
        cs_kde_options_init(&options);
        options.neighbor_index = (cs_kde_neighbor_index)(mode % 3);
        options.threads = 2;
        const bool query = mode == 3;
        const size_t n = query ? queries.n : data.n;

        cs_status status = CS_E_OUT_OF_MEMORY;
        long k = 1;
        for (; status == CS_E_OUT_OF_MEMORY && k < 200; k++) {
            outputs o = make_outputs(n);
            float *kde_pm = malloc(n * sizeof(float));
            assert_non_null(kde_pm);
            o.result.kde_pm = kde_pm;
            cs__set_alloc_failure_countdown(k);
            status = query ? cs_kde_query(&examples, 3, &query_examples,
                                          &options, &o.result)
                           : cs_kde_scores(&examples, 3, &options, &o.result);
            cs__set_alloc_failure_countdown(0);
            if (status == CS_E_OUT_OF_MEMORY)
                assert_untouched(&o);
            free(kde_pm);
            free_outputs(&o);
        }
        assert_int_equal(status, CS_OK);
        assert_true(k > 4);
    }
    free_data(&data);
    free_data(&queries);
}

/* Without FAISS a request for neighbour scores fails with
 * CS_E_UNSUPPORTED and a message that explains how to get them. */
static void unsupported_without_faiss(void **state)
{
    (void)state;
    if (faiss_built_in()) {
        print_message("skipped: this cscore has FAISS built in\n");
        skip();
    }
    dataset data = make_data(30, 4, 2, 15);
    const cs_examples examples = examples_of(&data);
    outputs o = make_outputs(data.n);

    assert_scores_fail(&examples, 2, NULL, &o, CS_E_UNSUPPORTED, "result",
                       NULL);
    assert_non_null(strstr(cs_last_error_message(), "libfaiss-dev"));
    assert_non_null(strstr(cs_last_error_message(), "CSCORE_WITH_FAISS"));

    free_outputs(&o);
    free_data(&data);
}

static void options_and_result_defaults(void **state)
{
    (void)state;
    cs_kde_options options;
    memset(&options, 0xab, sizeof options);
    cs_kde_options_init(&options);
    assert_int_equal(options.neighbor_index, CS_KDE_NEIGHBORS_FLAT);
    assert_int_equal(options.neighbors, CS_KDE_DEFAULT_NEIGHBORS);
    assert_int_equal(options.ivf_nlist, 0);
    assert_int_equal(options.ivf_nprobe, CS_KDE_DEFAULT_IVF_NPROBE);
    assert_int_equal(options.hnsw_m, CS_KDE_DEFAULT_HNSW_M);
    assert_int_equal(options.hnsw_ef_construction,
                     CS_KDE_DEFAULT_HNSW_EF_CONSTRUCTION);
    assert_int_equal(options.hnsw_ef_search, CS_KDE_DEFAULT_HNSW_EF_SEARCH);

    cs_kde_result result;
    memset(&result, 0xab, sizeof result);
    cs_kde_result_init(&result);
    assert_null(result.knn_kde_pm);
    assert_null(result.knn_kde_l);
    assert_null(result.knn_kde_free);
    assert_null(result.knn_agree);
    assert_int_equal(result.knn_missing, 0);

    assert_string_equal(cs_status_name(CS_E_UNSUPPORTED), "CS_E_UNSUPPORTED");
    assert_string_equal(cs_status_name(CS_E_EXTERNAL), "CS_E_EXTERNAL");
}

int main(void)
{
    if (!faiss_built_in())
        printf("test_kde_neighbors: this cscore was built without FAISS, so "
               "the FAISS tests are skipped\n");

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flat_finds_exact_neighbors),
        cmocka_unit_test(approximate_recall),
        cmocka_unit_test(flat_scores_match_reference),
        cmocka_unit_test(approximate_scores_match_reference),
        cmocka_unit_test(scores_with_kernel_sums),
        cmocka_unit_test(class_free_without_labels),
        cmocka_unit_test(query_matches_reference),
        cmocka_unit_test(ivf_empty_slots_counted),
        cmocka_unit_test(thread_settings_restored),
        cmocka_unit_test(bad_neighbor_count),
        cmocka_unit_test(bad_neighbor_options),
        cmocka_unit_test(bad_inputs),
        cmocka_unit_test(allocation_failures),
        cmocka_unit_test(unsupported_without_faiss),
        cmocka_unit_test(options_and_result_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
