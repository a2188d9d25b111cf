/*
 * Area under the ROC curve with ties, as the Mann-Whitney U statistic of
 * the positives divided by n_positive * n_negative.
 *
 * With dense score codes, U counts for each positive the negatives with a
 * smaller score plus half those with an equal one, which is what the sum
 * of the positives' average ranks minus n_positive (n_positive + 1) / 2
 * gives. Counting per code keeps 2 U an exact 64-bit integer.
 */
#include "stats/pairs.h"

#include <math.h>

cs_status cs__auroc_pairs(const cs__pairs *pairs, double *value)
{
    *value = NAN;
    const uint32_t distinct = pairs->x_distinct;
    uint32_t *positives = cs__calloc(distinct, sizeof *positives);
    uint32_t *negatives = cs__calloc(distinct, sizeof *negatives);
    if (positives == NULL || negatives == NULL) {
        cs__free(positives);
        cs__free(negatives);
        return CS_E_OUT_OF_MEMORY;
    }

    for (uint32_t i = 0; i < pairs->m; i++) {
        if (pairs->y[i] != 0)
            positives[pairs->x[i]]++;
        else
            negatives[pairs->x[i]]++;
    }

    /* twice_u <= 2 n_positive n_negative <= m^2 / 2 < 2^64. */
    uint64_t twice_u = 0;
    uint64_t negatives_below = 0;
    uint64_t n_positive = 0;
    for (uint32_t c = 0; c < distinct; c++) {
        twice_u += (uint64_t)positives[c] *
                   (2 * negatives_below + negatives[c]);
        negatives_below += negatives[c];
        n_positive += positives[c];
    }

    const uint64_t n_negative = negatives_below;
    if (n_positive > 0 && n_negative > 0)
        *value = (double)twice_u /
                 (2.0 * (double)n_positive * (double)n_negative);

    cs__free(positives);
    cs__free(negatives);
    return CS_OK;
}

cs_status cs_auroc(const double *scores, const double *labels, size_t n,
                   const cs_subset *subset, double *auroc, size_t *n_used)
{
    if (auroc == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, "cs_auroc", "auroc",
                            "auroc is NULL");
    return cs__statistic_run("cs_auroc", cs__auroc_pairs, CS__Y_LABELS, scores,
                             labels, n, subset, auroc, n_used);
}
