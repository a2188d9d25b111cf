/*
 * The pairs a statistic is computed on: the elements a subset keeps whose
 * x and y are both non-NaN, each side replaced by its dense code (see
 * stats/sort.h). Every statistic and every bootstrap resample works on
 * this form.
 */
#ifndef CS_STATS_PAIRS_H
#define CS_STATS_PAIRS_H

#include "stats/sort.h"

typedef struct cs__pairs {
    uint32_t m;          /* pairs kept */
    uint32_t *x;         /* m codes of x, in [0, x_distinct) */
    uint32_t *y;         /* m codes of y, in [0, y_distinct) */
    uint32_t x_distinct; /* distinct x values among the pairs */
    uint32_t y_distinct; /* distinct y values (2 for labels) */
    bool ordered;        /* pairs sorted by x code, then by y code, which
                          * spares Kendall's tau-b its own sort */
} cs__pairs;

/* How y is coded. */
typedef enum cs__y_kind {
    CS__Y_VALUES = 0, /* dense codes, as x */
    CS__Y_LABELS = 1  /* 0 or 1 kept as is; y_distinct is 2 */
} cs__y_kind;

/* Checks the arguments shared by the statistics (x, y, n, subset; and for
 * labels that every non-NaN y is 0 or 1), then builds the pairs. Pairs of
 * values (not labels) come out ordered. Errors are recorded under
 * `function`: CS_E_NULL_ARGUMENT, CS_E_ZERO_SIZE,
 * CS_E_INVALID_ARGUMENT, CS_E_ID_OUT_OF_RANGE, CS_E_OVERFLOW (more than
 * CS__STATS_MAX_COUNT pairs), CS_E_OUT_OF_MEMORY. On success the caller
 * releases *out with cs__pairs_free(). */
cs_status cs__pairs_build(const char *function, const double *x,
                          const double *y, size_t n, const cs_subset *subset,
                          cs__y_kind y_kind, cs__pairs *out);

/* Allocates the code arrays of m pairs with the given distinct counts,
 * marked unordered. Returns CS_E_OUT_OF_MEMORY without recording an
 * error. */
cs_status cs__pairs_alloc(uint32_t m, uint32_t x_distinct, uint32_t y_distinct,
                          cs__pairs *out);

void cs__pairs_free(cs__pairs *pairs);

/* A statistic of the pairs: Spearman's rho, Kendall's tau-b or the AUROC.
 * *value is NaN where the statistic is undefined (too few pairs, a
 * constant side, a single class). Returns CS_E_OUT_OF_MEMORY without
 * recording an error. */
typedef cs_status (*cs__pairs_statistic)(const cs__pairs *pairs,
                                         double *value);

cs_status cs__spearman_pairs(const cs__pairs *pairs, double *value);
cs_status cs__kendall_pairs(const cs__pairs *pairs, double *value);
cs_status cs__auroc_pairs(const cs__pairs *pairs, double *value);

/* Runs statistic on the pairs of (x, y, n, subset) for a public function:
 * builds the pairs, computes, and stores the value and the pair count in
 * *value and *n_used (n_used may be NULL). The caller has checked that
 * value is not NULL. Both outputs are written only on success. */
cs_status cs__statistic_run(const char *function,
                            cs__pairs_statistic statistic, cs__y_kind y_kind,
                            const double *x, const double *y, size_t n,
                            const cs_subset *subset, double *value,
                            size_t *n_used);

#endif /* CS_STATS_PAIRS_H */
