/*
 * synthetic_epochs: feeds cscore ten epochs of simulated predictions and
 * prints the examples it finds least regular.
 *
 * No network is trained here. A seeded generator simulates one: each of
 * N = 1000 examples (C = 10 classes) has a target class whose logit margin
 * grows from the epoch in which the simulated network learns the example.
 * Three kinds of example are planted:
 *
 *   easy        70%, learned in epoch 1, 2 or 3
 *   hard        20%, learned in epoch 4 to 9
 *   mislabeled  10%, learned in epoch 1, 2 or 3, but the class learned is
 *               not the given label, so the given label is almost never
 *               the largest logit
 *
 * Epochs 1 to 9 go to the tracker whole with cs_observe_epoch(). Epoch 10
 * goes in shuffled batches with cs_observe_batch() and cs_end_epoch(), the
 * way a training loop with a shuffling data loader feeds it. The program
 * then prints the five least regular examples by CBTL and writes every proxy
 * to DIR/proxies.csv and DIR/proxies.npz.
 *
 * Usage: synthetic_epochs --out DIR [--seed N]
 */
#include <cscore.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
    N_EXAMPLES = 1000,
    N_CLASSES = 10,
    N_EPOCHS = 10,
    BATCH_SIZE = 128,
    N_SHOWN = 5
};

typedef enum { EASY, HARD, MISLABELED, N_KINDS } example_kind;

static const char *const KIND_NAMES[N_KINDS] = {"easy", "hard", "mislabeled"};

/* What the generator planted for one example. */
typedef struct {
    example_kind kind;
    int32_t label;       /* label given to the tracker */
    int32_t target;      /* class the simulated network learns to predict */
    int32_t learn_epoch; /* first epoch with a positive margin for target */
} planted_example;

/* Returns the next output of splitmix64, a small seedable generator that is
 * good enough for simulated logits. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Returns a uniform double in [0, 1). */
static double uniform(uint64_t *state)
{
    return (double)(next_random(state) >> 11) * 0x1.0p-53;
}

/* Returns a uniform integer in [low, high]. The modulo bias is negligible
 * for ranges this small. */
static int32_t uniform_int(uint64_t *state, int32_t low, int32_t high)
{
    const uint64_t span = (uint64_t)(high - low) + 1;
    return low + (int32_t)(next_random(state) % span);
}

static void plant_examples(uint64_t *rng, planted_example *examples)
{
    for (int32_t i = 0; i < N_EXAMPLES; i++) {
        planted_example *e = &examples[i];
        const double draw = uniform(rng);

        e->label = i % N_CLASSES;
        e->target = e->label;
        if (draw < 0.70) {
            e->kind = EASY;
            e->learn_epoch = uniform_int(rng, 1, 3);
        } else if (draw < 0.90) {
            e->kind = HARD;
            e->learn_epoch = uniform_int(rng, 4, 9);
        } else {
            /* The network learns the class the input really shows, quickly,
             * and that class is not the label it was given. */
            e->kind = MISLABELED;
            e->learn_epoch = uniform_int(rng, 1, 3);
            e->target = (e->label + uniform_int(rng, 1, N_CLASSES - 1)) %
                        N_CLASSES;
        }
    }
}

/* Fills logits (N x C) for one epoch with noise in [-1, 1) on every class
 * and a margin on the target class. The margin is -0.75 one epoch before
 * learn_epoch, +0.75 at it and +2.25 one epoch after, so an example is
 * sometimes right and sometimes wrong around the epoch it is learned. */
static void simulate_epoch(uint64_t *rng, const planted_example *examples,
                           int32_t epoch, float *logits)
{
    for (int32_t i = 0; i < N_EXAMPLES; i++) {
        float *row = &logits[(size_t)i * N_CLASSES];
        const planted_example *e = &examples[i];
        const double margin = 1.5 * (epoch - e->learn_epoch) + 0.75;

        for (int32_t c = 0; c < N_CLASSES; c++)
            row[c] = (float)(2.0 * uniform(rng) - 1.0);
        row[e->target] += (float)margin;
    }
}

/* Prints which call failed and the library's message, and returns 1 so that
 * callers can write `if (status != CS_OK) return report(...)`. */
static int report(cs_status status, const char *call)
{
    fprintf(stderr, "synthetic_epochs: %s failed with %s: %s\n", call,
            cs_status_name(status), cs_last_error_message());
    return 1;
}

/* Feeds one epoch in shuffled batches of BATCH_SIZE (the last one partial)
 * and ends the epoch. */
static int observe_shuffled_batches(cs_tracker *tracker, uint64_t *rng,
                                    const float *logits, const int32_t *labels)
{
    static int64_t order[N_EXAMPLES];
    static float batch_logits[BATCH_SIZE * N_CLASSES];
    static int32_t batch_labels[BATCH_SIZE];
    cs_status status;

    /* Fisher-Yates shuffle of the example ids. */
    for (int64_t i = 0; i < N_EXAMPLES; i++)
        order[i] = i;
    for (int64_t i = N_EXAMPLES - 1; i > 0; i--) {
        const int64_t j = uniform_int(rng, 0, (int32_t)i);
        const int64_t swap = order[i];
        order[i] = order[j];
        order[j] = swap;
    }

    for (size_t start = 0; start < N_EXAMPLES; start += BATCH_SIZE) {
        const size_t n = start + BATCH_SIZE <= N_EXAMPLES ? BATCH_SIZE
                                                          : N_EXAMPLES - start;

        /* A real loop has these rows straight from the forward pass. */
        for (size_t r = 0; r < n; r++) {
            const int64_t id = order[start + r];
            memcpy(&batch_logits[r * N_CLASSES], &logits[id * N_CLASSES],
                   N_CLASSES * sizeof(float));
            batch_labels[r] = labels[id];
        }

        status = cs_observe_batch(tracker, batch_logits, batch_labels,
                                  &order[start], NULL, n);
        if (status != CS_OK)
            return report(status, "cs_observe_batch");
    }

    status = cs_end_epoch(tracker);
    if (status != CS_OK)
        return report(status, "cs_end_epoch");
    return 0;
}

/* Order for the least regular examples: lowest CBTL first, then lowest mean
 * probability of the given label. */
typedef struct {
    int64_t id;
    int32_t cbtl;
    float p_l_mean;
} ranked_example;

static int compare_regularity(const void *a, const void *b)
{
    const ranked_example *x = a;
    const ranked_example *y = b;

    if (x->cbtl != y->cbtl)
        return x->cbtl < y->cbtl ? -1 : 1;
    if (x->p_l_mean != y->p_l_mean)
        return x->p_l_mean < y->p_l_mean ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int print_least_regular(const cs_tracker *tracker,
                               const planted_example *examples)
{
    static int32_t cbtl[N_EXAMPLES];
    static int32_t first_learned[N_EXAMPLES];
    static float p_l_mean[N_EXAMPLES];
    static ranked_example ranked[N_EXAMPLES];
    double cbtl_sum[N_KINDS] = {0.0};
    int count[N_KINDS] = {0};
    cs_status status;

    status = cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, cbtl, N_EXAMPLES);
    if (status != CS_OK)
        return report(status, "cs_tracker_proxy_i32(cbtl)");
    status = cs_tracker_proxy_i32(tracker, CS_PROXY_FIRST_LEARNED,
                                  first_learned, N_EXAMPLES);
    if (status != CS_OK)
        return report(status, "cs_tracker_proxy_i32(first_learned)");
    status = cs_tracker_proxy_f32(tracker, CS_PROXY_P_L_MEAN, p_l_mean,
                                  N_EXAMPLES);
    if (status != CS_OK)
        return report(status, "cs_tracker_proxy_f32(p_l_mean)");

    for (int64_t i = 0; i < N_EXAMPLES; i++) {
        ranked[i] = (ranked_example){i, cbtl[i], p_l_mean[i]};
        cbtl_sum[examples[i].kind] += cbtl[i];
        count[examples[i].kind]++;
    }
    qsort(ranked, N_EXAMPLES, sizeof(ranked[0]), compare_regularity);

    printf("Mean CBTL (epochs correct out of %d) by planted kind:\n",
           N_EPOCHS);
    for (int k = 0; k < N_KINDS; k++) {
        if (count[k] > 0)
            printf("  %-10s  %4d examples  %5.2f\n", KIND_NAMES[k], count[k],
                   cbtl_sum[k] / count[k]);
    }

    printf("\nThe %d least regular examples by CBTL, ties broken by mean "
           "p_L:\n",
           N_SHOWN);
    printf("  %4s  %5s  %4s  %13s  %8s  %s\n", "id", "label", "cbtl",
           "first_learned", "p_l_mean", "planted as");
    for (int r = 0; r < N_SHOWN; r++) {
        const int64_t id = ranked[r].id;
        printf("  %4lld  %5d  %4d  %13d  %8.4f  %s\n", (long long)id,
               examples[id].label, cbtl[id], first_learned[id], p_l_mean[id],
               KIND_NAMES[examples[id].kind]);
    }
    return 0;
}

/* Joins dir and name into buffer; returns 0, or 1 if it does not fit. */
static int join_path(char *buffer, size_t size, const char *dir,
                     const char *name)
{
    const int length = snprintf(buffer, size, "%s/%s", dir, name);
    if (length < 0 || (size_t)length >= size) {
        fprintf(stderr, "synthetic_epochs: output path %s/%s is too long\n",
                dir, name);
        return 1;
    }
    return 0;
}

static int write_outputs(const cs_tracker *tracker, const char *out_dir)
{
    char csv_path[4096];
    char npz_path[4096];
    cs_status status;

    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "synthetic_epochs: cannot create folder %s: %s\n",
                out_dir, strerror(errno));
        return 1;
    }
    if (join_path(csv_path, sizeof(csv_path), out_dir, "proxies.csv") ||
        join_path(npz_path, sizeof(npz_path), out_dir, "proxies.npz"))
        return 1;

    status = cs_tracker_export_csv(tracker, csv_path);
    if (status != CS_OK)
        return report(status, "cs_tracker_export_csv");
    status = cs_tracker_export_npz(tracker, npz_path);
    if (status != CS_OK)
        return report(status, "cs_tracker_export_npz");

    printf("\nWrote %s and %s\n", csv_path, npz_path);
    return 0;
}

static int usage(FILE *stream)
{
    fprintf(stream,
            "Usage: synthetic_epochs --out DIR [--seed N]\n"
            "Simulates %d epochs of predictions for %d examples, feeds\n"
            "them to a cscore tracker and writes every proxy to\n"
            "DIR/proxies.csv and DIR/proxies.npz.\n"
            "\n"
            "  --out DIR  output folder; created if missing, but its\n"
            "             parent must exist\n"
            "  --seed N   seed of the simulated predictions (default 1)\n",
            N_EPOCHS, N_EXAMPLES);
    return stream == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    static planted_example examples[N_EXAMPLES];
    static float logits[N_EXAMPLES * N_CLASSES];
    static int32_t labels[N_EXAMPLES];
    const char *out_dir = NULL;
    uint64_t rng = 1;
    cs_tracker_options options;
    cs_tracker *tracker = NULL;
    cs_status status;
    int failed = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            return usage(stdout);
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out_dir = argv[++i];
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            char *end;
            rng = strtoull(argv[++i], &end, 10);
            if (*end != '\0' || end == argv[i]) {
                fprintf(stderr,
                        "synthetic_epochs: invalid seed '%s'; "
                        "expected a nonnegative integer\n",
                        argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr,
                    "synthetic_epochs: unknown or incomplete "
                    "argument '%s'\n",
                    argv[i]);
            return usage(stderr);
        }
    }
    if (out_dir == NULL)
        return usage(stderr);

    plant_examples(&rng, examples);
    for (int32_t i = 0; i < N_EXAMPLES; i++)
        labels[i] = examples[i].label;

    cs_tracker_options_init(&options);
    options.n_examples = N_EXAMPLES;
    options.n_classes = N_CLASSES;
    options.input_kind = CS_INPUT_LOGITS;
    options.keep_history = 1; /* adds per-epoch arrays to the .npz */
    status = cs_tracker_create(&options, &tracker);
    if (status != CS_OK)
        return report(status, "cs_tracker_create");

    /* Epochs 1 .. N_EPOCHS - 1: row i of logits is example i. */
    for (int32_t epoch = 1; epoch < N_EPOCHS && !failed; epoch++) {
        simulate_epoch(&rng, examples, epoch, logits);
        status = cs_observe_epoch(tracker, logits, labels, NULL, N_EXAMPLES);
        if (status != CS_OK)
            failed = report(status, "cs_observe_epoch");
    }

    /* The last epoch in shuffled batches; the tracker's result is the same
     * as if it had gone in whole. */
    if (!failed) {
        simulate_epoch(&rng, examples, N_EPOCHS, logits);
        failed = observe_shuffled_batches(tracker, &rng, logits, labels);
    }

    if (!failed)
        failed = print_least_regular(tracker, examples);
    if (!failed)
        failed = write_outputs(tracker, out_dir);

    cs_tracker_free(tracker);
    return failed;
}
