/*
 * The multilayer perceptron: parameter layout, PyTorch-style
 * initialisation, and the forward and backward passes of a batch. Every
 * large product is one cblas_sgemm call per layer and batch.
 *
 * Layer l (0-based, n_layers in all) maps widths[l] inputs to
 * widths[l + 1] outputs. Its weights are a row-major widths[l + 1] x
 * widths[l] matrix (PyTorch's nn.Linear layout), followed by its biases.
 * Hidden layers apply ReLU; the last layer's outputs are the logits.
 */
#ifndef CS_TRAINER_MLP_H
#define CS_TRAINER_MLP_H

#include "internal.h"

#define CS__MLP_MAX_LAYERS (CS_TRAINER_MAX_HIDDEN_LAYERS + 1)

typedef struct cs__mlp {
    int n_layers; /* linear layers: hidden layers + 1 */
    int32_t widths[CS__MLP_MAX_LAYERS + 1];   /* inputs, hidden..., classes */
    size_t weight_offset[CS__MLP_MAX_LAYERS]; /* into params */
    size_t bias_offset[CS__MLP_MAX_LAYERS];   /* into params */
    size_t n_params;
    float *params; /* n_params values, allocated and freed by the caller */
} cs__mlp;

/* Sets n_layers, widths and the offsets, and n_params; params is left
 * NULL. Returns CS_E_OVERFLOW (without recording it) when the parameter
 * count does not fit a size_t. */
cs_status cs__mlp_layout(cs__mlp *mlp, int32_t n_inputs,
                         const int32_t *hidden_widths, int n_hidden,
                         int32_t n_classes);

/* Draws every parameter of layer l uniformly between -1/sqrt(fan_in) and
 * 1/sqrt(fan_in), fan_in = widths[l], as torch.nn.Linear does by default.
 * Layers in order, each one's weights (row-major) before its biases. */
void cs__mlp_init(cs__mlp *mlp, uint64_t seed);

/* Returns the largest hidden width, or 0 without hidden layers. */
int32_t cs__mlp_max_hidden(const cs__mlp *mlp);

/* Computes rows examples through the network. x is rows x widths[0] with
 * row stride x_stride. outputs[l] receives layer l's outputs as rows x
 * widths[l + 1] with row stride strides[l]: after ReLU for hidden layers,
 * logits for the last. */
void cs__mlp_forward(const cs__mlp *mlp, const float *x, size_t x_stride,
                     size_t rows, float *const *outputs,
                     const size_t *strides);

/* Computes the gradient of the batch's mean softmax cross-entropy into
 * grads (n_params values, the layout of params) after cs__mlp_forward()
 * with contiguous outputs (strides equal to the widths). The outputs are
 * overwritten by the backpropagated errors. scratch must have room for
 * rows x the largest hidden width. Returns the sum (not the mean) of the rows'
 * cross-entropies. */
double cs__mlp_backward(const cs__mlp *mlp, const float *x, size_t x_stride,
                        size_t rows, const int32_t *labels,
                        float *const *outputs, float *scratch, float *grads);

/* Returns the softmax cross-entropy of one row of logits against label,
 * computed with the largest logit subtracted first so that exp() cannot
 * overflow. */
double cs__cross_entropy(const float *logits, int32_t n_classes,
                         int32_t label);

#endif /* CS_TRAINER_MLP_H */
