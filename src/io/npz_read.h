/*
 * Reading .npz archives (zip files of .npy members) through libzip.
 */
#ifndef CS_NPZ_READ_H
#define CS_NPZ_READ_H

#include "io/npy_read.h"

/* Opens an archive for cs_npz_* calls; errors are recorded under
 * function. */
cs_status cs__npz_reader_open(const char *path, const char *function,
                              cs_npz **out);

/* Reads member key (its key or full name) into an internal array; errors
 * are recorded under function and name the archive and the member. */
cs_status cs__npz_read_array(cs_npz *npz, const char *key,
                             const char *function, cs__array *out);

#endif /* CS_NPZ_READ_H */
