/*
 * A training loop of your own, with the cscore hook added.
 *
 * This program trains a softmax-regression classifier (one linear layer)
 * on Fashion-MNIST with plain SGD, written out in full so that nothing is
 * hidden in a library. The lines that involve cscore are marked "cscore:";
 * there are four of them, and a real training loop needs the same four.
 *
 * Usage: softmax_regression [DATA_DIR [N_EXAMPLES [OUT_DIR]]]
 *   DATA_DIR    folder with the Fashion-MNIST IDX files (default: Debian's
 *               dataset-fashion-mnist package)
 *   N_EXAMPLES  training examples to use, the first in file order (2000)
 *   OUT_DIR     where proxies.csv goes (default: the current folder)
 */
#include <cscore.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EPOCHS = 10, BATCH = 32 };
static const float LEARNING_RATE = 0.05f;

/* The model: logits = W x + b, with W of C rows by D columns. */
typedef struct model {
    int n_inputs, n_classes;
    float *weights;
    float *bias;
} model;

static void forward(const model *m, const float *x, float *logits)
{
    for (int c = 0; c < m->n_classes; c++) {
        const float *w = m->weights + (size_t)c * m->n_inputs;
        float z = m->bias[c];
        for (int k = 0; k < m->n_inputs; k++)
            z += w[k] * x[k];
        logits[c] = z;
    }
}

/* Turns logits into softmax probabilities in place. */
static void softmax(float *z, int n)
{
    float max = z[0];
    for (int c = 1; c < n; c++)
        max = z[c] > max ? z[c] : max;
    float sum = 0.0f;
    for (int c = 0; c < n; c++) {
        z[c] = expf(z[c] - max);
        sum += z[c];
    }
    for (int c = 0; c < n; c++)
        z[c] /= sum;
}

/* One SGD step on a batch: the gradient of the mean cross-entropy with
 * respect to the logits is softmax minus one-hot. */
static void sgd_step(model *m, const cs_examples *data, const size_t *rows,
                     size_t n_rows, float *scratch)
{
    const float step = LEARNING_RATE / (float)n_rows;
    for (size_t r = 0; r < n_rows; r++) {
        const float *x = data->inputs + rows[r] * (size_t)m->n_inputs;
        forward(m, x, scratch);
        softmax(scratch, m->n_classes);
        scratch[data->labels[rows[r]]] -= 1.0f;
        for (int c = 0; c < m->n_classes; c++) {
            float *w = m->weights + (size_t)c * m->n_inputs;
            for (int k = 0; k < m->n_inputs; k++)
                w[k] -= step * scratch[c] * x[k];
            m->bias[c] -= step * scratch[c];
        }
    }
}

/* Fisher-Yates with a 64-bit xorshift generator; the tiny modulo bias
 * does not matter for shuffling a training set. */
static void shuffle(size_t *order, size_t n, uint64_t *state)
{
    for (size_t i = n - 1; i > 0; i--) {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        size_t j = (size_t)(*state % (i + 1));
        size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

static int fail(const char *what)
{
    fprintf(stderr, "softmax_regression: %s: %s\n", what,
            cs_last_error_message());
    return 1;
}

int main(int argc, char **argv)
{
    const char *data_dir = argc > 1 ? argv[1] : CS_FASHION_MNIST_DIR;
    const long n_examples = argc > 2 ? atol(argv[2]) : 2000;
    const char *out_dir = argc > 3 ? argv[3] : ".";
    if (n_examples < 1) {
        fprintf(stderr, "softmax_regression: N_EXAMPLES must be positive\n");
        return 2;
    }

    cs_dataset_options data_options;
    cs_dataset_options_init(&data_options);
    data_options.train_count = n_examples;
    cs_dataset *dataset = NULL;
    if (cs_dataset_load_idx(data_dir, &data_options, &dataset) != CS_OK)
        return fail("loading the data");
    cs_examples train;
    cs_dataset_examples(dataset, CS_SPLIT_TRAIN, &train);

    model m = {train.n_inputs, cs_dataset_n_classes(dataset), NULL, NULL};
    m.weights = calloc((size_t)m.n_classes * m.n_inputs, sizeof(float));
    m.bias = calloc((size_t)m.n_classes, sizeof(float));
    float *logits = malloc(train.n * (size_t)m.n_classes * sizeof(float));
    size_t *order = malloc(train.n * sizeof *order);
    float scratch[256];
    if (!m.weights || !m.bias || !logits || !order || m.n_classes > 256) {
        fprintf(stderr, "softmax_regression: out of memory\n");
        return 1;
    }

    /* cscore: one tracker for the whole run, one slot per training
     * example. */
    cs_tracker_options options;
    cs_tracker_options_init(&options);
    options.n_examples = (int64_t)train.n;
    options.n_classes = m.n_classes;
    cs_tracker *tracker = NULL;
    if (cs_tracker_create(&options, &tracker) != CS_OK)
        return fail("creating the tracker");

    for (size_t i = 0; i < train.n; i++)
        order[i] = i;
    uint64_t seed = 88172645463325252u;
    for (int epoch = 1; epoch <= EPOCHS; epoch++) {
        shuffle(order, train.n, &seed);
        for (size_t start = 0; start < train.n; start += BATCH) {
            size_t rows = train.n - start < BATCH ? train.n - start : BATCH;
            sgd_step(&m, &train, order + start, rows, scratch);
        }

        /* Evaluate every training example without updating the model... */
        size_t correct = 0;
        for (size_t i = 0; i < train.n; i++) {
            float *z = logits + i * (size_t)m.n_classes;
            forward(&m, train.inputs + i * (size_t)m.n_inputs, z);
            int best = 0;
            for (int c = 1; c < m.n_classes; c++)
                best = z[c] > z[best] ? c : best;
            correct += best == train.labels[i];
        }
        /* cscore: ...and hand the logits to the tracker, row i for
         * example i. */
        if (cs_observe_epoch(tracker, logits, train.labels, NULL, train.n) !=
            CS_OK)
            return fail("observing the epoch");
        printf("epoch %2d  train accuracy %.3f\n", epoch,
               (double)correct / (double)train.n);
    }

    /* cscore: read a proxy back, here the cumulative training accuracy. */
    int32_t *cbtl = malloc(train.n * sizeof *cbtl);
    if (cbtl == NULL ||
        cs_tracker_proxy_i32(tracker, CS_PROXY_CBTL, cbtl, train.n) != CS_OK)
        return fail("reading CBTL");
    int never = 0;
    for (size_t i = 0; i < train.n; i++)
        never += cbtl[i] == 0;
    printf("%d of %zu examples were never classified correctly\n", never,
           train.n);

    /* cscore: export every proxy with its ranking. */
    char path[4096];
    snprintf(path, sizeof path, "%s/proxies.csv", out_dir);
    if (cs_tracker_export_csv(tracker, path) != CS_OK)
        return fail("writing proxies.csv");
    printf("wrote %s\n", path);

    free(cbtl);
    cs_tracker_free(tracker);
    free(m.weights), free(m.bias), free(logits), free(order);
    cs_dataset_free(dataset);
    return 0;
}
