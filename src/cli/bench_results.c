/*
 * The results files of `cscore bench`:
 *
 * - results.csv, one row per number: analysis (correlation, per_epoch,
 *   label_noise), file, proxy, epoch, statistic, estimate, lower, upper,
 *   n. Cells that do not apply, and NaN, are empty.
 * - results.json, everything bench/plot.py draws: the correlations, the
 *   per-epoch series, the learning speed, the C-score histogram, the
 *   label-noise table and the image grid. NaN is written as null.
 *
 * Both are written to a temporary file and renamed into place.
 */
#include "cli/bench.h"
#include "cli/json_writer.h"
#include "cli/output.h"

#include "io/io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void bench_results_free(bench_results *results)
{
    for (size_t k = 0; k < results->n_correlations; k++)
        free(results->correlations[k].proxy);
    free(results->correlations);

    for (size_t k = 0; k < results->epochs.n_series; k++) {
        bench_series *s = &results->epochs.series[k];
        free(s->proxy), free(s->epochs), free(s->spearman), free(s->n);
    }
    free(results->epochs.series);
    free(results->epochs.speed_accuracy);

    for (size_t k = 0; k < results->noise.n_proxies; k++)
        free(results->noise.proxies[k].proxy);
    free(results->noise.proxies);

    for (size_t k = 0; k < results->grid.n_classes; k++) {
        bench_grid_class *c = &results->grid.classes[k];
        free(c->low_ids), free(c->low_scores);
        free(c->high_ids), free(c->high_scores);
    }
    free(results->grid.classes);
    memset(results, 0, sizeof *results);
}

/* ---- results.csv ------------------------------------------------------- */

/* Writes ",value", or "," alone for NaN. */
static void csv_number(FILE *fp, double value)
{
    fputc(',', fp);
    if (!isnan(value))
        fprintf(fp, "%.10g", value);
}

/* Writes a text cell, quoted when it contains a comma, quote or line
 * end. */
static void csv_text(FILE *fp, const char *text)
{
    if (strpbrk(text, ",\"\r\n") == NULL) {
        fputs(text, fp);
        return;
    }
    fputc('"', fp);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc('"', fp);
        fputc(*p, fp);
    }
    fputc('"', fp);
}

/* Writes one row; epoch < 0 and interval NULL leave their cells empty. */
static void csv_row(FILE *fp, const char *analysis, const char *file,
                    const char *proxy, int32_t epoch, const char *statistic,
                    double estimate, const cs_interval *interval, size_t n)
{
    fprintf(fp, "%s,", analysis);
    csv_text(fp, file);
    fputc(',', fp);
    csv_text(fp, proxy);
    fputc(',', fp);
    if (epoch >= 0)
        fprintf(fp, "%d", (int)epoch);
    fprintf(fp, ",%s", statistic);
    csv_number(fp, estimate);
    csv_number(fp, interval ? interval->lower : NAN);
    csv_number(fp, interval ? interval->upper : NAN);
    fprintf(fp, ",%zu\n", n);
}

static void write_csv(FILE *fp, const bench_results *r)
{
    fputs("analysis,file,proxy,epoch,statistic,estimate,lower,upper,n\n", fp);
    for (size_t k = 0; k < r->n_correlations; k++) {
        const bench_correlation *c = &r->correlations[k];
        const bool ci = c->stats.has_intervals;
        csv_row(fp, "correlation", c->file, c->proxy, -1, "spearman",
                c->stats.spearman, ci ? &c->stats.spearman_interval : NULL,
                c->stats.n);
        csv_row(fp, "correlation", c->file, c->proxy, -1, "kendall_tau_b",
                c->stats.kendall, ci ? &c->stats.kendall_interval : NULL,
                c->stats.n);
    }
    for (size_t k = 0; r->has_epochs && k < r->epochs.n_series; k++) {
        const bench_series *s = &r->epochs.series[k];
        for (size_t p = 0; p < s->n_points; p++)
            csv_row(fp, "per_epoch", r->epochs.file, s->proxy, s->epochs[p],
                    "spearman", s->spearman[p], NULL, s->n[p]);
    }
    for (size_t k = 0; r->has_noise && k < r->noise.n_proxies; k++) {
        const bench_noise_proxy *p = &r->noise.proxies[k];
        csv_row(fp, "label_noise", r->noise.file, p->proxy, -1, "auroc",
                p->auroc, p->has_interval ? &p->auroc_interval : NULL, p->n);
        csv_row(fp, "label_noise", r->noise.file, p->proxy, -1,
                "precision_at_flip_rate", p->precision, NULL, p->n);
    }
}

/* ---- results.json ------------------------------------------------------ */

static void json_estimate(json_writer *w, const char *key, double estimate,
                          const cs_interval *interval)
{
    json_key(w, key);
    json_begin_object(w);
    json_key(w, "estimate");
    json_number(w, estimate);
    json_key(w, "lower");
    json_number(w, interval ? interval->lower : NAN);
    json_key(w, "upper");
    json_number(w, interval ? interval->upper : NAN);
    json_end_object(w);
}

static void json_doubles(json_writer *w, const double *values, size_t n)
{
    json_begin_array(w);
    for (size_t k = 0; k < n; k++)
        json_number(w, values[k]);
    json_end_array(w);
}

static void json_integers(json_writer *w, const int64_t *values, size_t n)
{
    json_begin_array(w);
    for (size_t k = 0; k < n; k++)
        json_integer(w, values[k]);
    json_end_array(w);
}

static void json_correlations(json_writer *w, const bench_results *r)
{
    json_key(w, "correlations");
    json_begin_array(w);
    for (size_t k = 0; k < r->n_correlations; k++) {
        const bench_correlation *c = &r->correlations[k];
        const bool ci = c->stats.has_intervals;
        json_begin_object(w);
        json_key(w, "file");
        json_string(w, c->file);
        json_key(w, "proxy");
        json_string(w, c->proxy);
        json_key(w, "direction");
        json_integer(w, c->direction);
        json_estimate(w, "spearman", c->stats.spearman,
                      ci ? &c->stats.spearman_interval : NULL);
        json_estimate(w, "kendall_tau_b", c->stats.kendall,
                      ci ? &c->stats.kendall_interval : NULL);
        json_key(w, "n");
        json_integer(w, (int64_t)c->stats.n);
        json_end_object(w);
    }
    json_end_array(w);
}

static void json_series(json_writer *w, const bench_series *s)
{
    json_begin_object(w);
    json_key(w, "proxy");
    json_string(w, s->proxy);
    json_key(w, "epochs");
    json_begin_array(w);
    for (size_t p = 0; p < s->n_points; p++)
        json_integer(w, s->epochs[p]);
    json_end_array(w);
    json_key(w, "spearman");
    json_doubles(w, s->spearman, s->n_points);
    json_key(w, "n");
    json_begin_array(w);
    for (size_t p = 0; p < s->n_points; p++)
        json_integer(w, (int64_t)s->n[p]);
    json_end_array(w);
    json_end_object(w);
}

static void json_speed(json_writer *w, const bench_epochs *e)
{
    json_key(w, "learning_speed");
    if (!e->has_speed) {
        json_begin_object(w);
        json_key(w, "note");
        json_string(w, e->speed_note);
        json_end_object(w);
        return;
    }
    double edges[BENCH_SPEED_BINS + 1];
    for (int b = 0; b <= BENCH_SPEED_BINS; b++)
        edges[b] = (double)b / BENCH_SPEED_BINS;

    json_begin_object(w);
    json_key(w, "file");
    json_string(w, e->file);
    json_key(w, "bin_edges");
    json_doubles(w, edges, BENCH_SPEED_BINS + 1);
    json_key(w, "counts");
    json_integers(w, e->speed_counts, BENCH_SPEED_BINS);
    json_key(w, "accuracy");
    json_begin_array(w);
    for (size_t epoch = 0; epoch < e->n_epochs; epoch++)
        json_doubles(w, e->speed_accuracy + epoch * BENCH_SPEED_BINS,
                     BENCH_SPEED_BINS);
    json_end_array(w);
    json_end_object(w);
}

static void json_epochs(json_writer *w, const bench_results *r)
{
    json_key(w, "per_epoch");
    if (!r->has_epochs) {
        json_null(w);
        json_key(w, "learning_speed");
        json_null(w);
        return;
    }
    json_begin_object(w);
    json_key(w, "file");
    json_string(w, r->epochs.file);
    json_key(w, "epochs");
    json_integer(w, (int64_t)r->epochs.n_epochs);
    json_key(w, "series");
    json_begin_array(w);
    for (size_t k = 0; k < r->epochs.n_series; k++)
        json_series(w, &r->epochs.series[k]);
    json_end_array(w);
    json_end_object(w);
    json_speed(w, &r->epochs);
}

static void json_histogram(json_writer *w, const bench_histogram *h)
{
    json_key(w, "histogram");
    json_begin_object(w);
    json_key(w, "bin_edges");
    json_doubles(w, h->edges, BENCH_HISTOGRAM_BINS + 1);
    json_key(w, "counts");
    json_integers(w, h->counts, BENCH_HISTOGRAM_BINS);
    json_key(w, "n");
    json_integer(w, (int64_t)h->n);
    json_end_object(w);
}

static void json_noise_proxy(json_writer *w, const bench_noise_proxy *p)
{
    json_begin_object(w);
    json_key(w, "proxy");
    json_string(w, p->proxy);
    json_key(w, "direction");
    json_integer(w, p->direction);
    json_key(w, "direction_known");
    json_bool(w, p->direction_known);
    json_estimate(w, "auroc", p->auroc,
                  p->has_interval ? &p->auroc_interval : NULL);
    json_key(w, "precision_at_flip_rate");
    json_number(w, p->precision);
    json_key(w, "n");
    json_integer(w, (int64_t)p->n);
    json_key(w, "n_flipped");
    json_integer(w, (int64_t)p->n_flipped);
    json_end_object(w);
}

static void json_noise(json_writer *w, const bench_results *r)
{
    json_key(w, "label_noise");
    if (!r->has_noise) {
        json_null(w);
        return;
    }
    json_begin_object(w);
    json_key(w, "file");
    json_string(w, r->noise.file);
    json_key(w, "path");
    json_string(w, r->noise.path);
    json_key(w, "n");
    json_integer(w, (int64_t)r->noise.n);
    json_key(w, "n_flipped");
    json_integer(w, (int64_t)r->noise.n_flipped);
    json_key(w, "flip_rate");
    json_number(w, (double)r->noise.n_flipped / (double)r->noise.n);
    json_key(w, "proxies");
    json_begin_array(w);
    for (size_t k = 0; k < r->noise.n_proxies; k++)
        json_noise_proxy(w, &r->noise.proxies[k]);
    json_end_array(w);
    json_end_object(w);
}

static void json_grid_end(json_writer *w, const char *key, const int64_t *ids,
                          const double *scores, size_t n)
{
    json_key(w, key);
    json_integers(w, ids, n);
    char scores_key[64];
    snprintf(scores_key, sizeof scores_key, "%s_scores", key);
    json_key(w, scores_key);
    json_doubles(w, scores, n);
}

static void json_grid(json_writer *w, const bench_results *r)
{
    const cs__bench_config *config = r->config;
    json_key(w, "image_grid");
    if (!r->has_grid) {
        json_null(w);
        return;
    }
    json_begin_object(w);
    json_key(w, "images");
    json_string(w, config->images.text);
    json_key(w, "score");
    json_string(w, r->grid.score);
    json_key(w, "file");
    json_string(w, r->grid.file);
    json_key(w, "direction");
    json_integer(w, r->grid.direction);
    json_key(w, "class_names");
    json_begin_array(w);
    for (size_t k = 0; k < config->n_class_names; k++)
        json_string(w, config->class_names[k].text);
    json_end_array(w);
    json_key(w, "classes");
    json_begin_array(w);
    for (size_t k = 0; k < r->grid.n_classes; k++) {
        const bench_grid_class *c = &r->grid.classes[k];
        json_begin_object(w);
        json_key(w, "label");
        json_integer(w, c->label);
        json_grid_end(w, "least_regular", c->low_ids, c->low_scores, c->n_low);
        json_grid_end(w, "most_regular", c->high_ids, c->high_scores,
                      c->n_high);
        json_end_object(w);
    }
    json_end_array(w);
    json_end_object(w);
}

static void json_header(json_writer *w, const bench_results *r)
{
    const cs__bench_config *config = r->config;
    json_key(w, "cscore_version");
    json_string(w, cs_version_string());
    json_key(w, "config");
    json_string(w, config->config_path);
    json_key(w, "truth");
    json_begin_object(w);
    json_key(w, "path");
    json_string(w, r->truth->path);
    json_key(w, "key");
    json_string(w, r->truth->key);
    json_key(w, "n");
    json_integer(w, (int64_t)r->truth->n);
    json_end_object(w);
    json_key(w, "bootstrap");
    json_begin_object(w);
    json_key(w, "resamples");
    json_integer(w, config->bootstrap);
    json_key(w, "confidence");
    json_number(w, config->confidence);
    json_key(w, "seed");
    json_integer(w, (int64_t)config->seed);
    json_end_object(w);
}

static void write_json(FILE *fp, const bench_results *r)
{
    json_writer w;
    json_init(&w, fp);
    json_begin_object(&w);
    json_header(&w, r);
    json_correlations(&w, r);
    json_epochs(&w, r);
    json_histogram(&w, &r->histogram);
    json_noise(&w, r);
    json_grid(&w, r);
    json_end_object(&w);
}

/* ---- files ------------------------------------------------------------- */

static int write_file(const char *folder, const char *name,
                      void (*write)(FILE *, const bench_results *),
                      const bench_results *r)
{
    char path[4096];
    cli_join(path, sizeof path, folder, name);
    cs__atomic_file file;
    if (cs__atomic_open(&file, path, "results") != CS_OK)
        return cli_library_error("bench");
    write(file.fp, r);
    if (ferror(file.fp)) {
        cs__atomic_abort(&file);
        return cli_runtime_error("bench",
                                 "cannot write %s; check free disk space",
                                 path);
    }
    if (cs__atomic_commit(&file, "results") != CS_OK)
        return cli_library_error("bench");
    return CLI_EXIT_OK;
}

int bench_results_write(const bench_results *results)
{
    int rc = cli_make_folder("bench", results->output);
    if (rc == CLI_EXIT_OK)
        rc = write_file(results->output, "results.csv", write_csv, results);
    if (rc == CLI_EXIT_OK)
        rc = write_file(results->output, "results.json", write_json, results);
    return rc;
}
