/*
 * Caller-supplied per-example arrays that cs_tracker_export_csv_extra()
 * and cs_tracker_export_npz_extra() append to an export.
 */
#ifndef CS_TRACKER_EXPORT_EXTRA_H
#define CS_TRACKER_EXPORT_EXTRA_H

#include "internal.h"

/* Arrays to append, already checked: count names and count arrays of the
 * tracker's n_examples floats. count is 0 for a plain export. */
typedef struct cs__export_extra {
    const char *const *names;
    const float *const *values;
    size_t count;
} cs__export_extra;

/* Longest name, without the terminator. */
#define CS__EXPORT_EXTRA_MAX_NAME 63

/* Checks the arguments of an _extra export against a tracker of
 * n_examples examples and fills *extra. Records failures under fn. */
cs_status cs__export_extra_check(const char *fn, size_t n_examples,
                                 const char *const *names,
                                 const float *const *values, size_t count,
                                 size_t n, cs__export_extra *extra);

#endif /* CS_TRACKER_EXPORT_EXTRA_H */
