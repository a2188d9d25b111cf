/*
 * SGD with momentum, optionally Nesterov, with weight decay, and the
 * learning-rate schedules (see optimizer.h).
 */
#include "trainer/optimizer.h"

#include <math.h>

/* Linear warm-up then linear decay: base * min(1, (s + 1) / W,
 * (T - s) / (T - W)), leaving out a term whose denominator is 0. The 1
 * changes nothing, because one of the other two terms is at most 1 at
 * every step. */
static double warmup_linear_factor(const cs_trainer_options *options,
                                   int64_t step, int64_t total)
{
    const int64_t warmup = llround(options->warmup_fraction * (double)total);
    double factor = 1.0;

    if (warmup > 0) {
        const double rise = (double)(step + 1) / (double)warmup;
        if (rise < factor)
            factor = rise;
    }
    if (warmup < total) {
        const double fall = (double)(total - step) / (double)(total - warmup);
        if (fall < factor)
            factor = fall;
    }
    return factor;
}

/* decay_factor raised to the number of decay epochs before epoch. */
static double stagewise_factor(const cs_trainer_options *options,
                               int64_t epoch)
{
    int decays = 0;
    for (int i = 0; i < options->n_decay_epochs; i++)
        if (options->decay_epochs[i] < epoch)
            decays++;
    return pow(options->decay_factor, decays);
}

double cs__learning_rate(const cs_trainer_options *options, int64_t step,
                         int64_t steps_per_epoch)
{
    const double base = options->learning_rate;

    switch (options->schedule) {
    case CS_LR_CONSTANT:
        break;
    case CS_LR_WARMUP_LINEAR:
        return base * warmup_linear_factor(options, step,
                                           (int64_t)options->epochs *
                                               steps_per_epoch);
    case CS_LR_STAGEWISE:
        return base * stagewise_factor(options, step / steps_per_epoch + 1);
    }
    return base;
}

void cs__sgd_step(const cs_trainer_options *options, float learning_rate,
                  float *params, float *velocity, const float *grads, size_t n)
{
    const float momentum = (float)options->momentum;
    const float decay = (float)options->weight_decay;

    if (options->nesterov) {
        for (size_t i = 0; i < n; i++) {
            const float g = grads[i] + decay * params[i];
            velocity[i] = momentum * velocity[i] + g;
            params[i] -= learning_rate * (g + momentum * velocity[i]);
        }
        return;
    }

    for (size_t i = 0; i < n; i++) {
        const float g = grads[i] + decay * params[i];
        velocity[i] = momentum * velocity[i] + g;
        params[i] -= learning_rate * velocity[i];
    }
}
