/*
 * cs_kde_query(): scores of new points against a reference set, where the
 * sums run over every reference example (or over a stratified sample of
 * them with CS_KDE_SAMPLED) and exclude nothing, and the neighbour scores
 * over the k nearest reference examples.
 */
#include "kde/kde_internal.h"

/* Builds the reference set that the queries are summed against: every
 * reference example, or the stratified sample. Both sides are divided by
 * the same float(1 / h) here, so the copy that the bandwidth pass rescaled
 * in two roundings is not reused. */
static cs_status build_reference(const char *fn,
                                 const cs__kde_points *reference,
                                 const double *centre, double h,
                                 const cs__kde_config *config,
                                 cs__kde_set *set)
{
    const bool sampled = config->options.method == CS_KDE_SAMPLED &&
                         (uint64_t)config->options.reference_size <
                             reference->n;
    if (!sampled)
        return cs__kde_set_build(fn, reference, NULL, 0, centre, 1.0 / h, set);

    size_t *members = NULL;
    size_t n_members = 0;
    cs_status status =
        cs__kde_sample_reference(fn, reference,
                                 (size_t)config->options.reference_size,
                                 config->options.seed, &members, &n_members);
    if (status == CS_OK)
        status = cs__kde_set_build(fn, reference, members, n_members, centre,
                                   1.0 / h, set);
    cs__free(members);
    return status;
}

static cs_status score_queries(const char *fn, const cs__kde_points *reference,
                               const cs__kde_points *queries,
                               const double *centre, double h,
                               const cs__kde_set *set,
                               const cs__kde_config *config,
                               const cs_kde_result *result)
{
    size_t *population = cs__kde_class_counts(reference);
    size_t *summed = cs__kde_set_class_sizes(set);
    cs_status status = CS_OK;
    if (population == NULL || summed == NULL)
        status = cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                              "cannot allocate the class counts");

    if (status == CS_OK) {
        const cs__kde_scaling scaling = {
            .population = reference->n,
            .class_population = population,
            .class_reference = summed,
            .exclude_self = false,
        };
        status = cs__kde_cross_scores(fn, set, queries, centre, 1.0 / h, NULL,
                                      &scaling, config, result);
    }
    cs__free(population);
    cs__free(summed);
    return status;
}

static cs_status query_all(const char *fn, const cs__kde_points *reference,
                           const cs__kde_points *queries,
                           const cs__kde_config *config, cs_kde_result *result)
{
    cs__kde_moments moments;
    cs_status status = cs__kde_moments_compute(fn, reference, &moments);
    if (status != CS_OK)
        return status;

    cs__kde_set all_rows;
    cs__kde_set set = {0};
    double h = 0.0;
    double error = 0.0;
    status = cs__kde_resolve_bandwidth(fn, reference, &moments, config,
                                       &all_rows, &h, &error);
    cs__kde_set_free(&all_rows);

    /* Neighbour scores stay in scratch arrays until the kernel sums have
     * written their buffers, as in cs_kde_scores(). */
    cs__kde_knn_outputs neighbors = {NULL, NULL, NULL, NULL, 0};
    if (status == CS_OK && cs__kde_wants_neighbors(result))
        status = cs__kde_knn_run(fn, reference, queries, moments.centre, h,
                                 config, result, &neighbors);

    const bool sums = cs__kde_wants_sums(result);
    if (status == CS_OK && sums)
        status = build_reference(fn, reference, moments.centre, h, config,
                                 &set);
    if (status == CS_OK && sums)
        status = score_queries(fn, reference, queries, moments.centre, h, &set,
                               config, result);

    if (status == CS_OK) {
        cs__kde_knn_commit(&neighbors, result);
        result->bandwidth = h;
        result->bandwidth_se = error;
        result->reference_count = (int64_t)set.n;
    }
    cs__kde_knn_release(&neighbors);
    cs__kde_set_free(&set);
    cs__kde_moments_free(&moments);
    return status;
}

/* Checks both example arrays. Labels are required for a labelled score
 * and checked wherever they are given. */
static cs_status check_inputs(const char *fn, const cs_examples *reference,
                              int32_t n_classes, const cs_examples *queries,
                              const cs__kde_config *config, bool labelled,
                              cs__kde_points *reference_points,
                              cs__kde_points *query_points)
{
    /* A single reference example has no pairs to average over. */
    const size_t min_reference = config->options.bandwidth > 0.0 ? 1 : 2;
    cs_status status = cs__kde_check_examples(fn, "reference", reference,
                                              n_classes, labelled,
                                              min_reference, reference_points);
    if (status == CS_OK)
        status = cs__kde_check_examples(fn, "queries", queries, n_classes,
                                        labelled, 1, query_points);
    if (status != CS_OK)
        return status;

    if (query_points->dim != reference_points->dim)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "queries",
                            "queries->n_inputs is %zu but "
                            "reference->n_inputs is %zu; both must have the "
                            "same feature dimension",
                            query_points->dim, reference_points->dim);
    return CS_OK;
}

cs_status cs_kde_query(const cs_examples *reference, int32_t n_classes,
                       const cs_examples *queries,
                       const cs_kde_options *options, cs_kde_result *result)
{
    static const char fn[] = "cs_kde_query";
    if (reference == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "reference",
                            "reference is NULL");
    if (queries == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "queries",
                            "queries is NULL");
    if (result == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "result",
                            "result is NULL");

    cs__kde_config config;
    cs_status status = cs__kde_read_config(fn, options, &config);
    if (status == CS_OK)
        status = cs__kde_check_result(fn, result, queries->n);
    if (status != CS_OK)
        return status;

    cs__kde_points reference_points;
    cs__kde_points query_points;
    status = check_inputs(fn, reference, n_classes, queries, &config,
                          cs__kde_wants_labels(result), &reference_points,
                          &query_points);
    if (status == CS_OK && cs__kde_wants_neighbors(result))
        status = cs__kde_knn_check(fn, &config, reference_points.n, false);
    if (status != CS_OK)
        return status;

    const cs__kde_blas_state blas = cs__kde_blas_single_begin();
    status = query_all(fn, &reference_points, &query_points, &config, result);
    cs__kde_blas_single_end(blas);
    return status;
}
