/*
 * The training loop: shuffled minibatches with one SGD step each, and
 * after every epoch an evaluation of all training rows (and the test set)
 * handed to the caller's callback.
 */
#include "trainer/trainer_internal.h"

#include "trainer/optimizer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define FIT_FN "cs_trainer_fit"

/* Everything one cs_trainer_fit() call allocates and tracks. */
typedef struct fit_run {
    const cs_examples *train;
    const int64_t *indices; /* NULL: row r is example r */
    const cs_examples *test;
    size_t n;                /* rows trained on */
    int64_t steps_per_epoch; /* ceil(n / batch_size) */
    int64_t step;            /* updates done in this call */
    double learning_rate;    /* rate of the latest update */
    size_t *order;           /* this epoch's visiting order of rows */

    /* Per-epoch evaluation, allocated only with a callback. */
    float *logits;            /* n x C */
    float *features;          /* n x d, NULL when d = 0 */
    int32_t *gathered_labels; /* n, only with indices */
    const int32_t *labels;    /* labels of the rows */
} fit_run;

static double seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

static cs_status check_indices(const int64_t *indices, size_t n_indices,
                               size_t n_examples)
{
    if (indices == NULL && n_indices != 0)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, FIT_FN, "n_indices",
                            "n_indices is %zu but indices is NULL; pass 0 "
                            "to train on every example",
                            n_indices);
    if (indices != NULL && n_indices == 0)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, FIT_FN, "n_indices",
                            "n_indices is 0 but indices is set; pass NULL "
                            "to train on every example");

    for (size_t r = 0; r < n_indices; r++) {
        if (indices[r] >= 0 && (uint64_t)indices[r] < n_examples)
            continue;
        cs__where where = cs__where_none(FIT_FN);
        where.argument = "indices";
        where.index = (int64_t)r;
        where.example_id = indices[r];
        char value[24];
        snprintf(value, sizeof value, "%lld", (long long)indices[r]);
        return cs__fail(CS_E_ID_OUT_OF_RANGE, &where, value,
                        "indices[%zu] is %lld; ids must be in [0, %zu), "
                        "the training examples",
                        r, (long long)indices[r], n_examples);
    }
    return CS_OK;
}

static cs_status check_train(const cs_trainer *trainer,
                             const cs_examples *train, const int64_t *indices,
                             size_t n_indices)
{
    if (train->inputs == NULL || train->labels == NULL) {
        const char *name = train->inputs == NULL ? "train->inputs"
                                                 : "train->labels";
        return cs__fail_arg(CS_E_NULL_ARGUMENT, FIT_FN, name, "%s is NULL",
                            name);
    }
    if (train->n == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, FIT_FN, "train",
                            "train->n is 0; pass at least one example");
    if (train->n_inputs != trainer->options.n_inputs)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, FIT_FN, "train",
                            "train->n_inputs is %d but the trainer was "
                            "created with n_inputs %d",
                            (int)train->n_inputs,
                            (int)trainer->options.n_inputs);

    cs_status status = check_indices(indices, n_indices, train->n);
    if (status != CS_OK)
        return status;

    /* Only the rows trained on are read, so only those are checked. */
    const size_t n = indices ? n_indices : train->n;
    status = cs__check_labels(FIT_FN, "train->labels", train->labels,
                              trainer->options.n_classes, indices, n);
    if (status == CS_OK)
        status = cs__check_inputs(FIT_FN, "train->inputs", train->inputs,
                                  trainer->options.n_inputs, indices, n);
    return status;
}

static void free_run(fit_run *run)
{
    cs__free(run->order);
    cs__free(run->logits);
    cs__free(run->features);
    cs__free(run->gathered_labels);
}

/* Allocates the order, and with a callback the evaluation arrays. */
static cs_status allocate_run(const cs_trainer *trainer, bool evaluate,
                              fit_run *run)
{
    const size_t n = run->n;
    const size_t n_classes = (size_t)trainer->options.n_classes;
    const size_t feature_dim = (size_t)cs_trainer_feature_dim(trainer);
    size_t logit_count = 0;
    size_t feature_count = 0;
    if (!cs__mul_size(n, n_classes, &logit_count) ||
        !cs__mul_size(n, feature_dim, &feature_count))
        return cs__fail_arg(CS_E_OVERFLOW, FIT_FN, "train",
                            "the evaluation arrays of %zu rows overflow "
                            "size_t",
                            n);

    run->order = cs__alloc_array(n, sizeof *run->order);
    bool failed = run->order == NULL;
    if (evaluate) {
        run->logits = cs__alloc_array(logit_count, sizeof(float));
        failed = failed || run->logits == NULL;
        if (feature_dim > 0) {
            run->features = cs__alloc_array(feature_count, sizeof(float));
            failed = failed || run->features == NULL;
        }
        if (run->indices != NULL) {
            run->gathered_labels = cs__alloc_array(n, sizeof(int32_t));
            failed = failed || run->gathered_labels == NULL;
        }
    }
    if (failed)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, FIT_FN, NULL,
                            "cannot allocate the order and evaluation "
                            "arrays of %zu rows",
                            n);

    run->labels = run->train->labels;
    if (run->gathered_labels != NULL) {
        for (size_t r = 0; r < n; r++)
            run->gathered_labels[r] = run->train->labels[run->indices[r]];
        run->labels = run->gathered_labels;
    }
    return CS_OK;
}

/* Runs one epoch of updates and returns its mean training loss. */
static double train_epoch(cs_trainer *t, fit_run *run)
{
    const size_t n_inputs = (size_t)t->options.n_inputs;
    const size_t batch = (size_t)t->options.batch_size;
    double loss = 0.0;

    cs__rng_permutation(&t->shuffle_rng, run->order, run->n);

    for (size_t begin = 0; begin < run->n; begin += batch) {
        const size_t rows = run->n - begin < batch ? run->n - begin : batch;
        for (size_t r = 0; r < rows; r++) {
            const size_t row = run->order[begin + r];
            const size_t example = run->indices ? (size_t)run->indices[row]
                                                : row;
            memcpy(t->batch_inputs + r * n_inputs,
                   run->train->inputs + example * n_inputs,
                   n_inputs * sizeof(float));
            t->batch_labels[r] = run->train->labels[example];
        }

        cs__mlp_forward(&t->mlp, t->batch_inputs, n_inputs, rows,
                        t->layer_outputs, t->layer_strides);
        loss += cs__mlp_backward(&t->mlp, t->batch_inputs, n_inputs, rows,
                                 t->batch_labels, t->layer_outputs, t->scratch,
                                 t->grads);

        run->learning_rate = cs__learning_rate(&t->options, run->step,
                                               run->steps_per_epoch);
        cs__sgd_step(&t->options, (float)run->learning_rate, t->mlp.params,
                     t->velocity, t->grads, t->mlp.n_params);
        run->step++;
    }
    return loss / (double)run->n;
}

static cs_status fail_diverged(int32_t epoch, const char *quantity,
                               double value)
{
    char text[32];
    snprintf(text, sizeof text, "%g", value);
    cs__where where = cs__where_none(FIT_FN);
    where.argument = "options";
    return cs__fail(CS_E_NONFINITE_PREDICTION, &where, text,
                    "training diverged in epoch %d: %s is %s; lower the "
                    "learning rate",
                    (int)epoch, quantity, text);
}

/* Evaluates every training row into the run's arrays; sets the report's
 * eval_loss and train_accuracy. */
static cs_status evaluate_train(cs_trainer *t, fit_run *run,
                                cs_epoch_report *report)
{
    const int32_t n_classes = t->options.n_classes;
    double loss = 0.0;
    size_t correct = 0;

    for (size_t begin = 0; begin < run->n; begin += t->work_rows) {
        const size_t rows = run->n - begin < t->work_rows ? run->n - begin
                                                          : t->work_rows;
        cs__trainer_forward_chunk(t, run->train->inputs, run->indices, begin,
                                  rows, run->logits, run->features);
        for (size_t r = begin; r < begin + rows; r++) {
            const float *row = run->logits + r * (size_t)n_classes;
            loss += cs__cross_entropy(row, n_classes, run->labels[r]);
            correct += cs__row_correct(row, n_classes, run->labels[r]);
        }
    }

    report->eval_loss = loss / (double)run->n;
    report->train_accuracy = (double)correct / (double)run->n;
    if (!isfinite(report->eval_loss))
        return fail_diverged(report->epoch, "the evaluated loss",
                             report->eval_loss);
    return CS_OK;
}

static double test_accuracy(cs_trainer *t, const cs_examples *test)
{
    const int32_t n_classes = t->options.n_classes;
    size_t correct = 0;

    for (size_t begin = 0; begin < test->n; begin += t->work_rows) {
        const size_t rows = test->n - begin < t->work_rows ? test->n - begin
                                                           : t->work_rows;
        const float *logits = cs__trainer_forward_chunk(t, test->inputs, NULL,
                                                        begin, rows, NULL,
                                                        NULL);
        for (size_t r = 0; r < rows; r++)
            correct += cs__row_correct(logits + r * (size_t)n_classes,
                                       n_classes, test->labels[begin + r]);
    }
    return (double)correct / (double)test->n;
}

/* Fills the report of an epoch whose updates are done: evaluates the
 * training rows and the test set. */
static cs_status evaluate_epoch(cs_trainer *t, fit_run *run,
                                cs_epoch_report *report)
{
    const double start = seconds_now();

    report->logits = run->logits;
    report->labels = run->labels;
    report->features = run->features;
    cs_status status = evaluate_train(t, run, report);
    if (status != CS_OK)
        return status;

    report->test_accuracy = run->test != NULL ? test_accuracy(t, run->test)
                                              : NAN;
    report->eval_seconds = seconds_now() - start;
    return CS_OK;
}

/* Runs the epochs; OpenBLAS's thread setting is applied around the work
 * and restored around each callback. */
static cs_status run_epochs(cs_trainer *t, fit_run *run,
                            cs_epoch_callback callback, void *user_data)
{
    cs_epoch_report report;
    memset(&report, 0, sizeof report);
    report.struct_size = sizeof report;
    report.epochs = t->options.epochs;
    report.n = run->n;
    report.n_classes = t->options.n_classes;
    report.feature_dim = cs_trainer_feature_dim(t);
    report.indices = run->indices;

    cs_status status = CS_OK;
    for (int32_t epoch = 1; epoch <= t->options.epochs; epoch++) {
        report.epoch = epoch;
        cs__blas_threads saved = cs__blas_threads_begin(t->options.threads);

        const double start = seconds_now();
        report.train_loss = train_epoch(t, run);
        report.train_seconds = seconds_now() - start;
        report.learning_rate = run->learning_rate;

        if (!isfinite(report.train_loss))
            status = fail_diverged(epoch, "the mean training loss",
                                   report.train_loss);
        else if (callback != NULL)
            status = evaluate_epoch(t, run, &report);
        cs__blas_threads_end(saved);

        if (status == CS_OK && callback != NULL)
            status = callback(&report, user_data);
        if (status != CS_OK)
            break;
    }
    return status;
}

cs_status cs_trainer_fit(cs_trainer *trainer, const cs_examples *train,
                         const int64_t *indices, size_t n_indices,
                         const cs_examples *test, cs_epoch_callback callback,
                         void *user_data)
{
    if (trainer == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, FIT_FN, "trainer",
                            "trainer is NULL");
    if (train == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, FIT_FN, "train",
                            "train is NULL; pass the training examples");

    cs_status status = check_train(trainer, train, indices, n_indices);
    if (status == CS_OK && test != NULL && callback != NULL)
        status = cs__check_examples(trainer, FIT_FN, "test", test);
    if (status != CS_OK)
        return status;

    fit_run run;
    memset(&run, 0, sizeof run);
    run.train = train;
    run.indices = indices;
    run.test = callback != NULL ? test : NULL;
    run.n = indices ? n_indices : train->n;
    run.steps_per_epoch = (int64_t)((run.n +
                                     (size_t)trainer->options.batch_size - 1) /
                                    (size_t)trainer->options.batch_size);

    status = allocate_run(trainer, callback != NULL, &run);
    if (status == CS_OK)
        status = run_epochs(trainer, &run, callback, user_data);
    free_run(&run);
    return status;
}
