/*
 * Checks of the arrays handed to the cs_kde_ functions: examples (sizes,
 * finite values, labels in range) and the result struct (buffer length,
 * which outputs are wanted, the neighbour buffers its struct_size holds).
 * Every check runs before any work or output, so a rejected call changes
 * nothing.
 */
#include "kde/kde_internal.h"

#include <math.h>
#include <stdio.h>

/* The smallest struct_size of cs_kde_result a caller may pass: every
 * field of version 0.1. */
#define KDE_RESULT_MIN_SIZE                                                   \
    (offsetof(cs_kde_result, reference_count) + sizeof(int64_t))

/* The smallest struct_size that covers the neighbour fields. A smaller one
 * comes from a caller compiled before they existed. */
#define KDE_RESULT_KNN_SIZE                                                   \
    (offsetof(cs_kde_result, knn_missing) + sizeof(int64_t))

static cs_status check_shape(const char *fn, const char *name,
                             const cs_examples *examples, size_t min_n)
{
    if (examples->n == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, fn, name,
                            "%s->n is 0; pass at least %zu examples", name,
                            min_n);
    if (examples->n < min_n)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, name,
                            "%s->n is %zu; kernel sums over the other "
                            "examples need at least %zu",
                            name, examples->n, min_n);
    if (examples->n_inputs == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, fn, name,
                            "%s->n_inputs is 0; pass the number of feature "
                            "values per example",
                            name);
    if (examples->n_inputs < 0)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, name,
                            "%s->n_inputs is %d; it must be positive", name,
                            (int)examples->n_inputs);

    size_t values;
    if (!cs__mul_size(examples->n, (size_t)examples->n_inputs, &values) ||
        !cs__mul_size(values, sizeof(float), &values))
        return cs__fail_arg(CS_E_OVERFLOW, fn, name,
                            "%s has %zu x %d values, more than fit in "
                            "memory",
                            name, examples->n, (int)examples->n_inputs);
    return CS_OK;
}

static cs_status check_labels(const char *fn, const char *name,
                              const cs_examples *examples, int32_t n_classes)
{
    if (n_classes == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, fn, "n_classes",
                            "n_classes is 0; pass the number of classes C, "
                            "so that labels lie in [0, C)");
    if (n_classes < 0)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "n_classes",
                            "n_classes is %d; it must be positive",
                            (int)n_classes);

    for (size_t i = 0; i < examples->n; i++) {
        const int32_t label = examples->labels[i];
        if (label >= 0 && label < n_classes)
            continue;

        cs__where where = cs__where_none(fn);
        where.argument = name;
        where.index = (int64_t)i;
        where.example_id = (int64_t)i;
        char value[16];
        snprintf(value, sizeof value, "%d", (int)label);
        return cs__fail(CS_E_LABEL_OUT_OF_RANGE, &where, value,
                        "%s->labels[%zu] is %d, outside [0, %d)", name, i,
                        (int)label, (int)n_classes);
    }
    return CS_OK;
}

static cs_status check_finite(const char *fn, const char *name,
                              const cs_examples *examples)
{
    const size_t dim = (size_t)examples->n_inputs;

    for (size_t i = 0; i < examples->n; i++) {
        const float *row = examples->inputs + i * dim;
        for (size_t k = 0; k < dim; k++) {
            if (isfinite(row[k]))
                continue;

            cs__where where = cs__where_none(fn);
            where.argument = name;
            where.index = (int64_t)i;
            where.example_id = (int64_t)i;
            char value[16];
            snprintf(value, sizeof value, "%g", (double)row[k]);
            return cs__fail(CS_E_NONFINITE_FEATURE, &where, value,
                            "%s->inputs[%zu][%zu] is %s; every feature "
                            "value must be finite",
                            name, i, k, value);
        }
    }
    return CS_OK;
}

cs_status cs__kde_check_examples(const char *fn, const char *name,
                                 const cs_examples *examples,
                                 int32_t n_classes, bool labels_required,
                                 size_t min_n, cs__kde_points *points)
{
    if (examples == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, name, "%s is NULL", name);
    if (examples->inputs == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, name, "%s->inputs is NULL",
                            name);
    if (labels_required && examples->labels == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, name,
                            "%s->labels is NULL, but the requested scores "
                            "need labels; pass labels or request only "
                            "kde_free and knn_kde_free",
                            name);

    cs_status status = check_shape(fn, name, examples, min_n);
    if (status == CS_OK && examples->labels != NULL)
        status = check_labels(fn, name, examples, n_classes);
    if (status == CS_OK)
        status = check_finite(fn, name, examples);
    if (status != CS_OK)
        return status;

    points->rows = examples->inputs;
    points->labels = examples->labels;
    points->n = examples->n;
    points->dim = (size_t)examples->n_inputs;
    points->n_classes = examples->labels != NULL ? n_classes : 1;
    return CS_OK;
}

cs_status cs__kde_check_result(const char *fn, const cs_kde_result *result,
                               size_t expected_n)
{
    if (result->struct_size < KDE_RESULT_MIN_SIZE)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "result",
                            "result->struct_size is %zu, below the minimum "
                            "%zu; initialise result with "
                            "cs_kde_result_init()",
                            result->struct_size, (size_t)KDE_RESULT_MIN_SIZE);
    if (!cs__kde_wants_sums(result) && !cs__kde_wants_neighbors(result))
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "result",
                            "result has no output buffer; set kde_pm, kde_l, "
                            "kde_free or a knn_ buffer");

    if (result->n != expected_n) {
        cs__where where = cs__where_none(fn);
        where.argument = "result";
        char value[24];
        snprintf(value, sizeof value, "%zu", result->n);
        return cs__fail(CS_E_SIZE_MISMATCH, &where, value,
                        "result->n is %zu, but %zu examples are scored; "
                        "each output buffer must hold one float per "
                        "example",
                        result->n, expected_n);
    }
    return CS_OK;
}

cs__kde_knn_outputs cs__kde_knn_buffers(const cs_kde_result *result)
{
    cs__kde_knn_outputs buffers = {NULL, NULL, NULL, NULL, 0};
    if (result->struct_size < KDE_RESULT_KNN_SIZE)
        return buffers;
    buffers.pm = result->knn_kde_pm;
    buffers.l = result->knn_kde_l;
    buffers.free = result->knn_kde_free;
    buffers.agree = result->knn_agree;
    return buffers;
}

bool cs__kde_wants_sums(const cs_kde_result *result)
{
    return result->kde_pm != NULL || result->kde_l != NULL ||
           result->kde_free != NULL;
}

bool cs__kde_wants_neighbors(const cs_kde_result *result)
{
    const cs__kde_knn_outputs knn = cs__kde_knn_buffers(result);
    return knn.pm != NULL || knn.l != NULL || knn.free != NULL ||
           knn.agree != NULL;
}

bool cs__kde_wants_labels(const cs_kde_result *result)
{
    const cs__kde_knn_outputs knn = cs__kde_knn_buffers(result);
    return result->kde_pm != NULL || result->kde_l != NULL ||
           knn.pm != NULL || knn.l != NULL || knn.agree != NULL;
}

void cs__kde_write_knn_missing(cs_kde_result *result, int64_t missing)
{
    if (result->struct_size >= KDE_RESULT_KNN_SIZE)
        result->knn_missing = missing;
}
