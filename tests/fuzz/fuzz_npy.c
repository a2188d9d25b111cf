/*
 * Fuzzes the .npy reader twice per input: the in-memory parser
 * cs__npy_parse() and the public cs_npy_read() on a scratch file, which
 * reads through a FILE source. Arrays that parse are converted to every
 * numeric type, as callers of the reader do.
 */
#include "fuzz_common.h"

#include "io/npy_read.h"

#include <cscore.h>
#include <stdlib.h>

/* Runs the conversions of npy_convert.c and frees what they return. */
static void convert_all(const cs__array *array)
{
    float *f32 = NULL;
    double *f64 = NULL;
    int32_t *i32 = NULL;
    int64_t *i64 = NULL;
    int64_t bad_index = 0;

    if (cs__array_to_f32(array, &f32))
        cs__free(f32);
    if (cs__array_to_f64(array, &f64))
        cs__free(f64);
    if (cs__array_to_i32(array, &i32, &bad_index))
        cs__free(i32);
    if (cs__array_to_i64(array, &i64, &bad_index))
        cs__free(i64);
}

static void parse_in_memory(const uint8_t *data, size_t size)
{
    cs__where where = cs__where_none("fuzz_npy");
    cs__array array = {0};
    if (cs__npy_parse(data, size, &where, NULL, &array) == CS_OK)
        convert_all(&array);
    cs__array_free(&array);
}

static void read_from_file(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("input.npy", data, size);
    cs_array *array = NULL;
    if (cs_npy_read(path, &array) != CS_OK)
        return;

    /* cs_npy_read() guarantees count elements, so this buffer fits. */
    double *values = malloc((array->count > 0 ? array->count : 1) *
                            sizeof *values);
    if (values != NULL)
        cs_array_to_float64(array, values);
    free(values);
    cs_array_free(array);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_in_memory(data, size);
    read_from_file(data, size);
    return 0;
}
