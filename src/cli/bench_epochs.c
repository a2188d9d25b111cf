/*
 * Per-epoch analysis of `cscore bench` from the history arrays of a
 * proxies.npz (hist_correct, hist_p_l, hist_p_max, hist_observed, each
 * epochs x N). It computes Spearman's rho against the truth of each proxy
 * as it stood at each epoch, and the learning speed of C-score groups.
 * The C-score histogram is here too.
 */
#include "cli/bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The history of one run, as doubles; NULL for an array the file lacks. */
typedef struct history {
    size_t n_epochs, n;
    double *correct;   /* 1 or 0, NaN where not observed */
    double *p_l;       /* NaN where not observed */
    double *p_max;     /* NaN where not observed, or NULL */
    uint8_t *observed; /* 1 where observed */
} history;

static void history_free(history *h)
{
    free(h->correct), free(h->p_l), free(h->p_max), free(h->observed);
    memset(h, 0, sizeof *h);
}

/* Reads one epochs x N member into new doubles. Sets *values to NULL
 * when the member is absent. */
static int read_member(const cli_proxy_table *table, const char *key,
                       history *h, double **values)
{
    *values = NULL;
    if (cs_npz_contains(table->npz, key) != 1)
        return CLI_EXIT_OK;
    cs_array *array = NULL;
    if (cs_npz_read(table->npz, key, &array) != CS_OK)
        return cli_library_error("bench");

    int rc = CLI_EXIT_OK;
    if (array->ndim != 2 || (size_t)array->shape[1] != table->n ||
        (h->n_epochs != 0 && (size_t)array->shape[0] != h->n_epochs))
        rc = cli_runtime_error("bench",
                               "'%s' of %s must be epochs x %zu, one column "
                               "per example, like the other history arrays",
                               key, table->path, table->n);
    if (rc == CLI_EXIT_OK) {
        h->n_epochs = (size_t)array->shape[0];
        *values = malloc((array->count + 1) * sizeof **values);
        if (*values == NULL)
            rc = cli_runtime_error("bench", "out of memory for '%s'", key);
        else
            cs_array_to_float64(array, *values);
    }
    cs_array_free(array);
    return rc;
}

static int read_history(const cli_proxy_table *table, history *h)
{
    memset(h, 0, sizeof *h);
    h->n = table->n;
    double *observed = NULL;
    int rc = read_member(table, "hist_correct", h, &h->correct);
    if (rc == CLI_EXIT_OK)
        rc = read_member(table, "hist_p_l", h, &h->p_l);
    if (rc == CLI_EXIT_OK)
        rc = read_member(table, "hist_p_max", h, &h->p_max);
    if (rc == CLI_EXIT_OK)
        rc = read_member(table, "hist_observed", h, &observed);
    if (rc == CLI_EXIT_OK && (h->correct == NULL || h->p_l == NULL))
        rc = cli_runtime_error("bench",
                               "%s lacks hist_correct or hist_p_l; the "
                               "per-epoch analysis needs the history that "
                               "`cscore train` saves",
                               table->path);

    const size_t cells = h->n_epochs * h->n;
    if (rc == CLI_EXIT_OK) {
        h->observed = malloc(cells + 1);
        if (h->observed == NULL)
            rc = cli_runtime_error("bench", "out of memory");
    }
    /* Without hist_observed every example counts as observed each epoch,
     * which is what a full pass over the training set gives. */
    for (size_t c = 0; rc == CLI_EXIT_OK && c < cells; c++) {
        h->observed[c] = observed == NULL || observed[c] != 0.0;
        if (!h->observed[c]) {
            h->correct[c] = NAN;
            h->p_l[c] = NAN;
            if (h->p_max != NULL)
                h->p_max[c] = NAN;
        }
    }
    free(observed);
    if (rc != CLI_EXIT_OK)
        history_free(h);
    return rc;
}

/* ---- series ------------------------------------------------------------ */

static int add_series(bench_epochs *out, const char *proxy, size_t points,
                      bench_series **added)
{
    bench_series *grown = realloc(out->series,
                                  (out->n_series + 1) * sizeof *grown);
    if (grown == NULL)
        return cli_runtime_error("bench", "out of memory");
    out->series = grown;

    bench_series *s = &out->series[out->n_series];
    memset(s, 0, sizeof *s);
    s->proxy = strdup(proxy);
    s->epochs = calloc(points + 1, sizeof *s->epochs);
    s->spearman = calloc(points + 1, sizeof *s->spearman);
    s->n = calloc(points + 1, sizeof *s->n);
    out->n_series++;
    if (!s->proxy || !s->epochs || !s->spearman || !s->n)
        return cli_runtime_error("bench", "out of memory");
    *added = s;
    return CLI_EXIT_OK;
}

/* Appends a point of Spearman's rho between values and the truth. */
static int add_point(bench_series *s, int32_t epoch, const double *values,
                     const cli_alignment *alignment)
{
    double rho = NAN;
    size_t used = 0;
    if (cs_spearman(values, alignment->truth, alignment->n, NULL, &rho,
                    &used) != CS_OK)
        return cli_library_error("bench");
    s->epochs[s->n_points] = epoch;
    s->spearman[s->n_points] = rho;
    s->n[s->n_points] = used;
    s->n_points++;
    return CLI_EXIT_OK;
}

/* Running proxies up to epoch e, updated in place from epoch e's row:
 * the number of correct epochs so far (CBTL) and the mean p_L over the
 * observed epochs so far; NaN until an example is first observed. */
typedef struct running {
    double *cbtl, *p_l_mean;
    double *seen, *p_l_sum;
} running;

static void running_update(running *r, const history *h, size_t e)
{
    for (size_t i = 0; i < h->n; i++) {
        const size_t c = e * h->n + i;
        if (h->observed[c]) {
            r->seen[i] += 1.0;
            r->p_l_sum[i] += h->p_l[c];
            r->cbtl[i] = (isnan(r->cbtl[i]) ? 0.0 : r->cbtl[i]) +
                         h->correct[c];
        }
        r->p_l_mean[i] = r->seen[i] > 0 ? r->p_l_sum[i] / r->seen[i] : NAN;
    }
}

static int history_series(const history *h, const cli_alignment *alignment,
                          bench_epochs *out)
{
    const char *names[5] = {"p_l", "p_max", "correct", "cbtl_running",
                            "p_l_mean_running"};
    /* Indices into out->series, which add_series() may move; -1 for a
     * series the file has no data for. */
    long index[5] = {-1, -1, -1, -1, -1};
    int rc = CLI_EXIT_OK;
    for (int k = 0; k < 5 && rc == CLI_EXIT_OK; k++) {
        bench_series *added = NULL;
        if (k == 1 && h->p_max == NULL)
            continue;
        rc = add_series(out, names[k], h->n_epochs, &added);
        index[k] = (long)out->n_series - 1;
    }

    running r = {calloc(h->n + 1, sizeof(double)),
                 calloc(h->n + 1, sizeof(double)),
                 calloc(h->n + 1, sizeof(double)),
                 calloc(h->n + 1, sizeof(double))};
    if (rc == CLI_EXIT_OK && (!r.cbtl || !r.p_l_mean || !r.seen || !r.p_l_sum))
        rc = cli_runtime_error("bench", "out of memory");
    for (size_t i = 0; rc == CLI_EXIT_OK && i < h->n; i++)
        r.cbtl[i] = NAN;

    for (size_t e = 0; e < h->n_epochs && rc == CLI_EXIT_OK; e++) {
        const int32_t epoch = (int32_t)e + 1;
        running_update(&r, h, e);
        const double *rows[5] = {h->p_l + e * h->n,
                                 h->p_max ? h->p_max + e * h->n : NULL,
                                 h->correct + e * h->n, r.cbtl, r.p_l_mean};
        for (int k = 0; k < 5 && rc == CLI_EXIT_OK; k++)
            if (index[k] >= 0)
                rc = add_point(&out->series[index[k]], epoch, rows[k],
                               alignment);
    }
    free(r.cbtl), free(r.p_l_mean), free(r.seen), free(r.p_l_sum);
    return rc;
}

/* Parses the epoch of a name ending in "_eN" into *epoch. Returns the
 * length of the part before the suffix, or 0 without one. */
static size_t split_epoch_suffix(const char *name, int32_t *epoch)
{
    const char *suffix = strrchr(name, '_');
    if (suffix == NULL || suffix == name || suffix[1] != 'e' ||
        suffix[2] == '\0' ||
        strspn(suffix + 2, "0123456789") != strlen(suffix + 2) ||
        strlen(suffix + 2) > 6)
        return 0;
    *epoch = (int32_t)atoi(suffix + 2);
    return (size_t)(suffix - name);
}

/* Turns correlations named like kde_pm_e5 into series of points. */
static int suffixed_series(const bench_correlation *extra, size_t n_extra,
                           bench_epochs *out)
{
    /* Series made here have room for n_extra points; those of the history
     * arrays have fewer, so points never go into them. */
    const size_t first = out->n_series;
    int rc = CLI_EXIT_OK;
    for (size_t k = 0; k < n_extra && rc == CLI_EXIT_OK; k++) {
        int32_t epoch = 0;
        const size_t length = split_epoch_suffix(extra[k].proxy, &epoch);
        if (length == 0)
            continue;

        char base[256];
        snprintf(base, sizeof base, "%.*s", (int)length, extra[k].proxy);
        bench_series *s = NULL;
        for (size_t j = first; j < out->n_series && s == NULL; j++)
            if (strcmp(out->series[j].proxy, base) == 0)
                s = &out->series[j];
        if (s == NULL)
            rc = add_series(out, base, n_extra, &s);
        if (rc != CLI_EXIT_OK)
            break;

        /* Keep the points in epoch order. */
        size_t at = s->n_points;
        while (at > 0 && s->epochs[at - 1] > epoch)
            at--;
        memmove(s->epochs + at + 1, s->epochs + at,
                (s->n_points - at) * sizeof *s->epochs);
        memmove(s->spearman + at + 1, s->spearman + at,
                (s->n_points - at) * sizeof *s->spearman);
        memmove(s->n + at + 1, s->n + at, (s->n_points - at) * sizeof *s->n);
        s->epochs[at] = epoch;
        s->spearman[at] = extra[k].stats.spearman;
        s->n[at] = extra[k].stats.n;
        s->n_points++;
    }
    return rc;
}

/* ---- learning speed ---------------------------------------------------- */

/* Returns the bin of a C-score in [0, 1]: width 0.1, 1.0 in the last. */
static int speed_bin(double score)
{
    int bin = (int)floor(score * BENCH_SPEED_BINS);
    return bin < BENCH_SPEED_BINS ? bin : BENCH_SPEED_BINS - 1;
}

static int learning_speed(const history *h, const cli_alignment *alignment,
                          bench_epochs *out)
{
    for (size_t r = 0; r < alignment->n; r++) {
        const double t = alignment->truth[r];
        if (!isnan(t) && (t < 0.0 || t > 1.0)) {
            out->speed_note = "the truth has values outside [0, 1], so it "
                              "has no C-score bins of width 0.1";
            return CLI_EXIT_OK;
        }
    }

    out->speed_accuracy = malloc((h->n_epochs * BENCH_SPEED_BINS + 1) *
                                 sizeof(double));
    if (out->speed_accuracy == NULL)
        return cli_runtime_error("bench", "out of memory");
    for (size_t r = 0; r < alignment->n; r++)
        if (!isnan(alignment->truth[r]))
            out->speed_counts[speed_bin(alignment->truth[r])]++;

    for (size_t e = 0; e < h->n_epochs; e++) {
        double correct[BENCH_SPEED_BINS] = {0}, seen[BENCH_SPEED_BINS] = {0};
        for (size_t r = 0; r < alignment->n; r++) {
            const size_t c = e * h->n + r;
            if (isnan(alignment->truth[r]) || !h->observed[c])
                continue;
            const int bin = speed_bin(alignment->truth[r]);
            correct[bin] += h->correct[c];
            seen[bin] += 1.0;
        }
        for (int b = 0; b < BENCH_SPEED_BINS; b++)
            out->speed_accuracy[e * BENCH_SPEED_BINS + (size_t)b] =
                seen[b] > 0 ? correct[b] / seen[b] : NAN;
    }
    out->has_speed = true;
    return CLI_EXIT_OK;
}

int bench_epochs_run(const char *file, const cli_proxy_table *table,
                     const cli_alignment *alignment,
                     const bench_correlation *extra, size_t n_extra,
                     bench_epochs *out)
{
    memset(out, 0, sizeof *out);
    out->file = file;
    history h;
    int rc = read_history(table, &h);
    if (rc != CLI_EXIT_OK)
        return rc;

    out->n_epochs = h.n_epochs;
    rc = history_series(&h, alignment, out);
    if (rc == CLI_EXIT_OK)
        rc = suffixed_series(extra, n_extra, out);
    if (rc == CLI_EXIT_OK)
        rc = learning_speed(&h, alignment, out);
    history_free(&h);
    return rc;
}

/* ---- histogram --------------------------------------------------------- */

void bench_histogram_fill(const cli_truth *truth, bench_histogram *out)
{
    memset(out, 0, sizeof *out);
    double low = INFINITY, high = -INFINITY;
    for (size_t i = 0; i < truth->n; i++)
        if (isfinite(truth->values[i])) {
            low = fmin(low, truth->values[i]);
            high = fmax(high, truth->values[i]);
        }
    if (low > high)
        return; /* no finite value */
    if (low >= 0.0 && high <= 1.0) {
        low = 0.0;
        high = 1.0;
    }
    if (high == low)
        high = low + 1.0;

    const double width = (high - low) / BENCH_HISTOGRAM_BINS;
    for (int b = 0; b <= BENCH_HISTOGRAM_BINS; b++)
        out->edges[b] = low + width * b;
    for (size_t i = 0; i < truth->n; i++) {
        if (!isfinite(truth->values[i]))
            continue;
        int bin = (int)floor((truth->values[i] - low) / width);
        if (bin < 0)
            bin = 0;
        if (bin >= BENCH_HISTOGRAM_BINS)
            bin = BENCH_HISTOGRAM_BINS - 1; /* the maximum itself */
        out->counts[bin]++;
        out->n++;
    }
}
