/*
 * Times the built-in MLP trainer on an MNIST-style data set (Fashion-MNIST
 * by default) with the default recipe: 784-512-256-10, batch 128, SGD with
 * momentum 0.9, learning rate 0.1. For each epoch it prints the seconds of
 * the training pass (shuffling, forward, backward and updates of every
 * batch) and, separately, of the evaluation pass over every training
 * example that cs_trainer_fit() runs before each epoch callback. No test
 * set is passed, so the evaluation time covers the training examples only.
 * The callback also feeds each epoch to a tracker (history and features
 * on, as `cscore train` does) and times that separately: the hook's own
 * share of the epoch.
 *
 * Usage: bench_trainer [--data DIR] [--first N] [--epochs E] [--threads T]
 *                      [--seed S]
 */
#include <cscore.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct bench_options {
    const char *data;
    long first;
    long epochs;
    long threads;
    long seed;
} bench_options;

/* Sums over the timed epochs, filled by the epoch callback. */
typedef struct bench_totals {
    double train_seconds;
    double eval_seconds;
    double hook_seconds;
    int epochs;
    cs_tracker *tracker;
} bench_totals;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int parse_long(const char *text, long min, long *out)
{
    char *end = NULL;
    const long value = strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < min)
        return -1;
    *out = value;
    return 0;
}

static int parse_options(int argc, char **argv, bench_options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_trainer: %s needs a value\n", name);
            return -1;
        }
        const char *value = argv[++i];
        int bad = 0;
        if (strcmp(name, "--data") == 0)
            o->data = value;
        else if (strcmp(name, "--first") == 0)
            bad = parse_long(value, 0, &o->first);
        else if (strcmp(name, "--epochs") == 0)
            bad = parse_long(value, 1, &o->epochs);
        else if (strcmp(name, "--threads") == 0)
            bad = parse_long(value, 1, &o->threads);
        else if (strcmp(name, "--seed") == 0)
            bad = parse_long(value, 0, &o->seed);
        else {
            fprintf(stderr, "bench_trainer: unknown option %s\n", name);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "bench_trainer: invalid value %s for %s\n", value,
                    name);
            return -1;
        }
    }
    return 0;
}

static cs_status print_epoch(const cs_epoch_report *report, void *data)
{
    bench_totals *totals = data;
    const double start = now_seconds();
    cs_status status =
        cs_observe_epoch(totals->tracker, report->logits, report->labels,
                         report->features, report->n);
    const double hook = now_seconds() - start;
    if (status != CS_OK)
        return status;

    totals->train_seconds += report->train_seconds;
    totals->eval_seconds += report->eval_seconds;
    totals->hook_seconds += hook;
    totals->epochs++;
    printf("epoch %2d  train %6.3f s  eval %6.3f s  hook %6.4f s  "
           "loss %.4f  train accuracy %.4f\n",
           (int)report->epoch, report->train_seconds, report->eval_seconds,
           hook, report->train_loss, report->train_accuracy);
    fflush(stdout);
    return CS_OK;
}

/* Floating-point operations of one training pass over n examples. Each
 * layer costs 2 * fan_in * fan_out for the forward product and as much for
 * the weight gradient. Every layer but the first costs as much again for
 * the input gradient, which the pixels do not need. */
static double training_flops(const cs_trainer_options *o, size_t n)
{
    double flops = 0.0;
    int32_t fan_in = o->n_inputs;
    for (int l = 0; l <= o->n_hidden_layers; l++) {
        const int32_t fan_out = l < o->n_hidden_layers ? o->hidden_widths[l]
                                                       : o->n_classes;
        const double products = l == 0 ? 2.0 : 3.0;
        flops += products * 2.0 * fan_in * fan_out;
        fan_in = fan_out;
    }
    return flops * (double)n;
}

int main(int argc, char **argv)
{
    bench_options options = {CS_FASHION_MNIST_DIR, 0, 3, 2, 0};
    if (parse_options(argc, argv, &options) != 0)
        return 2;

    cs_dataset_options data_options;
    cs_dataset_options_init(&data_options);
    data_options.train_count = options.first;
    cs_dataset *dataset = NULL;
    if (cs_dataset_load_idx(options.data, &data_options, &dataset) != CS_OK) {
        fprintf(stderr, "bench_trainer: %s\n", cs_last_error_message());
        return 1;
    }
    cs_examples train;
    cs_dataset_examples(dataset, CS_SPLIT_TRAIN, &train);

    cs_trainer_options trainer_options;
    cs_trainer_options_init(&trainer_options);
    trainer_options.n_inputs = train.n_inputs;
    trainer_options.n_classes = cs_dataset_n_classes(dataset);
    trainer_options.epochs = (int32_t)options.epochs;
    trainer_options.threads = (int32_t)options.threads;
    trainer_options.seed = (uint64_t)options.seed;

    cs_trainer *trainer = NULL;
    bench_totals totals = {0.0, 0.0, 0.0, 0, NULL};
    cs_status status = cs_trainer_create(&trainer_options, &trainer);
    if (status == CS_OK) {
        cs_tracker_options tracker_options;
        cs_tracker_options_init(&tracker_options);
        tracker_options.n_examples = (int64_t)train.n;
        tracker_options.n_classes = trainer_options.n_classes;
        tracker_options.feature_dim = cs_trainer_feature_dim(trainer);
        tracker_options.keep_history = 1;
        status = cs_tracker_create(&tracker_options, &totals.tracker);
    }
    if (status == CS_OK) {
        printf("%zu examples, %ld epochs, %ld threads\n", train.n,
               options.epochs, options.threads);
        status = cs_trainer_fit(trainer, &train, NULL, 0, NULL, print_epoch,
                                &totals);
    }
    if (status != CS_OK) {
        fprintf(stderr, "bench_trainer: %s\n", cs_last_error_message());
        cs_tracker_free(totals.tracker);
        cs_trainer_free(trainer);
        cs_dataset_free(dataset);
        return 1;
    }

    const double flops = training_flops(&trainer_options, train.n);
    const double train_mean = totals.train_seconds / totals.epochs;
    printf("mean per epoch: training pass %.3f s (%.0f GFLOP, %.1f GFLOP/s), "
           "evaluation pass %.3f s\n",
           train_mean, flops * 1e-9, flops * 1e-9 / train_mean,
           totals.eval_seconds / totals.epochs);
    const double epoch_total =
        totals.train_seconds + totals.eval_seconds + totals.hook_seconds;
    printf("hook (cs_observe_epoch): %.4f s per epoch, %.2f%% of the epoch "
           "time\n",
           totals.hook_seconds / totals.epochs,
           100.0 * totals.hook_seconds / epoch_total);

    cs_tracker_free(totals.tracker);
    cs_trainer_free(trainer);
    cs_dataset_free(dataset);
    return 0;
}
