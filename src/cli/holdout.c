/*
 * `cscore holdout`: ground-truth C-scores of an IDX data set by the holdout
 * estimator with the built-in MLP trainer, resumable through a record
 * file, on several threads, and over MPI ranks when started by mpirun.
 */
#include "cli/cli.h"
#include "cli/cluster.h"
#include "cli/holdout_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUBCOMMAND "holdout"

static const char holdout_help[] =
    "Usage: cscore holdout --ratios LIST --runs K --records FILE --out "
    "O.npz\n"
    "                      [options]\n"
    "\n"
    "Estimates ground-truth C-scores: for each subset ratio and run, trains\n"
    "a fresh model on a random subset of the training examples and\n"
    "predicts all of them. An example's score at a ratio is the share of\n"
    "the runs that held it out in which it was predicted correctly.\n"
    "O.npz contains labels, score_sR (float64, NaN where never held out),\n"
    "count_sR (int32) and se_sR (float64) for each ratio R, integral\n"
    "(float64, mean over ratios) and heldout_count (int32).\n"
    "\n"
    "Every finished run is appended to FILE, so running the same command\n"
    "again resumes where a crash or kill stopped it. Under mpirun with\n"
    "P > 1 processes, rank r runs its share of the runs into FILE.rank<r>\n"
    "and rank 0 prints progress lines for its own share, then sums the\n"
    "counts and writes O.npz. `cscore holdout-merge` combines record\n"
    "files.\n"
    "\n"
    "Estimate:\n"
    "  --ratios LIST       comma-separated subset ratios in whole percent,\n"
    "                      1 to 99, e.g. 10,20,30,40,50,60,70,80,90\n"
    "                      (required)\n"
    "  --runs K            runs per ratio (required)\n"
    "  --seed S            master seed; run r of ratio R trains on the\n"
    "                      subset and from the initialisation that\n"
    "                      cs_holdout_run_seed(S, R, r) gives (default 0)\n"
    "  --jobs J            runs trained at the same time, each on one\n"
    "                      OpenBLAS thread (default 1: one run at a time\n"
    "                      with OpenBLAS's own thread count). On a 2-core\n"
    "                      machine, --jobs 2 ran 1.6 to 2.6 times as many\n"
    "                      runs per hour as --jobs 1 (bench/holdout/run.sh)\n"
    "  --slice I/C         run only slice I of C slices of the runs\n"
    "                      (I from 0), e.g. for array jobs that write\n"
    "                      separate record files (default: all runs)\n"
    "  --records FILE      record file, created if missing (required)\n"
    "  --out O.npz         result file (required)\n"
    "\n"
    "Data:\n"
    "  --data DIR          folder with the four standard IDX files, plain or\n"
    "                      .gz (default " CS_FASHION_MNIST_DIR ")\n"
    "  --first N           use the first N training examples in file order\n"
    "                      (default: all)\n"
    "\n"
    "%s"
    "\n"
    "  -h, --help          show this help\n"
    "\n"
    "MPI: %s.\n";

enum {
    OPT_DATA = 1,
    OPT_FIRST,
    OPT_RATIOS,
    OPT_RUNS,
    OPT_JOBS,
    OPT_SLICE,
    OPT_RECORDS,
    OPT_OUT,
    OPT_HELP = 'h'
};

typedef struct holdout_args {
    const char *data;
    int64_t first;
    const char *records;
    const char *out;
    bool slice_given;
    cs_holdout_options options;
    cs_trainer_options recipe;
} holdout_args;

/* Prints the recipe flags' help without --seed, which here sets the
 * master seed and is listed with the estimate's options. */
static void print_recipe_help(void)
{
    const char *line = cli_recipe_help;
    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        const size_t length = end ? (size_t)(end - line + 1) : strlen(line);
        if (strncmp(line, "  --seed ", 9) != 0)
            fwrite(line, 1, length, stdout);
        line += length;
    }
}

static void print_help(void)
{
    const char *split = strstr(holdout_help, "%s");
    fwrite(holdout_help, 1, (size_t)(split - holdout_help), stdout);
    print_recipe_help();
    printf(split + 2, cli_cluster_built_with_mpi
                          ? "built with MPI support"
                          : "built without MPI support (configure with "
                            "-DCSCORE_WITH_MPI=ON)");
}

static bool parse_ratios(const char *text, cs_holdout_options *o)
{
    int count = 0;
    if (!cli_parse_i32_list(SUBCOMMAND, "--ratios", text, 1, 99, o->ratios,
                            CS_HOLDOUT_MAX_RATIOS, &count))
        return false;
    for (int a = 0; a < count; a++) {
        for (int b = 0; b < a; b++) {
            if (o->ratios[a] == o->ratios[b]) {
                cli_usage_error(SUBCOMMAND,
                                "--ratios lists %d twice; list each ratio "
                                "once",
                                (int)o->ratios[a]);
                return false;
            }
        }
    }
    o->n_ratios = count;
    return true;
}

static bool parse_slice(const char *text, cs_holdout_options *o)
{
    int index = 0, count = 0, used = 0;
    if (sscanf(text, "%d/%d%n", &index, &count, &used) != 2 ||
        text[used] != '\0' || count < 1 || index < 0 || index >= count) {
        cli_usage_error(SUBCOMMAND,
                        "invalid value '%s' for --slice: expected I/C with "
                        "0 <= I < C, e.g. 0/4",
                        text);
        return false;
    }
    o->slice_index = index;
    o->slice_count = count;
    return true;
}

static bool parse_i32(const char *option, const char *text, int32_t min,
                      int32_t max, int32_t *out)
{
    int64_t value = 0;
    if (!cli_parse_i64(SUBCOMMAND, option, text, min, max, &value))
        return false;
    *out = (int32_t)value;
    return true;
}

/* Applies one option; returns false after printing a usage error. */
static bool apply_option(int code, const char *value, holdout_args *a)
{
    int64_t seed = 0;
    switch (code) {
    case OPT_DATA:
        a->data = value;
        return true;
    case OPT_FIRST:
        return cli_parse_i64(SUBCOMMAND, "--first", value, 2, INT64_MAX,
                             &a->first);
    case OPT_RATIOS:
        return parse_ratios(value, &a->options);
    case OPT_RUNS:
        return parse_i32("--runs", value, 1, CS_HOLDOUT_MAX_RUNS,
                         &a->options.runs);
    case OPT_JOBS:
        return parse_i32("--jobs", value, 1, CS_HOLDOUT_MAX_WORKERS,
                         &a->options.workers);
    case OPT_SLICE:
        a->slice_given = true;
        return parse_slice(value, &a->options);
    case OPT_RECORDS:
        a->records = value;
        return true;
    case OPT_OUT:
        a->out = value;
        return true;
    case CLI_RECIPE_SEED:
        if (!cli_parse_i64(SUBCOMMAND, "--seed", value, 0, INT64_MAX, &seed))
            return false;
        a->options.seed = (uint64_t)seed;
        return true;
    }
    return cli_apply_recipe_option(SUBCOMMAND, code, value, &a->recipe);
}

static int check_args(const holdout_args *a)
{
    if (a->options.n_ratios == 0)
        return cli_usage_error(SUBCOMMAND, "--ratios LIST is required");
    if (a->options.runs == 0)
        return cli_usage_error(SUBCOMMAND, "--runs K is required");
    if (a->records == NULL)
        return cli_usage_error(SUBCOMMAND, "--records FILE is required");
    if (a->out == NULL)
        return cli_usage_error(SUBCOMMAND, "--out O.npz is required");
    if (a->options.workers > 1 && a->recipe.threads > 1)
        return cli_usage_error(SUBCOMMAND,
                               "--threads %d cannot be combined with "
                               "--jobs %d: each job uses one OpenBLAS "
                               "thread",
                               (int)a->recipe.threads,
                               (int)a->options.workers);
    return CLI_EXIT_OK;
}

/* Returns CLI_EXIT_OK, a usage error, or -1 after printing the help. */
static int parse_args(int argc, char **argv, holdout_args *a)
{
    static const struct option own[] = {
        {"data", required_argument, NULL, OPT_DATA},
        {"first", required_argument, NULL, OPT_FIRST},
        {"ratios", required_argument, NULL, OPT_RATIOS},
        {"runs", required_argument, NULL, OPT_RUNS},
        {"jobs", required_argument, NULL, OPT_JOBS},
        {"slice", required_argument, NULL, OPT_SLICE},
        {"records", required_argument, NULL, OPT_RECORDS},
        {"out", required_argument, NULL, OPT_OUT},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    struct option all[32];
    cli_merge_options(own, all, sizeof all / sizeof all[0]);

    int code;
    optind = 1;
    while ((code = getopt_long(argc, argv, "h", all, NULL)) != -1) {
        if (code == OPT_HELP) {
            print_help();
            return -1;
        }
        if (code == '?')
            return cli_usage_error(SUBCOMMAND, "invalid option");
        if (!apply_option(code, optarg, a))
            return CLI_EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error(SUBCOMMAND, "unexpected argument '%s'",
                               argv[optind]);
    return check_args(a);
}

/* Everything one invocation holds. */
typedef struct holdout_job {
    const holdout_args *args;
    cli_cluster cluster;
    cs_dataset *data;
    cs_examples train;
    cs_examples test;
    cs_holdout_mlp *mlp;
    cs_holdout *estimate;
    char records_path[4096];
    int64_t resumed;    /* runs found in the record file */
    int64_t trained;    /* runs trained by this process */
    double run_seconds; /* wall-clock seconds of cs_holdout_run() */
} holdout_job;

static int load_data(holdout_job *job)
{
    cs_dataset_options options;
    cs_dataset_options_init(&options);
    options.train_count = job->args->first;
    if (cs_dataset_load_idx(job->args->data, &options, &job->data) != CS_OK)
        return cli_library_error(SUBCOMMAND);
    cs_dataset_examples(job->data, CS_SPLIT_TRAIN, &job->train);
    cs_dataset_examples(job->data, CS_SPLIT_TEST, &job->test);
    return CLI_EXIT_OK;
}

/* Creates the trainer and the estimate of this process's slice and opens
 * its record file. */
static int prepare_estimate(holdout_job *job, cs_holdout_options *options)
{
    cs_trainer_options recipe = job->args->recipe;
    recipe.n_inputs = job->train.n_inputs;
    recipe.n_classes = cs_dataset_n_classes(job->data);
    if (cs_holdout_mlp_create(&recipe, &job->train, &job->test, &job->mlp) !=
        CS_OK)
        return cli_library_error(SUBCOMMAND);

    if (job->cluster.size > 1) {
        options->slice_index = job->cluster.rank;
        options->slice_count = job->cluster.size;
        snprintf(job->records_path, sizeof job->records_path, "%s.rank%d",
                 job->args->records, job->cluster.rank);
    } else {
        snprintf(job->records_path, sizeof job->records_path, "%s",
                 job->args->records);
    }

    if (cs_holdout_create(options, job->train.labels, job->train.n,
                          cs_holdout_mlp_recipe(job->mlp),
                          &job->estimate) != CS_OK ||
        cs_holdout_open_records(job->estimate, job->records_path) != CS_OK)
        return cli_library_error(SUBCOMMAND);

    cs_holdout_summary summary = {.struct_size = sizeof summary};
    cs_holdout_get_summary(job->estimate, &summary);
    job->resumed = summary.runs_done;
    return CLI_EXIT_OK;
}

static void print_start(const holdout_job *job)
{
    cs_holdout_summary summary = {.struct_size = sizeof summary};
    cs_holdout_get_summary(job->estimate, &summary);
    if (job->cluster.rank != 0)
        return;
    printf("Holdout estimate on %zu examples (%d classes): %lld runs%s, "
           "%lld already in %s",
           job->train.n, (int)cs_dataset_n_classes(job->data),
           (long long)summary.runs_planned,
           job->cluster.size > 1 ? " on this rank" : "",
           (long long)job->resumed, job->records_path);
    if (summary.records_torn > 0)
        printf(" (a torn last record was dropped)");
    printf("\n");
    fflush(stdout); /* before the progress lines on stderr */
}

static int run_estimate(holdout_job *job)
{
    cs_holdout_trainer trainer = {.struct_size = sizeof trainer};
    if (cs_holdout_mlp_trainer(job->mlp, &trainer) != CS_OK)
        return cli_library_error(SUBCOMMAND);

    print_start(job);
    cli_holdout_progress progress = {.started = cli_seconds_now(),
                                     .prefix = ""};
    const cs_status status = cs_holdout_run(job->estimate, &trainer,
                                            job->cluster.rank == 0
                                                ? cli_holdout_print_progress
                                                : NULL,
                                            &progress);
    job->run_seconds = cli_seconds_now() - progress.started;
    if (status != CS_OK)
        return cli_library_error(SUBCOMMAND);

    cs_holdout_summary summary = {.struct_size = sizeof summary};
    cs_holdout_get_summary(job->estimate, &summary);
    job->trained = summary.runs_done - job->resumed;
    return CLI_EXIT_OK;
}

/* Prints the run phase's wall-clock time and rate (rank 0's under MPI)
 * and the workers' time in the trainer and in the estimator itself. */
static void print_times(const holdout_job *job, double train_seconds,
                        double overhead_seconds)
{
    const double total = train_seconds + overhead_seconds;
    printf("Time in this call: %lld runs in %.1f s wall-clock",
           (long long)job->trained, job->run_seconds);
    if (job->trained > 0 && job->run_seconds > 0)
        printf(" (%.0f runs per hour%s)",
               3600.0 * (double)job->trained / job->run_seconds,
               job->cluster.size > 1 ? " on rank 0" : "");
    printf("; workers spent %.1f s training and %.3f s in the estimator "
           "(%.3f%%)\n",
           train_seconds, overhead_seconds,
           total > 0 ? 100.0 * overhead_seconds / total : 0.0);
}

/* Prints the summary and writes O.npz from the estimate of all ranks. */
static int finish(const holdout_job *job, const cs_holdout *result,
                  double train_seconds, double overhead_seconds)
{
    int rc = cli_holdout_print_summary(SUBCOMMAND, result);
    if (rc != CLI_EXIT_OK)
        return rc;
    print_times(job, train_seconds, overhead_seconds);
    if (cs_holdout_export_npz(result, job->args->out) != CS_OK)
        return cli_library_error(SUBCOMMAND);
    printf("Wrote %s\n", job->args->out);
    return CLI_EXIT_OK;
}

/* Combines the ranks' counts (or takes this process's) and finishes. */
static int report(holdout_job *job, const cs_holdout_options *options)
{
    if (job->cluster.size == 1) {
        cs_holdout_summary s = {.struct_size = sizeof s};
        cs_holdout_get_summary(job->estimate, &s);
        return finish(job, job->estimate, s.train_seconds, s.overhead_seconds);
    }

    cs_holdout *total = NULL;
    double train_seconds = 0.0, overhead_seconds = 0.0;
    int rc = cli_cluster_reduce(SUBCOMMAND, &job->cluster, job->estimate,
                                options, job->train.labels, &total,
                                &train_seconds, &overhead_seconds);
    if (rc == CLI_EXIT_OK && job->cluster.rank == 0)
        rc = finish(job, total, train_seconds, overhead_seconds);
    cs_holdout_free(total);
    return rc;
}

static int run_job(holdout_job *job)
{
    cs_holdout_options options = job->args->options;
    int rc = load_data(job);
    if (rc == CLI_EXIT_OK)
        rc = prepare_estimate(job, &options);
    if (rc == CLI_EXIT_OK)
        rc = run_estimate(job);

    /* Every rank reaches this point, also after a failure, so that the
     * ranks agree before the reduction. */
    rc = cli_cluster_agree(&job->cluster, rc);
    if (rc == CLI_EXIT_OK)
        rc = report(job, &options);
    return cli_cluster_agree(&job->cluster, rc);
}

int cli_holdout(int argc, char **argv)
{
    holdout_args a = {.data = CS_FASHION_MNIST_DIR};
    cs_holdout_options_init(&a.options);
    a.options.runs = 0; /* required: 0 marks it missing */
    cs_trainer_options_init(&a.recipe);
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK)
        return rc < 0 ? CLI_EXIT_OK : rc;

    holdout_job job = {.args = &a};
    rc = cli_cluster_start(SUBCOMMAND, &job.cluster);
    if (rc == CLI_EXIT_OK && job.cluster.size > 1 && a.slice_given)
        rc = cli_usage_error(SUBCOMMAND, "--slice cannot be combined with "
                                         "MPI, which gives each rank its "
                                         "own slice");
    if (rc == CLI_EXIT_OK)
        rc = run_job(&job);

    cs_holdout_free(job.estimate);
    cs_holdout_mlp_free(job.mlp);
    cs_dataset_free(job.data);
    cli_cluster_finish(&job.cluster);
    return rc;
}
