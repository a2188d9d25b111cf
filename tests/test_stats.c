/*
 * Tests of the statistics: average ranks, Spearman's rho, Kendall's tau-b
 * and the AUROC on hand-worked cases with ties, against scipy.stats and a
 * direct pair count on random data, on 1,281,167 elements with known
 * counts, and bootstrap intervals (reproducibility and coverage). scipy
 * runs under Debian's /usr/bin/python3; those tests skip when it is
 * missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "io/io.h"
#include "stats/pairs.h"
#include "stats/rank.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Agreement required with scipy and with exact counts. */
#define TOLERANCE 1e-9

/* ImageNet's training set size: the size the statistics must handle. */
#define IMAGENET_SIZE 1281167

/* Debian's interpreter, which finds Debian's python3-scipy; -E keeps
 * PYTHONPATH from swapping in other packages. */
#define SYSTEM_PYTHON "/usr/bin/python3"

#define PATH_SIZE 1024

#define PI 3.14159265358979323846

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* A small deterministic generator for test data (splitmix64). */
typedef struct test_rng {
    uint64_t state;
} test_rng;

static uint64_t rng_next(test_rng *r)
{
    uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_uniform(test_rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Standard normal by the Box-Muller transform. */
static double rng_normal(test_rng *r)
{
    const double u = 1.0 - rng_uniform(r);
    const double v = rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * PI * v);
}

static double *alloc_doubles(size_t n)
{
    double *values = malloc(n * sizeof *values);
    assert_non_null(values);
    return values;
}

#define assert_close(actual, expected)                                        \
    assert_true(fabs((actual) - (expected)) <= TOLERANCE)

#define assert_message_contains(text_)                                        \
    assert_non_null(strstr(cs_last_error_message(), (text_)))

/* ------------------------------------------------------------------------
 * Average ranks
 * ------------------------------------------------------------------------ */

static void ranks_average_ties(void **state)
{
    (void)state;
    const double values[] = {3, 1, 4, 1, 5, NAN, 9, 2, 6, 5};
    const double expected[] = {4, 1.5, 5, 1.5, 6.5, NAN, 9, 3, 8, 6.5};
    double ranks[10];

    assert_int_equal(cs_rank_average(values, 10, ranks), CS_OK);
    for (size_t i = 0; i < 10; i++) {
        if (isnan(expected[i]))
            assert_true(isnan(ranks[i]));
        else
            assert_true(ranks[i] == expected[i]);
    }
}

static void ranks_descending_internal(void **state)
{
    (void)state;
    const double values[] = {3, 1, 4, 1, NAN};
    const double expected[] = {2, 3.5, 1, 3.5};
    double ranks[5];

    assert_int_equal(cs__rank_average(values, 5, -1, ranks), CS_OK);
    for (size_t i = 0; i < 4; i++)
        assert_true(ranks[i] == expected[i]);
    assert_true(isnan(ranks[4]));
}

static void ranks_signed_zeros_and_infinities(void **state)
{
    (void)state;
    const double values[] = {0.0, -0.0, INFINITY, -INFINITY, -1e-300};
    const double expected[] = {3.5, 3.5, 5, 1, 2};
    double ranks[5];

    assert_int_equal(cs_rank_average(values, 5, ranks), CS_OK);
    for (size_t i = 0; i < 5; i++)
        assert_true(ranks[i] == expected[i]);
}

static void ranks_all_nan(void **state)
{
    (void)state;
    const double values[] = {NAN, NAN};
    double ranks[2] = {0, 0};

    assert_int_equal(cs_rank_average(values, 2, ranks), CS_OK);
    assert_true(isnan(ranks[0]));
    assert_true(isnan(ranks[1]));
}

/* Negative numbers of every magnitude order correctly: the radix key
 * flips them. */
static void ranks_random_against_comparisons(void **state)
{
    (void)state;
    enum { N = 2000 };
    test_rng rng = {7};
    double values[N];
    double ranks[N];
    for (size_t i = 0; i < N; i++)
        values[i] = (rng_uniform(&rng) - 0.5) *
                    pow(10.0, (double)(i % 40) - 20);
    for (size_t i = 0; i < N; i += 17)
        values[i] = values[(i * 31) % N];

    assert_int_equal(cs_rank_average(values, N, ranks), CS_OK);
    for (size_t i = 0; i < N; i += 7) {
        double below = 0, equal = 0;
        for (size_t j = 0; j < N; j++) {
            below += values[j] < values[i];
            equal += values[j] == values[i];
        }
        assert_true(ranks[i] == below + 0.5 * (equal + 1.0));
    }
}

static void ranks_errors(void **state)
{
    (void)state;
    const double values[] = {1, 2};
    double ranks[2] = {-1, -1};

    assert_int_equal(cs_rank_average(NULL, 2, ranks), CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "values");
    assert_int_equal(cs_rank_average(values, 2, NULL), CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "ranks");
    assert_int_equal(cs_rank_average(values, 0, ranks), CS_E_ZERO_SIZE);
    assert_true(ranks[0] == -1 && ranks[1] == -1);
}

static void ranks_allocation_failures(void **state)
{
    (void)state;
    const double values[] = {2, 1, 2, NAN, 0};
    double ranks[5] = {-1, -1, -1, -1, -1};

    for (long k = 1;; k++) {
        cs__set_alloc_failure_countdown(k);
        const cs_status st = cs_rank_average(values, 5, ranks);
        cs__set_alloc_failure_countdown(0);
        if (st == CS_OK)
            break;
        assert_int_equal(st, CS_E_OUT_OF_MEMORY);
        for (size_t i = 0; i < 5; i++)
            assert_true(ranks[i] == -1);
    }
    assert_true(ranks[0] == 3.5);
}

/* ------------------------------------------------------------------------
 * Hand-worked cases
 * ------------------------------------------------------------------------ */

/* x = 1 2 3 4, y = 1 3 2 2. Ranks of y are 1, 4, 2.5, 2.5; centered ranks
 * are (-1.5, -0.5, 0.5, 1.5) and (-1.5, 1.5, 0, 0), so Sxy = 1.5, Sxx = 5,
 * Syy = 4.5 and rho = 1.5 / sqrt(22.5) = 1 / sqrt(10). Of the 6 pairs of
 * pairs, 3 are concordant, 2 discordant and 1 tied in y, so tau-b =
 * (3 - 2) / sqrt(6 * 5) = 1 / sqrt(30). */
static void hand_case_tie_in_y(void **state)
{
    (void)state;
    const double x[] = {1, 2, 3, 4};
    const double y[] = {1, 3, 2, 2};
    double rho = 0, tau = 0;
    size_t n_used = 0;

    assert_int_equal(cs_spearman(x, y, 4, NULL, &rho, &n_used), CS_OK);
    assert_close(rho, 1.0 / sqrt(10.0));
    assert_int_equal(n_used, 4);
    assert_int_equal(cs_kendall_tau_b(x, y, 4, NULL, &tau, &n_used), CS_OK);
    assert_close(tau, 1.0 / sqrt(30.0));
}

/* x = 1 1 2 2 3, y = 1 1 2 3 3. Of P = 10 pairs of pairs, T_x = 2 (pairs
 * 1-2 and 3-4), T_y = 2 (1-2 and 4-5), T_xy = 1 (1-2), and the other 7
 * are concordant, so tau-b = 7 / sqrt(8 * 8) = 0.875. Average ranks are
 * 1.5 1.5 3.5 3.5 5 and 1.5 1.5 3 4.5 4.5; centered, Sxy = 8.25 and
 * Sxx = Syy = 9, so rho = 8.25 / 9. */
static void hand_case_joint_ties(void **state)
{
    (void)state;
    const double x[] = {1, 1, 2, 2, 3};
    const double y[] = {1, 1, 2, 3, 3};
    double rho = 0, tau = 0;

    assert_int_equal(cs_spearman(x, y, 5, NULL, &rho, NULL), CS_OK);
    assert_close(rho, 8.25 / 9.0);
    assert_int_equal(cs_kendall_tau_b(x, y, 5, NULL, &tau, NULL), CS_OK);
    assert_close(tau, 0.875);
}

static void hand_case_reversed(void **state)
{
    (void)state;
    const double x[] = {1, 2, 3};
    const double y[] = {30, 20, 10};
    double rho = 0, tau = 0;

    assert_int_equal(cs_spearman(x, y, 3, NULL, &rho, NULL), CS_OK);
    assert_true(rho == -1.0);
    assert_int_equal(cs_kendall_tau_b(x, y, 3, NULL, &tau, NULL), CS_OK);
    assert_true(tau == -1.0);
}

/* Positives score 0.35 and 0.8, negatives 0.1 and 0.4: 3 of the 4
 * (positive, negative) pairs are ordered, so the AUROC is 0.75. */
static void hand_case_auroc(void **state)
{
    (void)state;
    const double scores[] = {0.1, 0.4, 0.35, 0.8};
    const double labels[] = {0, 0, 1, 1};
    double auroc = 0;
    size_t n_used = 0;

    assert_int_equal(cs_auroc(scores, labels, 4, NULL, &auroc, &n_used),
                     CS_OK);
    assert_close(auroc, 0.75);
    assert_int_equal(n_used, 4);
}

/* Positives score 2 and 3, negatives 1 and 2: pairs count 1, 0.5 (the
 * tie), 1 and 1, so the AUROC is 3.5 / 4. */
static void hand_case_auroc_ties(void **state)
{
    (void)state;
    const double scores[] = {1, 2, 2, 3};
    const double labels[] = {0, 0, 1, 1};
    double auroc = 0;

    assert_int_equal(cs_auroc(scores, labels, 4, NULL, &auroc, NULL), CS_OK);
    assert_close(auroc, 0.875);
}

/* The pairs with a NaN are dropped, which leaves the first hand case. */
static void nan_pairs_dropped(void **state)
{
    (void)state;
    const double x[] = {1, NAN, 2, 3, 7, 4};
    const double y[] = {1, 5, 3, 2, NAN, 2};
    const double labels[] = {0, 1, NAN, 1, 1, 0};
    double rho = 0, tau = 0, auroc = 0;
    size_t n_used = 0;

    assert_int_equal(cs_spearman(x, y, 6, NULL, &rho, &n_used), CS_OK);
    assert_close(rho, 1.0 / sqrt(10.0));
    assert_int_equal(n_used, 4);
    assert_int_equal(cs_kendall_tau_b(x, y, 6, NULL, &tau, &n_used), CS_OK);
    assert_close(tau, 1.0 / sqrt(30.0));
    assert_int_equal(n_used, 4);

    /* Scores 1, 3, 7, 4 with labels 0, 1, 1, 0: pairs (3, 1), (3, 4),
     * (7, 1), (7, 4) give 1 + 0 + 1 + 1. */
    assert_int_equal(cs_auroc(x, labels, 6, NULL, &auroc, &n_used), CS_OK);
    assert_close(auroc, 0.75);
    assert_int_equal(n_used, 4);
}

static void undefined_statistics_are_nan(void **state)
{
    (void)state;
    const double constant[] = {2, 2, 2};
    const double varying[] = {1, 2, 3};
    const double one_class[] = {1, 1, 1};
    const double nans[] = {NAN, NAN, 1};
    double value = 0;
    size_t n_used = 99;

    assert_int_equal(cs_spearman(constant, varying, 3, NULL, &value, NULL),
                     CS_OK);
    assert_true(isnan(value));
    assert_int_equal(cs_kendall_tau_b(varying, constant, 3, NULL, &value,
                                      NULL),
                     CS_OK);
    assert_true(isnan(value));
    assert_int_equal(cs_auroc(varying, one_class, 3, NULL, &value, NULL),
                     CS_OK);
    assert_true(isnan(value));

    assert_int_equal(cs_spearman(nans, varying, 3, NULL, &value, &n_used),
                     CS_OK);
    assert_true(isnan(value));
    assert_int_equal(n_used, 1);
    assert_int_equal(cs_kendall_tau_b(nans, nans, 2, NULL, &value, &n_used),
                     CS_OK);
    assert_true(isnan(value));
    assert_int_equal(n_used, 0);
}

/* ------------------------------------------------------------------------
 * Subsets and argument errors
 * ------------------------------------------------------------------------ */

static void subset_mask_and_indices(void **state)
{
    (void)state;
    /* Elements 1, 3, 4, 6 form the first hand case. */
    const double x[] = {9, 1, 5, 2, 3, 0, 4};
    const double y[] = {0, 1, 8, 3, 2, 7, 2};
    const uint8_t mask[] = {0, 1, 0, 1, 1, 0, 1};
    const int64_t ids[] = {6, 1, 4, 3};
    double rho = 0, tau = 0;
    size_t n_used = 0;

    const cs_subset by_mask = {mask, NULL, 0};
    assert_int_equal(cs_spearman(x, y, 7, &by_mask, &rho, &n_used), CS_OK);
    assert_close(rho, 1.0 / sqrt(10.0));
    assert_int_equal(n_used, 4);

    const cs_subset by_ids = {NULL, ids, 4};
    assert_int_equal(cs_kendall_tau_b(x, y, 7, &by_ids, &tau, &n_used), CS_OK);
    assert_close(tau, 1.0 / sqrt(30.0));
    assert_int_equal(n_used, 4);

    const cs_subset everything = {NULL, NULL, 0};
    assert_int_equal(cs_spearman(x, y, 7, &everything, &rho, &n_used), CS_OK);
    assert_int_equal(n_used, 7);
}

static void subset_errors(void **state)
{
    (void)state;
    const double x[] = {1, 2, 3};
    const double y[] = {1, 3, 2};
    const uint8_t mask[] = {1, 1, 1};
    const int64_t ids[] = {0, 2, 0};
    const int64_t far[] = {0, 3};
    double rho = 42;

    const cs_subset both = {mask, ids, 2};
    assert_int_equal(cs_spearman(x, y, 3, &both, &rho, NULL),
                     CS_E_INVALID_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "subset");

    const cs_subset repeated = {NULL, ids, 3};
    assert_int_equal(cs_spearman(x, y, 3, &repeated, &rho, NULL),
                     CS_E_INVALID_ARGUMENT);
    assert_int_equal(cs_last_error()->index, 2);
    assert_int_equal(cs_last_error()->example_id, 0);
    assert_message_contains("listed earlier");

    const cs_subset outside = {NULL, far, 2};
    assert_int_equal(cs_kendall_tau_b(x, y, 3, &outside, &rho, NULL),
                     CS_E_ID_OUT_OF_RANGE);
    assert_int_equal(cs_last_error()->index, 1);
    assert_string_equal(cs_last_error()->value, "3");
    assert_string_equal(cs_last_error()->function, "cs_kendall_tau_b");

    const cs_subset null_ids = {NULL, NULL, 2};
    assert_int_equal(cs_spearman(x, y, 3, &null_ids, &rho, NULL),
                     CS_E_NULL_ARGUMENT);
    const cs_subset empty_ids = {NULL, ids, 0};
    assert_int_equal(cs_spearman(x, y, 3, &empty_ids, &rho, NULL),
                     CS_E_INVALID_ARGUMENT);
    assert_true(rho == 42);
}

static void argument_errors(void **state)
{
    (void)state;
    const double x[] = {1, 2, 3};
    const double labels[] = {0, 2, 1};
    double value = 42;
    size_t n_used = 7;

    assert_int_equal(cs_spearman(NULL, x, 3, NULL, &value, NULL),
                     CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "x");
    assert_int_equal(cs_spearman(x, NULL, 3, NULL, &value, NULL),
                     CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "y");
    assert_int_equal(cs_spearman(x, x, 3, NULL, NULL, NULL),
                     CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "rho");
    assert_int_equal(cs_kendall_tau_b(x, x, 3, NULL, NULL, NULL),
                     CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "tau");
    assert_int_equal(cs_auroc(x, x, 3, NULL, NULL, NULL), CS_E_NULL_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "auroc");
    assert_int_equal(cs_kendall_tau_b(x, x, 0, NULL, &value, &n_used),
                     CS_E_ZERO_SIZE);

    assert_int_equal(cs_auroc(x, labels, 3, NULL, &value, &n_used),
                     CS_E_INVALID_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "labels");
    assert_int_equal(cs_last_error()->index, 1);
    assert_string_equal(cs_last_error()->value, "2");
    assert_true(value == 42);
    assert_int_equal(n_used, 7);
}

static void statistics_allocation_failures(void **state)
{
    (void)state;
    const double x[] = {1, 2, 3, 4, 5, 1};
    const double y[] = {2, 1, 4, 3, 5, 0};
    for (int which = 0; which < 3; which++) {
        for (long k = 1;; k++) {
            double value = 42;
            size_t n_used = 7;
            cs__set_alloc_failure_countdown(k);
            cs_status st;
            if (which == 0)
                st = cs_spearman(x, y, 6, NULL, &value, &n_used);
            else if (which == 1)
                st = cs_kendall_tau_b(x, y, 6, NULL, &value, &n_used);
            else
                st = cs_auroc(x, (const double[]){0, 1, 0, 1, 1, 0}, 6, NULL,
                              &value, &n_used);
            cs__set_alloc_failure_countdown(0);
            if (st == CS_OK)
                break;
            assert_int_equal(st, CS_E_OUT_OF_MEMORY);
            assert_true(value == 42);
            assert_int_equal(n_used, 7);
        }
    }
}

/* ------------------------------------------------------------------------
 * scipy.stats and a direct count on random data
 * ------------------------------------------------------------------------ */

static bool system_scipy_available(void)
{
    if (access(SYSTEM_PYTHON, X_OK) != 0)
        return false;
    return system(SYSTEM_PYTHON " -E -c 'import scipy.stats' "
                                ">/dev/null 2>&1") == 0;
}

static const char scipy_script[] =
    "import sys\n"
    "import numpy as np\n"
    "from scipy import stats\n"
    "x = np.load(sys.argv[1])\n"
    "y = np.load(sys.argv[2])\n"
    "labels = np.load(sys.argv[3])\n"
    "print(repr(float(stats.spearmanr(x, y)[0])))\n"
    "print(repr(float(stats.kendalltau(x, y, variant='b')[0])))\n"
    "pos = x[labels == 1]\n"
    "neg = x[labels == 0]\n"
    "u = stats.mannwhitneyu(pos, neg, alternative='two-sided').statistic\n"
    "print(repr(float(u) / (len(pos) * len(neg))))\n";

typedef struct scipy_values {
    double spearman;
    double kendall;
    double auroc;
} scipy_values;

static void write_array(const char *path, const double *values, size_t n)
{
    const int64_t shape[] = {(int64_t)n};
    assert_int_equal(cs__npy_write_file(path, CS__DTYPE_F64, shape, 1, values,
                                        "test"),
                     CS_OK);
}

static void remove_folder(const char *dir)
{
    const char *names[] = {"x.npy", "y.npy", "labels.npy", "reference.py"};
    char path[PATH_SIZE];
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        unlink(path);
    }
    rmdir(dir);
}

/* Runs the scipy script on the three arrays and reads its three values. */
static scipy_values scipy_reference(const double *x, const double *y,
                                    const double *labels, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_SIZE / 2];
    snprintf(dir, sizeof dir, "%s/cs-stats-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));

    char x_path[PATH_SIZE], y_path[PATH_SIZE], labels_path[PATH_SIZE];
    char script_path[PATH_SIZE], command[5 * PATH_SIZE];
    snprintf(x_path, sizeof x_path, "%s/x.npy", dir);
    snprintf(y_path, sizeof y_path, "%s/y.npy", dir);
    snprintf(labels_path, sizeof labels_path, "%s/labels.npy", dir);
    snprintf(script_path, sizeof script_path, "%s/reference.py", dir);
    write_array(x_path, x, n);
    write_array(y_path, y, n);
    write_array(labels_path, labels, n);
    FILE *script = fopen(script_path, "w");
    assert_non_null(script);
    fputs(scipy_script, script);
    assert_int_equal(fclose(script), 0);

    snprintf(command, sizeof command, SYSTEM_PYTHON " -E %s %s %s %s",
             script_path, x_path, y_path, labels_path);
    FILE *output = popen(command, "r");
    assert_non_null(output);
    scipy_values values;
    const int read = fscanf(output, "%lf %lf %lf", &values.spearman,
                            &values.kendall, &values.auroc);
    const int status = pclose(output);
    remove_folder(dir);
    assert_int_equal(read, 3);
    assert_int_equal(status, 0);
    return values;
}

/* Fills x, y and labels with n random values. With `levels` > 0 the values
 * are integers in [0, levels), so ties are frequent; y depends on x so
 * that the correlations are far from 0. */
static void random_data(test_rng *rng, size_t n, int levels, double *x,
                        double *y, double *labels)
{
    for (size_t i = 0; i < n; i++) {
        const double a = rng_normal(rng);
        const double b = 0.6 * a + 0.8 * rng_normal(rng);
        x[i] = levels > 0 ? floor((double)levels * rng_uniform(rng)) : a;
        y[i] = levels > 0
                   ? fmod(x[i] + floor(3.0 * rng_uniform(rng)), (double)levels)
                   : b;
        labels[i] = rng_uniform(rng) < 0.3 + 0.4 * (a > 0.0);
    }
}

static void compare_with_scipy(size_t n, int levels, uint64_t seed)
{
    test_rng rng = {seed};
    double *x = alloc_doubles(n), *y = alloc_doubles(n);
    double *labels = alloc_doubles(n);
    random_data(&rng, n, levels, x, y, labels);
    if (levels > 0) {
        for (size_t i = 0; i < n; i++)
            labels[i] = rng_uniform(&rng) < 0.2 + 0.1 * x[i] / levels;
    }

    double rho, tau, auroc;
    assert_int_equal(cs_spearman(x, y, n, NULL, &rho, NULL), CS_OK);
    assert_int_equal(cs_kendall_tau_b(x, y, n, NULL, &tau, NULL), CS_OK);
    assert_int_equal(cs_auroc(x, labels, n, NULL, &auroc, NULL), CS_OK);

    const scipy_values reference = scipy_reference(x, y, labels, n);
    printf("n=%zu levels=%d: rho %.15f (scipy %.15f), tau %.15f (scipy "
           "%.15f), auroc %.15f (scipy %.15f)\n",
           n, levels, rho, reference.spearman, tau, reference.kendall, auroc,
           reference.auroc);
    assert_close(rho, reference.spearman);
    assert_close(tau, reference.kendall);
    assert_close(auroc, reference.auroc);
    free(x);
    free(y);
    free(labels);
}

static void scipy_agreement(void **state)
{
    (void)state;
    if (!system_scipy_available()) {
        printf("skipped: " SYSTEM_PYTHON " cannot import scipy.stats; "
               "install Debian's python3-scipy\n");
        skip();
    }
    const size_t sizes[] = {10, 100, 1000, 100000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const size_t n = sizes[k];
        compare_with_scipy(n, 0, 100 + k);
        compare_with_scipy(n, 7, 200 + k);
        if (n >= 1000)
            compare_with_scipy(n, 500, 300 + k);
    }
}

/* Counts every (positive, negative) pair: the definition of the AUROC. */
static double auroc_by_pairs(const double *scores, const double *labels,
                             size_t n)
{
    double wins = 0.0;
    double pairs = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] != 1.0)
            continue;
        for (size_t j = 0; j < n; j++) {
            if (labels[j] != 0.0)
                continue;
            wins += scores[i] > scores[j]
                        ? 1.0
                        : (scores[i] == scores[j] ? 0.5 : 0.0);
            pairs += 1.0;
        }
    }
    return wins / pairs;
}

static void auroc_direct_count(void **state)
{
    (void)state;
    const size_t sizes[] = {50, 1000, 100000};
    for (size_t k = 0; k < 3; k++) {
        const size_t n = sizes[k];
        test_rng rng = {900 + k};
        double *scores = alloc_doubles(n), *labels = alloc_doubles(n);
        for (size_t i = 0; i < n; i++) {
            /* One positive in 20, scored higher on average, with ties
             * from rounding to 1/64. */
            labels[i] = rng_uniform(&rng) < 0.05;
            scores[i] = round(64.0 * (rng_normal(&rng) + labels[i])) / 64.0;
        }
        double auroc = 0;
        assert_int_equal(cs_auroc(scores, labels, n, NULL, &auroc, NULL),
                         CS_OK);
        const double expected = auroc_by_pairs(scores, labels, n);
        printf("n=%zu: auroc %.15f, direct count %.15f\n", n, auroc, expected);
        assert_close(auroc, expected);
        free(scores);
        free(labels);
    }
}

/* ------------------------------------------------------------------------
 * ImageNet size with known values
 * ------------------------------------------------------------------------ */

/* y reverses x within consecutive blocks of `block` elements (the last
 * block shorter). Without ties, a reversed block of s elements holds
 * s (s - 1) / 2 discordant pairs and its squared rank differences sum to
 * s (s^2 - 1) / 3, which give tau and rho exactly:
 * tau = 1 - 2 D / P and rho = 1 - 6 sum d^2 / (n (n^2 - 1)). */
static void imagenet_size_block_reversal(void **state)
{
    (void)state;
    const size_t n = IMAGENET_SIZE;
    const size_t block = 1000;
    double *x = alloc_doubles(n), *y = alloc_doubles(n);
    uint64_t discordant = 0;
    double squared_differences = 0.0;
    for (size_t start = 0; start < n; start += block) {
        const size_t s = n - start < block ? n - start : block;
        for (size_t k = 0; k < s; k++) {
            x[start + k] = (double)(start + k);
            y[start + k] = (double)(start + s - 1 - k);
        }
        discordant += (uint64_t)s * (s - 1) / 2;
        squared_differences += (double)s * ((double)s * s - 1.0) / 3.0;
    }

    double rho, tau;
    size_t n_used;
    assert_int_equal(cs_spearman(x, y, n, NULL, &rho, &n_used), CS_OK);
    assert_int_equal(n_used, n);
    assert_int_equal(cs_kendall_tau_b(x, y, n, NULL, &tau, &n_used), CS_OK);

    const double total = (double)n * (double)(n - 1) / 2.0;
    const double expected_tau = 1.0 - 2.0 * (double)discordant / total;
    const double nd = (double)n;
    const double expected_rho = 1.0 - 6.0 * squared_differences /
                                          (nd * (nd * nd - 1.0));
    printf("rho %.15f (expected %.15f), tau %.15f (expected %.15f)\n", rho,
           expected_rho, tau, expected_tau);
    assert_close(rho, expected_rho);
    assert_close(tau, expected_tau);
    free(x);
    free(y);
}

/* x = i and y = i mod k: heavy ties in y. The discordant pairs are counted
 * by a running histogram of earlier residues (O(n k)), and Spearman from
 * the residues' average ranks, both independent of the library's sorts. */
static void imagenet_size_residues(void **state)
{
    (void)state;
    enum { K = 10 };
    const size_t n = IMAGENET_SIZE;
    double *x = alloc_doubles(n), *y = alloc_doubles(n);
    uint64_t seen[K] = {0};
    uint64_t discordant = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned r = (unsigned)(i % K);
        x[i] = (double)i;
        y[i] = (double)r;
        for (unsigned q = r + 1; q < K; q++)
            discordant += seen[q];
        seen[r]++;
    }

    uint64_t tied_y = 0;
    double average_rank[K];
    double below = 0.0;
    for (unsigned r = 0; r < K; r++) {
        tied_y += seen[r] * (seen[r] - 1) / 2;
        average_rank[r] = below + 0.5 * ((double)seen[r] + 1.0);
        below += (double)seen[r];
    }
    const uint64_t total = (uint64_t)n * (n - 1) / 2;
    const double concordant = (double)(total - tied_y - discordant);
    const double expected_tau = (concordant - (double)discordant) /
                                sqrt((double)total * (double)(total - tied_y));

    const double mean = 0.5 * ((double)n + 1.0);
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        const double dx = (double)(i + 1) - mean;
        const double dy = average_rank[i % K] - mean;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    const double expected_rho = sxy / sqrt(sxx * syy);

    double rho, tau;
    assert_int_equal(cs_spearman(x, y, n, NULL, &rho, NULL), CS_OK);
    assert_int_equal(cs_kendall_tau_b(x, y, n, NULL, &tau, NULL), CS_OK);
    printf("rho %.15f (expected %.15f), tau %.15f (expected %.15f)\n", rho,
           expected_rho, tau, expected_tau);
    assert_close(rho, expected_rho);
    assert_close(tau, expected_tau);
    free(x);
    free(y);
}

/* Bootstrap resamples reach Kendall's tau-b as unordered pairs, which take
 * the counting-sort path; shuffled pairs must give the ordered result. */
static void kendall_unordered_pairs(void **state)
{
    (void)state;
    enum { N = 3000 };
    test_rng rng = {31};
    double x[N], y[N], labels[N];
    random_data(&rng, N, 9, x, y, labels);

    cs__pairs ordered, shuffled;
    assert_int_equal(cs__pairs_build("test", x, y, N, NULL, CS__Y_VALUES,
                                     &ordered),
                     CS_OK);
    assert_true(ordered.ordered);
    assert_int_equal(cs__pairs_alloc(N, ordered.x_distinct, ordered.y_distinct,
                                     &shuffled),
                     CS_OK);
    assert_false(shuffled.ordered);
    for (uint32_t k = 0; k < N; k++) {
        const uint32_t from = (uint32_t)((k * UINT64_C(7919)) % N);
        shuffled.x[k] = ordered.x[from];
        shuffled.y[k] = ordered.y[from];
    }

    double tau_ordered = 0, tau_shuffled = 1;
    assert_int_equal(cs__kendall_pairs(&ordered, &tau_ordered), CS_OK);
    assert_int_equal(cs__kendall_pairs(&shuffled, &tau_shuffled), CS_OK);
    assert_true(tau_ordered == tau_shuffled);

    double tau_public = 2;
    assert_int_equal(cs_kendall_tau_b(x, y, N, NULL, &tau_public, NULL),
                     CS_OK);
    assert_true(tau_public == tau_ordered);
    cs__pairs_free(&ordered);
    cs__pairs_free(&shuffled);
}

/* ------------------------------------------------------------------------
 * Bootstrap intervals
 * ------------------------------------------------------------------------ */

static void bootstrap_reproducible(void **state)
{
    (void)state;
    enum { N = 500 };
    test_rng rng = {11};
    double x[N], y[N], labels[N];
    random_data(&rng, N, 0, x, y, labels);

    cs_bootstrap_options options;
    cs_bootstrap_options_init(&options);
    assert_int_equal(options.resamples, 1000);
    assert_true(options.confidence == 0.95);
    options.resamples = 200;
    options.seed = 5;

    const cs_statistic statistics[] = {CS_STATISTIC_SPEARMAN,
                                       CS_STATISTIC_KENDALL_TAU_B,
                                       CS_STATISTIC_AUROC};
    for (size_t k = 0; k < 3; k++) {
        const double *second = statistics[k] == CS_STATISTIC_AUROC ? labels
                                                                   : y;
        cs_interval a, b, c;
        assert_int_equal(cs_bootstrap_interval(statistics[k], x, second, N,
                                               NULL, &options, &a),
                         CS_OK);
        assert_int_equal(cs_bootstrap_interval(statistics[k], x, second, N,
                                               NULL, &options, &b),
                         CS_OK);
        options.seed = 6;
        assert_int_equal(cs_bootstrap_interval(statistics[k], x, second, N,
                                               NULL, &options, &c),
                         CS_OK);
        options.seed = 5;

        assert_true(a.estimate == b.estimate);
        assert_true(a.lower == b.lower);
        assert_true(a.upper == b.upper);
        assert_int_equal(a.resamples, b.resamples);
        assert_true(a.lower != c.lower || a.upper != c.upper);
        assert_true(a.lower < a.estimate && a.estimate < a.upper);
        assert_int_equal(a.n_used, N);
        assert_int_equal(a.resamples, 200);

        double direct = 0;
        if (statistics[k] == CS_STATISTIC_SPEARMAN)
            cs_spearman(x, y, N, NULL, &direct, NULL);
        else if (statistics[k] == CS_STATISTIC_KENDALL_TAU_B)
            cs_kendall_tau_b(x, y, N, NULL, &direct, NULL);
        else
            cs_auroc(x, labels, N, NULL, &direct, NULL);
        assert_true(a.estimate == direct);
    }
}

/* Population values for a bivariate normal with correlation r: Spearman's
 * rho is (6 / pi) asin(r / 2) and Kendall's tau is (2 / pi) asin(r). 95%
 * intervals from 200 samples should cover them about 95% of the time; the
 * bounds allow for the binomial spread (sd 1.5%) and the percentile
 * method's small undercoverage at m = 100. */
static void bootstrap_coverage(void **state)
{
    (void)state;
    enum { SAMPLES = 200, M = 100 };
    const double r = 0.6;
    const double true_rho = 6.0 / PI * asin(r / 2.0);
    const double true_tau = 2.0 / PI * asin(r);
    test_rng rng = {2024};
    cs_bootstrap_options options;
    cs_bootstrap_options_init(&options);
    options.resamples = 300;

    int covered_rho = 0, covered_tau = 0;
    for (int s = 0; s < SAMPLES; s++) {
        double x[M], y[M];
        for (int i = 0; i < M; i++) {
            x[i] = rng_normal(&rng);
            y[i] = r * x[i] + sqrt(1.0 - r * r) * rng_normal(&rng);
        }
        options.seed = (uint64_t)s;
        cs_interval rho, tau;
        assert_int_equal(cs_bootstrap_interval(CS_STATISTIC_SPEARMAN, x, y, M,
                                               NULL, &options, &rho),
                         CS_OK);
        assert_int_equal(cs_bootstrap_interval(CS_STATISTIC_KENDALL_TAU_B, x,
                                               y, M, NULL, &options, &tau),
                         CS_OK);
        covered_rho += rho.lower <= true_rho && true_rho <= rho.upper;
        covered_tau += tau.lower <= true_tau && true_tau <= tau.upper;
    }
    printf("coverage of 95%% intervals over %d samples: rho %d, tau %d\n",
           SAMPLES, covered_rho, covered_tau);
    assert_in_range(covered_rho, 170, 199);
    assert_in_range(covered_tau, 170, 199);
}

static void bootstrap_subset_and_undefined(void **state)
{
    (void)state;
    const double x[] = {1, 2, 3, 4, 5, 6};
    const double y[] = {1, 3, 2, 5, 4, 6};
    const double constant[] = {1, 1, 1, 1, 1, 1};
    const uint8_t mask[] = {1, 1, 1, 0, 0, 0};
    cs_bootstrap_options options;
    cs_bootstrap_options_init(&options);
    options.resamples = 50;

    cs_interval out;
    const cs_subset first_half = {mask, NULL, 0};
    assert_int_equal(cs_bootstrap_interval(CS_STATISTIC_SPEARMAN, x, y, 6,
                                           &first_half, &options, &out),
                     CS_OK);
    assert_int_equal(out.n_used, 3);
    assert_close(out.estimate, 0.5);

    assert_int_equal(cs_bootstrap_interval(CS_STATISTIC_KENDALL_TAU_B, x,
                                           constant, 6, NULL, &options, &out),
                     CS_OK);
    assert_true(isnan(out.estimate));
    assert_true(isnan(out.lower));
    assert_true(isnan(out.upper));
    assert_int_equal(out.resamples, 0);
}

static void bootstrap_errors(void **state)
{
    (void)state;
    const double x[] = {1, 2, 3};
    cs_bootstrap_options options;
    cs_bootstrap_options_init(&options);
    cs_interval out = {.estimate = 42};

    assert_int_equal(cs_bootstrap_interval((cs_statistic)7, x, x, 3, NULL,
                                           &options, &out),
                     CS_E_INVALID_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "statistic");
    assert_int_equal(cs_bootstrap_interval(CS_STATISTIC_SPEARMAN, x, x, 3,
                                           NULL, NULL, &out),
                     CS_E_NULL_ARGUMENT);
    assert_int_equal(cs_bootstrap_interval(CS_STATISTIC_SPEARMAN, x, x, 3,
                                           NULL, &options, NULL),
                     CS_E_NULL_ARGUMENT);

    options.resamples = 0;
    assert_int_equal(cs_bootstrap_interval(CS_STATISTIC_SPEARMAN, x, x, 3,
                                           NULL, &options, &out),
                     CS_E_INVALID_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "options->resamples");
    options.resamples = 10;
    options.confidence = 1.0;
    assert_int_equal(cs_bootstrap_interval(CS_STATISTIC_SPEARMAN, x, x, 3,
                                           NULL, &options, &out),
                     CS_E_INVALID_ARGUMENT);
    assert_string_equal(cs_last_error()->argument, "options->confidence");
    options.confidence = NAN;
    assert_int_equal(cs_bootstrap_interval(CS_STATISTIC_SPEARMAN, x, x, 3,
                                           NULL, &options, &out),
                     CS_E_INVALID_ARGUMENT);
    options.confidence = 0.9;
    options.struct_size = sizeof(size_t);
    assert_int_equal(cs_bootstrap_interval(CS_STATISTIC_SPEARMAN, x, x, 3,
                                           NULL, &options, &out),
                     CS_E_INVALID_ARGUMENT);
    assert_message_contains("cs_bootstrap_options_init");
    assert_true(out.estimate == 42);

    assert_string_equal(cs_statistic_name(CS_STATISTIC_KENDALL_TAU_B),
                        "kendall_tau_b");
    assert_null(cs_statistic_name((cs_statistic)3));
}

static void bootstrap_allocation_failures(void **state)
{
    (void)state;
    const double x[] = {1, 2, 3, 4, 5};
    const double y[] = {2, 1, 4, 3, 5};
    cs_bootstrap_options options;
    cs_bootstrap_options_init(&options);
    options.resamples = 5;

    for (long k = 1;; k++) {
        cs_interval out = {.estimate = 42};
        cs__set_alloc_failure_countdown(k);
        const cs_status st = cs_bootstrap_interval(CS_STATISTIC_KENDALL_TAU_B,
                                                   x, y, 5, NULL, &options,
                                                   &out);
        cs__set_alloc_failure_countdown(0);
        if (st == CS_OK)
            break;
        assert_int_equal(st, CS_E_OUT_OF_MEMORY);
        assert_true(out.estimate == 42);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ranks_average_ties),
        cmocka_unit_test(ranks_descending_internal),
        cmocka_unit_test(ranks_signed_zeros_and_infinities),
        cmocka_unit_test(ranks_all_nan),
        cmocka_unit_test(ranks_random_against_comparisons),
        cmocka_unit_test(ranks_errors),
        cmocka_unit_test(ranks_allocation_failures),
        cmocka_unit_test(hand_case_tie_in_y),
        cmocka_unit_test(hand_case_joint_ties),
        cmocka_unit_test(hand_case_reversed),
        cmocka_unit_test(hand_case_auroc),
        cmocka_unit_test(hand_case_auroc_ties),
        cmocka_unit_test(nan_pairs_dropped),
        cmocka_unit_test(undefined_statistics_are_nan),
        cmocka_unit_test(subset_mask_and_indices),
        cmocka_unit_test(subset_errors),
        cmocka_unit_test(argument_errors),
        cmocka_unit_test(statistics_allocation_failures),
        cmocka_unit_test(scipy_agreement),
        cmocka_unit_test(auroc_direct_count),
        cmocka_unit_test(imagenet_size_block_reversal),
        cmocka_unit_test(imagenet_size_residues),
        cmocka_unit_test(kendall_unordered_pairs),
        cmocka_unit_test(bootstrap_reproducible),
        cmocka_unit_test(bootstrap_coverage),
        cmocka_unit_test(bootstrap_subset_and_undefined),
        cmocka_unit_test(bootstrap_errors),
        cmocka_unit_test(bootstrap_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
