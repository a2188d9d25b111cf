/*
 * The public array type: its free function, names, conversion to double,
 * and cs_npy_read().
 */
#include "io/array.h"

#include <string.h>

_Static_assert(CS_ARRAY_MAX_DIMS == CS__NPY_MAX_DIMS,
               "public and internal arrays hold the same dimensions");
_Static_assert((int)CS_ELEMENT_BOOL == (int)CS__ELEMENT_BOOL &&
                   (int)CS_ELEMENT_UINT8 == (int)CS__ELEMENT_U8 &&
                   (int)CS_ELEMENT_INT32 == (int)CS__ELEMENT_I32 &&
                   (int)CS_ELEMENT_INT64 == (int)CS__ELEMENT_I64 &&
                   (int)CS_ELEMENT_FLOAT32 == (int)CS__ELEMENT_F32 &&
                   (int)CS_ELEMENT_FLOAT64 == (int)CS__ELEMENT_F64,
               "public and internal element types share their numbers");

cs_status cs__array_publish(cs__array *array, const char *function,
                            cs_array **out)
{
    cs_array *result = cs__malloc(sizeof *result);
    if (result == NULL)
        return cs__fail_arg(CS_E_OUT_OF_MEMORY, function, NULL,
                            "out of memory for an array descriptor");

    memset(result, 0, sizeof *result);
    result->type = (cs_element_type)array->element;
    result->ndim = array->ndim;
    for (int k = 0; k < array->ndim; k++)
        result->shape[k] = array->shape[k];
    result->count = array->count;
    result->data = array->data;
    array->data = NULL;
    *out = result;
    return CS_OK;
}

void cs_array_free(cs_array *array)
{
    if (array == NULL)
        return;
    cs__free(array->data);
    cs__free(array);
}

const char *cs_element_type_name(cs_element_type type)
{
    if ((unsigned)type > (unsigned)CS_ELEMENT_FLOAT64)
        return NULL;
    return cs__element_name((cs__element)type);
}

cs_status cs_array_to_float64(const cs_array *array, double *values)
{
    const char *fn = "cs_array_to_float64";
    if (array == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "array", "array is NULL");
    if (values == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "values",
                            "values is NULL");
    if ((unsigned)array->type > (unsigned)CS_ELEMENT_FLOAT64)
        return cs__fail_arg(CS_E_INVALID_ARGUMENT, fn, "array",
                            "array->type is %d, not a cs_element_type value",
                            (int)array->type);

    const cs__array view = {
        .element = (cs__element)array->type,
        .ndim = array->ndim,
        .count = array->count,
        .data = array->data,
    };
    cs__array_copy_f64(&view, values);
    return CS_OK;
}

cs_status cs_npy_read(const char *path, cs_array **out)
{
    const char *fn = "cs_npy_read";
    if (out == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "out", "out is NULL");
    *out = NULL;
    if (path == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, fn, "path", "path is NULL");

    cs__array array;
    cs_status st = cs__npy_read_file(path, fn, &array);
    if (st != CS_OK)
        return st;
    st = cs__array_publish(&array, fn, out);
    cs__array_free(&array);
    return st;
}
