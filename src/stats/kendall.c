/*
 * Kendall's tau-b in O(m log m) (Knight 1966, "A computer method for
 * calculating Kendall's tau with ungrouped data"):
 *
 * 1. order the pairs by x, and by y within equal x (the pairs usually
 *    arrive in that order; bootstrap resamples get two stable counting
 *    sorts over the dense codes);
 * 2. count the pairs of pairs tied in x, and tied in both;
 * 3. count the discordant pairs of pairs as the inversions of the y
 *    sequence, by merge sort. Pairs tied in x are in ascending y order, so
 *    they add no inversion, and pairs tied in y are not inversions either;
 * 4. count the pairs of pairs tied in y in the sorted y sequence.
 *
 * Then C + D = P - T_x - T_y + T_xy and tau-b = (C - D) /
 * sqrt((P - T_x) (P - T_y)). Every count is an exact 64-bit integer, so
 * the only rounding is in the final division.
 */
#include "stats/pairs.h"

#include <math.h>
#include <string.h>

/* Runs shorter than this are sorted by insertion before merging. */
#define INSERTION_RUN 32

/* Counts of pairs of pairs; P is the total. */
typedef struct tie_counts {
    uint64_t total;  /* P = m (m - 1) / 2 */
    uint64_t tied_x; /* T_x */
    uint64_t tied_y; /* T_y */
    uint64_t tied_xy;
} tie_counts;

static uint64_t pairs_within(uint64_t group_size)
{
    return group_size * (group_size - 1) / 2; /* 0 for 0: 0 * anything */
}

/* Fills counts[0 .. distinct-1] with the histogram of codes and returns
 * the number of pairs of elements that share a code. */
static uint64_t histogram(const uint32_t *codes, uint32_t m, uint32_t distinct,
                          uint32_t *counts)
{
    memset(counts, 0, (size_t)distinct * sizeof *counts);
    for (uint32_t i = 0; i < m; i++)
        counts[codes[i]]++;

    uint64_t tied = 0;
    for (uint32_t c = 0; c < distinct; c++)
        tied += pairs_within(counts[c]);
    return tied;
}

/* Turns counts into the start position of each code's group. */
static void starts_from_counts(uint32_t *counts, uint32_t distinct)
{
    uint32_t position = 0;
    for (uint32_t c = 0; c < distinct; c++) {
        const uint32_t count = counts[c];
        counts[c] = position;
        position += count;
    }
}

/* Writes the x and y codes of unordered pairs (a bootstrap resample) in
 * (x, y) order to x_sorted and y_sorted, by a counting sort on y and then
 * a stable one on x. y_starts contains the histogram of the y codes on entry;
 * scratch has room for m indices and x_starts for x_distinct counts. */
static void order_pairs(const cs__pairs *p, uint32_t *x_sorted,
                        uint32_t *y_sorted, uint32_t *scratch,
                        uint32_t *x_starts, uint32_t *y_starts)
{
    starts_from_counts(y_starts, p->y_distinct);
    for (uint32_t i = 0; i < p->m; i++)
        scratch[y_starts[p->y[i]]++] = i;

    histogram(p->x, p->m, p->x_distinct, x_starts);
    starts_from_counts(x_starts, p->x_distinct);
    for (uint32_t k = 0; k < p->m; k++) {
        const uint32_t i = scratch[k];
        const uint32_t to = x_starts[p->x[i]]++;
        x_sorted[to] = p->x[i];
        y_sorted[to] = p->y[i];
    }
}

/* Adds the pairs of pairs tied in x, and tied in both x and y, of pairs in
 * (x, y) order: the runs of equal x codes and of equal (x, y) codes. */
static void count_sorted_ties(const uint32_t *x_sorted,
                              const uint32_t *y_sorted, uint32_t m,
                              tie_counts *ties)
{
    uint64_t run_x = 1;
    uint64_t run_xy = 1;
    for (uint32_t k = 1; k <= m; k++) {
        const bool same_x = k < m && x_sorted[k] == x_sorted[k - 1];
        const bool same_xy = same_x && y_sorted[k] == y_sorted[k - 1];
        if (!same_xy) {
            ties->tied_xy += pairs_within(run_xy);
            run_xy = 0;
        }
        if (!same_x) {
            ties->tied_x += pairs_within(run_x);
            run_x = 0;
        }
        run_x++;
        run_xy++;
    }
}

/* Sorts a[0 .. length-1] ascending and returns the number of inversions
 * (i < j with a[i] > a[j]) it removed. */
static uint64_t insertion_sort(uint32_t *a, size_t length)
{
    uint64_t inversions = 0;
    for (size_t i = 1; i < length; i++) {
        const uint32_t value = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > value) {
            a[j] = a[j - 1];
            j--;
        }
        inversions += i - j;
        a[j] = value;
    }
    return inversions;
}

/* Merges the sorted runs src[lo, mid) and src[mid, hi) into dst and
 * returns the inversions between them: for each element taken from the
 * right run, the elements of the left run still waiting, all larger. */
static uint64_t merge_runs(const uint32_t *src, uint32_t *dst, size_t lo,
                           size_t mid, size_t hi)
{
    if (src[mid - 1] <= src[mid]) {
        memcpy(dst + lo, src + lo, (hi - lo) * sizeof *dst);
        return 0;
    }

    /* Branch-free steps: on random data the comparison is unpredictable,
     * and conditional moves are about twice as fast as a branch here. */
    uint64_t inversions = 0;
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi) {
        const uint32_t left = src[i];
        const uint32_t right = src[j];
        const bool take_right = right < left;
        dst[k++] = take_right ? right : left;
        inversions += take_right ? mid - i : 0;
        i += !take_right;
        j += take_right;
    }
    memcpy(dst + k, src + i, (mid - i) * sizeof *dst);
    k += mid - i;
    memcpy(dst + k, src + j, (hi - j) * sizeof *dst);
    return inversions;
}

/* Sorts a (with buffer, both m long) and returns its inversion count;
 * *sorted points at whichever of the two contains the sorted values. */
static uint64_t count_inversions(uint32_t *a, uint32_t *buffer, size_t m,
                                 const uint32_t **sorted)
{
    uint64_t inversions = 0;
    for (size_t start = 0; start < m; start += INSERTION_RUN) {
        const size_t length = m - start < INSERTION_RUN ? m - start
                                                        : INSERTION_RUN;
        inversions += insertion_sort(a + start, length);
    }

    uint32_t *src = a;
    uint32_t *dst = buffer;
    for (size_t width = INSERTION_RUN; width < m; width *= 2) {
        for (size_t lo = 0; lo < m; lo += 2 * width) {
            const size_t mid = lo + width < m ? lo + width : m;
            const size_t hi = lo + 2 * width < m ? lo + 2 * width : m;
            if (mid == hi) {
                memcpy(dst + lo, src + lo, (hi - lo) * sizeof *dst);
                continue;
            }
            inversions += merge_runs(src, dst, lo, mid, hi);
        }
        uint32_t *swap = src;
        src = dst;
        dst = swap;
    }
    *sorted = src;
    return inversions;
}

/* Returns the pairs of elements that share a value in sorted[0 .. m-1]. */
static uint64_t count_sorted_runs(const uint32_t *sorted, uint32_t m)
{
    uint64_t tied = 0;
    uint64_t run = 1;
    for (uint32_t k = 1; k <= m; k++) {
        if (k < m && sorted[k] == sorted[k - 1]) {
            run++;
            continue;
        }
        tied += pairs_within(run);
        run = 1;
    }
    return tied;
}

static double tau_b(const tie_counts *t, uint64_t discordant)
{
    const uint64_t untied_x = t->total - t->tied_x;
    const uint64_t untied_y = t->total - t->tied_y;
    if (untied_x == 0 || untied_y == 0)
        return NAN;

    /* C + D, then C: both in [0, P], so the difference fits in int64. */
    const uint64_t untied = t->total - t->tied_x - t->tied_y + t->tied_xy;
    const uint64_t concordant = untied - discordant;
    const int64_t difference = (int64_t)concordant - (int64_t)discordant;
    const double tau = (double)difference /
                       sqrt((double)untied_x * (double)untied_y);
    return fmax(-1.0, fmin(1.0, tau));
}

/* Buffers of one computation; y_counts, x_sorted and x_starts only for
 * unordered pairs. */
typedef struct kendall_buffers {
    uint32_t *sequence;
    uint32_t *scratch;
    uint32_t *y_counts;
    uint32_t *x_sorted;
    uint32_t *x_starts;
} kendall_buffers;

static void free_buffers(kendall_buffers *b)
{
    cs__free(b->sequence);
    cs__free(b->scratch);
    cs__free(b->y_counts);
    cs__free(b->x_sorted);
    cs__free(b->x_starts);
}

static bool alloc_buffers(const cs__pairs *p, kendall_buffers *b)
{
    memset(b, 0, sizeof *b);
    b->sequence = cs__alloc_array(p->m, sizeof *b->sequence);
    b->scratch = cs__alloc_array(p->m, sizeof *b->scratch);
    bool ok = b->sequence != NULL && b->scratch != NULL;
    if (!p->ordered) {
        b->y_counts = cs__alloc_array(p->y_distinct, sizeof *b->y_counts);
        b->x_sorted = cs__alloc_array(p->m, sizeof *b->x_sorted);
        b->x_starts = cs__alloc_array(p->x_distinct, sizeof *b->x_starts);
        ok = ok && b->y_counts != NULL && b->x_sorted != NULL &&
             b->x_starts != NULL;
    }
    return ok;
}

cs_status cs__kendall_pairs(const cs__pairs *pairs, double *value)
{
    *value = NAN;
    if (pairs->m < 2)
        return CS_OK;

    kendall_buffers b;
    if (!alloc_buffers(pairs, &b)) {
        free_buffers(&b);
        return CS_E_OUT_OF_MEMORY;
    }

    const uint32_t m = pairs->m;
    tie_counts ties = {pairs_within(m), 0, 0, 0};
    const uint32_t *x_sorted = pairs->x;
    if (pairs->ordered) {
        memcpy(b.sequence, pairs->y, (size_t)m * sizeof *b.sequence);
    } else {
        histogram(pairs->y, m, pairs->y_distinct, b.y_counts);
        order_pairs(pairs, b.x_sorted, b.sequence, b.scratch, b.x_starts,
                    b.y_counts);
        x_sorted = b.x_sorted;
    }
    count_sorted_ties(x_sorted, b.sequence, m, &ties);

    /* The merge sort leaves the y codes sorted, where the ties in y are
     * runs. */
    const uint32_t *y_sorted = NULL;
    const uint64_t discordant = count_inversions(b.sequence, b.scratch, m,
                                                 &y_sorted);
    ties.tied_y = count_sorted_runs(y_sorted, m);
    *value = tau_b(&ties, discordant);
    free_buffers(&b);
    return CS_OK;
}

cs_status cs_kendall_tau_b(const double *x, const double *y, size_t n,
                           const cs_subset *subset, double *tau,
                           size_t *n_used)
{
    if (tau == NULL)
        return cs__fail_arg(CS_E_NULL_ARGUMENT, "cs_kendall_tau_b", "tau",
                            "tau is NULL");
    return cs__statistic_run("cs_kendall_tau_b", cs__kendall_pairs,
                             CS__Y_VALUES, x, y, n, subset, tau, n_used);
}
