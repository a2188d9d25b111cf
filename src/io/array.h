/*
 * The public cs_array, built from the readers' internal cs__array.
 */
#ifndef CS_IO_ARRAY_H
#define CS_IO_ARRAY_H

#include "io/npy_read.h"

/* Moves *array into a new cs_array at *out. On success the data belongs
 * to *out and array->data is NULL; on failure (CS_E_OUT_OF_MEMORY,
 * recorded under function) *array is unchanged. */
cs_status cs__array_publish(cs__array *array, const char *function,
                            cs_array **out);

#endif /* CS_IO_ARRAY_H */
