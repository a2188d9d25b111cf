/*
 * The CS_KDE_SAMPLED method: every example scored against a random
 * reference set, stratified by class.
 *
 * Class c of N_c examples contributes M_c = round(M N_c / N) of them, but
 * at least min(N_c, 2), drawn uniformly without replacement. Fixing each
 * class's share removes the sampling noise of the class proportions from
 * KDE L and KDE +-L. Two members per class leave each member at least one
 * other reference of its own class once it is excluded from its own sums.
 *
 * Each example is then a query against the reference set, with its own
 * term left out when it is a member. cs__kde_write_scores() scales each
 * class's sum by the number of other examples of the class over the number
 * of references summed, (N_c - e) / (M_c - s). Here e is 1 for the
 * example's own class, and s is 1 for that class when the example is a
 * member. So each class sum is an unbiased estimate of the exact one.
 */
#include "kde/kde_internal.h"

#include "trainer/rng.h"

#include <stdint.h>

/* Seeds the reference stream apart from the bandwidth's chunk streams,
 * which use seed ^ ((k + 1) * an odd constant). */
#define REFERENCE_SEED_TWEAK UINT64_C(0x5851f42d4c957f2d)

/* Members to draw from a class of count examples out of n. */
static size_t class_share(size_t reference_size, size_t count, size_t n)
{
    const double exact = (double)reference_size * (double)count / (double)n;
    size_t share = (size_t)(exact + 0.5);
    const size_t minimum = count < 2 ? count : 2;
    if (share < minimum)
        share = minimum;
    if (share > count)
        share = count;
    return share;
}

/* Writes the examples of each class, class by class, into by_class
 * (n entries), and the start of each class into start (C + 1 entries). */
static void list_by_class(const cs__kde_points *points, size_t *start,
                          size_t *by_class)
{
    const int32_t n_classes = points->n_classes;
    for (int32_t c = 0; c <= n_classes; c++)
        start[c] = 0;
    for (size_t i = 0; i < points->n; i++)
        start[(points->labels != NULL ? points->labels[i] : 0) + 1]++;
    for (int32_t c = 0; c < n_classes; c++)
        start[c + 1] += start[c];

    for (size_t i = 0; i < points->n; i++) {
        const int32_t c = points->labels != NULL ? points->labels[i] : 0;
        by_class[start[c]++] = i;
    }
    /* start[c] is now the end of class c, so shift back to the starts. */
    for (int32_t c = n_classes; c > 0; c--)
        start[c] = start[c - 1];
    start[0] = 0;
}

/* Moves a uniform random subset of `share` of the `count` entries at
 * members to its front (the first steps of a Fisher-Yates shuffle). */
static void draw_front(cs__rng *rng, size_t *members, size_t count,
                       size_t share)
{
    for (size_t k = 0; k < share; k++) {
        const size_t pick = k + (size_t)cs__rng_below(rng, count - k);
        const size_t swap = members[k];
        members[k] = members[pick];
        members[pick] = swap;
    }
}

cs_status cs__kde_sample_reference(const char *fn,
                                   const cs__kde_points *points,
                                   size_t reference_size, uint64_t seed,
                                   size_t **members, size_t *n_members)
{
    const size_t n_classes = (size_t)points->n_classes;
    size_t *start = cs__alloc_array(n_classes + 1, sizeof(size_t));
    size_t *by_class = cs__alloc_array(points->n, sizeof(size_t));
    if (start == NULL || by_class == NULL) {
        cs__free(start);
        cs__free(by_class);
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the index of %zu examples by "
                            "class",
                            points->n);
    }
    list_by_class(points, start, by_class);

    cs__rng rng;
    cs__rng_seed(&rng, seed ^ REFERENCE_SEED_TWEAK);

    /* Compact each class's draw to the front of the list, in class order. */
    size_t drawn = 0;
    for (size_t c = 0; c < n_classes; c++) {
        const size_t count = start[c + 1] - start[c];
        const size_t share = class_share(reference_size, count, points->n);
        size_t *members_of_class = by_class + start[c];

        draw_front(&rng, members_of_class, count, share);
        for (size_t k = 0; k < share; k++)
            by_class[drawn + k] = members_of_class[k];
        drawn += share;
    }

    cs__free(start);
    *members = by_class;
    *n_members = drawn;
    return CS_OK;
}

/* Returns a new array mapping each example to its row in the sample, or
 * SIZE_MAX for an example that is not a member; NULL when allocation
 * fails. */
static size_t *member_rows(const cs__kde_set *sample, size_t n)
{
    size_t *rows = cs__alloc_array(n, sizeof(size_t));
    if (rows == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        rows[i] = SIZE_MAX;
    for (size_t r = 0; r < sample->n; r++)
        rows[sample->source[r]] = r;
    return rows;
}

/* Scores the examples against the built sample. */
static cs_status
score_against_sample(const char *fn, const cs__kde_points *points,
                     const cs__kde_set *sample, const double *centre, double h,
                     const cs__kde_config *config, const cs_kde_result *result)
{
    size_t *population = cs__kde_class_counts(points);
    size_t *sampled = cs__kde_set_class_sizes(sample);
    size_t *rows = member_rows(sample, points->n);
    cs_status status = CS_OK;
    if (population == NULL || sampled == NULL || rows == NULL)
        status = cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                              "cannot allocate the membership of %zu "
                              "examples in the reference set",
                              points->n);

    if (status == CS_OK) {
        const cs__kde_scaling scaling = {
            .population = points->n,
            .class_population = population,
            .class_reference = sampled,
            .exclude_self = true,
        };
        status = cs__kde_cross_scores(fn, sample, points, centre, 1.0 / h,
                                      rows, &scaling, config, result);
    }
    cs__free(population);
    cs__free(sampled);
    cs__free(rows);
    return status;
}

cs_status cs__kde_sampled_scores(const char *fn, const cs__kde_points *points,
                                 const double *centre, double h,
                                 const cs__kde_config *config,
                                 const cs_kde_result *result,
                                 size_t *reference_count)
{
    size_t *members = NULL;
    size_t n_members = 0;
    cs_status status =
        cs__kde_sample_reference(fn, points,
                                 (size_t)config->options.reference_size,
                                 config->options.seed, &members, &n_members);
    if (status != CS_OK)
        return status;

    cs__kde_set sample;
    status = cs__kde_set_build(fn, points, members, n_members, centre, 1.0 / h,
                               &sample);
    cs__free(members);
    if (status != CS_OK)
        return status;

    status = score_against_sample(fn, points, &sample, centre, h, config,
                                  result);
    if (status == CS_OK)
        *reference_count = sample.n;
    cs__kde_set_free(&sample);
    return status;
}
