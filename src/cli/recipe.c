/*
 * The trainer recipe flags (--epochs, --lr, --hidden, ...) shared by the
 * subcommands that train networks.
 */
#include "cli/cli.h"

#include <string.h>

const struct option cli_recipe_options[] = {
    {"epochs", required_argument, NULL, CLI_RECIPE_EPOCHS},
    {"lr", required_argument, NULL, CLI_RECIPE_LR},
    {"schedule", required_argument, NULL, CLI_RECIPE_SCHEDULE},
    {"decay-epochs", required_argument, NULL, CLI_RECIPE_DECAY_EPOCHS},
    {"decay-factor", required_argument, NULL, CLI_RECIPE_DECAY_FACTOR},
    {"momentum", required_argument, NULL, CLI_RECIPE_MOMENTUM},
    {"nesterov", no_argument, NULL, CLI_RECIPE_NESTEROV},
    {"weight-decay", required_argument, NULL, CLI_RECIPE_WEIGHT_DECAY},
    {"batch", required_argument, NULL, CLI_RECIPE_BATCH},
    {"hidden", required_argument, NULL, CLI_RECIPE_HIDDEN},
    {"threads", required_argument, NULL, CLI_RECIPE_THREADS},
    {"seed", required_argument, NULL, CLI_RECIPE_SEED},
    {NULL, 0, NULL, 0},
};

const char cli_recipe_help[] =
    "Training recipe (defaults: the C-score authors' public MNIST demo):\n"
    "  --epochs E          training epochs (default 10)\n"
    "  --lr X              base learning rate (default 0.1)\n"
    "  --schedule S        learning-rate schedule: constant (default),\n"
    "                      warmup-linear (linear warm-up over the first 15%\n"
    "                      of steps, then linear decay to 0) or stagewise\n"
    "  --decay-epochs L    stagewise: comma-separated epochs after which the\n"
    "                      rate drops (default none)\n"
    "  --decay-factor F    stagewise: factor applied at each drop (default "
    "0.1)\n"
    "  --momentum M        SGD momentum in [0, 1) (default 0.9)\n"
    "  --nesterov          use Nesterov momentum (default off)\n"
    "  --weight-decay W    L2 weight decay coefficient (default 0)\n"
    "  --batch B           minibatch size in examples (default 128)\n"
    "  --hidden L          comma-separated hidden layer widths, input side\n"
    "                      first (default 512,256)\n"
    "  --threads T         OpenBLAS threads; 0 keeps OpenBLAS's own setting\n"
    "                      (default 0)\n"
    "  --seed S            seed of initialisation and shuffling (default "
    "0)\n";

static bool parse_schedule(const char *subcommand, const char *value,
                           cs_trainer_options *recipe)
{
    if (strcmp(value, "constant") == 0)
        recipe->schedule = CS_LR_CONSTANT;
    else if (strcmp(value, "warmup-linear") == 0)
        recipe->schedule = CS_LR_WARMUP_LINEAR;
    else if (strcmp(value, "stagewise") == 0)
        recipe->schedule = CS_LR_STAGEWISE;
    else {
        cli_usage_error(subcommand,
                        "invalid value '%s' for --schedule: use constant, "
                        "warmup-linear or stagewise",
                        value);
        return false;
    }
    return true;
}

static bool parse_i32(const char *subcommand, const char *option,
                      const char *value, int32_t min, int32_t *out)
{
    int64_t parsed;
    if (!cli_parse_i64(subcommand, option, value, min, INT32_MAX, &parsed))
        return false;
    *out = (int32_t)parsed;
    return true;
}

bool cli_apply_recipe_option(const char *subcommand, int code,
                             const char *value, cs_trainer_options *recipe)
{
    int64_t seed;
    int count;
    switch (code) {
    case CLI_RECIPE_EPOCHS:
        return parse_i32(subcommand, "--epochs", value, 1, &recipe->epochs);
    case CLI_RECIPE_LR:
        return cli_parse_double(subcommand, "--lr", value, 0.0, 1e6,
                                &recipe->learning_rate);
    case CLI_RECIPE_SCHEDULE:
        return parse_schedule(subcommand, value, recipe);
    case CLI_RECIPE_DECAY_EPOCHS:
        if (!cli_parse_i32_list(subcommand, "--decay-epochs", value, 1,
                                INT32_MAX, recipe->decay_epochs,
                                CS_TRAINER_MAX_DECAY_EPOCHS, &count))
            return false;
        recipe->n_decay_epochs = count;
        return true;
    case CLI_RECIPE_DECAY_FACTOR:
        return cli_parse_double(subcommand, "--decay-factor", value, 1e-12,
                                1e6, &recipe->decay_factor);
    case CLI_RECIPE_MOMENTUM:
        return cli_parse_double(subcommand, "--momentum", value, 0.0,
                                0.999999, &recipe->momentum);
    case CLI_RECIPE_NESTEROV:
        recipe->nesterov = 1;
        return true;
    case CLI_RECIPE_WEIGHT_DECAY:
        return cli_parse_double(subcommand, "--weight-decay", value, 0.0,
                                1e6, &recipe->weight_decay);
    case CLI_RECIPE_BATCH:
        return parse_i32(subcommand, "--batch", value, 1, &recipe->batch_size);
    case CLI_RECIPE_HIDDEN:
        if (!cli_parse_i32_list(subcommand, "--hidden", value, 1, 1 << 20,
                                recipe->hidden_widths,
                                CS_TRAINER_MAX_HIDDEN_LAYERS, &count))
            return false;
        recipe->n_hidden_layers = count;
        return true;
    case CLI_RECIPE_THREADS:
        return parse_i32(subcommand, "--threads", value, 0, &recipe->threads);
    case CLI_RECIPE_SEED:
        if (!cli_parse_i64(subcommand, "--seed", value, 0, INT64_MAX, &seed))
            return false;
        recipe->seed = (uint64_t)seed;
        return true;
    }
    return false;
}

void cli_merge_options(const struct option *extra, struct option *out,
                       size_t capacity)
{
    size_t n = 0;
    for (const struct option *o = extra; o->name != NULL && n + 1 < capacity;
         o++)
        out[n++] = *o;
    for (const struct option *o = cli_recipe_options;
         o->name != NULL && n + 1 < capacity; o++)
        out[n++] = *o;
    memset(&out[n], 0, sizeof out[n]);
}
