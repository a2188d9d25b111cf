/*
 * Reading numpy .npy arrays, from a file or from bytes in memory (the
 * members of an .npz archive).
 */
#ifndef CS_NPY_READ_H
#define CS_NPY_READ_H

#include "internal.h"

#define CS__NPY_MAX_DIMS 8

/* Element types the reader accepts. Values are converted to the host's
 * byte order on reading. */
typedef enum cs__element {
    CS__ELEMENT_BOOL = 0,
    CS__ELEMENT_U8 = 1,
    CS__ELEMENT_I32 = 2,
    CS__ELEMENT_I64 = 3,
    CS__ELEMENT_F32 = 4,
    CS__ELEMENT_F64 = 5
} cs__element;

/* An array in C order and host byte order. data is owned (cs__free). */
typedef struct cs__array {
    cs__element element;
    int ndim;
    int64_t shape[CS__NPY_MAX_DIMS];
    size_t count; /* product of shape; 1 for a scalar */
    void *data;
} cs__array;

/* Returns the numpy name of an element type ("float32", ...). */
const char *cs__element_name(cs__element element);

/* Parses a complete .npy image of `size` bytes. `where` names the caller
 * and the file (and `member`, the .npz member name, or NULL) for errors.
 * Formats 1.0, 2.0 and 3.0; little- and big-endian bool, uint8, int32,
 * int64, float32 and float64; C order, and Fortran order for 0-D and 1-D
 * arrays, where it is the same layout. The shape's byte count must equal
 * the bytes after the header exactly. */
cs_status cs__npy_parse(const unsigned char *bytes, size_t size,
                        const cs__where *where, const char *member,
                        cs__array *out);

/* Reads a .npy file; errors name the path. */
cs_status cs__npy_read_file(const char *path, const char *function,
                            cs__array *out);

/* Reads a whole file into memory after checking its size; *out is owned
 * (cs__free). Errors: CS_E_IO naming the path. */
cs_status cs__read_whole_file(const char *path, const char *function,
                              unsigned char **out, size_t *size);

/* Converts an array's values to float32, float64, int32 or int64 into a
 * new cs__free()-owned buffer of a->count elements. Integer targets reject
 * non-integral or out-of-range floating values; returns false then, with
 * *bad_index set. Returns false with *bad_index = -1 on allocation
 * failure. */
bool cs__array_to_f32(const cs__array *a, float **out);
bool cs__array_to_f64(const cs__array *a, double **out);
bool cs__array_to_i32(const cs__array *a, int32_t **out, int64_t *bad_index);
bool cs__array_to_i64(const cs__array *a, int64_t **out, int64_t *bad_index);

void cs__array_free(cs__array *a);

#endif /* CS_NPY_READ_H */
