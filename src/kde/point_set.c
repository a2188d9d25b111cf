/*
 * The prepared point set that the tiled sums read: the caller's rows
 * shifted by their mean, divided by the bandwidth and grouped by class.
 *
 * Shifting by the mean keeps the norms in ||a||^2 + ||b||^2 - 2 a.b small,
 * so float32 cancellation costs less; dividing by h makes every distance
 * dimensionless; grouping by class turns each class's kernel sum into a
 * sum over a contiguous run of columns.
 */
#include "kde/kde_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

cs_status cs__kde_moments_compute(const char *fn, const cs__kde_points *points,
                                  cs__kde_moments *moments)
{
    double *centre = cs__alloc_array(points->dim, sizeof(double));
    if (centre == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the mean of %zu feature values",
                            points->dim);

    for (size_t k = 0; k < points->dim; k++)
        centre[k] = 0.0;
    for (size_t i = 0; i < points->n; i++) {
        const float *row = points->rows + i * points->dim;
        for (size_t k = 0; k < points->dim; k++)
            centre[k] += row[k];
    }
    for (size_t k = 0; k < points->dim; k++)
        centre[k] /= (double)points->n;

    double squares = 0.0;
    for (size_t i = 0; i < points->n; i++) {
        const float *row = points->rows + i * points->dim;
        for (size_t k = 0; k < points->dim; k++) {
            const double offset = row[k] - centre[k];
            squares += offset * offset;
        }
    }

    moments->centre = centre;
    moments->rms_radius = sqrt(squares / (double)points->n);
    return CS_OK;
}

void cs__kde_moments_free(cs__kde_moments *moments)
{
    cs__free(moments->centre);
    moments->centre = NULL;
}

void cs__kde_set_free(cs__kde_set *set)
{
    cs__free(set->rows);
    cs__free(set->norms);
    cs__free(set->labels);
    cs__free(set->source);
    cs__free(set->class_start);
    memset(set, 0, sizeof *set);
}

static cs_status allocate_set(const char *fn, size_t n, size_t dim,
                              int32_t n_classes, cs__kde_set *set)
{
    memset(set, 0, sizeof *set);
    set->n = n;
    set->dim = dim;
    set->n_classes = n_classes;

    size_t values;
    if (!cs__mul_size(n, dim, &values))
        return cs__fail_arg(CS_E_OVERFLOW, fn, NULL,
                            "a copy of %zu x %zu feature values does not fit "
                            "in memory",
                            n, dim);

    set->rows = cs__alloc_array(values, sizeof(float));
    set->norms = cs__alloc_array(n, sizeof(float));
    set->labels = cs__alloc_array(n, sizeof(int32_t));
    set->source = cs__alloc_array(n, sizeof(size_t));
    set->class_start = cs__calloc((size_t)n_classes + 1, sizeof(size_t));
    if (set->rows == NULL || set->norms == NULL || set->labels == NULL ||
        set->source == NULL || set->class_start == NULL) {
        cs__kde_set_free(set);
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate a copy of %zu x %zu feature "
                            "values",
                            n, dim);
    }
    return CS_OK;
}

/* Label of caller row i, 0 for an unlabelled set. */
static int32_t label_of(const cs__kde_points *points, size_t i)
{
    return points->labels != NULL ? points->labels[i] : 0;
}

/* Fills set->source, set->labels and set->class_start with the members
 * grouped by class, keeping their given order within each class (a
 * counting sort). */
static void group_by_class(const cs__kde_points *points, const size_t *members,
                           cs__kde_set *set)
{
    size_t *start = set->class_start;
    const int32_t n_classes = set->n_classes;

    for (size_t m = 0; m < set->n; m++) {
        const size_t i = members != NULL ? members[m] : m;
        start[label_of(points, i) + 1]++;
    }
    for (int32_t c = 0; c < n_classes; c++)
        start[c + 1] += start[c];

    /* start[c] serves as the cursor of class c while rows are placed, so
     * afterwards it is the end of class c, which is the start of class
     * c + 1. */
    for (size_t m = 0; m < set->n; m++) {
        const size_t i = members != NULL ? members[m] : m;
        const int32_t c = label_of(points, i);
        const size_t r = start[c]++;
        set->source[r] = i;
        set->labels[r] = c;
    }
    for (int32_t c = n_classes; c > 0; c--)
        start[c] = start[c - 1];
    start[0] = 0;
}

/* Squared norm of a stored float row, summed in double. */
static double squared_norm(const float *row, size_t dim)
{
    double sum = 0.0;
    for (size_t k = 0; k < dim; k++)
        sum += (double)row[k] * row[k];
    return sum;
}

static cs_status norm_too_large(const char *fn, size_t source, double squared)
{
    cs__where where = cs__where_none(fn);
    where.argument = "inputs";
    where.index = (int64_t)source;
    where.example_id = (int64_t)source;
    char value[32];
    snprintf(value, sizeof value, "%g", sqrt(squared));
    return cs__fail(CS_E_INVALID_ARGUMENT, &where, value,
                    "example %zu lies %s bandwidths from the mean row, "
                    "beyond the 1e15 that float32 distances can hold; "
                    "pass a larger bandwidth or rescale the features",
                    source, value);
}

cs_status cs__kde_set_build(const char *fn, const cs__kde_points *points,
                            const size_t *members, size_t n_members,
                            const double *centre, double scale,
                            cs__kde_set *set)
{
    const size_t n = members != NULL ? n_members : points->n;
    cs_status status = allocate_set(fn, n, points->dim, points->n_classes,
                                    set);
    if (status != CS_OK)
        return status;

    group_by_class(points, members, set);

    /* The row farthest from the centre is the one to name if the rows do
     * not fit: one outlier also moves the mean, and with it every row. */
    const size_t dim = points->dim;
    double largest = 0.0;
    size_t farthest = 0;
    for (size_t r = 0; r < n; r++) {
        const float *from = points->rows + set->source[r] * dim;
        float *to = set->rows + r * dim;
        for (size_t k = 0; k < dim; k++)
            to[k] = (float)((from[k] - centre[k]) * scale);

        const double norm = squared_norm(to, dim);
        if (!(norm <= largest)) {
            largest = norm;
            farthest = r;
        }
        set->norms[r] = (float)norm;
    }

    if (!(largest <= CS__KDE_MAX_SQUARED_NORM)) {
        status = norm_too_large(fn, set->source[farthest], largest);
        cs__kde_set_free(set);
    }
    return status;
}

cs_status cs__kde_set_rescale(const char *fn, cs__kde_set *set, double factor)
{
    const float f = (float)factor;
    double largest = 0.0;
    size_t farthest = 0;
    for (size_t r = 0; r < set->n; r++) {
        float *row = set->rows + r * set->dim;
        for (size_t k = 0; k < set->dim; k++)
            row[k] *= f;

        const double norm = squared_norm(row, set->dim);
        if (!(norm <= largest)) {
            largest = norm;
            farthest = r;
        }
        set->norms[r] = (float)norm;
    }

    if (!(largest <= CS__KDE_MAX_SQUARED_NORM))
        return norm_too_large(fn, set->source[farthest], largest);
    return CS_OK;
}

size_t *cs__kde_class_counts(const cs__kde_points *points)
{
    size_t *counts = cs__calloc((size_t)points->n_classes, sizeof(size_t));
    if (counts == NULL)
        return NULL;
    for (size_t i = 0; i < points->n; i++)
        counts[label_of(points, i)]++;
    return counts;
}

size_t *cs__kde_set_class_sizes(const cs__kde_set *set)
{
    size_t *sizes = cs__calloc((size_t)set->n_classes, sizeof(size_t));
    if (sizes == NULL)
        return NULL;
    for (int32_t c = 0; c < set->n_classes; c++)
        sizes[c] = set->class_start[c + 1] - set->class_start[c];
    return sizes;
}
