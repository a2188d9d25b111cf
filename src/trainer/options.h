/*
 * Reading and validating cs_trainer_options.
 */
#ifndef CS_TRAINER_OPTIONS_H
#define CS_TRAINER_OPTIONS_H

#include "internal.h"

#include <stddef.h>

/* The smallest struct_size a caller may pass: every field up to threads,
 * the last field of version 0.1. */
#define CS__TRAINER_OPTIONS_MIN_SIZE                                          \
    (offsetof(cs_trainer_options, threads) + sizeof(int32_t))

/* Copies the caller's options over the defaults, reading only the first
 * given->struct_size bytes. Records CS_E_INVALID_ARGUMENT under fn when
 * struct_size is below the minimum. */
cs_status cs__trainer_read_options(const char *fn,
                                   const cs_trainer_options *given,
                                   cs_trainer_options *out);

/* Checks every field against the ranges documented in cscore.h and
 * records the first violation under fn. */
cs_status cs__trainer_check_options(const char *fn,
                                    const cs_trainer_options *options);

#endif /* CS_TRAINER_OPTIONS_H */
