/*
 * Reading numpy .npy arrays, from a file, from bytes in memory, or from
 * any other source of bytes (the members of an .npz archive).
 */
#ifndef CS_NPY_READ_H
#define CS_NPY_READ_H

#include "internal.h"

#include <stdio.h>

#define CS__NPY_MAX_DIMS 8

/* Element types the reader accepts. Values are converted to the host's
 * byte order on reading. The numbers equal those of cs_element_type. */
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

/* Returns the numpy name of an element type ("float32", ...), or
 * "unknown". */
const char *cs__element_name(cs__element element);

/* Returns the bytes per element of a valid element type. */
size_t cs__element_size(cs__element element);

/* Where the bytes of one .npy image come from. */
typedef struct cs__npy_source {
    /* Reads up to size bytes into buffer and sets *got to the count read;
     * a short count means the bytes ended. On a failure it returns CS_E_IO
     * (the medium failed) or CS_E_FORMAT (the bytes are corrupt, e.g. a
     * bad deflate stream) and describes the problem in reason. */
    cs_status (*read)(void *context, void *buffer, size_t size, size_t *got,
                      char *reason, size_t reason_size);
    void *context;
    uint64_t size; /* bytes of the image, as the file system or the
                    * archive states them */
} cs__npy_source;

/* Reads one .npy image from source. `where` names the caller and the file
 * (and `member`, the .npz member name, or NULL) for errors. Formats 1.0,
 * 2.0 and 3.0; little- and big-endian bool, uint8, int32, int64, float32
 * and float64; C order, and Fortran order where at most one dimension
 * exceeds 1 (0-D and 1-D arrays among them), because the layout is then
 * the same. The shape's byte count must equal the bytes after the header
 * exactly, and the header is checked against source->size before the
 * data is allocated. Errors: CS_E_FORMAT, CS_E_UNSUPPORTED_VERSION,
 * CS_E_IO, CS_E_OUT_OF_MEMORY. */
cs_status cs__npy_read_source(const cs__npy_source *source,
                              const cs__where *where, const char *member,
                              cs__array *out);

/* Parses a complete .npy image of `size` bytes in memory, as
 * cs__npy_read_source() does. */
cs_status cs__npy_parse(const unsigned char *bytes, size_t size,
                        const cs__where *where, const char *member,
                        cs__array *out);

/* Reads a .npy file; errors name the path. */
cs_status cs__npy_read_file(const char *path, const char *function,
                            cs__array *out);

/* Opens path for reading after checking that it is a regular file, and
 * returns its size in bytes. Errors: CS_E_IO naming the path. */
cs_status cs__open_regular_file(const char *path, const cs__where *where,
                                FILE **fp, uint64_t *size);

/* Reads a whole file into memory after checking its size; *out is owned
 * (cs__free). Errors: CS_E_IO naming the path, CS_E_OUT_OF_MEMORY. */
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

/* Writes the array's a->count values, converted to double, to values.
 * int64 values beyond 2^53 in magnitude are rounded. */
void cs__array_copy_f64(const cs__array *a, double *values);

void cs__array_free(cs__array *a);

#endif /* CS_NPY_READ_H */
