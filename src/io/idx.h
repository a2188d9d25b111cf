/*
 * Reader of IDX files, the format of MNIST and its relatives, plain or
 * gzip-compressed. Bytes 0 and 1 are zero, byte 2 is the element type and
 * byte 3 the number of dimensions. Each dimension follows as a big-endian
 * uint32, then the elements in row-major order, big-endian when wider than
 * a byte.
 */
#ifndef CS_IO_IDX_H
#define CS_IO_IDX_H

#include "internal.h"

/* The format allows up to 255 dimensions; real files use 1 to 4. */
#define CS__IDX_MAX_DIMS 16

/* Element types, by their type byte. */
typedef enum cs__idx_type {
    CS__IDX_U8 = 0x08,
    CS__IDX_I8 = 0x09,
    CS__IDX_I16 = 0x0B,
    CS__IDX_I32 = 0x0C,
    CS__IDX_F32 = 0x0D,
    CS__IDX_F64 = 0x0E
} cs__idx_type;

/* The contents of one IDX file. */
typedef struct cs__idx_array {
    cs__idx_type type;
    int ndim;
    uint32_t dims[CS__IDX_MAX_DIMS];
    size_t count; /* elements: the product of dims */
    void *data;   /* count elements in host byte order; owned */
} cs__idx_array;

/* Bytes per element of a type byte, or 0 for a byte that is no IDX type. */
size_t cs__idx_type_size(int type);

/* Short name of a type byte for messages ("unsigned byte"), "unknown" for
 * other bytes. */
const char *cs__idx_type_name(int type);

/* Reads a whole IDX file. On success *out owns the data, which
 * cs__idx_array_free() releases. On failure *out is zeroed and the error is
 * recorded under the public function name `function`. It names path and,
 * for format errors, the byte offset in the decompressed stream. Errors:
 * CS_E_IO, CS_E_FORMAT, CS_E_OUT_OF_MEMORY. */
cs_status cs__idx_read(const char *path, const char *function,
                       cs__idx_array *out);

/* Frees the data and zeroes *array; accepts a zeroed array. */
void cs__idx_array_free(cs__idx_array *array);

#endif /* CS_IO_IDX_H */
