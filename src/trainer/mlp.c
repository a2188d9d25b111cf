/*
 * Forward and backward passes of the multilayer perceptron (see mlp.h).
 * Matrices are row-major: a batch is rows x width and weights are
 * fan_out x fan_in. So the forward product of a layer is X * W^T, its
 * weight gradient is dZ^T * X, and the error passed down is dZ * W.
 */
#include "trainer/mlp.h"

#include "trainer/rng.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

cs_status cs__mlp_layout(cs__mlp *mlp, int32_t n_inputs,
                         const int32_t *hidden_widths, int n_hidden,
                         int32_t n_classes)
{
    memset(mlp, 0, sizeof *mlp);
    mlp->n_layers = n_hidden + 1;
    mlp->widths[0] = n_inputs;
    for (int i = 0; i < n_hidden; i++)
        mlp->widths[i + 1] = hidden_widths[i];
    mlp->widths[n_hidden + 1] = n_classes;

    size_t total = 0;
    for (int l = 0; l < mlp->n_layers; l++) {
        const size_t fan_in = (size_t)mlp->widths[l];
        const size_t fan_out = (size_t)mlp->widths[l + 1];
        size_t weights = 0;
        if (!cs__mul_size(fan_in, fan_out, &weights) ||
            weights > SIZE_MAX - fan_out ||
            total > SIZE_MAX - (weights + fan_out))
            return CS_E_OVERFLOW;

        mlp->weight_offset[l] = total;
        mlp->bias_offset[l] = total + weights;
        total += weights + fan_out;
    }
    mlp->n_params = total;
    return CS_OK;
}

void cs__mlp_init(cs__mlp *mlp, uint64_t seed)
{
    cs__rng rng;
    cs__rng_seed(&rng, seed);

    /* Each layer's biases follow its weights in params, so one run of
     * draws covers both, in the documented order. */
    for (int l = 0; l < mlp->n_layers; l++) {
        const double bound = 1.0 / sqrt((double)mlp->widths[l]);
        const size_t begin = mlp->weight_offset[l];
        const size_t end = mlp->bias_offset[l] + (size_t)mlp->widths[l + 1];
        for (size_t i = begin; i < end; i++)
            mlp->params[i] = (float)(bound *
                                     (2.0 * cs__rng_uniform(&rng) - 1.0));
    }
}

int32_t cs__mlp_max_hidden(const cs__mlp *mlp)
{
    int32_t largest = 0;
    for (int l = 1; l < mlp->n_layers; l++)
        if (mlp->widths[l] > largest)
            largest = mlp->widths[l];
    return largest;
}

/* Copies the bias vector into every row, so that sgemm can add the
 * product on top (beta = 1). */
static void fill_rows(float *out, size_t stride, size_t rows,
                      const float *bias, int32_t width)
{
    for (size_t r = 0; r < rows; r++)
        memcpy(out + r * stride, bias, (size_t)width * sizeof *bias);
}

static void relu_rows(float *out, size_t stride, size_t rows, int32_t width)
{
    for (size_t r = 0; r < rows; r++) {
        float *row = out + r * stride;
        for (int32_t j = 0; j < width; j++)
            row[j] = row[j] > 0.0f ? row[j] : 0.0f;
    }
}

void cs__mlp_forward(const cs__mlp *mlp, const float *x, size_t x_stride,
                     size_t rows, float *const *outputs, const size_t *strides)
{
    const float *in = x;
    size_t in_stride = x_stride;

    for (int l = 0; l < mlp->n_layers; l++) {
        const int32_t fan_in = mlp->widths[l];
        const int32_t fan_out = mlp->widths[l + 1];
        const float *weights = mlp->params + mlp->weight_offset[l];
        const float *biases = mlp->params + mlp->bias_offset[l];
        float *out = outputs[l];

        fill_rows(out, strides[l], rows, biases, fan_out);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)rows,
                    fan_out, fan_in, 1.0f, in, (blasint)in_stride, weights,
                    fan_in, 1.0f, out, (blasint)strides[l]);
        if (l + 1 < mlp->n_layers)
            relu_rows(out, strides[l], rows, fan_out);

        in = out;
        in_stride = strides[l];
    }
}

double cs__cross_entropy(const float *logits, int32_t n_classes, int32_t label)
{
    float largest = logits[0];
    for (int32_t j = 1; j < n_classes; j++)
        if (logits[j] > largest)
            largest = logits[j];

    double sum = 0.0;
    for (int32_t j = 0; j < n_classes; j++)
        sum += exp((double)logits[j] - (double)largest);
    return log(sum) - ((double)logits[label] - (double)largest);
}

/* Replaces one row of logits by scale * (softmax - one-hot label), the
 * gradient of scale * cross-entropy, and returns the row's cross-entropy. */
static double softmax_gradient(float *row, int32_t n_classes, int32_t label,
                               float scale)
{
    const double loss = cs__cross_entropy(row, n_classes, label);

    float largest = row[0];
    for (int32_t j = 1; j < n_classes; j++)
        if (row[j] > largest)
            largest = row[j];

    float sum = 0.0f;
    for (int32_t j = 0; j < n_classes; j++) {
        row[j] = expf(row[j] - largest);
        sum += row[j];
    }

    const float factor = scale / sum;
    for (int32_t j = 0; j < n_classes; j++)
        row[j] *= factor;
    row[label] -= scale;
    return loss;
}

/* Sets sums[j] to the sum of column j of a rows x width matrix. */
static void column_sums(const float *m, size_t rows, int32_t width,
                        float *sums)
{
    memset(sums, 0, (size_t)width * sizeof *sums);
    for (size_t r = 0; r < rows; r++) {
        const float *row = m + r * (size_t)width;
        for (int32_t j = 0; j < width; j++)
            sums[j] += row[j];
    }
}

double cs__mlp_backward(const cs__mlp *mlp, const float *x, size_t x_stride,
                        size_t rows, const int32_t *labels,
                        float *const *outputs, float *scratch, float *grads)
{
    const int last = mlp->n_layers - 1;
    const int32_t n_classes = mlp->widths[last + 1];
    const float scale = 1.0f / (float)rows;

    /* delta is dLoss/dZ of the current layer, rows x fan_out. */
    float *delta = outputs[last];
    double loss = 0.0;
    for (size_t r = 0; r < rows; r++)
        loss += softmax_gradient(delta + r * (size_t)n_classes, n_classes,
                                 labels[r], scale);

    for (int l = last; l >= 0; l--) {
        const int32_t fan_in = mlp->widths[l];
        const int32_t fan_out = mlp->widths[l + 1];
        const float *in = l > 0 ? outputs[l - 1] : x;
        const size_t in_stride = l > 0 ? (size_t)fan_in : x_stride;

        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, fan_out, fan_in,
                    (blasint)rows, 1.0f, delta, fan_out, in,
                    (blasint)in_stride, 0.0f, grads + mlp->weight_offset[l],
                    fan_in);
        column_sums(delta, rows, fan_out, grads + mlp->bias_offset[l]);
        if (l == 0)
            break;

        /* The error reaching the layer below, masked by its ReLU, replaces
         * that layer's activations, which are no longer needed. */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)rows,
                    fan_in, fan_out, 1.0f, delta, fan_out,
                    mlp->params + mlp->weight_offset[l], fan_in, 0.0f, scratch,
                    fan_in);
        float *activations = outputs[l - 1];
        const size_t count = rows * (size_t)fan_in;
        for (size_t i = 0; i < count; i++)
            activations[i] = activations[i] > 0.0f ? scratch[i] : 0.0f;
        delta = activations;
    }
    return loss;
}
