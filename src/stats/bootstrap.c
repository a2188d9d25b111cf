/*
 * Percentile bootstrap intervals for the rank statistics.
 *
 * Resamples are drawn as indices into the coded pairs, so a resample needs
 * no new sort. The codes of the full sample still order the resampled
 * values, and the statistics only need codes in the right order (unused
 * codes have a count of 0). The random numbers come from splitmix64,
 * written out here so that an interval depends only on the seed and the
 * data, never on the C library.
 */
#include "stats/pairs.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RESAMPLES 1000
#define DEFAULT_CONFIDENCE 0.95

/* Every field up to seed; a caller compiled against this header or a
 * newer one passes at least this much. */
#define BOOTSTRAP_OPTIONS_MIN_SIZE                                            \
    (offsetof(cs_bootstrap_options, seed) + sizeof(uint64_t))

const char *cs_statistic_name(cs_statistic statistic)
{
    switch (statistic) {
    case CS_STATISTIC_SPEARMAN:
        return "spearman";
    case CS_STATISTIC_KENDALL_TAU_B:
        return "kendall_tau_b";
    case CS_STATISTIC_AUROC:
        return "auroc";
    }
    return NULL;
}

void cs_bootstrap_options_init(cs_bootstrap_options *options)
{
    if (options == NULL)
        return;
    memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
    options->resamples = DEFAULT_RESAMPLES;
    options->confidence = DEFAULT_CONFIDENCE;
    options->seed = 0;
}

/* splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): a Weyl sequence with step 0x9e3779b97f4a7c15
 * passed through a 64-bit mixing function. */
static uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Returns a uniform integer in [0, m) by Lemire's multiply-and-reject
 * method ("Fast random integer generation in an interval", 2019) on the
 * high 32 bits of each output. threshold is 2^32 mod m; products whose low
 * half falls below it are the surplus that would bias the result. */
static uint32_t draw_below(uint64_t *state, uint32_t m, uint32_t threshold)
{
    for (;;) {
        const uint64_t product = (splitmix64_next(state) >> 32) * m;
        if ((uint32_t)product >= threshold)
            return (uint32_t)(product >> 32);
    }
}

static cs_status read_options(const char *fn,
                              const cs_bootstrap_options *given,
                              cs_bootstrap_options *out)
{
    cs_bootstrap_options_init(out);
    if (given->struct_size < BOOTSTRAP_OPTIONS_MIN_SIZE)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "options",
                            "options->struct_size is %zu, below the minimum "
                            "%zu; initialise options with "
                            "cs_bootstrap_options_init()",
                            given->struct_size,
                            (size_t)BOOTSTRAP_OPTIONS_MIN_SIZE);
    const size_t known = given->struct_size < sizeof *out ? given->struct_size
                                                          : sizeof *out;
    memcpy(out, given, known);
    out->struct_size = sizeof *out;

    if (out->resamples < 1)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "options->resamples",
                            "options->resamples is %d; it must be at least "
                            "1 (1000 is usual)",
                            (int)out->resamples);
    if (!(out->confidence > 0.0 && out->confidence < 1.0))
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "options->confidence",
                            "options->confidence is %g; it must be in "
                            "(0, 1), e.g. 0.95",
                            out->confidence);
    return CS_OK;
}

static bool select_statistic(cs_statistic statistic,
                             cs__pairs_statistic *function, cs__y_kind *y_kind)
{
    switch (statistic) {
    case CS_STATISTIC_SPEARMAN:
        *function = cs__spearman_pairs;
        *y_kind = CS__Y_VALUES;
        return true;
    case CS_STATISTIC_KENDALL_TAU_B:
        *function = cs__kendall_pairs;
        *y_kind = CS__Y_VALUES;
        return true;
    case CS_STATISTIC_AUROC:
        *function = cs__auroc_pairs;
        *y_kind = CS__Y_LABELS;
        return true;
    }
    return false;
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a;
    const double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Returns the q-quantile of sorted[0 .. count-1], interpolating linearly
 * between order statistics as numpy.quantile does by default. */
static double quantile(const double *sorted, size_t count, double q)
{
    const double position = q * (double)(count - 1);
    const size_t below = (size_t)position;
    if (below + 1 >= count)
        return sorted[count - 1];
    const double fraction = position - (double)below;
    return sorted[below] + fraction * (sorted[below + 1] - sorted[below]);
}

/* Computes the statistic on `resamples` resamples of pairs and stores the
 * defined values, sorted, in values; *defined is their count. */
static cs_status resample_all(const cs__pairs *pairs,
                              cs__pairs_statistic statistic,
                              const cs_bootstrap_options *options,
                              double *values, size_t *defined)
{
    *defined = 0;
    const uint32_t m = pairs->m;
    if (m == 0)
        return CS_OK;

    cs__pairs resample;
    cs_status st = cs__pairs_alloc(m, pairs->x_distinct, pairs->y_distinct,
                                   &resample);
    if (st != CS_OK)
        return st;

    uint64_t state = options->seed;
    const uint32_t threshold = (uint32_t)(UINT32_C(0) - m) % m;
    for (int32_t b = 0; b < options->resamples && st == CS_OK; b++) {
        for (uint32_t k = 0; k < m; k++) {
            const uint32_t i = draw_below(&state, m, threshold);
            resample.x[k] = pairs->x[i];
            resample.y[k] = pairs->y[i];
        }
        double value = NAN;
        st = statistic(&resample, &value);
        if (st == CS_OK && !isnan(value))
            values[(*defined)++] = value;
    }

    cs__pairs_free(&resample);
    qsort(values, *defined, sizeof *values, compare_doubles);
    return st;
}

/* Computes the estimate and the interval of pairs into *out. */
static cs_status compute_interval(const cs__pairs *pairs,
                                  cs__pairs_statistic statistic,
                                  const cs_bootstrap_options *options,
                                  cs_interval *out)
{
    double *values = cs__alloc_array((size_t)options->resamples,
                                     sizeof *values);
    if (values == NULL)
        return CS_E_OUT_OF_MEMORY;

    double estimate = NAN;
    size_t defined = 0;
    cs_status st = statistic(pairs, &estimate);
    if (st == CS_OK)
        st = resample_all(pairs, statistic, options, values, &defined);
    if (st == CS_OK) {
        const double tail = 0.5 * (1.0 - options->confidence);
        out->estimate = estimate;
        out->lower = defined > 0 ? quantile(values, defined, tail) : NAN;
        out->upper = defined > 0 ? quantile(values, defined, 1.0 - tail) : NAN;
        out->n_used = pairs->m;
        out->resamples = (int32_t)defined;
    }

    cs__free(values);
    return st;
}

cs_status cs_bootstrap_interval(cs_statistic statistic, const double *x,
                                const double *y, size_t n,
                                const cs_subset *subset,
                                const cs_bootstrap_options *options,
                                cs_interval *out)
{
    const char *fn = "cs_bootstrap_interval";
    if (options == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "options",
                            "options is NULL; initialise one with "
                            "cs_bootstrap_options_init()");
    if (out == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "out", "out is NULL");

    cs__pairs_statistic function;
    cs__y_kind y_kind;
    if (!select_statistic(statistic, &function, &y_kind))
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "statistic",
                            "statistic is %d, not a cs_statistic value",
                            (int)statistic);
    cs_bootstrap_options checked;
    cs_status st = read_options(fn, options, &checked);
    if (st != CS_OK)
        return st;

    cs__pairs pairs;
    st = cs__pairs_build(fn, x, y, n, subset, y_kind, &pairs);
    if (st != CS_OK)
        return st;

    cs_interval result;
    st = compute_interval(&pairs, function, &checked, &result);
    const uint32_t m = pairs.m;
    cs__pairs_free(&pairs);
    if (st != CS_OK)
        return cs__fail_arg(st, fn, NULL,
                            "out of memory resampling %lu pairs %d times",
                            (unsigned long)m, (int)checked.resamples);
    *out = result;
    return CS_OK;
}
