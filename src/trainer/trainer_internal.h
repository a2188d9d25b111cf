/*
 * The trainer handle and the helpers its files share: the OpenBLAS thread
 * setting, argument checks and the chunked forward pass used by the
 * per-epoch evaluation and by prediction.
 */
#ifndef CS_TRAINER_INTERNAL_H
#define CS_TRAINER_INTERNAL_H

#include "trainer/mlp.h"
#include "trainer/rng.h"

/* Rows per chunk of evaluation and prediction, unless batch_size is
 * larger. Big enough for sgemm to run near its peak, small enough that
 * the workspace stays a few megabytes for MNIST-sized networks. */
#define CS__EVAL_ROWS 1024

struct cs_trainer {
    cs_trainer_options options;
    cs__mlp mlp;     /* mlp.params points into parameter_block */
    float *velocity; /* momentum buffer, the layout of mlp.params */
    float *grads;    /* gradient of the current batch, same layout */
    cs__rng shuffle_rng;

    /* Workspace of work_rows rows = max(batch_size, CS__EVAL_ROWS). */
    size_t work_rows;
    float *batch_inputs;                      /* work_rows x D */
    int32_t *batch_labels;                    /* work_rows */
    float *layer_outputs[CS__MLP_MAX_LAYERS]; /* work_rows x widths[l+1] */
    size_t layer_strides[CS__MLP_MAX_LAYERS]; /* widths[l + 1] */
    float *scratch;                           /* work_rows x largest hidden */

    float *parameter_block; /* one allocation: params, velocity, grads */
    float *work_block;      /* one allocation: the float workspace */
};

/* OpenBLAS's thread count as it was before a call changed it. */
typedef struct cs__blas_threads {
    int previous;
    bool changed;
} cs__blas_threads;

/* Sets OpenBLAS's thread count to threads when that is > 0 and differs
 * from the current count; returns what cs__blas_threads_end() restores. */
cs__blas_threads cs__blas_threads_begin(int32_t threads);
void cs__blas_threads_end(cs__blas_threads saved);

/* Computes rows examples starting at row begin: row r is inputs row
 * indices[r] when indices is set, else row r. rows <= work_rows. Logits
 * go to logits (row stride C) and last-hidden-layer features to features
 * (row stride d) when those are set, else to the workspace. Returns where
 * the chunk's logits are. */
const float *cs__trainer_forward_chunk(cs_trainer *trainer,
                                       const float *inputs,
                                       const int64_t *indices, size_t begin,
                                       size_t rows, float *logits,
                                       float *features);

/* Returns true when the label's logit is strictly larger than every
 * other. */
bool cs__row_correct(const float *logits, int32_t n_classes, int32_t label);

/* Checks that the inputs of n rows are finite, where row r is inputs row
 * indices[r], or row r without indices. Otherwise records
 * CS_E_NONFINITE_FEATURE naming fn and argument. */
cs_status cs__check_inputs(const char *fn, const char *argument,
                           const float *inputs, int32_t n_inputs,
                           const int64_t *indices, size_t n);

/* Checks that the labels of n rows (selected as above) are in
 * [0, n_classes); records CS_E_LABEL_OUT_OF_RANGE otherwise. */
cs_status cs__check_labels(const char *fn, const char *argument,
                           const int32_t *labels, int32_t n_classes,
                           const int64_t *indices, size_t n);

/* Checks a cs_examples for NULL pointers, n = 0 and n_inputs != D, then
 * its labels and inputs. argument names it in messages ("train"). */
cs_status cs__check_examples(const cs_trainer *trainer, const char *fn,
                             const char *argument,
                             const cs_examples *examples);

#endif /* CS_TRAINER_INTERNAL_H */
