/*
 * `cscore train`: trains the built-in MLP on an IDX data set and feeds
 * every epoch's evaluation of the training set to a tracker. At chosen
 * epochs it also computes the KDE scores of the penultimate-layer
 * features. It exports the proxies, those scores and the last epoch's
 * features.
 */
#include "cli/cli.h"
#include "cli/label_noise.h"
#include "cli/output.h"
#include "cli/progress.h"

#include "io/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char train_help[] =
    "Usage: cscore train [options] --out DIR\n"
    "\n"
    "Trains the built-in multilayer perceptron, observes every epoch's\n"
    "predictions on the training set with the tracker, and writes\n"
    "DIR/proxies.csv, DIR/proxies.npz, DIR/features.npy (float32, N x d,\n"
    "last epoch's last hidden layer) and DIR/labels.npy (int32).\n"
    "\n"
    "Data:\n"
    "  --data DIR          folder with the four standard IDX files, plain or\n"
    "                      .gz (default " CS_FASHION_MNIST_DIR ")\n"
    "  --first N           keep the first N training examples in file order\n"
    "                      (default: all)\n"
    "  --out DIR           output folder, created if missing (required)\n"
    "  --save-logits       also write DIR/logits/epoch_NNN.npy (float32,\n"
    "                      N x C) per epoch, for `cscore proxies`\n"
    "\n"
    "Label noise, to measure how well the proxies find mislabeled examples:\n"
    "  --flip-labels R     replace a share R in [0, 1) of the training labels\n"
    "                      by another class drawn uniformly, train on them,\n"
    "                      and add a column `flipped` (1 for a replaced\n"
    "                      label) to the exports (default 0: no noise)\n"
    "  --flip-seed S       seed of the choice of labels and classes\n"
    "                      (default 0)\n"
    "\n"
    "Kernel density scores of the last hidden layer (see `cscore kde`):\n"
    "  --kde-epochs LIST   comma-separated epochs after which to compute\n"
    "                      them, added to the exports as kde_pm_eE, kde_l_eE\n"
    "                      and kde_free_eE for epoch E (default: the last\n"
    "                      epoch)\n"
    "  --kde-method M      sampled (default: a 5,000-example reference set,\n"
    "                      exact for N <= 5,000) or exact (every pair)\n"
    "\n"
    "%s"
    "\n"
    "  -h, --help          show this help\n";

enum {
    OPT_DATA = 1,
    OPT_FIRST,
    OPT_OUT,
    OPT_SAVE_LOGITS,
    OPT_KDE_EPOCHS,
    OPT_KDE_METHOD,
    OPT_FLIP_LABELS,
    OPT_FLIP_SEED,
    OPT_HELP = 'h'
};

/* Maximum number of epochs that --kde-epochs takes. */
#define KDE_MAX_EPOCHS 64

typedef struct train_args {
    const char *data;
    int64_t first;
    const char *out;
    bool save_logits;
    int32_t kde_epochs[KDE_MAX_EPOCHS]; /* increasing */
    int n_kde_epochs;                   /* 0 until --kde-epochs is given */
    cs_kde_method kde_method;
    double flip_rate;
    int64_t flip_seed;
    cs_trainer_options recipe;
} train_args;

/* KDE scores of the chosen epochs: for the k-th epoch of --kde-epochs,
 * columns 3k, 3k + 1 and 3k + 2 hold KDE +-L, KDE L and class-free. */
typedef struct train_kde {
    const train_args *args;
    size_t n;
    float *columns[3 * KDE_MAX_EPOCHS];
    char names[3 * KDE_MAX_EPOCHS][32];
    double seconds;
} train_kde;

/* State the epoch callback needs. */
typedef struct train_run {
    cs_tracker *tracker;
    cli_progress progress;
    const char *logits_folder;
    train_kde kde;
    cli_label_noise noise; /* empty without --flip-labels */
    double hook_seconds;
    double train_seconds;
    double eval_seconds;
} train_run;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare_epochs(const void *a, const void *b)
{
    const int32_t x = *(const int32_t *)a;
    const int32_t y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Sorts the --kde-epochs list, rejects repeats and epochs past the last,
 * and defaults to the last epoch. */
static int settle_kde_epochs(train_args *a)
{
    const int32_t last = a->recipe.epochs;
    if (a->n_kde_epochs == 0) {
        a->kde_epochs[0] = last;
        a->n_kde_epochs = 1;
        return CLI_EXIT_OK;
    }

    qsort(a->kde_epochs, (size_t)a->n_kde_epochs, sizeof a->kde_epochs[0],
          compare_epochs);
    for (int k = 0; k < a->n_kde_epochs; k++) {
        const int32_t epoch = a->kde_epochs[k];
        if (epoch > last)
            return cli_usage_error("train",
                                   "--kde-epochs lists epoch %d, but "
                                   "training stops after epoch %d",
                                   (int)epoch, (int)last);
        if (k > 0 && epoch == a->kde_epochs[k - 1])
            return cli_usage_error("train", "--kde-epochs lists epoch %d "
                                            "twice",
                                   (int)epoch);
    }
    return CLI_EXIT_OK;
}

static bool parse_kde_method(const char *text, cs_kde_method *method)
{
    if (strcmp(text, "sampled") == 0 || strcmp(text, "exact") == 0) {
        *method = text[0] == 's' ? CS_KDE_SAMPLED : CS_KDE_EXACT;
        return true;
    }
    cli_usage_error("train",
                    "invalid value '%s' for --kde-method: expected sampled "
                    "or exact",
                    text);
    return false;
}

static int parse_args(int argc, char **argv, train_args *a)
{
    static const struct option own[] = {
        {"data", required_argument, NULL, OPT_DATA},
        {"first", required_argument, NULL, OPT_FIRST},
        {"out", required_argument, NULL, OPT_OUT},
        {"save-logits", no_argument, NULL, OPT_SAVE_LOGITS},
        {"kde-epochs", required_argument, NULL, OPT_KDE_EPOCHS},
        {"kde-method", required_argument, NULL, OPT_KDE_METHOD},
        {"flip-labels", required_argument, NULL, OPT_FLIP_LABELS},
        {"flip-seed", required_argument, NULL, OPT_FLIP_SEED},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    struct option all[32];
    cli_merge_options(own, all, sizeof all / sizeof all[0]);

    int code;
    optind = 1;
    while ((code = getopt_long(argc, argv, "h", all, NULL)) != -1) {
        switch (code) {
        case OPT_DATA:
            a->data = optarg;
            break;
        case OPT_FIRST:
            if (!cli_parse_i64("train", "--first", optarg, 1, INT64_MAX,
                               &a->first))
                return CLI_EXIT_USAGE;
            break;
        case OPT_OUT:
            a->out = optarg;
            break;
        case OPT_SAVE_LOGITS:
            a->save_logits = true;
            break;
        case OPT_KDE_EPOCHS:
            if (!cli_parse_i32_list("train", "--kde-epochs", optarg, 1,
                                    INT32_MAX, a->kde_epochs, KDE_MAX_EPOCHS,
                                    &a->n_kde_epochs))
                return CLI_EXIT_USAGE;
            break;
        case OPT_KDE_METHOD:
            if (!parse_kde_method(optarg, &a->kde_method))
                return CLI_EXIT_USAGE;
            break;
        case OPT_FLIP_LABELS:
            if (!cli_parse_double("train", "--flip-labels", optarg, 0.0,
                                  0.999999, &a->flip_rate))
                return CLI_EXIT_USAGE;
            break;
        case OPT_FLIP_SEED:
            if (!cli_parse_i64("train", "--flip-seed", optarg, 0, INT64_MAX,
                               &a->flip_seed))
                return CLI_EXIT_USAGE;
            break;
        case OPT_HELP:
            printf(train_help, cli_recipe_help);
            return -1;
        case '?':
            return cli_usage_error("train", "invalid option");
        default:
            if (!cli_apply_recipe_option("train", code, optarg, &a->recipe))
                return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("train", "unexpected argument '%s'",
                               argv[optind]);
    if (a->out == NULL)
        return cli_usage_error("train", "--out DIR is required");
    return settle_kde_epochs(a);
}

static cs_status save_epoch_logits(const train_run *run,
                                   const cs_epoch_report *r)
{
    char name[64], path[4096];
    snprintf(name, sizeof name, "epoch_%03d.npy", (int)r->epoch);
    cli_join(path, sizeof path, run->logits_folder, name);
    const int64_t shape[2] = {(int64_t)r->n, r->n_classes};
    return cs__npy_write_file(path, CS__DTYPE_F32, shape, 2, r->logits,
                              "cscore train");
}

/* Returns the position of epoch in --kde-epochs, or -1. */
static int kde_position(const train_args *a, int32_t epoch)
{
    for (int k = 0; k < a->n_kde_epochs; k++)
        if (a->kde_epochs[k] == epoch)
            return k;
    return -1;
}

/* Scores the epoch's features when --kde-epochs lists it. A failure, such
 * as features that are all equal (no automatic bandwidth), leaves that
 * epoch's columns empty (NaN) and prints a warning instead of ending the
 * training run. */
static void compute_kde(train_kde *kde, const cs_epoch_report *r)
{
    const int k = kde_position(kde->args, r->epoch);
    if (k < 0 || r->features == NULL)
        return;

    cs_kde_options options;
    cs_kde_options_init(&options);
    options.method = kde->args->kde_method;
    options.threads = kde->args->recipe.threads;
    cs_kde_result result;
    cs_kde_result_init(&result);
    result.n = r->n;
    result.kde_pm = kde->columns[3 * k];
    result.kde_l = kde->columns[3 * k + 1];
    result.kde_free = kde->columns[3 * k + 2];

    const cs_examples features = {r->features, r->labels, r->n,
                                  r->feature_dim};
    const double start = now_seconds();
    if (cs_kde_scores(&features, r->n_classes, &options, &result) != CS_OK)
        fprintf(stderr,
                "cscore train: warning: the KDE scores of epoch %d are left "
                "empty: %s\n",
                (int)r->epoch, cs_last_error_message());
    kde->seconds += now_seconds() - start;
}

static cs_status on_epoch(const cs_epoch_report *r, void *user_data)
{
    train_run *run = user_data;

    const double start = now_seconds();
    cs_status st =
        cs_observe_epoch(run->tracker, r->logits, r->labels, r->features, r->n);
    run->hook_seconds += now_seconds() - start;
    if (st != CS_OK)
        return st;
    if (run->logits_folder != NULL) {
        st = save_epoch_logits(run, r);
        if (st != CS_OK)
            return st;
    }
    if (run->kde.columns[0] != NULL)
        compute_kde(&run->kde, r);

    run->train_seconds += r->train_seconds;
    run->eval_seconds += r->eval_seconds;
    cli_progress_epoch(&run->progress, r);
    return CS_OK;
}

static int write_features(const cs_tracker *tracker, size_t n, size_t d,
                          const char *folder)
{
    size_t values = n * d;
    float *features = malloc(values * sizeof *features);
    if (features == NULL)
        return cli_runtime_error("train", "out of memory for features");
    cs_tracker_features(tracker, features, values);

    char path[4096];
    cli_join(path, sizeof path, folder, "features.npy");
    const int64_t shape[2] = {(int64_t)n, (int64_t)d};
    cs_status st = cs__npy_write_file(path, CS__DTYPE_F32, shape, 2, features,
                                      "cscore train");
    free(features);
    return st == CS_OK ? CLI_EXIT_OK : cli_library_error("train");
}

/* Creates the tracker for the training split: logits, features of the
 * last hidden layer, history on. */
static int create_tracker(size_t n, int32_t classes, int32_t d,
                          cs_tracker **out)
{
    cs_tracker_options o;
    cs_tracker_options_init(&o);
    o.n_examples = (int64_t)n;
    o.n_classes = classes;
    o.feature_dim = d;
    o.keep_history = 1;
    return cs_tracker_create(&o, out) == CS_OK ? CLI_EXIT_OK
                                               : cli_library_error("train");
}

static int prepare_output(const train_args *a, train_run *run,
                          char *logits_folder, size_t capacity)
{
    int rc = cli_make_folder("train", a->out);
    if (rc != CLI_EXIT_OK || !a->save_logits)
        return rc;
    cli_join(logits_folder, capacity, a->out, "logits");
    run->logits_folder = logits_folder;
    return cli_make_folder("train", logits_folder);
}

/* Allocates the KDE columns of every --kde-epochs epoch, NaN until
 * computed, unless the network has no hidden layer to take features from. */
static int prepare_kde(const train_args *a, size_t n, int32_t d,
                       train_kde *kde)
{
    kde->args = a;
    kde->n = n;
    if (d == 0)
        return CLI_EXIT_OK;

    static const char *const scores[3] = {"kde_pm", "kde_l", "kde_free"};
    for (int c = 0; c < 3 * a->n_kde_epochs; c++) {
        kde->columns[c] = malloc(n * sizeof(float));
        if (kde->columns[c] == NULL)
            return cli_runtime_error("train", "out of memory for the KDE "
                                              "scores");
        for (size_t i = 0; i < n; i++)
            kde->columns[c][i] = NAN;
        snprintf(kde->names[c], sizeof kde->names[c], "%s_e%d", scores[c % 3],
                 (int)a->kde_epochs[c / 3]);
    }
    return CLI_EXIT_OK;
}

static void free_kde(train_kde *kde)
{
    for (int c = 0; c < 3 * KDE_MAX_EPOCHS; c++)
        free(kde->columns[c]);
}

static int write_exports(const train_args *a, const train_run *run)
{
    const char *names[3 * KDE_MAX_EPOCHS + 1];
    const float *values[3 * KDE_MAX_EPOCHS + 1];
    size_t count = 0;
    while (count < 3 * KDE_MAX_EPOCHS && run->kde.columns[count] != NULL) {
        names[count] = run->kde.names[count];
        values[count] = run->kde.columns[count];
        count++;
    }
    if (run->noise.flipped != NULL) {
        names[count] = "flipped";
        values[count] = run->noise.flipped;
        count++;
    }
    const cli_extra_columns extra = {names, values, count};
    return cli_write_exports_extra("train", run->tracker, a->out, &extra);
}

static int finish(const train_args *a, const train_run *run,
                  const cs_examples *train, int32_t d)
{
    int rc = write_exports(a, run);
    if (rc == CLI_EXIT_OK && d > 0)
        rc = write_features(run->tracker, train->n, (size_t)d, a->out);
    if (rc != CLI_EXIT_OK)
        return rc;

    printf("Time: training %.1f s, evaluation %.1f s, tracker %.3f s "
           "(%.2f%% of the epoch time)\n",
           run->train_seconds, run->eval_seconds, run->hook_seconds,
           100.0 * run->hook_seconds /
               (run->train_seconds + run->eval_seconds + run->hook_seconds));
    if (run->kde.columns[0] != NULL)
        printf("KDE scores of %d epoch(s): %.1f s\n", a->n_kde_epochs,
               run->kde.seconds);
    if (run->noise.flipped != NULL)
        printf("Trained on %zu flipped labels (--flip-labels %g, seed %lld); "
               "the column `flipped` marks them\n",
               run->noise.n_flipped, a->flip_rate, (long long)a->flip_seed);
    cli_print_least_regular("train", run->tracker, 5);
    printf("Wrote %s/proxies.csv, proxies.npz, labels.npy%s%s\n", a->out,
           d > 0 ? ", features.npy" : "",
           a->save_logits ? " and logits/epoch_*.npy" : "");
    return CLI_EXIT_OK;
}

static int run_training(const train_args *a, const cs_dataset *data)
{
    cs_examples train, test;
    cs_dataset_examples(data, CS_SPLIT_TRAIN, &train);
    cs_dataset_examples(data, CS_SPLIT_TEST, &test);

    cs_trainer_options recipe = a->recipe;
    recipe.n_inputs = train.n_inputs;
    recipe.n_classes = cs_dataset_n_classes(data);
    cs_trainer *trainer = NULL;
    if (cs_trainer_create(&recipe, &trainer) != CS_OK)
        return cli_library_error("train");
    const int32_t d = cs_trainer_feature_dim(trainer);

    train_run run = {0};
    char logits_folder[4096];
    int rc = prepare_output(a, &run, logits_folder, sizeof logits_folder);
    if (rc == CLI_EXIT_OK)
        rc = create_tracker(train.n, recipe.n_classes, d, &run.tracker);
    if (rc == CLI_EXIT_OK)
        rc = prepare_kde(a, train.n, d, &run.kde);
    if (rc == CLI_EXIT_OK && a->flip_rate > 0.0) {
        /* The tracker and the trainer both see the corrupted labels. */
        rc = cli_flip_labels("train", train.labels, train.n,
                             recipe.n_classes, a->flip_rate,
                             (uint64_t)a->flip_seed, &run.noise);
        train.labels = run.noise.labels;
    }
    if (rc == CLI_EXIT_OK) {
        printf("Training on %zu examples (%d classes), testing on %zu; "
               "%d epochs\n",
               train.n, (int)recipe.n_classes, test.n, (int)recipe.epochs);
        fflush(stdout); /* before the progress lines on stderr */
        cli_progress_start(&run.progress, recipe.epochs);
        cs_status st =
            cs_trainer_fit(trainer, &train, NULL, 0, &test, on_epoch, &run);
        cli_progress_end(&run.progress);
        rc = st == CS_OK ? finish(a, &run, &train, d)
                         : cli_library_error("train");
    }
    free_kde(&run.kde);
    cli_label_noise_free(&run.noise);
    cs_tracker_free(run.tracker);
    cs_trainer_free(trainer);
    return rc;
}

int cli_train(int argc, char **argv)
{
    train_args a = {.data = CS_FASHION_MNIST_DIR,
                    .kde_method = CS_KDE_SAMPLED};
    cs_trainer_options_init(&a.recipe);
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK)
        return rc < 0 ? CLI_EXIT_OK : rc;

    cs_dataset_options data_options;
    cs_dataset_options_init(&data_options);
    data_options.train_count = a.first;
    cs_dataset *data = NULL;
    if (cs_dataset_load_idx(a.data, &data_options, &data) != CS_OK)
        return cli_library_error("train");

    rc = run_training(&a, data);
    cs_dataset_free(data);
    return rc;
}
