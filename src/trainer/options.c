/*
 * Defaults and validation of cs_trainer_options.
 */
#include "trainer/options.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The default recipe: the public MNIST demo by the C-score authors. */
#define DEFAULT_HIDDEN_LAYERS 2
#define DEFAULT_FIRST_WIDTH 512
#define DEFAULT_SECOND_WIDTH 256
#define DEFAULT_EPOCHS 10
#define DEFAULT_BATCH_SIZE 128
#define DEFAULT_LEARNING_RATE 0.1
#define DEFAULT_MOMENTUM 0.9

/* Share of the steps spent warming up under CS_LR_WARMUP_LINEAR. */
#define DEFAULT_WARMUP_FRACTION 0.15

/* Rate multiplier at each decay epoch under CS_LR_STAGEWISE. */
#define DEFAULT_DECAY_FACTOR 0.1

void cs_trainer_options_init(cs_trainer_options *options)
{
    if (options == NULL)
        return;
    memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
    options->n_hidden_layers = DEFAULT_HIDDEN_LAYERS;
    options->hidden_widths[0] = DEFAULT_FIRST_WIDTH;
    options->hidden_widths[1] = DEFAULT_SECOND_WIDTH;
    options->epochs = DEFAULT_EPOCHS;
    options->batch_size = DEFAULT_BATCH_SIZE;
    options->learning_rate = DEFAULT_LEARNING_RATE;
    options->schedule = CS_LR_CONSTANT;
    options->warmup_fraction = DEFAULT_WARMUP_FRACTION;
    options->decay_factor = DEFAULT_DECAY_FACTOR;
    options->momentum = DEFAULT_MOMENTUM;
}

cs_status cs__trainer_read_options(const char *fn,
                                   const cs_trainer_options *given,
                                   cs_trainer_options *out)
{
    cs_trainer_options_init(out);
    if (given->struct_size < CS__TRAINER_OPTIONS_MIN_SIZE)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "options",
                            "options->struct_size is %zu, below the minimum "
                            "%zu; initialise options with "
                            "cs_trainer_options_init()",
                            given->struct_size,
                            (size_t)CS__TRAINER_OPTIONS_MIN_SIZE);

    const size_t known = given->struct_size < sizeof *out ? given->struct_size
                                                          : sizeof *out;
    memcpy(out, given, known);
    out->struct_size = sizeof *out;
    return CS_OK;
}

static cs_status check_sizes(const char *fn, const cs_trainer_options *o)
{
    if (o->n_inputs == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, fn, "n_inputs",
                            "n_inputs is 0; pass the number of values per "
                            "example, e.g. 784 for 28 x 28 images");
    if (o->n_inputs < 0)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "n_inputs",
                            "n_inputs is %d; it must be positive",
                            (int)o->n_inputs);
    if (o->n_classes == 0)
        return cs__fail_arg(CS_E_ZERO_SIZE, fn, "n_classes",
                            "n_classes is 0; pass the number of classes C");
    if (o->n_classes < 2)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "n_classes",
                            "n_classes is %d; a classifier needs at least 2 "
                            "classes",
                            (int)o->n_classes);
    if (o->n_hidden_layers < 0 ||
        o->n_hidden_layers > CS_TRAINER_MAX_HIDDEN_LAYERS)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "n_hidden_layers",
                            "n_hidden_layers is %d; it must be in [0, %d]",
                            (int)o->n_hidden_layers,
                            CS_TRAINER_MAX_HIDDEN_LAYERS);
    for (int i = 0; i < o->n_hidden_layers; i++)
        if (o->hidden_widths[i] < 1) {
            cs__where where = cs__where_none(fn);
            where.argument = "hidden_widths";
            where.index = i;
            char value[16];
            snprintf(value, sizeof value, "%d", (int)o->hidden_widths[i]);
            return cs__fail(CS_E_INVALID_ARGUMENT, &where, value,
                            "hidden_widths[%d] is %d; every hidden layer "
                            "needs at least 1 unit",
                            i, (int)o->hidden_widths[i]);
        }
    if (o->epochs < 1)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "epochs",
                            "epochs is %d; it must be at least 1",
                            (int)o->epochs);
    if (o->batch_size < 1)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "batch_size",
                            "batch_size is %d; it must be at least 1",
                            (int)o->batch_size);
    if (o->threads < 0)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "threads",
                            "threads is %d; pass a positive count, or 0 to "
                            "keep OpenBLAS's current setting",
                            (int)o->threads);
    return CS_OK;
}

static cs_status check_decay_epochs(const char *fn,
                                    const cs_trainer_options *o)
{
    if (o->n_decay_epochs < 0 ||
        o->n_decay_epochs > CS_TRAINER_MAX_DECAY_EPOCHS)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "n_decay_epochs",
                            "n_decay_epochs is %d; it must be in [0, %d]",
                            (int)o->n_decay_epochs,
                            CS_TRAINER_MAX_DECAY_EPOCHS);

    for (int i = 0; i < o->n_decay_epochs; i++) {
        const int32_t previous = i > 0 ? o->decay_epochs[i - 1] : 0;
        if (o->decay_epochs[i] > previous)
            continue;

        cs__where where = cs__where_none(fn);
        where.argument = "decay_epochs";
        where.index = i;
        char value[16];
        snprintf(value, sizeof value, "%d", (int)o->decay_epochs[i]);
        return cs__fail(CS_E_INVALID_ARGUMENT, &where, value,
                        "decay_epochs[%d] is %d; decay epochs must be at "
                        "least 1 and strictly increasing",
                        i, (int)o->decay_epochs[i]);
    }
    return CS_OK;
}

static cs_status check_rates(const char *fn, const cs_trainer_options *o)
{
    if (!(isfinite(o->learning_rate) && o->learning_rate >= 0.0))
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "learning_rate",
                            "learning_rate is %g; it must be finite and "
                            ">= 0, default %g",
                            o->learning_rate, DEFAULT_LEARNING_RATE);
    if (o->schedule != CS_LR_CONSTANT && o->schedule != CS_LR_WARMUP_LINEAR &&
        o->schedule != CS_LR_STAGEWISE)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "schedule",
                            "schedule is %d; use CS_LR_CONSTANT (0), "
                            "CS_LR_WARMUP_LINEAR (1) or CS_LR_STAGEWISE (2)",
                            (int)o->schedule);
    if (!(o->warmup_fraction >= 0.0 && o->warmup_fraction <= 1.0))
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "warmup_fraction",
                            "warmup_fraction is %g; it must be in [0, 1], "
                            "default %g",
                            o->warmup_fraction, DEFAULT_WARMUP_FRACTION);
    if (!(isfinite(o->decay_factor) && o->decay_factor > 0.0))
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "decay_factor",
                            "decay_factor is %g; it must be finite and > 0, "
                            "default %g",
                            o->decay_factor, DEFAULT_DECAY_FACTOR);
    if (!(o->momentum >= 0.0 && o->momentum < 1.0))
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "momentum",
                            "momentum is %g; it must be in [0, 1), default "
                            "%g",
                            o->momentum, DEFAULT_MOMENTUM);
    if (o->nesterov && o->momentum == 0.0)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "nesterov",
                            "nesterov is set but momentum is 0; Nesterov "
                            "momentum needs momentum > 0");
    if (!(isfinite(o->weight_decay) && o->weight_decay >= 0.0))
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "weight_decay",
                            "weight_decay is %g; it must be finite and >= 0",
                            o->weight_decay);
    return CS_OK;
}

cs_status cs__trainer_check_options(const char *fn,
                                    const cs_trainer_options *options)
{
    cs_status status = check_sizes(fn, options);
    if (status == CS_OK)
        status = check_decay_epochs(fn, options);
    if (status == CS_OK)
        status = check_rates(fn, options);
    return status;
}
