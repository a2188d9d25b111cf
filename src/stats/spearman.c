/*
 * Spearman's rho: the Pearson correlation of average ranks.
 *
 * With dense codes the average rank of every element with code c is
 * below(c) + (count(c) + 1) / 2, where below(c) counts the elements with a
 * smaller code, so ranks come from one histogram per side, without a sort.
 * The mean of average ranks is always (m + 1) / 2, so the ranks are
 * centered exactly before the products are summed.
 */
#include "stats/pairs.h"

#include <math.h>
#include <string.h>

/* Terms summed per block before the block joins the total, which keeps the
 * rounding error of a sum over millions of terms near that of a sum over
 * a few thousand. */
#define SUM_BLOCK 4096

/* Replaces the code counts in centered[0 .. distinct-1] by each code's
 * average rank minus (m + 1) / 2, and returns the sum over elements of the
 * squared centered ranks. */
static double center_ranks(uint32_t m, uint32_t distinct, double *centered)
{
    const double mean_rank = 0.5 * ((double)m + 1.0);
    double below = 0.0;
    double sum_squares = 0.0;
    for (uint32_t c = 0; c < distinct; c++) {
        const double count = centered[c];
        const double deviation = below + 0.5 * (count + 1.0) - mean_rank;
        centered[c] = deviation;
        sum_squares += count * deviation * deviation;
        below += count;
    }
    return sum_squares;
}

static void count_codes(const uint32_t *codes, uint32_t m, double *counts,
                        uint32_t distinct)
{
    memset(counts, 0, (size_t)distinct * sizeof *counts);
    for (uint32_t i = 0; i < m; i++)
        counts[codes[i]] += 1.0;
}

/* Returns the sum over pairs of the product of centered ranks. */
static double sum_products(const cs__pairs *p, const double *rank_x,
                           const double *rank_y)
{
    double total = 0.0;
    for (uint32_t start = 0; start < p->m; start += SUM_BLOCK) {
        const uint32_t end = p->m - start > SUM_BLOCK ? start + SUM_BLOCK
                                                      : p->m;
        double block = 0.0;
        for (uint32_t i = start; i < end; i++)
            block += rank_x[p->x[i]] * rank_y[p->y[i]];
        total += block;
    }
    return total;
}

cs_status cs__spearman_pairs(const cs__pairs *pairs, double *value)
{
    *value = NAN;
    if (pairs->m < 2)
        return CS_OK;

    double *rank_x = cs__alloc_array(pairs->x_distinct, sizeof *rank_x);
    double *rank_y = cs__alloc_array(pairs->y_distinct, sizeof *rank_y);
    if (rank_x == NULL || rank_y == NULL) {
        cs__free(rank_x);
        cs__free(rank_y);
        return CS_E_OUT_OF_MEMORY;
    }

    count_codes(pairs->x, pairs->m, rank_x, pairs->x_distinct);
    count_codes(pairs->y, pairs->m, rank_y, pairs->y_distinct);
    const double sxx = center_ranks(pairs->m, pairs->x_distinct, rank_x);
    const double syy = center_ranks(pairs->m, pairs->y_distinct, rank_y);

    /* A constant side has every deviation 0: the correlation is
     * undefined. */
    if (sxx > 0.0 && syy > 0.0) {
        const double sxy = sum_products(pairs, rank_x, rank_y);
        const double rho = sxy / sqrt(sxx * syy);
        *value = fmax(-1.0, fmin(1.0, rho));
    }

    cs__free(rank_x);
    cs__free(rank_y);
    return CS_OK;
}

cs_status cs_spearman(const double *x, const double *y, size_t n,
                      const cs_subset *subset, double *rho, size_t *n_used)
{
    if (rho == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, "cs_spearman", "rho",
                            "rho is NULL");
    return cs__statistic_run("cs_spearman", cs__spearman_pairs, CS__Y_VALUES,
                             x, y, n, subset, rho, n_used);
}
