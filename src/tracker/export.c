/*
 * Exports of every proxy: CSV with per-proxy ranks for people and
 * spreadsheets, and .npz for numpy. Both are written atomically.
 */
#include "io/io.h"
#include "stats/rank.h"
#include "tracker/export_extra.h"
#include "tracker_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Every proxy of every example as double, NaN where never observed, in
 * the form ranking needs: first_learned of -1 ("never") becomes +infinity
 * so it ranks as later than any epoch. */
static void proxy_as_double(const cs_tracker *t, cs_proxy proxy, void *tmp,
                            double *out)
{
    const size_t n = t->n_examples;
    if (cs_proxy_is_integer(proxy)) {
        int32_t *values = tmp;
        cs__tracker_fill_i32(t, proxy, values);
        for (size_t i = 0; i < n; i++) {
            out[i] = values[i];
            if (proxy == CS_PROXY_FIRST_LEARNED && values[i] < 0)
                out[i] = INFINITY;
        }
    } else {
        float *values = tmp;
        cs__tracker_fill_f32(t, proxy, values);
        for (size_t i = 0; i < n; i++)
            out[i] = values[i];
    }
    for (size_t i = 0; i < n; i++)
        if (t->examples[i].epochs_observed == 0)
            out[i] = NAN;
}

/* Proxy values and ranks, CS_PROXY_COUNT x N each. */
typedef struct table {
    double *values;
    double *ranks;
} table;

static void free_table(table *tb)
{
    cs__free(tb->values);
    cs__free(tb->ranks);
}

static cs_status build_table(const cs_tracker *t, table *tb)
{
    const size_t n = t->n_examples;
    tb->values = cs__alloc_array(n, CS_PROXY_COUNT * sizeof(double));
    tb->ranks = cs__alloc_array(n, CS_PROXY_COUNT * sizeof(double));
    void *tmp = cs__alloc_array(n, sizeof(float));
    cs_status st = CS_OK;
    if (tb->values == NULL || tb->ranks == NULL || tmp == NULL)
        st = CS_E_OUT_OF_MEMORY;

    for (int p = 0; p < CS_PROXY_COUNT && st == CS_OK; p++) {
        double *values = tb->values + (size_t)p * n;
        proxy_as_double(t, (cs_proxy)p, tmp, values);
        st = cs__rank_average(values, n, cs_proxy_direction((cs_proxy)p),
                              tb->ranks + (size_t)p * n);
    }
    cs__free(tmp);
    if (st != CS_OK)
        free_table(tb);
    return st;
}

static void write_csv_header(FILE *fp, const cs__export_extra *extra)
{
    fputs("id,label", fp);
    for (int p = 0; p < CS_PROXY_COUNT; p++)
        fprintf(fp, ",%s", cs_proxy_name((cs_proxy)p));
    for (int p = 0; p < CS_PROXY_COUNT; p++)
        fprintf(fp, ",rank_%s", cs_proxy_name((cs_proxy)p));
    for (size_t c = 0; c < extra->count; c++)
        fprintf(fp, ",%s", extra->names[c]);
    fputc('\n', fp);
}

/* Writes one cell: integers as integers, floats with 9 significant digits
 * (enough to round-trip a float32), NaN as an empty cell. */
static void write_cell(FILE *fp, double value, bool integer)
{
    fputc(',', fp);
    if (isnan(value))
        return;
    if (isinf(value))
        fputs("-1", fp); /* first_learned of an example never learned */
    else if (integer)
        fprintf(fp, "%.0f", value);
    else
        fprintf(fp, "%.9g", value);
}

static void write_csv_rows(FILE *fp, const cs_tracker *t, const table *tb,
                           const cs__export_extra *extra)
{
    const size_t n = t->n_examples;
    for (size_t i = 0; i < n; i++) {
        fprintf(fp, "%zu,%d", i, (int)t->examples[i].label);
        for (int p = 0; p < CS_PROXY_COUNT; p++)
            write_cell(fp, tb->values[(size_t)p * n + i],
                       cs_proxy_is_integer((cs_proxy)p) == 1);
        for (int p = 0; p < CS_PROXY_COUNT; p++) {
            double rank = tb->ranks[(size_t)p * n + i];
            /* Whole ranks print without a fraction, half ranks as .5. */
            fputc(',', fp);
            if (!isnan(rank))
                fprintf(fp, "%.10g", rank);
        }
        for (size_t c = 0; c < extra->count; c++)
            write_cell(fp, extra->values[c][i], false);
        fputc('\n', fp);
    }
}

static cs_status check_export_args(const cs_tracker *t, const char *path,
                                   const char *fn)
{
    if (t == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "tracker",
                            "tracker is NULL");
    if (path == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "path", "path is NULL");
    return CS_OK;
}

static cs_status export_csv(const char *fn, const cs_tracker *tracker,
                            const char *path, const cs__export_extra *extra)
{
    table tb = {NULL, NULL};
    if (build_table(tracker, &tb) != CS_OK)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, "tracker",
                            "out of memory ranking %zu examples",
                            tracker->n_examples);

    cs__atomic_file file;
    cs_status st = cs__atomic_open(&file, path, fn);
    if (st == CS_OK) {
        write_csv_header(file.fp, extra);
        write_csv_rows(file.fp, tracker, &tb, extra);
        if (ferror(file.fp)) {
            /* The stream's failed write set errno, unless a later call
             * changed it. EIO is reported when errno is 0. */
            const int saved = errno != 0 ? errno : EIO;
            char reason[128];
            cs__atomic_abort(&file);
            cs__where where = cs__where_none(fn);
            where.path = path;
            st = cs__fail(CS_E_IO, &where, NULL,
                          "cannot write '%s': %s. Check free disk space and "
                          "the file size limit (ulimit -f). The previous "
                          "file, if any, is unchanged.",
                          path, cs__errno_text(saved, reason, sizeof reason));
        } else {
            st = cs__atomic_commit(&file, fn);
        }
    }
    free_table(&tb);
    return st;
}

cs_status cs_tracker_export_csv(const cs_tracker *tracker, const char *path)
{
    const char *fn = "cs_tracker_export_csv";
    cs_status st = check_export_args(tracker, path, fn);
    if (st != CS_OK)
        return st;

    const cs__export_extra none = {NULL, NULL, 0};
    return export_csv(fn, tracker, path, &none);
}

cs_status cs_tracker_export_csv_extra(const cs_tracker *tracker,
                                      const char *path,
                                      const char *const *names,
                                      const float *const *values,
                                      size_t n_columns, size_t n)
{
    const char *fn = "cs_tracker_export_csv_extra";
    cs_status st = check_export_args(tracker, path, fn);
    cs__export_extra extra;
    if (st == CS_OK)
        st = cs__export_extra_check(fn, tracker->n_examples, names, values,
                                    n_columns, n, &extra);
    if (st != CS_OK)
        return st;
    return export_csv(fn, tracker, path, &extra);
}

/* ---- .npz ------------------------------------------------------------- */

static cs_status add_vector(cs__npz_writer *w, const char *name,
                            cs__dtype dtype, size_t n, const void *data)
{
    const int64_t shape[1] = {(int64_t)n};
    return cs__npz_add(w, name, dtype, shape, 1, data);
}

static cs_status add_proxies(cs__npz_writer *w, const cs_tracker *t,
                             void *tmp)
{
    const size_t n = t->n_examples;
    cs__tracker_fill_labels(t, tmp);
    cs_status st = add_vector(w, "labels", CS__DTYPE_I32, n, tmp);

    for (int p = 0; p < CS_PROXY_COUNT && st == CS_OK; p++) {
        const cs_proxy proxy = (cs_proxy)p;
        if (cs_proxy_is_integer(proxy) == 1) {
            cs__tracker_fill_i32(t, proxy, tmp);
            st = add_vector(w, cs_proxy_name(proxy), CS__DTYPE_I32, n, tmp);
        } else {
            cs__tracker_fill_f32(t, proxy, tmp);
            st = add_vector(w, cs_proxy_name(proxy), CS__DTYPE_F32, n, tmp);
        }
    }
    return st;
}

/* Adds the four epochs x N history arrays, built one at a time in `tmp`
 * (epochs x N floats). */
static cs_status add_history(cs__npz_writer *w, const cs_tracker *t,
                             void *tmp)
{
    const size_t n = t->n_examples;
    const size_t epochs = (size_t)t->epochs_ended;
    const int64_t shape[2] = {(int64_t)epochs, (int64_t)n};
    static const char *const names[4] = {"hist_observed", "hist_correct",
                                         "hist_p_l", "hist_p_max"};

    cs_status st = CS_OK;
    for (int a = 0; a < 4 && st == CS_OK; a++) {
        for (size_t e = 0; e < epochs; e++) {
            const cs__epoch_history *h = &t->history[e];
            uint8_t *bytes = (uint8_t *)tmp + e * n;
            float *floats = (float *)tmp + e * n;
            for (size_t i = 0; i < n; i++) {
                if (a == 0)
                    bytes[i] = h->observed[i];
                else if (a == 1)
                    bytes[i] = h->correct[i];
                else if (a == 2)
                    floats[i] = h->observed[i] ? h->p_l[i] : NAN;
                else
                    floats[i] = h->observed[i] ? h->p_max[i] : NAN;
            }
        }
        st = cs__npz_add(w, names[a], a < 2 ? CS__DTYPE_U8 : CS__DTYPE_F32,
                         shape, 2, tmp);
    }
    return st;
}

static cs_status add_ids(cs__npz_writer *w, size_t n, void *tmp)
{
    int64_t *ids = tmp;
    for (size_t i = 0; i < n; i++)
        ids[i] = (int64_t)i;
    return add_vector(w, "ids", CS__DTYPE_I64, n, ids);
}

/* Adds the caller's arrays after the built-in ones. */
static cs_status add_extra(cs__npz_writer *w, size_t n,
                           const cs__export_extra *extra)
{
    cs_status st = CS_OK;
    for (size_t c = 0; c < extra->count && st == CS_OK; c++)
        st = add_vector(w, extra->names[c], CS__DTYPE_F32, n,
                        extra->values[c]);
    return st;
}

static cs_status export_npz(const char *fn, const cs_tracker *tracker,
                            const char *path, const cs__export_extra *extra)
{
    /* One scratch buffer large enough for ids and for epochs x N floats. */
    const size_t n = tracker->n_examples;
    size_t rows = tracker->options.keep_history && tracker->epochs_ended > 0
                      ? (size_t)tracker->epochs_ended
                      : 1;
    size_t values;
    if (!cs__mul_size(rows, n, &values) ||
        !cs__mul_size(values, sizeof(int64_t), &values))
        return cs__fail_arg(CS_E_OVERFLOW, fn, "tracker",
                            "the history of %zu epochs x %zu examples is too "
                            "large to export",
                            rows, n);
    void *tmp = cs__malloc(values);
    if (tmp == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, "tracker",
                            "out of memory allocating %zu bytes for export",
                            values);

    cs__npz_writer *w = NULL;
    cs_status st = cs__npz_open(path, fn, &w);
    if (st == CS_OK)
        st = add_ids(w, n, tmp);
    if (st == CS_OK)
        st = add_proxies(w, tracker, tmp);
    if (st == CS_OK && tracker->options.keep_history)
        st = add_history(w, tracker, tmp);
    if (st == CS_OK)
        st = add_extra(w, n, extra);

    if (st == CS_OK)
        st = cs__npz_close(w);
    else
        cs__npz_abort(w);
    cs__free(tmp);
    return st;
}

cs_status cs_tracker_export_npz(const cs_tracker *tracker, const char *path)
{
    const char *fn = "cs_tracker_export_npz";
    cs_status st = check_export_args(tracker, path, fn);
    if (st != CS_OK)
        return st;

    const cs__export_extra none = {NULL, NULL, 0};
    return export_npz(fn, tracker, path, &none);
}

cs_status cs_tracker_export_npz_extra(const cs_tracker *tracker,
                                      const char *path,
                                      const char *const *names,
                                      const float *const *values,
                                      size_t n_columns, size_t n)
{
    const char *fn = "cs_tracker_export_npz_extra";
    cs_status st = check_export_args(tracker, path, fn);
    cs__export_extra extra;
    if (st == CS_OK)
        st = cs__export_extra_check(fn, tracker->n_examples, names, values,
                                    n_columns, n, &extra);
    if (st != CS_OK)
        return st;
    return export_npz(fn, tracker, path, &extra);
}
