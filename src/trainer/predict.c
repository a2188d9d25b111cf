/*
 * Prediction with a trained network: the chunked forward pass shared with
 * the per-epoch evaluation, the argument checks shared with training, and
 * the public predict and accuracy functions. None of them allocates.
 */
#include "trainer/trainer_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const float *cs__trainer_forward_chunk(cs_trainer *trainer,
                                       const float *inputs,
                                       const int64_t *indices, size_t begin,
                                       size_t rows, float *logits,
                                       float *features)
{
    const cs__mlp *mlp = &trainer->mlp;
    const size_t n_inputs = (size_t)mlp->widths[0];
    const int last = mlp->n_layers - 1;

    const float *x = inputs + begin * n_inputs;
    if (indices != NULL) {
        for (size_t r = 0; r < rows; r++)
            memcpy(trainer->batch_inputs + r * n_inputs,
                   inputs + (size_t)indices[begin + r] * n_inputs,
                   n_inputs * sizeof *inputs);
        x = trainer->batch_inputs;
    }

    /* The last hidden layer and the logits may go straight to the caller's
     * arrays; the other layers use the workspace. */
    float *outputs[CS__MLP_MAX_LAYERS];
    size_t strides[CS__MLP_MAX_LAYERS];
    for (int l = 0; l <= last; l++) {
        outputs[l] = trainer->layer_outputs[l];
        strides[l] = trainer->layer_strides[l];
    }
    if (logits != NULL)
        outputs[last] = logits + begin * strides[last];
    if (features != NULL && last > 0)
        outputs[last - 1] = features + begin * strides[last - 1];

    cs__mlp_forward(mlp, x, n_inputs, rows, outputs, strides);
    return outputs[last];
}

bool cs__row_correct(const float *logits, int32_t n_classes, int32_t label)
{
    const float target = logits[label];
    for (int32_t j = 0; j < n_classes; j++)
        if (j != label && !(logits[j] < target))
            return false;
    return true;
}

/* Index of the largest logit, the lowest among ties. */
static int32_t row_argmax(const float *logits, int32_t n_classes)
{
    int32_t best = 0;
    for (int32_t j = 1; j < n_classes; j++)
        if (logits[j] > logits[best])
            best = j;
    return best;
}

cs_status cs__check_inputs(const char *fn, const char *argument,
                           const float *inputs, int32_t n_inputs,
                           const int64_t *indices, size_t n)
{
    const size_t width = (size_t)n_inputs;
    for (size_t r = 0; r < n; r++) {
        const size_t example = indices ? (size_t)indices[r] : r;
        const float *row = inputs + example * width;

        /* x * 0 is 0 for finite x and NaN for NaN or infinity, so one
         * comparison per row finds the rows worth scanning. */
        float probe = 0.0f;
        for (size_t j = 0; j < width; j++)
            probe += row[j] * 0.0f;
        if (probe == 0.0f)
            continue;

        for (size_t j = 0; j < width; j++) {
            if (isfinite(row[j]))
                continue;
            cs__where where = cs__where_none(fn);
            where.argument = argument;
            where.index = (int64_t)(example * width + j);
            where.example_id = (int64_t)example;
            char value[32];
            snprintf(value, sizeof value, "%g", (double)row[j]);
            return cs__fail(CS_E_NONFINITE_FEATURE, &where, value,
                            "%s of example %zu, value %zu, is %s; inputs "
                            "must be finite",
                            argument, example, j, value);
        }
    }
    return CS_OK;
}

cs_status cs__check_labels(const char *fn, const char *argument,
                           const int32_t *labels, int32_t n_classes,
                           const int64_t *indices, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        const size_t example = indices ? (size_t)indices[r] : r;
        const int32_t label = labels[example];
        if (label >= 0 && label < n_classes)
            continue;

        cs__where where = cs__where_none(fn);
        where.argument = argument;
        where.index = (int64_t)example;
        where.example_id = (int64_t)example;
        char value[16];
        snprintf(value, sizeof value, "%d", (int)label);
        return cs__fail(CS_E_LABEL_OUT_OF_RANGE, &where, value,
                        "%s[%zu] is %d; labels must be in [0, %d)", argument,
                        example, (int)label, (int)n_classes);
    }
    return CS_OK;
}

cs_status cs__check_examples(const cs_trainer *trainer, const char *fn,
                             const char *argument, const cs_examples *examples)
{
    char name[48];
    if (examples->inputs == NULL || examples->labels == NULL) {
        snprintf(name, sizeof name, "%s->%s", argument,
                 examples->inputs == NULL ? "inputs" : "labels");
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, name, "%s is NULL", name);
    }
    if (examples->n == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, fn, argument,
                            "%s->n is 0; pass at least one example", argument);
    if (examples->n_inputs != trainer->options.n_inputs)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, argument,
                            "%s->n_inputs is %d but the trainer was created "
                            "with n_inputs %d",
                            argument, (int)examples->n_inputs,
                            (int)trainer->options.n_inputs);

    snprintf(name, sizeof name, "%s->labels", argument);
    cs_status status = cs__check_labels(fn, name, examples->labels,
                                        trainer->options.n_classes, NULL,
                                        examples->n);
    if (status != CS_OK)
        return status;
    snprintf(name, sizeof name, "%s->inputs", argument);
    return cs__check_inputs(fn, name, examples->inputs,
                            trainer->options.n_inputs, NULL, examples->n);
}

/* Checks the arguments shared by the predict functions. */
static cs_status check_predict(const char *fn, const cs_trainer *trainer,
                               const float *inputs, size_t n,
                               const void *output, const char *output_name)
{
    if (trainer == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "trainer",
                            "trainer is NULL");
    if (inputs == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "inputs",
                            "inputs is NULL");
    if (output == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, output_name,
                            "%s is NULL; pass an array for the results",
                            output_name);
    if (n == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, fn, "n",
                            "n is 0; pass at least one example");
    return cs__check_inputs(fn, "inputs", inputs, trainer->options.n_inputs,
                            NULL, n);
}

cs_status cs_trainer_predict(cs_trainer *trainer, const float *inputs,
                             size_t n, float *logits, float *features)
{
    const char *fn = "cs_trainer_predict";
    cs_status status = check_predict(fn, trainer, inputs, n, logits, "logits");
    if (status != CS_OK)
        return status;
    if (features != NULL && cs_trainer_feature_dim(trainer) == 0)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "features",
                            "features is set but the network has no hidden "
                            "layer; pass NULL");

    const cs__blas_threads saved = cs__blas_threads_begin(
        trainer->options.threads);
    for (size_t begin = 0; begin < n; begin += trainer->work_rows) {
        const size_t rows = n - begin < trainer->work_rows
                                ? n - begin
                                : trainer->work_rows;
        cs__trainer_forward_chunk(trainer, inputs, NULL, begin, rows, logits,
                                  features);
    }
    cs__blas_threads_end(saved);
    return CS_OK;
}

cs_status cs_trainer_predict_labels(cs_trainer *trainer, const float *inputs,
                                    size_t n, int32_t *labels)
{
    const char *fn = "cs_trainer_predict_labels";
    cs_status status = check_predict(fn, trainer, inputs, n, labels, "labels");
    if (status != CS_OK)
        return status;

    const int32_t n_classes = trainer->options.n_classes;
    const cs__blas_threads saved = cs__blas_threads_begin(
        trainer->options.threads);
    for (size_t begin = 0; begin < n; begin += trainer->work_rows) {
        const size_t rows = n - begin < trainer->work_rows
                                ? n - begin
                                : trainer->work_rows;
        const float *logits = cs__trainer_forward_chunk(trainer, inputs, NULL,
                                                        begin, rows, NULL,
                                                        NULL);
        for (size_t r = 0; r < rows; r++)
            labels[begin + r] = row_argmax(logits + r * (size_t)n_classes,
                                           n_classes);
    }
    cs__blas_threads_end(saved);
    return CS_OK;
}

cs_status cs_trainer_accuracy(cs_trainer *trainer, const cs_examples *examples,
                              double *accuracy)
{
    const char *fn = "cs_trainer_accuracy";
    if (trainer == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "trainer",
                            "trainer is NULL");
    if (examples == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "examples",
                            "examples is NULL");
    if (accuracy == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "accuracy",
                            "accuracy is NULL; pass a double to fill");
    cs_status status = cs__check_examples(trainer, fn, "examples", examples);
    if (status != CS_OK)
        return status;

    const int32_t n_classes = trainer->options.n_classes;
    size_t correct = 0;
    const cs__blas_threads saved = cs__blas_threads_begin(
        trainer->options.threads);
    for (size_t begin = 0; begin < examples->n; begin += trainer->work_rows) {
        const size_t rows = examples->n - begin < trainer->work_rows
                                ? examples->n - begin
                                : trainer->work_rows;
        const float *logits = cs__trainer_forward_chunk(trainer,
                                                        examples->inputs, NULL,
                                                        begin, rows, NULL,
                                                        NULL);
        for (size_t r = 0; r < rows; r++)
            correct += cs__row_correct(logits + r * (size_t)n_classes,
                                       n_classes, examples->labels[begin + r]);
    }
    cs__blas_threads_end(saved);

    *accuracy = (double)correct / (double)examples->n;
    return CS_OK;
}
