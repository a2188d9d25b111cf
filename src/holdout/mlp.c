/*
 * The built-in MLP trainer behind the cs_holdout_trainer interface: one
 * cs_trainer per worker, reset to the run's seed, fitted on the run's
 * subset, then asked for the predicted class of every example. Also the
 * recipe text that identifies such a trainer in record file headers.
 */
#include "holdout/holdout_internal.h"

#include "io/io.h"
#include "trainer/options.h"
#include "trainer/trainer_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECIPE_CAPACITY 1024

struct cs_holdout_mlp {
    cs_trainer_options recipe;
    cs_examples train;
    cs_examples test;
    bool has_test;
    char recipe_text[RECIPE_CAPACITY];

    /* One trainer per worker; trainers[0] exists from creation on. */
    cs_trainer **trainers;
    int32_t n_trainers;
    cs__blas_threads saved_threads; /* restored by end() */
};

/* Appends printf-style text after the first *used bytes of buffer. */
static void append(char *buffer, size_t *used, const char *fmt, ...)
    CS_PRINTF(3, 4);

static void append(char *buffer, size_t *used, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    const int wrote = vsnprintf(buffer + *used, RECIPE_CAPACITY - *used, fmt,
                                args);
    va_end(args);
    if (wrote > 0)
        *used += (size_t)wrote < RECIPE_CAPACITY - *used
                     ? (size_t)wrote
                     : RECIPE_CAPACITY - 1 - *used;
}

/* Appends " key=value" with the shortest %g form that reads back as the
 * same double, so that 0.1 is written "0.1" and still exactly. */
static void append_double(char *buffer, size_t *used, const char *key,
                          double value)
{
    char text[32];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, value);
        if (strtod(text, NULL) == value)
            break;
    }
    append(buffer, used, " %s=%s", key, text);
}

static const char *schedule_name(cs_lr_schedule schedule)
{
    switch (schedule) {
    case CS_LR_CONSTANT:
        return "constant";
    case CS_LR_WARMUP_LINEAR:
        return "warmup-linear";
    case CS_LR_STAGEWISE:
        return "stagewise";
    }
    return "unknown";
}

/* Returns the 64-bit FNV-1a hash of the inputs' float32 bit patterns,
 * each taken little-endian. */
static uint64_t inputs_hash(const cs_examples *train)
{
    uint64_t hash = CS__FNV_OFFSET;
    const size_t count = train->n * (size_t)train->n_inputs;
    for (size_t k = 0; k < count; k++) {
        uint32_t bits;
        memcpy(&bits, &train->inputs[k], sizeof bits);
        const uint8_t bytes[4] = {(uint8_t)bits, (uint8_t)(bits >> 8),
                                  (uint8_t)(bits >> 16),
                                  (uint8_t)(bits >> 24)};
        hash = cs__fnv1a(hash, bytes, sizeof bytes);
    }
    return hash;
}

/* Writes the recipe text: every option that changes the trained model,
 * which leaves out seed (each run has its own) and threads, and the hash
 * of the training inputs. */
static void write_recipe(cs_holdout_mlp *mlp)
{
    const cs_trainer_options *o = &mlp->recipe;
    char *text = mlp->recipe_text;
    size_t used = 0;

    append(text, &used,
           "cscore-mlp v1 inputs=%d classes=%d hidden=", (int)o->n_inputs,
           (int)o->n_classes);
    for (int32_t l = 0; l < o->n_hidden_layers; l++)
        append(text, &used, "%s%d", l > 0 ? "," : "",
               (int)o->hidden_widths[l]);
    if (o->n_hidden_layers == 0)
        append(text, &used, "none");
    append(text, &used, " epochs=%d batch=%d", (int)o->epochs,
           (int)o->batch_size);
    append_double(text, &used, "lr", o->learning_rate);
    append(text, &used, " schedule=%s", schedule_name(o->schedule));
    append_double(text, &used, "warmup", o->warmup_fraction);
    append(text, &used, " decay_epochs=");
    for (int32_t k = 0; k < o->n_decay_epochs; k++)
        append(text, &used, "%s%d", k > 0 ? "," : "", (int)o->decay_epochs[k]);
    if (o->n_decay_epochs == 0)
        append(text, &used, "none");
    append_double(text, &used, "decay_factor", o->decay_factor);
    append_double(text, &used, "momentum", o->momentum);
    append(text, &used, " nesterov=%d", o->nesterov != 0);
    append_double(text, &used, "weight_decay", o->weight_decay);
    append(text, &used, " inputs_fnv1a=%016llx",
           (unsigned long long)inputs_hash(&mlp->train));
}

static cs_status check_create_arguments(const char *fn,
                                        const cs_trainer_options *recipe,
                                        const cs_examples *train,
                                        cs_holdout_mlp **out)
{
    if (out == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "out",
                            "out is NULL; pass the address of a "
                            "cs_holdout_mlp pointer");
    *out = NULL;
    if (recipe == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "recipe",
                            "recipe is NULL; initialise a "
                            "cs_trainer_options with "
                            "cs_trainer_options_init()");
    if (train == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "train", "train is NULL");
    return CS_OK;
}

/* Reads and checks the recipe, creates the first trainer and checks the
 * data against it. */
static cs_status prepare(const char *fn, cs_holdout_mlp *mlp,
                         const cs_trainer_options *recipe,
                         const cs_examples *train, const cs_examples *test)
{
    cs_status status = cs__trainer_read_options(fn, recipe, &mlp->recipe);
    if (status == CS_OK)
        status = cs__trainer_check_options(fn, &mlp->recipe);
    if (status != CS_OK)
        return status;

    mlp->trainers = cs__calloc(1, sizeof *mlp->trainers);
    if (mlp->trainers == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the trainer list");
    status = cs_trainer_create(&mlp->recipe, &mlp->trainers[0]);
    if (status != CS_OK)
        return status;
    mlp->n_trainers = 1;

    status = cs__check_examples(mlp->trainers[0], fn, "train", train);
    if (status == CS_OK && test != NULL)
        status = cs__check_examples(mlp->trainers[0], fn, "test", test);
    return status;
}

cs_status cs_holdout_mlp_create(const cs_trainer_options *recipe,
                                const cs_examples *train,
                                const cs_examples *test, cs_holdout_mlp **out)
{
    const char *fn = "cs_holdout_mlp_create";
    cs_status status = check_create_arguments(fn, recipe, train, out);
    if (status != CS_OK)
        return status;

    cs_holdout_mlp *mlp = cs__calloc(1, sizeof *mlp);
    if (mlp == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the trainer");
    status = prepare(fn, mlp, recipe, train, test);
    if (status != CS_OK) {
        cs_holdout_mlp_free(mlp);
        return status;
    }

    mlp->train = *train;
    mlp->has_test = test != NULL;
    if (test != NULL)
        mlp->test = *test;
    write_recipe(mlp);
    *out = mlp;
    return CS_OK;
}

void cs_holdout_mlp_free(cs_holdout_mlp *mlp)
{
    if (mlp == NULL)
        return;
    for (int32_t k = 0; k < mlp->n_trainers; k++)
        cs_trainer_free(mlp->trainers[k]);
    cs__free(mlp->trainers);
    cs__free(mlp);
}

const char *cs_holdout_mlp_recipe(const cs_holdout_mlp *mlp)
{
    return mlp == NULL ? NULL : mlp->recipe_text;
}

/* Makes sure there is one trainer per worker. */
static cs_status add_trainers(cs_holdout_mlp *mlp, int32_t workers)
{
    if (workers <= mlp->n_trainers)
        return CS_OK;
    cs_trainer **grown = cs__realloc(mlp->trainers,
                                     (size_t)workers * sizeof *grown);
    if (grown == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, "cs_holdout_run", NULL,
                            "cannot allocate %d trainers", (int)workers);
    mlp->trainers = grown;
    while (mlp->n_trainers < workers) {
        const cs_status status =
            cs_trainer_create(&mlp->recipe, &mlp->trainers[mlp->n_trainers]);
        if (status != CS_OK)
            return status;
        mlp->n_trainers++;
    }
    return CS_OK;
}

static cs_status mlp_begin(int32_t workers, void *user_data)
{
    cs_holdout_mlp *mlp = user_data;
    mlp->saved_threads = (cs__blas_threads){0, false};
    if (workers > 1 && mlp->recipe.threads > 1)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, "cs_holdout_run",
                            "options->workers",
                            "the built-in trainer's recipe has threads = "
                            "%d, but with %d workers each worker must use "
                            "one thread; set threads to 0 or 1",
                            (int)mlp->recipe.threads, (int)workers);

    const cs_status status = add_trainers(mlp, workers);
    if (status != CS_OK)
        return status;

    /* OpenBLAS's thread count is global. Setting it once for the whole
     * call keeps every trainer single-threaded, and because each trainer
     * then finds the count it wants, none of them changes it mid-run under
     * another worker. */
    if (workers > 1)
        mlp->saved_threads = cs__blas_threads_begin(1);
    return CS_OK;
}

static void mlp_end(void *user_data)
{
    cs_holdout_mlp *mlp = user_data;
    cs__blas_threads_end(mlp->saved_threads);
    mlp->saved_threads = (cs__blas_threads){0, false};
}

static cs_status mlp_train(const cs_holdout_run_info *run, int32_t *predicted,
                           double *test_accuracy, void *user_data)
{
    cs_holdout_mlp *mlp = user_data;
    if (run->n_examples != mlp->train.n)
        return cs__fail_arg(CS_E_SIZE_MISMATCH, "cs_holdout_run", "trainer",
                            "the estimate has %zu examples, but the "
                            "built-in trainer was created with %zu",
                            run->n_examples, mlp->train.n);
    if (run->worker < 0 || run->worker >= mlp->n_trainers)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, "cs_holdout_run", "trainer",
                            "worker %d has no trainer; the built-in trainer "
                            "serves one cs_holdout_run() call at a time",
                            (int)run->worker);

    cs_trainer *trainer = mlp->trainers[run->worker];
    cs_status status = cs_trainer_reset(trainer, run->seed);
    if (status == CS_OK)
        status = cs_trainer_fit(trainer, &mlp->train, run->train_indices,
                                run->n_train, NULL, NULL, NULL);
    if (status == CS_OK)
        status = cs_trainer_predict_labels(trainer, mlp->train.inputs,
                                           mlp->train.n, predicted);
    if (status == CS_OK && mlp->has_test)
        status = cs_trainer_accuracy(trainer, &mlp->test, test_accuracy);
    return status;
}

cs_status cs_holdout_mlp_trainer(cs_holdout_mlp *mlp,
                                 cs_holdout_trainer *trainer)
{
    const char *fn = "cs_holdout_mlp_trainer";
    if (mlp == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "mlp", "mlp is NULL");
    if (trainer == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "trainer",
                            "trainer is NULL");
    const size_t minimum = offsetof(cs_holdout_trainer, user_data) +
                           sizeof(void *);
    if (trainer->struct_size < minimum)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "trainer",
                            "trainer->struct_size is %zu, below the minimum "
                            "%zu; set it to sizeof(cs_holdout_trainer)",
                            trainer->struct_size, minimum);

    trainer->begin = mlp_begin;
    trainer->train = mlp_train;
    trainer->end = mlp_end;
    trainer->user_data = mlp;
    return CS_OK;
}
