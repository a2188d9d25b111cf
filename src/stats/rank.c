/*
 * Ranks with ties averaged, the convention of scipy.stats.rankdata's
 * "average" method and of Spearman's rho with ties.
 */
#include "stats/rank.h"

#include <math.h>
#include <stdlib.h>

typedef struct keyed {
    double key;
    size_t index;
} keyed;

/* Orders by key, then by index so the sort is deterministic. */
static int compare_keyed(const void *a, const void *b)
{
    const keyed *x = a;
    const keyed *y = b;
    if (x->key < y->key)
        return -1;
    if (x->key > y->key)
        return 1;
    return (x->index > y->index) - (x->index < y->index);
}

cs_status cs__rank_average(const double *values, size_t n, int direction,
                           double *ranks)
{
    keyed *order = cs__alloc_array(n, sizeof *order);
    if (order == NULL && n > 0)
        return CS_E_OUT_OF_MEMORY;

    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        ranks[i] = NAN;
        if (isnan(values[i]))
            continue;
        order[m].key = direction < 0 ? -values[i] : values[i];
        order[m].index = i;
        m++;
    }
    qsort(order, m, sizeof *order, compare_keyed);

    /* Each run of equal keys [start, end) shares the mean of ranks
     * start + 1 .. end. */
    size_t start = 0;
    while (start < m) {
        size_t end = start + 1;
        while (end < m && order[end].key == order[start].key)
            end++;
        const double rank = 0.5 * (double)(start + 1 + end);
        for (size_t k = start; k < end; k++)
            ranks[order[k].index] = rank;
        start = end;
    }

    cs__free(order);
    return CS_OK;
}
