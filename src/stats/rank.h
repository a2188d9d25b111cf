/* Ranking with average ties, shared by the exports and the statistics. */
#ifndef CS_RANK_H
#define CS_RANK_H

#include "internal.h"

/* Writes to ranks[i] the 1-based rank of values[i] among the non-NaN values
 * in ascending order (direction +1) or descending order (direction -1), with
 * tied values given the mean of the ranks they span. NaN values get a NaN
 * rank and are not counted. Returns CS_E_OUT_OF_MEMORY on allocation
 * failure and CS_E_OVERFLOW for more than 2^32 - 1 non-NaN values, both
 * without recording an error. */
cs_status cs__rank_average(const double *values, size_t n, int direction,
                           double *ranks);

#endif /* CS_RANK_H */
