/*
 * Ranks with ties averaged, the convention of scipy.stats.rankdata's
 * "average" method and of Spearman's rho with ties. The values are sorted
 * once by radix sort into dense codes. The elements with code c then share
 * the rank below(c) + (count(c) + 1) / 2, where below(c) counts the
 * elements with a smaller code.
 */
#include "stats/rank.h"

#include "stats/sort.h"

#include <math.h>

/* Replaces the code counts in table[0 .. distinct-1] by each code's
 * average rank. */
static void counts_to_ranks(double *table, uint32_t distinct)
{
    double below = 0.0;
    for (uint32_t c = 0; c < distinct; c++) {
        const double count = table[c];
        table[c] = below + 0.5 * (count + 1.0);
        below += count;
    }
}

cs_status cs__rank_average(const double *values, size_t n, int direction,
                           double *ranks)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += !isnan(values[i]);
    if (m > CS__STATS_MAX_COUNT)
        return CS_E_OVERFLOW;

    /* compact first contains the non-NaN values and, once they are coded,
     * the average rank of each code (there are at most m codes). */
    double *compact = cs__alloc_array(m, sizeof *compact);
    uint32_t *codes = cs__alloc_array(m, sizeof *codes);
    cs_status st = CS_E_OUT_OF_MEMORY;
    if (compact != NULL && codes != NULL) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (!isnan(values[i]))
                compact[k++] = direction < 0 ? -values[i] : values[i];

        uint32_t distinct = 0;
        st = cs__dense_codes(compact, (uint32_t)m, codes, &distinct);
        if (st == CS_OK) {
            for (uint32_t c = 0; c < distinct; c++)
                compact[c] = 0.0;
            for (size_t j = 0; j < m; j++)
                compact[codes[j]] += 1.0;
            counts_to_ranks(compact, distinct);

            k = 0;
            for (size_t i = 0; i < n; i++)
                ranks[i] = isnan(values[i]) ? NAN : compact[codes[k++]];
        }
    }

    cs__free(compact);
    cs__free(codes);
    return st;
}

cs_status cs_rank_average(const double *values, size_t n, double *ranks)
{
    const char *fn = "cs_rank_average";
    if (values == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "values",
                            "values is NULL");
    if (ranks == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "ranks", "ranks is NULL");
    if (n == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, fn, "n",
                            "n is 0; pass at least one value");

    const cs_status st = cs__rank_average(values, n, +1, ranks);
    if (st == CS_E_OVERFLOW)
        return cs__fail_arg(st, fn, "n",
                            "more than 2^32 - 1 non-NaN values; rank at "
                            "most %lu",
                            (unsigned long)CS__STATS_MAX_COUNT);
    if (st != CS_OK)
        return cs__fail_arg(st, fn, NULL,
                            "out of memory ranking %zu values (about %zu MB "
                            "needed)",
                            n, n / 25000 + 1);
    return CS_OK;
}
