/*
 * Trainer construction, reset, option queries, and the OpenBLAS thread
 * setting that each call applies and restores. Training lives in fit.c,
 * prediction and the chunked forward pass in predict.c.
 */
#include "trainer/trainer_internal.h"

#include "trainer/options.h"

#include <cblas.h>
#include <string.h>

cs__blas_threads cs__blas_threads_begin(int32_t threads)
{
    cs__blas_threads saved = {openblas_get_num_threads(), false};
    if (threads > 0 && threads != saved.previous) {
        openblas_set_num_threads(threads);
        saved.changed = true;
    }
    return saved;
}

void cs__blas_threads_end(cs__blas_threads saved)
{
    if (saved.changed)
        openblas_set_num_threads(saved.previous);
}

/* Allocates parameters, momentum and gradient in one block. */
static cs_status allocate_parameters(cs_trainer *t, const char *fn)
{
    const size_t n = t->mlp.n_params;
    size_t count = 0;
    if (!cs__mul_size(n, 3, &count) || count > SIZE_MAX / sizeof(float))
        return cs__fail_arg(CS_E_OVERFLOW, fn, "options",
                            "the network's %zu parameters do not fit in "
                            "memory",
                            n);

    t->parameter_block = cs__alloc_array(count, sizeof(float));
    if (t->parameter_block == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate %zu parameters with their "
                            "momentum and gradient",
                            n);
    t->mlp.params = t->parameter_block;
    t->velocity = t->parameter_block + n;
    t->grads = t->parameter_block + 2 * n;
    return CS_OK;
}

/* Floats per workspace row: gathered inputs, every layer's outputs and
 * the backward pass's scratch row. Returns false on overflow. */
static bool workspace_row_size(const cs__mlp *mlp, size_t *out)
{
    size_t per_row = (size_t)mlp->widths[0] + (size_t)cs__mlp_max_hidden(mlp);
    for (int l = 0; l < mlp->n_layers; l++) {
        const size_t width = (size_t)mlp->widths[l + 1];
        if (per_row > SIZE_MAX - width)
            return false;
        per_row += width;
    }
    *out = per_row;
    return true;
}

static cs_status allocate_workspace(cs_trainer *t, const char *fn)
{
    const size_t batch = (size_t)t->options.batch_size;
    t->work_rows = batch > CS__EVAL_ROWS ? batch : CS__EVAL_ROWS;

    size_t per_row = 0;
    size_t total = 0;
    if (!workspace_row_size(&t->mlp, &per_row) ||
        !cs__mul_size(per_row, t->work_rows, &total) ||
        total > SIZE_MAX / sizeof(float))
        return cs__fail_arg(CS_E_OVERFLOW, fn, "batch_size",
                            "a workspace of %zu rows for this network does "
                            "not fit in memory",
                            t->work_rows);

    t->work_block = cs__alloc_array(total, sizeof(float));
    t->batch_labels = cs__alloc_array(t->work_rows, sizeof(int32_t));
    if (t->work_block == NULL || t->batch_labels == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate a workspace of %zu rows of %zu "
                            "float32 values",
                            t->work_rows, per_row);

    float *next = t->work_block;
    t->batch_inputs = next;
    next += t->work_rows * (size_t)t->mlp.widths[0];
    for (int l = 0; l < t->mlp.n_layers; l++) {
        t->layer_strides[l] = (size_t)t->mlp.widths[l + 1];
        t->layer_outputs[l] = next;
        next += t->work_rows * t->layer_strides[l];
    }
    t->scratch = next;
    return CS_OK;
}

/* Draws the initial weights, clears the momentum and seeds shuffling. */
static void initialise(cs_trainer *t, uint64_t seed)
{
    t->options.seed = seed;
    cs__mlp_init(&t->mlp, seed);
    memset(t->velocity, 0, t->mlp.n_params * sizeof *t->velocity);
    cs__rng_seed(&t->shuffle_rng, seed + 1);
}

cs_status cs_trainer_create(const cs_trainer_options *options,
                            cs_trainer **out)
{
    const char *fn = "cs_trainer_create";
    if (out == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "out",
                            "out is NULL; pass the address of a cs_trainer "
                            "pointer");
    *out = NULL;
    if (options == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "options",
                            "options is NULL; initialise a "
                            "cs_trainer_options with "
                            "cs_trainer_options_init()");

    cs_trainer_options opts;
    cs_status status = cs__trainer_read_options(fn, options, &opts);
    if (status == CS_OK)
        status = cs__trainer_check_options(fn, &opts);
    if (status != CS_OK)
        return status;

    cs_trainer *t = cs__calloc(1, sizeof *t);
    if (t == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, fn, NULL,
                            "cannot allocate the trainer");
    t->options = opts;

    status = cs__mlp_layout(&t->mlp, opts.n_inputs, opts.hidden_widths,
                            opts.n_hidden_layers, opts.n_classes);
    if (status != CS_OK)
        status = cs__fail_arg(CS_E_OVERFLOW, fn, "hidden_widths",
                              "the network's parameter count overflows "
                              "size_t");
    if (status == CS_OK)
        status = allocate_parameters(t, fn);
    if (status == CS_OK)
        status = allocate_workspace(t, fn);
    if (status != CS_OK) {
        cs_trainer_free(t);
        return status;
    }

    initialise(t, opts.seed);
    *out = t;
    return CS_OK;
}

void cs_trainer_free(cs_trainer *trainer)
{
    if (trainer == NULL)
        return;
    cs__free(trainer->parameter_block);
    cs__free(trainer->work_block);
    cs__free(trainer->batch_labels);
    cs__free(trainer);
}

cs_status cs_trainer_get_options(const cs_trainer *trainer,
                                 cs_trainer_options *options)
{
    const char *fn = "cs_trainer_get_options";
    if (trainer == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "trainer",
                            "trainer is NULL");
    if (options == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "options",
                            "options is NULL; pass a cs_trainer_options "
                            "with struct_size set");
    if (options->struct_size < CS__TRAINER_OPTIONS_MIN_SIZE)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "options",
                            "options->struct_size is %zu, below the minimum "
                            "%zu; set it to sizeof(cs_trainer_options)",
                            options->struct_size,
                            (size_t)CS__TRAINER_OPTIONS_MIN_SIZE);

    /* Copy only what the caller's version of the struct has room for,
     * and leave its struct_size as it was. */
    const size_t given = options->struct_size;
    const size_t size = given < sizeof trainer->options
                            ? given
                            : sizeof trainer->options;
    memcpy(options, &trainer->options, size);
    options->struct_size = given;
    return CS_OK;
}

int32_t cs_trainer_feature_dim(const cs_trainer *trainer)
{
    if (trainer == NULL)
        return -1;
    return trainer->options.n_hidden_layers > 0
               ? trainer->mlp.widths[trainer->mlp.n_layers - 1]
               : 0;
}

cs_status cs_trainer_reset(cs_trainer *trainer, uint64_t seed)
{
    if (trainer == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, "cs_trainer_reset", "trainer",
                            "trainer is NULL");
    initialise(trainer, seed);
    return CS_OK;
}
