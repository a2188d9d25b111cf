/*
 * Internal helpers shared by every module: error recording, checked size
 * arithmetic and allocation. Nothing here is exported.
 */
#ifndef CS_INTERNAL_H
#define CS_INTERNAL_H

#include "cscore.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CS_PRINTF(fmt_index, args_index) \
    __attribute__((format(printf, fmt_index, args_index)))
#else
#define CS_PRINTF(fmt_index, args_index)
#endif

/* Where a failure happened; fields that do not apply stay at their
 * cs__where_none() values. */
typedef struct cs__where {
    const char *function;
    const char *argument;
    int64_t index;
    int64_t example_id;
    const char *path;
    int64_t offset;
    int64_t line;
    int64_t column;
} cs__where;

/* A cs__where for public function `fn` with nothing else known. */
cs__where cs__where_none(const char *fn);

/* Records a failure in this thread's last-error record and returns status.
 * value_fmt/args format the offending value ("nan", "12"), or pass NULL;
 * message_fmt/... format the full message. */
cs_status cs__fail(cs_status status, const cs__where *where,
                   const char *value, const char *message_fmt, ...)
    CS_PRINTF(4, 5);

/* Shorthand for failures that only name a function and an argument. */
cs_status cs__fail_arg(cs_status status, const char *function,
                       const char *argument, const char *message_fmt, ...)
    CS_PRINTF(4, 5);

/* Sets *out = a * b and returns true, or returns false on overflow. */
static inline bool cs__mul_size(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b)
        return false;
    *out = a * b;
    return true;
}

/* Allocation wrappers so that tests can inject failures in one place.
 * cs__alloc_array returns NULL on overflow or failure without recording an
 * error; callers report CS_E_OUT_OF_MEMORY or CS_E_OVERFLOW themselves. */
void *cs__malloc(size_t size);
void *cs__calloc(size_t count, size_t size);
void *cs__realloc(void *ptr, size_t size);
void cs__free(void *ptr);
void *cs__alloc_array(size_t count, size_t size);

/* Like cs__alloc_array, with the block aligned to `alignment` bytes (a
 * power of two that divides size). Freed with cs__free. */
void *cs__alloc_array_aligned(size_t count, size_t size, size_t alignment);

/* Test hook: when positive, the n-th allocation from now on (1-based) and
 * every later one fail. 0 turns injection off. Per thread. */
void cs__set_alloc_failure_countdown(long n);

#endif /* CS_INTERNAL_H */
