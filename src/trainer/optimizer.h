/*
 * SGD with momentum and the learning-rate schedules of the built-in
 * trainer. The formulas are those documented with cs_lr_schedule and
 * cs_trainer_options in cscore.h.
 */
#ifndef CS_TRAINER_OPTIMIZER_H
#define CS_TRAINER_OPTIMIZER_H

#include "internal.h"

/* Returns the learning rate of step (counted from 0) in a run of
 * options->epochs * steps_per_epoch steps; steps_per_epoch >= 1. */
double cs__learning_rate(const cs_trainer_options *options, int64_t step,
                         int64_t steps_per_epoch);

/* Applies one update to n parameters with gradients grads and momentum
 * buffer velocity, as torch.optim.SGD with dampening 0 does. */
void cs__sgd_step(const cs_trainer_options *options, float learning_rate,
                  float *params, float *velocity, const float *grads,
                  size_t n);

#endif /* CS_TRAINER_OPTIMIZER_H */
