/*
 * `cscore bench`: the results of a bench run and the analyses that fill
 * them, one file each (bench_epochs.c, bench_noise.c, bench_grid.c), plus
 * the results files (bench_results.c) and the figures (bench_plot.c).
 */
#ifndef CS_CLI_BENCH_H
#define CS_CLI_BENCH_H

#include "bench/bench_config.h"
#include "cli/correlation_table.h"
#include "cli/proxy_data.h"

/* Bins of the learning-speed analysis: C-score bins of width 0.1 on
 * [0, 1], the last one closed. */
#define BENCH_SPEED_BINS 10

/* Bins of the C-score histogram. */
#define BENCH_HISTOGRAM_BINS 20

/* One proxy of one proxy file against the truth. */
typedef struct bench_correlation {
    const char *file; /* the proxy file's name in the configuration */
    char *proxy;
    int direction; /* cli_proxy_direction_of(); 0 when unknown */
    cli_correlation stats;
} bench_correlation;

/* Spearman's rho of one per-epoch proxy against the truth, per epoch. */
typedef struct bench_series {
    char *proxy; /* "p_l", "correct", "cbtl_running", ... */
    size_t n_points;
    int32_t *epochs;  /* 1-based epochs */
    double *spearman; /* NaN where undefined */
    size_t *n;        /* pairs used per point */
} bench_series;

typedef struct bench_epochs {
    const char *file; /* the proxy file whose history was analysed */
    size_t n_epochs;
    bench_series *series;
    size_t n_series;

    /* Learning speed: mean training accuracy per epoch and C-score bin. */
    bool has_speed;
    const char *speed_note;                 /* why it is missing, or NULL */
    int64_t speed_counts[BENCH_SPEED_BINS]; /* examples per bin */
    double *speed_accuracy; /* n_epochs x BENCH_SPEED_BINS; NaN if empty */
} bench_epochs;

/* How well one proxy finds the flipped examples. */
typedef struct bench_noise_proxy {
    char *proxy;
    int direction; /* used to orient the score; +1 when unknown */
    bool direction_known;
    double auroc;
    bool has_interval;
    cs_interval auroc_interval;
    double precision; /* among the n_flipped least regular examples */
    size_t n;         /* examples with a value */
    size_t n_flipped; /* flipped examples among them */
} bench_noise_proxy;

typedef struct bench_noise {
    const char *file;
    const char *path;
    size_t n;         /* rows of the file */
    size_t n_flipped; /* rows marked flipped */
    bench_noise_proxy *proxies;
    size_t n_proxies;
} bench_noise;

/* The least and the most regular examples of one class under a score. */
typedef struct bench_grid_class {
    int64_t label;
    size_t n_low, n_high;
    int64_t *low_ids; /* least regular first */
    double *low_scores;
    int64_t *high_ids; /* most regular first */
    double *high_scores;
} bench_grid_class;

typedef struct bench_grid {
    const char *score; /* "truth" or a proxy key */
    const char *file;  /* proxy file whose examples are ranked */
    int direction;
    bench_grid_class *classes;
    size_t n_classes;
} bench_grid;

typedef struct bench_histogram {
    double edges[BENCH_HISTOGRAM_BINS + 1];
    int64_t counts[BENCH_HISTOGRAM_BINS];
    size_t n; /* finite truth values counted */
} bench_histogram;

/* Everything one run of a configuration produces. */
typedef struct bench_results {
    const cs__bench_config *config;
    const char *output; /* the output folder actually used */
    const cli_truth *truth;
    bench_correlation *correlations;
    size_t n_correlations;
    bench_histogram histogram;
    bool has_epochs;
    bench_epochs epochs;
    bool has_noise;
    bench_noise noise;
    bool has_grid;
    bench_grid grid;
} bench_results;

void bench_results_free(bench_results *results);

/* Fills the histogram of the finite truth values: bins of width 0.05 on
 * [0, 1] when every value lies there, else 20 equal bins from the minimum
 * to the maximum. */
void bench_histogram_fill(const cli_truth *truth, bench_histogram *out);

/* Analyses the hist_* arrays of a proxies table aligned with the truth.
 * extra: correlations of the same file whose names end in "_eN" (such as
 * kde_pm_e5) become series of their own at epoch N. */
int bench_epochs_run(const char *file, const cli_proxy_table *table,
                     const cli_alignment *alignment,
                     const bench_correlation *extra, size_t n_extra,
                     bench_epochs *out);

/* Measures, for each proxy, how well it ranks the flipped examples of a
 * label-noise run first: AUROC with the least regular as positive, and
 * the precision among as many least regular examples as were flipped. */
int bench_noise_run(const cs__bench_config *config,
                    const cli_proxy_table *table,
                    const cli_proxy_column *const *columns, size_t count,
                    bench_noise *out);

/* Ranks the examples of one proxy file by a score within each class. */
int bench_grid_run(const char *score, const char *file,
                   const cli_proxy_table *table,
                   const cli_alignment *alignment, const cli_truth *truth,
                   int32_t per_class, bench_grid *out);

/* Prints the last library error, a configuration error whose message
 * starts with "PATH:LINE:COLUMN: ", as "cscore bench: PATH:LINE:COLUMN:
 * ..." and returns CLI_EXIT_RUNTIME. */
int bench_config_error(void);

/* True when path names an existing file. */
bool bench_file_exists(const char *path);

/* Checks that every file the configuration names exists, pointing at the
 * line of the one that does not. Optional proxy files that are missing
 * are reported on stdout as skipped. */
int bench_check_files(const cs__bench_config *config);

/* Chooses the columns of a proxies table: source->keys when given (each
 * must be in the table), else the configuration's `proxies` that the
 * table has, else every column. *columns is a new array (free()). */
int bench_choose_columns(const cs__bench_config *config,
                         const cs__bench_source *source,
                         const cli_proxy_table *table,
                         const cli_proxy_column ***columns, size_t *count);

/* Checks that each name of the configuration's `proxies` is a column of
 * at least one of the tables. Tables of skipped optional files are zeroed
 * (path NULL); with one of them, a name found nowhere gets a note
 * instead of an error. */
int bench_check_proxy_names(const cs__bench_config *config,
                            const cli_proxy_table *tables, size_t n_tables);

/* Writes results.csv and results.json into results->output. */
int bench_results_write(const bench_results *results);

/* Runs bench/plot.py on results.json when /usr/bin/python3 has
 * matplotlib, else prints the command. script NULL: look next to the
 * configuration file. */
int bench_plot(const bench_results *results, const char *script);

#endif /* CS_CLI_BENCH_H */
