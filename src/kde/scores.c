/*
 * cs_kde_scores() and cs_kde_bandwidth(): argument checks, the choice of
 * bandwidth and method, the order of the kernel sums and the neighbour
 * scores, and the step from per-class kernel sums to the three scores.
 */
#include "kde/kde_internal.h"

#include <string.h>

void cs__kde_write_scores(const cs__kde_scaling *scaling,
                          const double *class_sums, int32_t n_classes,
                          int32_t label, bool in_reference, size_t index,
                          const cs_kde_result *result)
{
    double total = 0.0;
    double same = 0.0;
    for (int32_t c = 0; c < n_classes; c++) {
        const bool own = c == label;
        const double others = (double)scaling->class_population[c] -
                              (own && scaling->exclude_self ? 1.0 : 0.0);
        const double summed = (double)scaling->class_reference[c] -
                              (own && in_reference ? 1.0 : 0.0);
        /* With nothing summed there are no others either: the sum is 0. */
        const double factor = summed > 0.0 ? others / summed : 0.0;
        const double sum = class_sums[c] * factor;

        total += sum;
        if (own)
            same = sum;
    }

    const double n = (double)scaling->population;
    if (result->kde_free != NULL)
        result->kde_free[index] = (float)(total / n);
    if (result->kde_l != NULL)
        result->kde_l[index] = (float)(same / n);
    if (result->kde_pm != NULL)
        result->kde_pm[index] = (float)((2.0 * same - total) / n);
}

/* Evaluates every pair of rows and writes the scores. all_rows is the set
 * built by the bandwidth pass, or has rows NULL. */
static cs_status exact_scores(const char *fn, const cs__kde_points *points,
                              const double *centre, double h,
                              cs__kde_set *all_rows,
                              const cs__kde_config *config,
                              const cs_kde_result *result)
{
    cs_status status = CS_OK;
    if (all_rows->rows == NULL)
        status = cs__kde_set_build(fn, points, NULL, 0, centre, 1.0 / h,
                                   all_rows);
    if (status != CS_OK)
        return status;

    const size_t n_classes = (size_t)all_rows->n_classes;
    size_t sum_count;
    if (!cs__mul_size(all_rows->n, n_classes, &sum_count))
        return cs__fail_arg(CS_E_OVERFLOW, fn, "n_classes",
                            "%zu examples x %zu classes of sums do not fit "
                            "in memory",
                            all_rows->n, n_classes);
    double *class_sums = cs__calloc(sum_count, sizeof(double));
    size_t *sizes = cs__kde_set_class_sizes(all_rows);
    if (class_sums == NULL || sizes == NULL)
        status = cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                              "cannot allocate %zu x %zu kernel sums",
                              all_rows->n, n_classes);
    if (status == CS_OK)
        status = cs__kde_symmetric_sums(fn, all_rows, config, class_sums);

    if (status == CS_OK) {
        /* Every example is both scored and summed over. */
        const cs__kde_scaling scaling = {
            .population = all_rows->n,
            .class_population = sizes,
            .class_reference = sizes,
            .exclude_self = true,
        };
        for (size_t r = 0; r < all_rows->n; r++)
            cs__kde_write_scores(&scaling, class_sums + r * n_classes,
                                 all_rows->n_classes, all_rows->labels[r],
                                 true, all_rows->source[r], result);
    }
    cs__free(class_sums);
    cs__free(sizes);
    return status;
}

/* Runs the exact or sampled kernel sums and sets *reference_count. */
static cs_status kernel_sums(const char *fn, const cs__kde_points *points,
                             const double *centre, double h,
                             cs__kde_set *all_rows,
                             const cs__kde_config *config,
                             const cs_kde_result *result,
                             size_t *reference_count)
{
    *reference_count = points->n;
    const bool sampled = config->options.method == CS_KDE_SAMPLED &&
                         (uint64_t)config->options.reference_size < points->n;
    if (!sampled)
        return exact_scores(fn, points, centre, h, all_rows, config, result);

    cs__kde_set_free(all_rows);
    return cs__kde_sampled_scores(fn, points, centre, h, config, result,
                                  reference_count);
}

/* The neighbour stage runs first and keeps its scores in scratch arrays
 * until the kernel sums, which write the caller's buffers when they
 * finish, have succeeded too. So a failure of either stage leaves every
 * buffer untouched. */
static cs_status score_examples(const char *fn, const cs__kde_points *points,
                                const cs__kde_config *config,
                                cs_kde_result *result)
{
    cs__kde_moments moments;
    cs_status status = cs__kde_moments_compute(fn, points, &moments);
    if (status != CS_OK)
        return status;

    cs__kde_set all_rows;
    double h = 0.0;
    double error = 0.0;
    status = cs__kde_resolve_bandwidth(fn, points, &moments, config, &all_rows,
                                       &h, &error);

    cs__kde_knn_outputs neighbors = {NULL, NULL, NULL, NULL, 0};
    if (status == CS_OK && cs__kde_wants_neighbors(result))
        status = cs__kde_knn_run(fn, points, NULL, moments.centre, h, config,
                                 result, &neighbors);

    size_t reference_count = 0;
    if (status == CS_OK && cs__kde_wants_sums(result))
        status = kernel_sums(fn, points, moments.centre, h, &all_rows, config,
                             result, &reference_count);

    if (status == CS_OK) {
        cs__kde_knn_commit(&neighbors, result);
        result->bandwidth = h;
        result->bandwidth_se = error;
        result->reference_count = (int64_t)reference_count;
    }
    cs__kde_knn_release(&neighbors);
    cs__kde_set_free(&all_rows);
    cs__kde_moments_free(&moments);
    return status;
}

cs_status cs_kde_scores(const cs_examples *examples, int32_t n_classes,
                        const cs_kde_options *options, cs_kde_result *result)
{
    static const char fn[] = "cs_kde_scores";
    if (examples == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "examples",
                            "examples is NULL");
    if (result == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "result",
                            "result is NULL");

    cs__kde_config config;
    cs_status status = cs__kde_read_config(fn, options, &config);
    if (status == CS_OK)
        status = cs__kde_check_result(fn, result, examples->n);
    if (status != CS_OK)
        return status;

    cs__kde_points points;
    status = cs__kde_check_examples(fn, "examples", examples, n_classes,
                                    cs__kde_wants_labels(result), 2, &points);
    if (status == CS_OK && cs__kde_wants_neighbors(result))
        status = cs__kde_knn_check(fn, &config, points.n, true);
    if (status != CS_OK)
        return status;

    const cs__kde_blas_state blas = cs__kde_blas_single_begin();
    status = score_examples(fn, &points, &config, result);
    cs__kde_blas_single_end(blas);
    return status;
}

cs_status cs_kde_bandwidth(const cs_examples *examples,
                           const cs_kde_options *options, double *bandwidth,
                           double *standard_error)
{
    static const char fn[] = "cs_kde_bandwidth";
    if (bandwidth == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "bandwidth",
                            "bandwidth is NULL");
    if (standard_error == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "standard_error",
                            "standard_error is NULL");
    if (examples == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "examples",
                            "examples is NULL");

    cs__kde_config config;
    cs_status status = cs__kde_read_config(fn, options, &config);
    if (status != CS_OK)
        return status;
    config.options.bandwidth = 0.0;

    cs_examples unlabelled = *examples;
    unlabelled.labels = NULL;
    cs__kde_points points;
    status = cs__kde_check_examples(fn, "examples", &unlabelled, 1, false, 2,
                                    &points);
    if (status != CS_OK)
        return status;

    cs__kde_moments moments;
    status = cs__kde_moments_compute(fn, &points, &moments);
    if (status != CS_OK)
        return status;

    const cs__kde_blas_state blas = cs__kde_blas_single_begin();
    cs__kde_set all_rows;
    double h = 0.0;
    double error = 0.0;
    status = cs__kde_resolve_bandwidth(fn, &points, &moments, &config,
                                       &all_rows, &h, &error);
    cs__kde_blas_single_end(blas);

    cs__kde_set_free(&all_rows);
    cs__kde_moments_free(&moments);
    if (status == CS_OK) {
        *bandwidth = h;
        *standard_error = error;
    }
    return status;
}
