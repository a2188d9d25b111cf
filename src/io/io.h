/*
 * File output shared by the exports and checkpoints: atomic replacement of
 * a file, and numpy .npy / .npz encoding (the .npz through libzip).
 */
#ifndef CS_IO_H
#define CS_IO_H

#include "internal.h"

#include <stdio.h>

/* A file being written under a temporary name in the destination's folder.
 * cs__atomic_commit() flushes it to disk and renames it over the
 * destination, so readers and crashes see either the old file or the whole
 * new one. */
typedef struct cs__atomic_file {
    FILE *fp;
    char *final_path;
    char *temp_path;
} cs__atomic_file;

/* Creates the temporary file. function names the public caller for error
 * messages. On failure nothing is left on disk. */
cs_status cs__atomic_open(cs__atomic_file *file, const char *path,
                          const char *function);

/* Flushes, fsyncs, closes and renames; also fsyncs the folder. On failure
 * the temporary file is removed and the destination is untouched. */
cs_status cs__atomic_commit(cs__atomic_file *file, const char *function);

/* Closes and removes the temporary file; the destination is untouched.
 * Safe on a file that was never opened or already committed. */
void cs__atomic_abort(cs__atomic_file *file);

/* Element types of .npy arrays, stored little-endian. */
typedef enum cs__dtype {
    CS__DTYPE_U8 = 0,
    CS__DTYPE_I32 = 1,
    CS__DTYPE_I64 = 2,
    CS__DTYPE_F32 = 3,
    CS__DTYPE_F64 = 4
} cs__dtype;

/* Bytes per element of a dtype. */
size_t cs__dtype_size(cs__dtype dtype);

/* Writes a complete .npy file (format 1.0, C order; 2.0 when the header
 * needs it) for an array of ndim (0 to 4) dimensions; ndim 0 is a scalar.
 * Atomic as above. */
cs_status cs__npy_write_file(const char *path, cs__dtype dtype,
                             const int64_t *shape, int ndim, const void *data,
                             const char *function);

/* A .npz archive being built; arrays are stored uncompressed, as
 * numpy.savez() does. */
typedef struct cs__npz_writer cs__npz_writer;

cs_status cs__npz_open(const char *path, const char *function,
                       cs__npz_writer **out);

/* Adds array `name` (stored as "name.npy"). The data is copied, so the
 * caller may free it on return. */
cs_status cs__npz_add(cs__npz_writer *writer, const char *name,
                      cs__dtype dtype, const int64_t *shape, int ndim,
                      const void *data);

/* Writes the archive and renames it into place; frees the writer whether
 * or not it succeeds. */
cs_status cs__npz_close(cs__npz_writer *writer);

/* Frees the writer and removes everything it wrote; the destination is
 * untouched. Accepts NULL. */
void cs__npz_abort(cs__npz_writer *writer);

#endif /* CS_IO_H */
