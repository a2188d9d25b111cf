/*
 * Argument checks shared by the statistics, and the step that turns
 * (x, y, subset) into coded pairs: keep the subset, drop NaN pairs, and
 * replace each side by its dense code.
 */
#include "stats/pairs.h"

#include <math.h>
#include <stdio.h>

void cs__pairs_free(cs__pairs *pairs)
{
    if (pairs == NULL)
        return;
    cs__free(pairs->x);
    cs__free(pairs->y);
    pairs->x = NULL;
    pairs->y = NULL;
}

cs_status cs__pairs_alloc(uint32_t m, uint32_t x_distinct, uint32_t y_distinct,
                          cs__pairs *out)
{
    out->m = m;
    out->ordered = false;
    out->x_distinct = x_distinct;
    out->y_distinct = y_distinct;
    out->x = cs__alloc_array(m, sizeof *out->x);
    out->y = cs__alloc_array(m, sizeof *out->y);
    if (out->x == NULL || out->y == NULL) {
        cs__pairs_free(out);
        return CS_E_OUT_OF_MEMORY;
    }
    return CS_OK;
}

static cs_status check_subset_shape(const char *fn, const cs_subset *s)
{
    if (s->mask != NULL && s->indices != NULL)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "subset",
                            "subset has both a mask and indices; set one");
    if (s->indices == NULL && s->n_indices > 0)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "subset->indices",
                            "subset->indices is NULL but n_indices is %zu",
                            s->n_indices);
    if (s->indices != NULL && s->n_indices == 0)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "subset->n_indices",
                            "subset->indices is set but n_indices is 0; "
                            "pass NULL indices to use every element");
    return CS_OK;
}

/* Checks that every listed id is in [0, n) and listed once. seen has n
 * zeroed bytes. */
static cs_status check_indices(const char *fn, const cs_subset *s, size_t n,
                               uint8_t *seen)
{
    for (size_t k = 0; k < s->n_indices; k++) {
        const int64_t id = s->indices[k];
        cs__where where = cs__where_none(fn);
        where.argument = "subset->indices";
        where.index = (int64_t)k;
        where.example_id = id;
        char value[32];
        snprintf(value, sizeof value, "%lld", (long long)id);

        if (id < 0 || (uint64_t)id >= (uint64_t)n)
            return cs__fail(CS_E_ID_OUT_OF_RANGE, &where, value,
                            "subset->indices[%zu] is %lld, outside "
                            "[0, %zu)",
                            k, (long long)id, n);
        if (seen[id])
            return cs__fail(CS_E_INVALID_ARGUMENT, &where, value,
                            "subset->indices[%zu] is %lld, an id listed "
                            "earlier; list each id once",
                            k, (long long)id);
        seen[id] = 1;
    }
    return CS_OK;
}

/* Checks that every non-NaN label is 0 or 1. */
static cs_status check_labels(const char *fn, const double *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (isnan(y[i]) || y[i] == 0.0 || y[i] == 1.0)
            continue;
        cs__where where = cs__where_none(fn);
        where.argument = "labels";
        where.index = (int64_t)i;
        char value[32];
        snprintf(value, sizeof value, "%.17g", y[i]);
        return cs__fail(CS_E_INVALID_ARGUMENT, &where, value,
                        "labels[%zu] is %s; labels must be 0 (negative), "
                        "1 (positive) or NaN (dropped)",
                        i, value);
    }
    return CS_OK;
}

static cs_status check_arguments(const char *fn, const double *x,
                                 const double *y, size_t n,
                                 const cs_subset *subset, cs__y_kind y_kind)
{
    if (x == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn,
                            y_kind == CS__Y_LABELS ? "scores" : "x",
                            "%s is NULL",
                            y_kind == CS__Y_LABELS ? "scores" : "x");
    if (y == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn,
                            y_kind == CS__Y_LABELS ? "labels" : "y",
                            "%s is NULL",
                            y_kind == CS__Y_LABELS ? "labels" : "y");
    if (n == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, fn, "n",
                            "n is 0; pass at least one pair");
    if (subset != NULL) {
        const cs_status st = check_subset_shape(fn, subset);
        if (st != CS_OK)
            return st;
    }
    if (y_kind == CS__Y_LABELS)
        return check_labels(fn, y, n);
    return CS_OK;
}

/* Sets keep[i] to 1 for the elements of the subset (every element without
 * one) whose x and y are both non-NaN, and *m to their count. */
static cs_status select_pairs(const char *fn, const double *x, const double *y,
                              size_t n, const cs_subset *subset, uint8_t *keep,
                              size_t *m)
{
    if (subset != NULL && subset->indices != NULL) {
        const cs_status st = check_indices(fn, subset, n, keep);
        if (st != CS_OK)
            return st;
    }

    const bool by_indices = subset != NULL && subset->indices != NULL;
    const uint8_t *mask = subset != NULL ? subset->mask : NULL;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        const bool in_subset = by_indices ? keep[i] != 0
                                          : mask == NULL || mask[i] != 0;
        keep[i] = in_subset && !isnan(x[i]) && !isnan(y[i]);
        count += keep[i];
    }
    *m = count;
    return CS_OK;
}

/* Copies the kept elements of values into a new array of m doubles. */
static double *gather(const double *values, const uint8_t *keep, size_t n,
                      size_t m)
{
    double *out = cs__alloc_array(m, sizeof *out);
    if (out == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i])
            out[k++] = values[i];
    return out;
}

/* Codes scores (x) and 0/1 labels (y), in input order. */
static cs_status code_labeled(const double *x, const double *y,
                              const uint8_t *keep, size_t n, uint32_t m,
                              cs__pairs *out)
{
    double *scores = gather(x, keep, n, m);
    if (scores == NULL)
        return CS_E_OUT_OF_MEMORY;
    const cs_status st = cs__dense_codes(scores, m, out->x, &out->x_distinct);
    cs__free(scores);

    uint32_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i])
            out->y[k++] = y[i] == 1.0;
    out->y_distinct = 2;
    return st;
}

/* Writes the sort keys of the kept elements of values to keys. */
static void gather_keys(const double *values, const uint8_t *keep, size_t n,
                        uint64_t *keys)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i])
            keys[k++] = cs__sort_key(values[i]);
}

/* Codes both sides and stores the pairs sorted by x, then y: sort by y,
 * then sort the x values, taken in y order, with the stable radix sort,
 * so that equal x values keep their y order. One sorter serves both
 * sorts, which keeps the memory touched per call small. */
static cs_status code_ordered(const double *x, const double *y,
                              const uint8_t *keep, size_t n, uint32_t m,
                              cs__pairs *out)
{
    cs__sorter sorter;
    cs_status st = cs__sorter_init(&sorter, m);
    uint64_t *x_keys = cs__alloc_array(m, sizeof *x_keys);
    uint32_t *order = cs__alloc_array(m, sizeof *order);
    uint32_t *y_sorted = cs__alloc_array(m, sizeof *y_sorted);
    if (x_keys == NULL || order == NULL || y_sorted == NULL)
        st = CS_E_OUT_OF_MEMORY;

    if (st == CS_OK) {
        gather_keys(y, keep, n, sorter.keys);
        gather_keys(x, keep, n, x_keys);
        cs__sorter_run(&sorter, m, order, y_sorted, &out->y_distinct);

        for (uint32_t k = 0; k < m; k++)
            sorter.keys[k] = x_keys[order[k]];
        cs__sorter_run(&sorter, m, order, out->x, &out->x_distinct);

        for (uint32_t k = 0; k < m; k++)
            out->y[k] = y_sorted[order[k]];
        out->ordered = true;
    }

    cs__sorter_free(&sorter);
    cs__free(x_keys);
    cs__free(order);
    cs__free(y_sorted);
    return st;
}

static cs_status code_pairs(const double *x, const double *y,
                            const uint8_t *keep, size_t n, uint32_t m,
                            cs__y_kind y_kind, cs__pairs *out)
{
    cs_status st = cs__pairs_alloc(m, 0, 0, out);
    if (st != CS_OK)
        return st;

    if (y_kind == CS__Y_LABELS)
        st = code_labeled(x, y, keep, n, m, out);
    else
        st = code_ordered(x, y, keep, n, m, out);
    if (st != CS_OK)
        cs__pairs_free(out);
    return st;
}

cs_status cs__pairs_build(const char *function, const double *x,
                          const double *y, size_t n, const cs_subset *subset,
                          cs__y_kind y_kind, cs__pairs *out)
{
    cs_status st = check_arguments(function, x, y, n, subset, y_kind);
    if (st != CS_OK)
        return st;

    uint8_t *keep = cs__calloc(n, sizeof *keep);
    if (keep == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, function, NULL,
                            "out of memory for the %zu-byte selection of "
                            "pairs",
                            n);

    size_t m = 0;
    st = select_pairs(function, x, y, n, subset, keep, &m);
    if (st == CS_OK && m > CS__STATS_MAX_COUNT)
        st = cs__fail_arg(CS_E_OVERFLOW, function, "n",
                          "%zu pairs remain after filtering; the limit is "
                          "%lu",
                          m, (unsigned long)CS__STATS_MAX_COUNT);
    if (st == CS_OK) {
        st = code_pairs(x, y, keep, n, (uint32_t)m, y_kind, out);
        if (st != CS_OK)
            st = cs__fail_arg(st, function, NULL,
                              "out of memory ranking %zu pairs (about %zu "
                              "MB needed)",
                              m, m * 48 / 1000000 + 1);
    }

    cs__free(keep);
    return st;
}

cs_status cs__statistic_run(const char *function,
                            cs__pairs_statistic statistic, cs__y_kind y_kind,
                            const double *x, const double *y, size_t n,
                            const cs_subset *subset, double *value,
                            size_t *n_used)
{
    cs__pairs pairs;
    cs_status st = cs__pairs_build(function, x, y, n, subset, y_kind, &pairs);
    if (st != CS_OK)
        return st;

    double result = NAN;
    st = statistic(&pairs, &result);
    const uint32_t m = pairs.m;
    cs__pairs_free(&pairs);
    if (st != CS_OK)
        return cs__fail_arg(st, function, NULL,
                            "out of memory computing the statistic of %lu "
                            "pairs",
                            (unsigned long)m);

    *value = result;
    if (n_used != NULL)
        *n_used = m;
    return CS_OK;
}
