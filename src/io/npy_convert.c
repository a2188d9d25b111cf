/*
 * Conversions of arrays read from .npy files to the element types the
 * library computes with.
 */
#include "io/npy_read.h"

void cs__array_free(cs__array *a)
{
    if (a == NULL)
        return;
    cs__free(a->data);
    a->data = NULL;
}

/* Reads element i of any type as double. */
static double value_at(const cs__array *a, size_t i)
{
    switch (a->element) {
    case CS__ELEMENT_BOOL:
    case CS__ELEMENT_U8:
        return ((const uint8_t *)a->data)[i];
    case CS__ELEMENT_I32:
        return ((const int32_t *)a->data)[i];
    case CS__ELEMENT_I64:
        return (double)((const int64_t *)a->data)[i];
    case CS__ELEMENT_F32:
        return ((const float *)a->data)[i];
    case CS__ELEMENT_F64:
        return ((const double *)a->data)[i];
    }
    return 0.0;
}

void cs__array_copy_f64(const cs__array *a, double *values)
{
    for (size_t i = 0; i < a->count; i++)
        values[i] = value_at(a, i);
}

bool cs__array_to_f32(const cs__array *a, float **out)
{
    float *values = cs__alloc_array(a->count, sizeof *values);
    if (values == NULL)
        return false;
    for (size_t i = 0; i < a->count; i++)
        values[i] = (float)value_at(a, i);
    *out = values;
    return true;
}

bool cs__array_to_f64(const cs__array *a, double **out)
{
    double *values = cs__alloc_array(a->count, sizeof *values);
    if (values == NULL)
        return false;
    cs__array_copy_f64(a, values);
    *out = values;
    return true;
}

bool cs__array_to_i64(const cs__array *a, int64_t **out, int64_t *bad_index)
{
    *bad_index = -1;
    int64_t *values = cs__alloc_array(a->count, sizeof *values);
    if (values == NULL)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        if (a->element == CS__ELEMENT_I64) {
            values[i] = ((const int64_t *)a->data)[i];
            continue;
        }
        const double v = value_at(a, i);
        /* 2^63 is the first double that does not fit; NaN fails both
         * range tests. */
        const bool in_range = v >= -9223372036854775808.0 &&
                              v < 9223372036854775808.0;
        if (!in_range || v != (double)(int64_t)v) {
            cs__free(values);
            *bad_index = (int64_t)i;
            return false;
        }
        values[i] = (int64_t)v;
    }
    *out = values;
    return true;
}

bool cs__array_to_i32(const cs__array *a, int32_t **out, int64_t *bad_index)
{
    int64_t *wide;
    if (!cs__array_to_i64(a, &wide, bad_index))
        return false;
    int32_t *values = cs__alloc_array(a->count, sizeof *values);
    if (values == NULL) {
        cs__free(wide);
        return false;
    }
    for (size_t i = 0; i < a->count; i++) {
        if (wide[i] < INT32_MIN || wide[i] > INT32_MAX) {
            cs__free(wide);
            cs__free(values);
            *bad_index = (int64_t)i;
            return false;
        }
        values[i] = (int32_t)wide[i];
    }
    cs__free(wide);
    *out = values;
    return true;
}
