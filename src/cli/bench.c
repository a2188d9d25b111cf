/*
 * `cscore bench CONFIG.yaml`: runs a whole correlation bench that a YAML
 * file describes (format in src/bench/bench_config.h). It correlates the
 * proxies of each proxy file with the ground truth, analyses the
 * per-epoch history, measures how well each proxy finds flipped labels,
 * ranks images for the figure grid, writes results.csv and results.json,
 * and draws the figures with bench/plot.py.
 */
#include "cli/bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char bench_help[] =
    "Usage: cscore bench [options] CONFIG.yaml\n"
    "\n"
    "Runs the bench that CONFIG.yaml describes and writes results.csv and\n"
    "results.json into its output folder, then draws the figures with\n"
    "bench/plot.py (PNG and SVG) when /usr/bin/python3 has matplotlib\n"
    "(Debian package python3-matplotlib), or prints the command.\n"
    "\n"
    "For each proxy: Spearman's rho and Kendall's tau-b against the truth\n"
    "with bootstrap intervals; the correlation of the raw values, so\n"
    "proxies that fall with regularity (forgetting, first_learned, el2n,\n"
    "p_l_std) correlate negatively. From the history arrays of a\n"
    "proxies.npz: rho per epoch of p_L, p_max, correctness, the running\n"
    "CBTL and the running mean p_L, and the mean training accuracy per\n"
    "epoch of C-score bins of width 0.1. From a label-noise run (a\n"
    "proxies.npz with 'flipped', from `cscore train --flip-labels`): the\n"
    "AUROC of each proxy for finding flipped examples, less regular\n"
    "ranked first, and the precision among as many least regular\n"
    "examples as were flipped.\n"
    "\n"
    "  --out DIR           output folder (default: 'output' of the file)\n"
    "  --no-plot           write the results files only\n"
    "  --plot-script FILE  plotting script (default: $CSCORE_PLOT_SCRIPT,\n"
    "                      else plot.py in the folder of CONFIG.yaml)\n"
    "  -h, --help          show this help\n"
    "\n"
    "The keys of CONFIG.yaml (relative paths start at its folder):\n"
    "  truth: {path: FILE, key: NAME}    key optional: scores, else integral\n"
    "  proxy_files: [{name: N, path: FILE, keys: [K, ...]}, ...]\n"
    "  proxies: [K, ...]                 optional filter for every file\n"
    "  output: FOLDER\n"
    "  bootstrap: B                      optional, default 1000; 0 for none\n"
    "  confidence: L                     optional, default 0.95\n"
    "  seed: S                           optional, default 0\n"
    "  per_epoch: N                      optional proxy file name\n"
    "  label_noise: {name: N, path: FILE, keys: [K, ...]}   optional\n"
    "  figures: {images: IDX_FILE, score: truth|K, per_class: 8,\n"
    "            class_names: [...]}     optional\n";

enum { OPT_OUT = 1, OPT_NO_PLOT, OPT_PLOT_SCRIPT, OPT_HELP = 'h' };

typedef struct bench_args {
    const char *config;
    const char *out;
    const char *plot_script;
    bool no_plot;
} bench_args;

/* Returns CLI_EXIT_OK, an exit code, or -1 after printing the help. */
static int parse_args(int argc, char **argv, bench_args *a)
{
    static const struct option options[] = {
        {"out", required_argument, NULL, OPT_OUT},
        {"no-plot", no_argument, NULL, OPT_NO_PLOT},
        {"plot-script", required_argument, NULL, OPT_PLOT_SCRIPT},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int code;
    optind = 1;
    while ((code = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (code == OPT_OUT) {
            a->out = optarg;
        } else if (code == OPT_NO_PLOT) {
            a->no_plot = true;
        } else if (code == OPT_PLOT_SCRIPT) {
            a->plot_script = optarg;
        } else if (code == OPT_HELP) {
            fputs(bench_help, stdout);
            return -1;
        } else {
            return cli_usage_error("bench", "invalid option");
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("bench", "give exactly one CONFIG.yaml");
    a->config = argv[optind];
    return CLI_EXIT_OK;
}

/* ---- inputs ------------------------------------------------------------ */

/* The open inputs of a run. */
typedef struct bench_inputs {
    cli_truth truth;
    cli_proxy_table *tables; /* one per proxy file */
    cli_alignment *alignments;
    size_t n_tables;
    cli_proxy_table noise; /* the label-noise run; zeroed without one */
} bench_inputs;

static void inputs_free(bench_inputs *in)
{
    for (size_t k = 0; k < in->n_tables; k++) {
        cli_proxy_table_free(&in->tables[k]);
        cli_alignment_free(&in->alignments[k]);
    }
    free(in->tables);
    free(in->alignments);
    cli_proxy_table_free(&in->noise);
    cli_truth_free(&in->truth);
}

/* Rejects a truth key that the .npz file lacks, at its line. */
static int check_truth_key(const cs__bench_config *config)
{
    cs_npz *npz = NULL;
    if (config->truth_key.text == NULL ||
        cs_npz_open(config->truth_path.text, &npz) != CS_OK)
        return CLI_EXIT_OK; /* cli_truth_load() reports the rest */
    const bool found = cs_npz_contains(npz, config->truth_key.text) == 1;
    cs_npz_close(npz);
    if (found)
        return CLI_EXIT_OK;
    cs__bench_config_reject(config, &config->truth_key,
                            "the truth file %s has no array '%s'; run "
                            "`cscore correlate --truth %s --proxies ...` "
                            "without a key to see its keys",
                            config->truth_path.text, config->truth_key.text,
                            config->truth_path.text);
    return bench_config_error();
}

/* Checks the `keys` of a proxies file against the table, so that a typo
 * stops the run before any work. */
static int check_keys(const cs__bench_config *config,
                      const cs__bench_source *source,
                      const cli_proxy_table *table)
{
    const cli_proxy_column **columns = NULL;
    size_t count = 0;
    int rc = bench_choose_columns(config, source, table, &columns, &count);
    free(columns);
    return rc;
}

/* Opens the label-noise run, which must have a `flipped` array. */
static int open_noise(const cs__bench_config *config, cli_proxy_table *table)
{
    const char *path = config->label_noise.path.text;
    if (!config->has_label_noise || !bench_file_exists(path))
        return CLI_EXIT_OK; /* optional: bench_check_files() reported it */
    int rc = cli_proxy_table_open("bench", path, table);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (table->flipped == NULL) {
        cs__bench_config_reject(config, &config->label_noise.path,
                                "%s has no 'flipped' array; train the "
                                "label-noise run with `cscore train "
                                "--flip-labels 0.05 --flip-seed S`",
                                path);
        return bench_config_error();
    }
    return check_keys(config, &config->label_noise, table);
}

static int open_inputs(const cs__bench_config *config, bench_inputs *in)
{
    memset(in, 0, sizeof *in);
    int rc = bench_check_files(config);
    if (rc == CLI_EXIT_OK)
        rc = check_truth_key(config);
    if (rc == CLI_EXIT_OK)
        rc = cli_truth_load("bench", config->truth_path.text,
                            config->truth_key.text, &in->truth);
    if (rc != CLI_EXIT_OK)
        return rc;

    in->tables = calloc(config->n_sources, sizeof *in->tables);
    in->alignments = calloc(config->n_sources, sizeof *in->alignments);
    if (in->tables == NULL || in->alignments == NULL)
        return cli_runtime_error("bench", "out of memory");
    in->n_tables = config->n_sources;
    for (size_t k = 0; k < config->n_sources && rc == CLI_EXIT_OK; k++) {
        const char *path = config->sources[k].path.text;
        if (!bench_file_exists(path))
            continue; /* optional: bench_check_files() reported it */
        rc = cli_proxy_table_open("bench", path, &in->tables[k]);
        if (rc == CLI_EXIT_OK)
            rc = check_keys(config, &config->sources[k], &in->tables[k]);
        if (rc == CLI_EXIT_OK)
            rc = cli_align("bench", &in->truth, &in->tables[k],
                           &in->alignments[k]);
    }
    if (rc == CLI_EXIT_OK)
        rc = open_noise(config, &in->noise);
    if (rc == CLI_EXIT_OK)
        rc = bench_check_proxy_names(config, in->tables, in->n_tables);
    return rc;
}

/* ---- correlations ------------------------------------------------------ */

static int correlate_source(const cs__bench_config *config,
                            const cs__bench_source *source,
                            const cli_proxy_table *table,
                            const cli_alignment *alignment,
                            bench_results *results)
{
    const cli_proxy_column **columns = NULL;
    size_t count = 0;
    int rc = bench_choose_columns(config, source, table, &columns, &count);
    bench_correlation *grown = realloc(results->correlations,
                                       (results->n_correlations + count + 1) *
                                           sizeof *grown);
    if (rc == CLI_EXIT_OK && grown == NULL)
        rc = cli_runtime_error("bench", "out of memory");
    if (grown != NULL)
        results->correlations = grown;

    cs_bootstrap_options bootstrap;
    cs_bootstrap_options_init(&bootstrap);
    bootstrap.resamples = config->bootstrap;
    bootstrap.confidence = config->confidence;
    bootstrap.seed = config->seed;

    printf("\nProxy file %s: %s (%zu examples, aligned by %s)\n",
           source->name.text, table->path, table->n,
           table->ids != NULL ? "ids" : "position");
    cli_print_correlation_header(stdout, 16, config->confidence,
                                 config->bootstrap > 0);
    for (size_t k = 0; k < count && rc == CLI_EXIT_OK; k++) {
        bench_correlation *c = &results->correlations[results->n_correlations];
        memset(c, 0, sizeof *c);
        c->file = source->name.text;
        c->proxy = strdup(columns[k]->name);
        c->direction = cli_proxy_direction_of(columns[k]->name);
        results->n_correlations++;

        double *values = NULL;
        rc = c->proxy != NULL ? cli_proxy_column_values("bench", columns[k],
                                                        table->n, &values)
                              : cli_runtime_error("bench", "out of memory");
        if (rc == CLI_EXIT_OK)
            rc = cli_correlate_pairs("bench", values, alignment->truth,
                                     alignment->n, NULL,
                                     config->bootstrap > 0 ? &bootstrap : NULL,
                                     &c->stats);
        if (rc == CLI_EXIT_OK)
            cli_print_correlation_row(stdout, 16, c->proxy, &c->stats);
        fflush(stdout);
        free(values);
    }
    free(columns);
    return rc;
}

/* ---- per-epoch analysis ------------------------------------------------- */

/* Finds the proxy file for the per-epoch analysis: the one `per_epoch`
 * names, else the first .npz with history. Sets *index to n_sources when
 * there is none. */
static int choose_epoch_source(const cs__bench_config *config,
                               const bench_inputs *in, size_t *index)
{
    *index = config->n_sources;
    for (size_t k = 0; k < config->n_sources; k++) {
        const bool named = config->per_epoch.text != NULL &&
                           strcmp(config->per_epoch.text,
                                  config->sources[k].name.text) == 0;
        if (named && in->tables[k].path == NULL)
            return CLI_EXIT_OK; /* a skipped optional file */
        const bool has_history = in->tables[k].npz != NULL &&
                                 cs_npz_contains(in->tables[k].npz,
                                                 "hist_correct") == 1;
        if (named && !has_history) {
            cs__bench_config_reject(config, &config->per_epoch,
                                    "the proxy file '%s' (%s) has no "
                                    "hist_correct array to analyse per "
                                    "epoch; name a proxies.npz of `cscore "
                                    "train`",
                                    config->per_epoch.text,
                                    in->tables[k].path);
            return bench_config_error();
        }
        if (named || (config->per_epoch.text == NULL && has_history)) {
            *index = k;
            return CLI_EXIT_OK;
        }
    }
    if (config->per_epoch.text == NULL)
        return CLI_EXIT_OK;
    cs__bench_config_reject(config, &config->per_epoch,
                            "'per_epoch' names '%s', which is not the name "
                            "of an entry of 'proxy_files'",
                            config->per_epoch.text);
    return bench_config_error();
}

static void print_epochs(const bench_epochs *e)
{
    printf("\nPer-epoch Spearman rho against the truth (proxy file %s, %zu "
           "epochs):\n%-18s %9s %9s %17s\n",
           e->file, e->n_epochs, "proxy", "first", "last",
           "strongest (epoch)");
    for (size_t k = 0; k < e->n_series; k++) {
        const bench_series *s = &e->series[k];
        size_t best = 0; /* largest |rho|, for series that fall too */
        for (size_t p = 1; p < s->n_points; p++)
            if (fabs(s->spearman[p]) > fabs(s->spearman[best]))
                best = p;
        printf("%-18s %9.4f %9.4f %12.4f (%d)\n", s->proxy, s->spearman[0],
               s->spearman[s->n_points - 1], s->spearman[best],
               (int)s->epochs[best]);
    }
    if (!e->has_speed) {
        printf("Learning speed by C-score bin: skipped, %s\n", e->speed_note);
        return;
    }
    printf("\nMean training accuracy by C-score bin, epoch 1 and epoch %zu:\n",
           e->n_epochs);
    for (int b = 0; b < BENCH_SPEED_BINS; b++)
        printf("  [%.1f, %.1f%c %6lld examples  %6.3f  %6.3f\n", 0.1 * b,
               0.1 * (b + 1), b + 1 == BENCH_SPEED_BINS ? ']' : ')',
               (long long)e->speed_counts[b], e->speed_accuracy[b],
               e->speed_accuracy[(e->n_epochs - 1) * BENCH_SPEED_BINS +
                                 (size_t)b]);
}

static int run_epochs(const cs__bench_config *config, const bench_inputs *in,
                      bench_results *results)
{
    size_t k;
    int rc = choose_epoch_source(config, in, &k);
    if (rc != CLI_EXIT_OK || k == config->n_sources) {
        if (rc == CLI_EXIT_OK)
            printf("\nPer-epoch analysis: skipped, no proxy file present "
                   "has the history arrays of `cscore train`\n");
        return rc;
    }

    /* The correlations of this file, for names with an epoch suffix. */
    const char *name = config->sources[k].name.text;
    size_t first = 0, count = 0;
    while (first < results->n_correlations &&
           strcmp(results->correlations[first].file, name) != 0)
        first++;
    while (first + count < results->n_correlations &&
           strcmp(results->correlations[first + count].file, name) == 0)
        count++;

    rc = bench_epochs_run(name, &in->tables[k], &in->alignments[k],
                          results->correlations + first, count,
                          &results->epochs);
    results->has_epochs = rc == CLI_EXIT_OK;
    if (rc == CLI_EXIT_OK && results->epochs.n_epochs > 0)
        print_epochs(&results->epochs);
    return rc;
}

/* ---- label noise -------------------------------------------------------- */

static void print_noise(const bench_noise *noise, double confidence,
                        bool intervals)
{
    printf("\nFinding flipped labels (%s: %zu of %zu examples flipped, "
           "%.2f%%), less regular ranked first:\n%-16s %7s",
           noise->path, noise->n_flipped, noise->n,
           100.0 * (double)noise->n_flipped / (double)noise->n, "proxy",
           "auroc");
    if (intervals)
        printf("  %g%% CI            ", 100.0 * confidence);
    printf(" %10s %9s\n", "precision", "n");
    for (size_t k = 0; k < noise->n_proxies; k++) {
        const bench_noise_proxy *p = &noise->proxies[k];
        printf("%-16s %7.4f", p->proxy, p->auroc);
        if (intervals)
            printf("  [%7.4f, %7.4f]", p->auroc_interval.lower,
                   p->auroc_interval.upper);
        printf(" %10.4f %9zu%s\n", p->precision, p->n,
               p->direction_known ? ""
                                  : "  (direction unknown: higher "
                                    "taken as more regular)");
    }
}

static int run_noise(const cs__bench_config *config, const bench_inputs *in,
                     bench_results *results)
{
    if (in->noise.path == NULL)
        return CLI_EXIT_OK;
    const cli_proxy_column **columns = NULL;
    size_t count = 0;
    int rc = bench_choose_columns(config, &config->label_noise, &in->noise,
                                  &columns, &count);
    if (rc == CLI_EXIT_OK)
        rc = bench_noise_run(config, &in->noise, columns, count,
                             &results->noise);
    results->has_noise = true; /* so that the results free what was made */
    if (rc == CLI_EXIT_OK)
        print_noise(&results->noise, config->confidence,
                    config->bootstrap > 0);
    free(columns);
    return rc;
}

/* ---- image grid --------------------------------------------------------- */

static int run_grid(const cs__bench_config *config, const bench_inputs *in,
                    bench_results *results)
{
    if (!config->has_figures || config->images.text == NULL)
        return CLI_EXIT_OK;

    /* The first proxy file that has the score; the truth goes with the
     * first file. */
    const char *score = config->grid_score.text;
    const bool by_truth = strcmp(score, "truth") == 0;
    size_t k = 0;
    while (
        k < in->n_tables &&
        (in->tables[k].path == NULL ||
         (!by_truth && cli_proxy_table_find(&in->tables[k], score) == NULL)))
        k++;
    if (k == in->n_tables && by_truth) {
        printf("\nImage grid: skipped, no proxy file is present\n");
        return CLI_EXIT_OK;
    }
    if (k == in->n_tables) {
        cs__bench_config_reject(config, &config->grid_score,
                                "'score' is '%s', which is neither 'truth' "
                                "nor a proxy of a proxy file",
                                score);
        return bench_config_error();
    }
    results->has_grid = true;
    return bench_grid_run(score, config->sources[k].name.text, &in->tables[k],
                          &in->alignments[k], &in->truth, config->per_class,
                          &results->grid);
}

/* ---- the command -------------------------------------------------------- */

static int run(const bench_args *a, const cs__bench_config *config)
{
    bench_inputs in;
    int rc = open_inputs(config, &in);
    bench_results results = {.config = config,
                             .output = a->out ? a->out : config->output.text,
                             .truth = &in.truth};
    if (rc == CLI_EXIT_OK) {
        printf("Truth: %s, key %s (%zu examples)\n", in.truth.path,
               in.truth.key ? in.truth.key : "(a .npy file)", in.truth.n);
        if (config->bootstrap > 0)
            printf("Intervals: percentile bootstrap, %d resamples, seed "
                   "%llu\n",
                   (int)config->bootstrap, (unsigned long long)config->seed);
        bench_histogram_fill(&in.truth, &results.histogram);
    }
    for (size_t k = 0; k < config->n_sources && rc == CLI_EXIT_OK; k++)
        if (in.tables[k].path != NULL)
            rc = correlate_source(config, &config->sources[k], &in.tables[k],
                                  &in.alignments[k], &results);
    if (rc == CLI_EXIT_OK)
        rc = run_epochs(config, &in, &results);
    if (rc == CLI_EXIT_OK)
        rc = run_noise(config, &in, &results);
    if (rc == CLI_EXIT_OK)
        rc = run_grid(config, &in, &results);
    if (rc == CLI_EXIT_OK)
        rc = bench_results_write(&results);
    if (rc == CLI_EXIT_OK)
        printf("\nWrote %s/results.csv and results.json\n", results.output);
    if (rc == CLI_EXIT_OK && !a->no_plot)
        rc = bench_plot(&results, a->plot_script);

    bench_results_free(&results);
    inputs_free(&in);
    return rc;
}

int cli_bench(int argc, char **argv)
{
    bench_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK)
        return rc < 0 ? CLI_EXIT_OK : rc;

    cs__bench_config *config = NULL;
    if (cs__bench_config_load(a.config, &config) != CS_OK)
        return bench_config_error();
    rc = run(&a, config);
    cs__bench_config_free(config);
    return rc;
}
