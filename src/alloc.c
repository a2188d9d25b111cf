/*
 * Every allocation in the library goes through these wrappers, so that the
 * allocation-failure tests can fail the n-th one and check that each failure
 * is reported and leaks nothing.
 */
#include "internal.h"

#include <stdlib.h>

static _Thread_local long failure_countdown = 0;

void cs__set_alloc_failure_countdown(long n)
{
    failure_countdown = n;
}

/* Returns true when the injected failure point has been reached. Once
 * reached, every later allocation fails too, until the hook is reset. */
static bool injected_failure(void)
{
    if (failure_countdown <= 0)
        return false;
    if (failure_countdown == 1)
        return true;
    failure_countdown--;
    return false;
}

void *cs__malloc(size_t size)
{
    if (injected_failure())
        return NULL;
    return malloc(size == 0 ? 1 : size);
}

void *cs__calloc(size_t count, size_t size)
{
    if (injected_failure())
        return NULL;
    if (count == 0 || size == 0)
        return calloc(1, 1);
    return calloc(count, size);
}

void *cs__realloc(void *ptr, size_t size)
{
    if (injected_failure())
        return NULL;
    return realloc(ptr, size == 0 ? 1 : size);
}

void cs__free(void *ptr)
{
    free(ptr);
}

void *cs__alloc_array(size_t count, size_t size)
{
    size_t bytes;
    if (!cs__mul_size(count, size, &bytes))
        return NULL;
    return cs__malloc(bytes);
}

void *cs__alloc_array_aligned(size_t count, size_t size, size_t alignment)
{
    size_t bytes;
    if (!cs__mul_size(count, size, &bytes))
        return NULL;
    if (injected_failure())
        return NULL;
    /* C11's aligned_alloc wants a size that is a multiple of the
     * alignment, which size already is. */
    return aligned_alloc(alignment, bytes == 0 ? alignment : bytes);
}
