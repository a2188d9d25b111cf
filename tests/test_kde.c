/*
 * Kernel density proxies (cs_kde_scores(), cs_kde_query(),
 * cs_kde_bandwidth()) against a plain double-precision O(N^2) evaluation
 * written here. Covered: scores on several sizes around the tile size, the
 * automatic bandwidth, identical results for any thread count, and the
 * sampled method's ranking against the exact one. Also query mode, every
 * bad input (each with its status and untouched outputs), allocation
 * failures and the restored OpenBLAS thread count.
 *
 * Tolerances: scores are compared with a relative error of 1e-4 of the
 * class-free score, which bounds all three; the float32 sgemm and kernel
 * typically land within 1e-6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cscore.h"
#include "internal.h"
#include "kde_fixtures.h"

#define SCORE_TOLERANCE 1e-4

/* |actual - expected| <= allowed, reporting both values and the caller's
 * line on failure (cmocka has no double comparison with a tolerance). */
#define assert_near(actual, expected, allowed)                                \
    assert_near_at(actual, expected, allowed, __FILE__, __LINE__)

static void assert_near_at(double actual, double expected, double allowed,
                           const char *file, int line)
{
    if (fabs(actual - expected) <= allowed)
        return;
    print_error("%.17g differs from %.17g by more than %.3g\n", actual,
                expected, allowed);
    _fail(file, line);
}

/* Value written to output buffers before a call that must fail, so that
 * any write shows. */
#define UNTOUCHED (-7.25f)
#define UNTOUCHED_FIGURE (-3.5)

/* ------------------------------------------------------------------------
 * Data and the reference evaluation
 * ------------------------------------------------------------------------ */

static double distance(const float *a, const float *b, size_t d)
{
    double sum = 0.0;
    for (size_t k = 0; k < d; k++) {
        const double t = (double)a[k] - (double)b[k];
        sum += t * t;
    }
    return sqrt(sum);
}

/* Half the mean distance over pairs i != j. */
static double reference_bandwidth(const dataset *data)
{
    double sum = 0.0;
    for (size_t i = 0; i < data->n; i++)
        for (size_t j = i + 1; j < data->n; j++)
            sum += distance(data->x + i * data->d, data->x + j * data->d,
                            data->d);
    const double pairs = (double)data->n * ((double)data->n - 1.0) / 2.0;
    return sum / pairs / 2.0;
}

/* Scores of point `point` (d values, label `label`) against every row of
 * data except row `skip` (SIZE_MAX skips nothing), divided by data->n. */
static void reference_scores(const dataset *data, const float *point,
                             int32_t label, size_t skip, double h,
                             double out[3])
{
    double same = 0.0;
    double total = 0.0;
    for (size_t j = 0; j < data->n; j++) {
        if (j == skip)
            continue;
        const double r = distance(point, data->x + j * data->d, data->d);
        const double kernel = exp(-r * r / (h * h));
        total += kernel;
        if (data->y[j] == label)
            same += kernel;
    }
    out[0] = (2.0 * same - total) / (double)data->n;
    out[1] = same / (double)data->n;
    out[2] = total / (double)data->n;
}

/* ------------------------------------------------------------------------
 * Output buffers
 * ------------------------------------------------------------------------ */

typedef struct outputs {
    float *pm;
    float *l;
    float *free;
    size_t n;
    cs_kde_result result;
} outputs;

/* Buffers of n floats filled with UNTOUCHED and a result pointing at
 * them. */
static outputs make_outputs(size_t n)
{
    outputs o = {malloc(n * sizeof(float) + 1),
                 malloc(n * sizeof(float) + 1),
                 malloc(n * sizeof(float) + 1),
                 n,
                 {0}};
    assert_non_null(o.pm);
    assert_non_null(o.l);
    assert_non_null(o.free);
    for (size_t i = 0; i < n; i++)
        o.pm[i] = o.l[i] = o.free[i] = UNTOUCHED;

    cs_kde_result_init(&o.result);
    o.result.n = n;
    o.result.kde_pm = o.pm;
    o.result.kde_l = o.l;
    o.result.kde_free = o.free;
    o.result.bandwidth = UNTOUCHED_FIGURE;
    o.result.bandwidth_se = UNTOUCHED_FIGURE;
    o.result.reference_count = -5;
    return o;
}

static void free_outputs(outputs *o)
{
    free(o->pm);
    free(o->l);
    free(o->free);
}

/* Asserts that a failed call wrote nothing. */
static void assert_untouched(const outputs *o)
{
    for (size_t i = 0; i < o->n; i++) {
        assert_true(o->pm[i] == UNTOUCHED);
        assert_true(o->l[i] == UNTOUCHED);
        assert_true(o->free[i] == UNTOUCHED);
    }
    assert_true(o->result.bandwidth == UNTOUCHED_FIGURE);
    assert_true(o->result.bandwidth_se == UNTOUCHED_FIGURE);
    assert_int_equal(o->result.reference_count, -5);
}

static void assert_same_outputs(const outputs *a, const outputs *b)
{
    assert_int_equal(a->n, b->n);
    assert_memory_equal(a->pm, b->pm, a->n * sizeof(float));
    assert_memory_equal(a->l, b->l, a->n * sizeof(float));
    assert_memory_equal(a->free, b->free, a->n * sizeof(float));
    assert_true(a->result.bandwidth == b->result.bandwidth);
    assert_true(a->result.bandwidth_se == b->result.bandwidth_se);
}

/* Asserts score i against reference values, within SCORE_TOLERANCE of the
 * class-free score. */
static void assert_scores_near(const outputs *o, size_t i,
                               const double want[3])
{
    const double allowed = SCORE_TOLERANCE * want[2] + 1e-30;
    assert_near(o->pm[i], want[0], allowed);
    assert_near(o->l[i], want[1], allowed);
    assert_near(o->free[i], want[2], allowed);
}

static cs_examples examples_of(const dataset *data)
{
    cs_examples e = {data->x, data->y, data->n, (int32_t)data->d};
    return e;
}

static cs_kde_options options_with(int32_t tile, int32_t threads)
{
    cs_kde_options options;
    cs_kde_options_init(&options);
    options.tile_size = tile;
    options.threads = threads;
    return options;
}

/* ------------------------------------------------------------------------
 * Spearman's rho with average ranks, written out plainly
 * ------------------------------------------------------------------------ */

static const float *rank_keys;

static int compare_by_key(const void *a, const void *b)
{
    const float x = rank_keys[*(const size_t *)a];
    const float y = rank_keys[*(const size_t *)b];
    return (x > y) - (x < y);
}

static void average_ranks(const float *values, size_t n, double *ranks)
{
    size_t *order = malloc(n * sizeof(size_t));
    assert_non_null(order);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    rank_keys = values;
    qsort(order, n, sizeof(size_t), compare_by_key);

    for (size_t start = 0; start < n;) {
        size_t end = start + 1;
        while (end < n && values[order[end]] == values[order[start]])
            end++;
        const double rank = (double)(start + end - 1) / 2.0 + 1.0;
        for (size_t k = start; k < end; k++)
            ranks[order[k]] = rank;
        start = end;
    }
    free(order);
}

static double spearman(const float *a, const float *b, size_t n)
{
    double *ra = malloc(n * sizeof(double));
    double *rb = malloc(n * sizeof(double));
    assert_non_null(ra);
    assert_non_null(rb);
    average_ranks(a, n, ra);
    average_ranks(b, n, rb);

    double mean = (double)(n + 1) / 2.0;
    double cov = 0.0;
    double va = 0.0;
    double vb = 0.0;
    for (size_t i = 0; i < n; i++) {
        cov += (ra[i] - mean) * (rb[i] - mean);
        va += (ra[i] - mean) * (ra[i] - mean);
        vb += (rb[i] - mean) * (rb[i] - mean);
    }
    free(ra);
    free(rb);
    return cov / sqrt(va * vb);
}

/* ------------------------------------------------------------------------
 * Exact path and bandwidth
 * ------------------------------------------------------------------------ */

/* Sizes around the 64-row tile: smaller than one tile, equal, one more,
 * and several not divisible by it (an odd and an even block count). */
static void exact_matches_reference(void **state)
{
    static const size_t sizes[] = {2, 3, 50, 64, 65, 200, 333};
    (void)state;

    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        dataset data = make_data(sizes[s], 7, 3, 10 + s);
        const cs_examples examples = examples_of(&data);
        const cs_kde_options options = options_with(64, 2);
        outputs o = make_outputs(data.n);

        assert_int_equal(cs_kde_scores(&examples, 3, &options, &o.result),
                         CS_OK);
        const double h = reference_bandwidth(&data);
        assert_near(o.result.bandwidth, h, 1e-5 * h);
        assert_int_equal(o.result.reference_count, (int64_t)data.n);
        for (size_t i = 0; i < data.n; i++) {
            double want[3];
            reference_scores(&data, data.x + i * data.d, data.y[i], i,
                             o.result.bandwidth, want);
            assert_scores_near(&o, i, want);
        }
        free_outputs(&o);
        free_data(&data);
    }
}

/* A given bandwidth, the default tile (larger than N), and many classes,
 * some of them empty or with one member. */
static void exact_given_bandwidth(void **state)
{
    (void)state;
    dataset data = make_data(150, 5, 40, 3);
    const cs_examples examples = examples_of(&data);
    cs_kde_options options;
    cs_kde_options_init(&options);
    options.bandwidth = 0.8;
    outputs o = make_outputs(data.n);

    assert_int_equal(cs_kde_scores(&examples, 41, &options, &o.result), CS_OK);
    assert_true(o.result.bandwidth == 0.8);
    assert_true(o.result.bandwidth_se == 0.0);
    for (size_t i = 0; i < data.n; i++) {
        double want[3];
        reference_scores(&data, data.x + i * data.d, data.y[i], i, 0.8, want);
        assert_scores_near(&o, i, want);
    }
    free_outputs(&o);
    free_data(&data);
}

/* Without labels only kde_free can be requested, and n_classes is not
 * read. */
static void exact_class_free_only(void **state)
{
    (void)state;
    dataset data = make_data(100, 4, 2, 4);
    cs_examples examples = examples_of(&data);
    examples.labels = NULL;
    const cs_kde_options options = options_with(32, 2);
    outputs o = make_outputs(data.n);
    o.result.kde_pm = NULL;
    o.result.kde_l = NULL;

    assert_int_equal(cs_kde_scores(&examples, 0, &options, &o.result), CS_OK);
    for (size_t i = 0; i < data.n; i++) {
        double want[3];
        reference_scores(&data, data.x + i * data.d, data.y[i], i,
                         o.result.bandwidth, want);
        assert_near(o.free[i], want[2], SCORE_TOLERANCE * want[2]);
        assert_true(o.pm[i] == UNTOUCHED);
        assert_true(o.l[i] == UNTOUCHED);
    }
    free_outputs(&o);
    free_data(&data);
}

static void bandwidth_exact_and_sampled(void **state)
{
    (void)state;
    dataset data = make_data(300, 6, 3, 5);
    const cs_examples examples = examples_of(&data);
    const double want = reference_bandwidth(&data);
    cs_kde_options options = options_with(64, 2);
    double h = 0.0;
    double error = -1.0;

    /* N = 300 is below the default limit: every pair. */
    assert_int_equal(cs_kde_bandwidth(&examples, &options, &h, &error), CS_OK);
    assert_near(h, want, 1e-6 * want);
    assert_true(error == 0.0);

    /* Sampled pairs: within 4 standard errors, which are small. */
    options.bandwidth_exact_limit = 0;
    options.bandwidth_pairs = 100000;
    assert_int_equal(cs_kde_bandwidth(&examples, &options, &h, &error), CS_OK);
    assert_true(error > 0.0);
    assert_true(error < 0.01 * want);
    assert_near(h, want, 4.0 * error);

    /* The same estimate reaches the scores. */
    outputs o = make_outputs(data.n);
    assert_int_equal(cs_kde_scores(&examples, 3, &options, &o.result), CS_OK);
    assert_true(o.result.bandwidth == h);
    assert_true(o.result.bandwidth_se == error);
    free_outputs(&o);
    free_data(&data);
}

/* ------------------------------------------------------------------------
 * Threads
 * ------------------------------------------------------------------------ */

/* Runs one configuration with 1, 2, 3 and 5 threads and asserts identical
 * outputs. query is NULL for cs_kde_scores(). */
static void assert_thread_invariant(const dataset *data, const dataset *query,
                                    cs_kde_options options)
{
    const size_t n = query != NULL ? query->n : data->n;
    static const int32_t thread_counts[] = {1, 2, 3, 5};
    outputs first = make_outputs(n);

    for (size_t t = 0; t < 4; t++) {
        outputs o = make_outputs(n);
        options.threads = thread_counts[t];
        const cs_examples examples = examples_of(data);
        if (query != NULL) {
            const cs_examples queries = examples_of(query);
            assert_int_equal(cs_kde_query(&examples, data->classes, &queries,
                                          &options, &o.result),
                             CS_OK);
        } else {
            assert_int_equal(cs_kde_scores(&examples, data->classes, &options,
                                           &o.result),
                             CS_OK);
        }
        if (t == 0) {
            free_outputs(&first);
            first = o;
            continue;
        }
        assert_same_outputs(&first, &o);
        free_outputs(&o);
    }
    free_outputs(&first);
}

/* 1000 rows in 64-row tiles: 16 blocks, 15 rounds of 8 tiles. 1001 rows:
 * 16 blocks again with a short last one. Sampled pairs and the sampled
 * method too. Tolerance: none, the outputs are bit-identical. */
static void thread_count_invariance(void **state)
{
    (void)state;
    dataset data = make_data(1000, 9, 4, 6);
    dataset odd = make_data(1001, 9, 4, 7);
    dataset query = make_data(130, 9, 4, 8);
    cs_kde_options options = options_with(64, 1);

    assert_thread_invariant(&data, NULL, options);
    assert_thread_invariant(&odd, NULL, options);
    assert_thread_invariant(&data, &query, options);

    options.bandwidth_exact_limit = 0;
    options.bandwidth_pairs = 50000;
    options.method = CS_KDE_SAMPLED;
    options.reference_size = 300;
    assert_thread_invariant(&data, NULL, options);
    assert_thread_invariant(&data, &query, options);

    free_data(&data);
    free_data(&odd);
    free_data(&query);
}

/* The call sets OpenBLAS to 1 thread while it runs and restores the
 * earlier count. */
static void openblas_threads_restored(void **state)
{
    (void)state;
    dataset data = make_data(100, 4, 2, 9);
    const cs_examples examples = examples_of(&data);
    const cs_kde_options options = options_with(32, 2);
    outputs o = make_outputs(data.n);
    const int before = openblas_get_num_threads();

    openblas_set_num_threads(2);
    assert_int_equal(cs_kde_scores(&examples, 2, &options, &o.result), CS_OK);
    assert_int_equal(openblas_get_num_threads(), 2);

    openblas_set_num_threads(before);
    free_outputs(&o);
    free_data(&data);
}

/* ------------------------------------------------------------------------
 * Sampled method
 * ------------------------------------------------------------------------ */

/* Floor of Spearman's rho of the sampled scores (M = 600 of N = 3000,
 * d = 16) against the exact ones on this data, which measured 0.987 for
 * KDE +-L, 0.981 for KDE L and 0.971 for class-free. */
#define SAMPLED_RHO_FLOOR 0.95

static void sampled_ranks_like_exact(void **state)
{
    (void)state;
    dataset data = make_data(3000, 16, 4, 11);
    const cs_examples examples = examples_of(&data);
    cs_kde_options options = options_with(256, 2);
    outputs exact = make_outputs(data.n);
    outputs sampled = make_outputs(data.n);

    assert_int_equal(cs_kde_scores(&examples, 4, &options, &exact.result),
                     CS_OK);
    options.method = CS_KDE_SAMPLED;
    options.reference_size = 600;
    assert_int_equal(cs_kde_scores(&examples, 4, &options, &sampled.result),
                     CS_OK);

    assert_true(sampled.result.bandwidth == exact.result.bandwidth);
    assert_in_range(sampled.result.reference_count, 596, 604);
    const double rho_pm = spearman(exact.pm, sampled.pm, data.n);
    const double rho_l = spearman(exact.l, sampled.l, data.n);
    const double rho_free = spearman(exact.free, sampled.free, data.n);
    assert_true(rho_pm >= SAMPLED_RHO_FLOOR);
    assert_true(rho_l >= SAMPLED_RHO_FLOOR);
    assert_true(rho_free >= SAMPLED_RHO_FLOOR);

    free_outputs(&exact);
    free_outputs(&sampled);
    free_data(&data);
}

/* The scaling makes the sampled scores unbiased: their mean over all
 * examples matches the exact mean closely. */
static void sampled_scores_unbiased(void **state)
{
    (void)state;
    dataset data = make_data(2000, 8, 3, 12);
    const cs_examples examples = examples_of(&data);
    cs_kde_options options = options_with(128, 2);
    outputs exact = make_outputs(data.n);
    outputs sampled = make_outputs(data.n);

    assert_int_equal(cs_kde_scores(&examples, 3, &options, &exact.result),
                     CS_OK);
    options.method = CS_KDE_SAMPLED;
    options.reference_size = 400;
    assert_int_equal(cs_kde_scores(&examples, 3, &options, &sampled.result),
                     CS_OK);

    double exact_l = 0.0;
    double sampled_l = 0.0;
    double exact_free = 0.0;
    double sampled_free = 0.0;
    for (size_t i = 0; i < data.n; i++) {
        exact_l += exact.l[i];
        sampled_l += sampled.l[i];
        exact_free += exact.free[i];
        sampled_free += sampled.free[i];
    }
    assert_near(sampled_l, exact_l, 0.02 * exact_l);
    assert_near(sampled_free, exact_free, 0.02 * exact_free);

    free_outputs(&exact);
    free_outputs(&sampled);
    free_data(&data);
}

/* M >= N is the exact method; another seed draws another sample. */
static void sampled_edge_cases(void **state)
{
    (void)state;
    dataset data = make_data(500, 6, 3, 13);
    const cs_examples examples = examples_of(&data);
    cs_kde_options options = options_with(64, 2);
    outputs exact = make_outputs(data.n);
    outputs whole = make_outputs(data.n);
    outputs seeded = make_outputs(data.n);
    outputs reseeded = make_outputs(data.n);

    assert_int_equal(cs_kde_scores(&examples, 3, &options, &exact.result),
                     CS_OK);
    options.method = CS_KDE_SAMPLED;
    options.reference_size = 500;
    assert_int_equal(cs_kde_scores(&examples, 3, &options, &whole.result),
                     CS_OK);
    assert_same_outputs(&exact, &whole);

    options.reference_size = 100;
    assert_int_equal(cs_kde_scores(&examples, 3, &options, &seeded.result),
                     CS_OK);
    options.seed = 1;
    assert_int_equal(cs_kde_scores(&examples, 3, &options, &reseeded.result),
                     CS_OK);
    assert_memory_not_equal(seeded.free, reseeded.free,
                            data.n * sizeof(float));

    free_outputs(&exact);
    free_outputs(&whole);
    free_outputs(&seeded);
    free_outputs(&reseeded);
    free_data(&data);
}

/* ------------------------------------------------------------------------
 * Query mode
 * ------------------------------------------------------------------------ */

static void query_matches_reference(void **state)
{
    (void)state;
    dataset reference = make_data(300, 5, 3, 14);
    dataset query = make_data(77, 5, 3, 15);
    const cs_examples examples = examples_of(&reference);
    const cs_examples queries = examples_of(&query);
    const cs_kde_options options = options_with(64, 2);
    outputs o = make_outputs(query.n);

    assert_int_equal(cs_kde_query(&examples, 3, &queries, &options, &o.result),
                     CS_OK);
    const double h = reference_bandwidth(&reference);
    assert_near(o.result.bandwidth, h, 1e-5 * h);
    assert_int_equal(o.result.reference_count, 300);
    for (size_t q = 0; q < query.n; q++) {
        double want[3];
        reference_scores(&reference, query.x + q * query.d, query.y[q],
                         SIZE_MAX, o.result.bandwidth, want);
        assert_scores_near(&o, q, want);
    }
    free_outputs(&o);
    free_data(&reference);
    free_data(&query);
}

/* Class-free queries need no labels at all, and a single reference
 * example is enough with a given bandwidth. */
static void query_class_free(void **state)
{
    (void)state;
    dataset reference = make_data(40, 3, 2, 16);
    dataset query = make_data(9, 3, 2, 17);
    cs_examples examples = examples_of(&reference);
    cs_examples queries = examples_of(&query);
    examples.labels = NULL;
    queries.labels = NULL;
    cs_kde_options options = options_with(16, 2);
    outputs o = make_outputs(query.n);
    o.result.kde_pm = NULL;
    o.result.kde_l = NULL;

    assert_int_equal(cs_kde_query(&examples, 0, &queries, &options, &o.result),
                     CS_OK);
    for (size_t q = 0; q < query.n; q++) {
        double want[3];
        reference_scores(&reference, query.x + q * query.d, -1, SIZE_MAX,
                         o.result.bandwidth, want);
        assert_near(o.free[q], want[2], SCORE_TOLERANCE * want[2]);
    }

    examples.n = 1;
    options.bandwidth = 2.0;
    assert_int_equal(cs_kde_query(&examples, 0, &queries, &options, &o.result),
                     CS_OK);
    for (size_t q = 0; q < query.n; q++) {
        const double r = distance(query.x + q * query.d, reference.x, 3);
        assert_near(o.free[q], exp(-r * r / 4.0),
                    SCORE_TOLERANCE * exp(-r * r / 4.0) + 1e-30);
    }
    free_outputs(&o);
    free_data(&reference);
    free_data(&query);
}

/* Querying the reference set with itself adds each point's own kernel
 * value, exp(0) = 1, to the sums: KDE L, +-L and class-free each rise by
 * exactly 1/N over cs_kde_scores(). */
static void query_of_reference_adds_self(void **state)
{
    (void)state;
    dataset data = make_data(200, 4, 3, 18);
    const cs_examples examples = examples_of(&data);
    const cs_kde_options options = options_with(64, 2);
    outputs own = make_outputs(data.n);
    outputs queried = make_outputs(data.n);

    assert_int_equal(cs_kde_scores(&examples, 3, &options, &own.result),
                     CS_OK);
    assert_int_equal(cs_kde_query(&examples, 3, &examples, &options,
                                  &queried.result),
                     CS_OK);
    for (size_t i = 0; i < data.n; i++) {
        const double step = 1.0 / (double)data.n;
        const double allowed = SCORE_TOLERANCE * queried.free[i];
        assert_near(queried.free[i], own.free[i] + step, allowed);
        assert_near(queried.l[i], own.l[i] + step, allowed);
        assert_near(queried.pm[i], own.pm[i] + step, allowed);
    }
    free_outputs(&own);
    free_outputs(&queried);
    free_data(&data);
}

/* ------------------------------------------------------------------------
 * Bad input: each with its status, and nothing written
 * ------------------------------------------------------------------------ */

/* Calls cs_kde_scores() and asserts the status, the failing function's
 * name and argument in the last-error record, and untouched outputs. */
static void assert_scores_fail(const cs_examples *examples, int32_t classes,
                               const cs_kde_options *options, outputs *o,
                               cs_status expected, const char *argument)
{
    assert_int_equal(cs_kde_scores(examples, classes, options, &o->result),
                     expected);
    assert_int_equal(cs_last_error()->status, expected);
    assert_string_equal(cs_last_error()->function, "cs_kde_scores");
    if (argument != NULL)
        assert_string_equal(cs_last_error()->argument, argument);
    assert_untouched(o);
}

static void bad_null_and_sizes(void **state)
{
    (void)state;
    dataset data = make_data(20, 3, 2, 19);
    cs_examples examples = examples_of(&data);
    outputs o = make_outputs(data.n);

    assert_int_equal(cs_kde_scores(NULL, 2, NULL, &o.result),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_kde_scores(&examples, 2, NULL, NULL),
                     CS_E_NULL_ARGUMENT);
    assert_untouched(&o);

    examples.inputs = NULL;
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_NULL_ARGUMENT, "examples");
    examples = examples_of(&data);

    /* Labels are needed for kde_pm and kde_l. */
    examples.labels = NULL;
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_NULL_ARGUMENT, "examples");
    examples = examples_of(&data);

    /* Mismatched N: buffers of 20 floats for 19 examples. */
    examples.n = 19;
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_SIZE_MISMATCH, "result");
    assert_string_equal(cs_last_error()->value, "20");
    examples = examples_of(&data);

    /* N = 0 and N = 1, with matching buffers. */
    o.result.n = 0;
    examples.n = 0;
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_ZERO_SIZE, "examples");
    o.result.n = 1;
    examples.n = 1;
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_INVALID_ARGUMENT,
                       "examples");
    o.result.n = data.n;
    examples = examples_of(&data);

    examples.n_inputs = 0;
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_ZERO_SIZE, "examples");
    examples.n_inputs = -3;
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_INVALID_ARGUMENT,
                       "examples");
    examples = examples_of(&data);

    assert_scores_fail(&examples, 0, NULL, &o, CS_E_ZERO_SIZE, "n_classes");
    assert_scores_fail(&examples, -2, NULL, &o, CS_E_INVALID_ARGUMENT,
                       "n_classes");

    free_outputs(&o);
    free_data(&data);
}

static void bad_feature_values(void **state)
{
    static const float bad_values[] = {NAN, INFINITY, -INFINITY};
    static const char *const bad_names[] = {"nan", "inf", "-inf"};
    (void)state;
    dataset data = make_data(20, 3, 2, 20);
    const cs_examples examples = examples_of(&data);
    outputs o = make_outputs(data.n);

    for (size_t b = 0; b < 3; b++) {
        const float saved = data.x[13 * 3 + 1];
        data.x[13 * 3 + 1] = bad_values[b];
        assert_scores_fail(&examples, 2, NULL, &o, CS_E_NONFINITE_FEATURE,
                           "examples");
        assert_int_equal(cs_last_error()->index, 13);
        assert_string_equal(cs_last_error()->value, bad_names[b]);
        data.x[13 * 3 + 1] = saved;
    }

    /* A row 1e20 bandwidths from the rest cannot be held in float32
     * distances. */
    cs_kde_options options;
    cs_kde_options_init(&options);
    options.bandwidth = 1.0;
    data.x[5 * 3] = 1e20f;
    assert_scores_fail(&examples, 2, &options, &o, CS_E_INVALID_ARGUMENT,
                       "inputs");
    assert_int_equal(cs_last_error()->index, 5);

    free_outputs(&o);
    free_data(&data);
}

static void bad_identical_features(void **state)
{
    (void)state;
    dataset data = make_data(30, 4, 2, 21);
    for (size_t i = 1; i < data.n; i++)
        memcpy(data.x + i * 4, data.x, 4 * sizeof(float));
    const cs_examples examples = examples_of(&data);
    cs_kde_options options;
    cs_kde_options_init(&options);
    outputs o = make_outputs(data.n);

    assert_scores_fail(&examples, 2, &options, &o, CS_E_ZERO_BANDWIDTH,
                       "inputs");
    options.bandwidth_exact_limit = 0;
    assert_scores_fail(&examples, 2, &options, &o, CS_E_ZERO_BANDWIDTH,
                       "inputs");
    double h = UNTOUCHED_FIGURE;
    double error = UNTOUCHED_FIGURE;
    assert_int_equal(cs_kde_bandwidth(&examples, &options, &h, &error),
                     CS_E_ZERO_BANDWIDTH);
    assert_true(h == UNTOUCHED_FIGURE);
    assert_true(error == UNTOUCHED_FIGURE);

    /* With a given bandwidth every kernel value is 1. */
    options.bandwidth = 1.0;
    assert_int_equal(cs_kde_scores(&examples, 2, &options, &o.result), CS_OK);
    for (size_t i = 0; i < data.n; i++)
        assert_near(o.free[i], 29.0 / 30.0, 1e-6);

    free_outputs(&o);
    free_data(&data);
}

static void bad_labels(void **state)
{
    static const int32_t bad[] = {3, -1, INT32_MAX};
    static const char *const bad_names[] = {"3", "-1", "2147483647"};
    (void)state;
    dataset data = make_data(20, 3, 3, 22);
    const cs_examples examples = examples_of(&data);
    outputs o = make_outputs(data.n);

    for (size_t b = 0; b < 3; b++) {
        const int32_t saved = data.y[17];
        data.y[17] = bad[b];
        assert_scores_fail(&examples, 3, NULL, &o, CS_E_LABEL_OUT_OF_RANGE,
                           "examples");
        assert_int_equal(cs_last_error()->index, 17);
        assert_string_equal(cs_last_error()->value, bad_names[b]);
        data.y[17] = saved;
    }

    /* Labels are checked whenever they are given, also when only
     * kde_free is requested. */
    data.y[17] = -1;
    o.result.kde_pm = NULL;
    o.result.kde_l = NULL;
    assert_scores_fail(&examples, 3, NULL, &o, CS_E_LABEL_OUT_OF_RANGE,
                       "examples");

    free_outputs(&o);
    free_data(&data);
}

static void bad_options(void **state)
{
    (void)state;
    dataset data = make_data(20, 3, 2, 23);
    const cs_examples examples = examples_of(&data);
    outputs o = make_outputs(data.n);
    cs_kde_options options;

    cs_kde_options_init(&options);
    options.struct_size = sizeof(size_t);
    assert_scores_fail(&examples, 2, &options, &o, CS_E_INVALID_ARGUMENT,
                       "options");

#define REJECT_OPTION(field, value)                                           \
    do {                                                                      \
        cs_kde_options_init(&options);                                        \
        options.field = value;                                                \
        assert_scores_fail(&examples, 2, &options, &o, CS_E_INVALID_ARGUMENT, \
                           #field);                                           \
    } while (0)

    REJECT_OPTION(method, (cs_kde_method)2);
    REJECT_OPTION(method, (cs_kde_method)-1);
    REJECT_OPTION(bandwidth, -1.0);
    REJECT_OPTION(bandwidth, NAN);
    REJECT_OPTION(bandwidth, INFINITY);
    REJECT_OPTION(reference_size, 0);
    REJECT_OPTION(bandwidth_pairs, 0);
    REJECT_OPTION(bandwidth_exact_limit, -1);
    REJECT_OPTION(tile_size, 0);
    REJECT_OPTION(tile_size, CS_KDE_MAX_TILE_SIZE + 1);
    REJECT_OPTION(threads, -1);
    REJECT_OPTION(threads, CS_KDE_MAX_THREADS + 1);
#undef REJECT_OPTION

    cs_kde_result_init(&o.result);
    o.result.n = data.n;
    o.result.bandwidth = UNTOUCHED_FIGURE;
    o.result.bandwidth_se = UNTOUCHED_FIGURE;
    o.result.reference_count = -5;
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_INVALID_ARGUMENT,
                       "result");
    o.result.kde_free = o.free;
    o.result.struct_size = sizeof(size_t);
    assert_scores_fail(&examples, 2, NULL, &o, CS_E_INVALID_ARGUMENT,
                       "result");

    free_outputs(&o);
    free_data(&data);
}

static void bad_query_input(void **state)
{
    (void)state;
    dataset reference = make_data(30, 4, 3, 24);
    dataset query = make_data(10, 4, 3, 25);
    const cs_examples examples = examples_of(&reference);
    cs_examples queries = examples_of(&query);
    outputs o = make_outputs(query.n);

    assert_int_equal(cs_kde_query(NULL, 3, &queries, NULL, &o.result),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_kde_query(&examples, 3, NULL, NULL, &o.result),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_kde_query(&examples, 3, &queries, NULL, NULL),
                     CS_E_NULL_ARGUMENT);

    queries.n_inputs = 3;
    assert_int_equal(cs_kde_query(&examples, 3, &queries, NULL, &o.result),
                     CS_E_INVALID_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "queries");
    queries = examples_of(&query);

    queries.n = 9;
    assert_int_equal(cs_kde_query(&examples, 3, &queries, NULL, &o.result),
                     CS_E_SIZE_MISMATCH);
    queries = examples_of(&query);

    query.x[7 * 4 + 2] = NAN;
    assert_int_equal(cs_kde_query(&examples, 3, &queries, NULL, &o.result),
                     CS_E_NONFINITE_FEATURE);
    assert_string_equal(cs_last_error()->argument, "queries");
    assert_int_equal(cs_last_error()->index, 7);
    query.x[7 * 4 + 2] = 0.0f;

    query.y[4] = 3;
    assert_int_equal(cs_kde_query(&examples, 3, &queries, NULL, &o.result),
                     CS_E_LABEL_OUT_OF_RANGE);
    assert_string_equal(cs_last_error()->argument, "queries");
    assert_int_equal(cs_last_error()->index, 4);
    query.y[4] = 0;

    /* One reference example and no bandwidth: no pairs to average. */
    cs_examples single = examples;
    single.n = 1;
    assert_int_equal(cs_kde_query(&single, 3, &queries, NULL, &o.result),
                     CS_E_INVALID_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "reference");

    /* A query 1e20 away from the reference set. */
    cs_kde_options options;
    cs_kde_options_init(&options);
    options.bandwidth = 1.0;
    query.x[2 * 4] = 1e20f;
    assert_int_equal(cs_kde_query(&examples, 3, &queries, &options, &o.result),
                     CS_E_INVALID_ARGUMENT);
    assert_int_equal(cs_last_error()->index, 2);
    assert_untouched(&o);

    double h;
    double error;
    assert_int_equal(cs_kde_bandwidth(&examples, NULL, NULL, &error),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_kde_bandwidth(&examples, NULL, &h, NULL),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_kde_bandwidth(NULL, NULL, &h, &error),
                     CS_E_NULL_ARGUMENT);

    free_outputs(&o);
    free_data(&reference);
    free_data(&query);
}

/* ------------------------------------------------------------------------
 * Allocation failures, options and names
 * ------------------------------------------------------------------------ */

/* The same loop for cs_kde_bandwidth(), exact (threads 1, so that every
 * allocation runs on this thread) and sampled: a failure leaves both
 * outputs as they were. */
static void bandwidth_allocation_failures(void **state)
{
    (void)state;
    dataset data = make_data(150, 4, 3, 28);
    const cs_examples examples = examples_of(&data);

    for (int mode = 0; mode < 2; mode++) {
        cs_kde_options options = options_with(32, 1);
        if (mode == 1)
            options.bandwidth_exact_limit = 0;

        cs_status status = CS_E_OUT_OF_MEMORY;
        long k = 1;
        for (; status == CS_E_OUT_OF_MEMORY && k < 100; k++) {
            double bandwidth = UNTOUCHED_FIGURE;
            double standard_error = UNTOUCHED_FIGURE;
            cs__set_alloc_failure_countdown(k);
            status = cs_kde_bandwidth(&examples, &options, &bandwidth,
                                      &standard_error);
            cs__set_alloc_failure_countdown(0);
            if (status == CS_E_OUT_OF_MEMORY) {
                assert_true(bandwidth == UNTOUCHED_FIGURE);
                assert_true(standard_error == UNTOUCHED_FIGURE);
            }
        }
        assert_int_equal(status, CS_OK);
        assert_true(k > 2);
    }
    free_data(&data);
}

/* Fails the k-th allocation for k = 1, 2, ... until the call succeeds:
 * each failure must be CS_E_OUT_OF_MEMORY with nothing written. */
static void allocation_failures(void **state)
{
    (void)state;
    dataset data = make_data(150, 4, 3, 26);
    dataset query = make_data(20, 4, 3, 27);
    const cs_examples examples = examples_of(&data);
    const cs_examples queries = examples_of(&query);

    for (int mode = 0; mode < 4; mode++) {
        cs_kde_options options = options_with(32, 2);
        if (mode == 1 || mode == 3) {
            options.method = CS_KDE_SAMPLED;
            options.reference_size = 50;
        }
        if (mode >= 2)
            options.bandwidth_exact_limit = 0;
        const size_t n = mode == 3 ? query.n : data.n;

        cs_status status = CS_E_OUT_OF_MEMORY;
        long k = 1;
        for (; status == CS_E_OUT_OF_MEMORY && k < 100; k++) {
            outputs o = make_outputs(n);
            cs__set_alloc_failure_countdown(k);
            status = mode == 3
                         ? cs_kde_query(&examples, 3, &queries, &options,
                                        &o.result)
                         : cs_kde_scores(&examples, 3, &options, &o.result);
            cs__set_alloc_failure_countdown(0);
            if (status == CS_E_OUT_OF_MEMORY)
                assert_untouched(&o);
            free_outputs(&o);
        }
        assert_int_equal(status, CS_OK);
        assert_true(k > 2);
    }
    free_data(&data);
    free_data(&query);
}

static void options_and_result_defaults(void **state)
{
    (void)state;
    cs_kde_options options;
    memset(&options, 0xab, sizeof options);
    cs_kde_options_init(&options);
    assert_int_equal(options.struct_size, sizeof options);
    assert_int_equal(options.method, CS_KDE_EXACT);
    assert_true(options.bandwidth == 0.0);
    assert_int_equal(options.reference_size, CS_KDE_DEFAULT_REFERENCE_SIZE);
    assert_int_equal(options.bandwidth_pairs, CS_KDE_DEFAULT_BANDWIDTH_PAIRS);
    assert_int_equal(options.bandwidth_exact_limit,
                     CS_KDE_DEFAULT_EXACT_BANDWIDTH_LIMIT);
    assert_int_equal(options.seed, 0);
    assert_int_equal(options.tile_size, CS_KDE_DEFAULT_TILE_SIZE);
    assert_int_equal(options.threads, 0);

    cs_kde_result result;
    memset(&result, 0xab, sizeof result);
    cs_kde_result_init(&result);
    assert_int_equal(result.struct_size, sizeof result);
    assert_int_equal(result.n, 0);
    assert_null(result.kde_pm);
    assert_null(result.kde_l);
    assert_null(result.kde_free);

    cs_kde_options_init(NULL);
    cs_kde_result_init(NULL);
    assert_string_equal(cs_status_name(CS_E_ZERO_BANDWIDTH),
                        "CS_E_ZERO_BANDWIDTH");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_matches_reference),
        cmocka_unit_test(exact_given_bandwidth),
        cmocka_unit_test(exact_class_free_only),
        cmocka_unit_test(bandwidth_exact_and_sampled),
        cmocka_unit_test(thread_count_invariance),
        cmocka_unit_test(openblas_threads_restored),
        cmocka_unit_test(sampled_ranks_like_exact),
        cmocka_unit_test(sampled_scores_unbiased),
        cmocka_unit_test(sampled_edge_cases),
        cmocka_unit_test(query_matches_reference),
        cmocka_unit_test(query_class_free),
        cmocka_unit_test(query_of_reference_adds_self),
        cmocka_unit_test(bad_null_and_sizes),
        cmocka_unit_test(bad_feature_values),
        cmocka_unit_test(bad_identical_features),
        cmocka_unit_test(bad_labels),
        cmocka_unit_test(bad_options),
        cmocka_unit_test(bad_query_input),
        cmocka_unit_test(allocation_failures),
        cmocka_unit_test(bandwidth_allocation_failures),
        cmocka_unit_test(options_and_result_defaults),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
