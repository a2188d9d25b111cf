/*
 * File output shared by the exports and checkpoints: atomic replacement of
 * a file, and numpy .npy / .npz encoding (the .npz through libzip).
 */
#ifndef CS_IO_H
#define CS_IO_H

#include "internal.h"

#include <stdio.h>
#include <sys/types.h>

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

/* Helpers shared by the atomic file and the .npz writer. */

/* A cs__where for a failure of public function `function` on file `path`. */
static inline cs__where cs__where_path(const char *function, const char *path)
{
    cs__where where = cs__where_none(function);
    where.path = path;
    return where;
}

/* Writes the text of OS error errnum into buffer and returns buffer. Unlike
 * strerror(), it is thread-safe. */
const char *cs__errno_text(int errnum, char *buffer, size_t size);

/* Returns a copy of text allocated with cs__malloc(), or NULL when out of
 * memory. */
char *cs__copy_string(const char *text);

/* Returns the mode that open() would give a new file: 0666 minus the
 * process umask. */
mode_t cs__new_file_mode(void);

/* Creates an empty file "<path>.tmp.XXXXXX" (mkstemp) in path's directory,
 * with mode 0666 minus the process umask. On success *temp_path owns its
 * name (release with cs__free()), and *fd is open for reading and writing
 * until the caller closes it. On failure nothing is left on disk. */
cs_status cs__temp_create(const char *path, const char *function,
                          char **temp_path, int *fd);

/* Removes the temporary files "<path>.tmp.XXXXXX" (and libzip's own
 * "<path>.tmp.XXXXXX.XXXXXX") that writers of path killed mid-write left
 * behind. Only for paths with one writer at a time, as the atomic writers'
 * contract states: a concurrent writer's temporary file would go too.
 * Best effort; nothing is reported. */
void cs__remove_stale_temps(const char *path);

/* Renames temp_path over final_path and then fsyncs their directory. The
 * caller has already fsynced temp_path's contents. On failure temp_path is
 * removed and final_path is untouched. */
cs_status cs__temp_install(const char *temp_path, const char *final_path,
                           const char *function);

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

/* Largest ndim that cs__npy_write_file() and cs__npz_add() accept. */
#define CS__NPY_MAX_NDIM 4

/* Checks an array before it is written and sets *data_size to its size in
 * bytes. `what` names the array in messages ("'out.npy'", "array 'ids' of
 * 'out.npz'"). Errors: CS_E_INVALID_ARGUMENT (dtype, ndim outside 0 to
 * CS__NPY_MAX_NDIM, a negative dimension), CS_E_NULL_ARGUMENT (shape with
 * ndim > 0, data with a nonzero size), CS_E_OVERFLOW. */
cs_status cs__npy_check_array(const cs__where *where, const char *what,
                              cs__dtype dtype, const int64_t *shape, int ndim,
                              const void *data, size_t *data_size);

/* Encodes the .npy preamble (magic, version, header length and the header
 * dictionary padded so that the data starts at a multiple of 64 bytes) for
 * an array that passed cs__npy_check_array(). Any ndim >= 0 is accepted
 * here. `what` names the array in messages, as above. On success *header
 * owns *header_size bytes (release with cs__free()). Errors:
 * CS_E_INVALID_ARGUMENT (unknown dtype), CS_E_OVERFLOW,
 * CS_E_OUT_OF_MEMORY. */
cs_status cs__npy_header_encode(const cs__where *where, const char *what,
                                cs__dtype dtype, const int64_t *shape,
                                int ndim, char **header, size_t *header_size);

/* Copies count elements of elem_size bytes from src to dst, converting them
 * to little-endian byte order. On little-endian hosts this is memcpy(). */
void cs__copy_little_endian(void *dst, const void *src, size_t count,
                            size_t elem_size);

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
