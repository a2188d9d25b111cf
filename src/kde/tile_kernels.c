/*
 * Element-wise work on a tile of dot products: the RBF kernel, distances,
 * and the double-precision sums that collect them per class.
 *
 * These loops run once per pair of examples, next to the sgemm that
 * produced the dot products, so they are vectorised: the kernel by hand,
 * the sums by the compiler, with each sum kept in a fixed number of
 * independent lanes (floating-point addition is not associative, so the
 * compiler may not split one running sum by itself). The lane layout
 * fixes the order of every addition, so the results do not depend on the
 * thread or the tile position that computes them.
 */
#include "kde/kde_internal.h"

#include <math.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&        \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
/* One build runs on any x86-64 and uses AVX2 where the CPU has it.
 * Sanitizer builds go without the clones, whose ifunc resolvers run
 * before the sanitizer runtime is ready (see row_stats.c). Both
 * clones perform the same IEEE operations in the same order (ISO C mode
 * keeps GCC from contracting a * b + c into a fused multiply-add), so
 * they return identical results. */
#define KDE_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define KDE_VECTOR_CLONES
#endif

/* Independent partial sums per reduction; 8 doubles fill two AVX2
 * registers. */
#define LANES 8

/* ------------------------------------------------------------------------
 * The kernel, in explicit 8-float vectors
 *
 * GCC 12 at -O3 left the plain loop with floating-point selects scalar
 * ("control flow in loop" in -fopt-info-vec), so the kernel uses GCC's
 * vector extensions: a v8f is one AVX register in the AVX2 clone and two
 * SSE registers in the default one.
 * ------------------------------------------------------------------------ */

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
#define VECTOR_FLOATS 8

/* Below this argument exp() is under FLT_MIN (about 1.2e-38); such kernel
 * values are flushed to 0. */
#define EXP_FLUSH (-87.0f)

/* ln 2 split so that n * LN2_HIGH is exact for |n| < 2^8: LN2_HIGH has 16
 * significant bits. */
#define LN2_HIGH 0.693145751953125f
#define LN2_LOW 1.42860676533018e-06f
#define LOG2_E 1.44269504088896341f

/* Adding and subtracting 1.5 * 2^23 rounds a float of magnitude below
 * 2^22 to the nearest integer in the default rounding mode. */
#define ROUNDING_SHIFT 12582912.0f

/* Lanes of the v8f `value` where the v8i `mask` is set (all bits), 0
 * elsewhere. A macro: GCC notes an ABI change for every function that
 * passes a 32-byte vector by value when compiled without AVX, so no
 * vector crosses a function boundary here. */
#define KEEP_WHERE(mask, value) ((v8f)((mask) & (v8i)(value)))

/* Replaces values[0 .. 7] (dot products) by their kernel values
 * exp(-max(norm_a + norms_b[j] - 2 values[j], 0)).
 *
 * Rounding can make the squared distance slightly negative for
 * near-identical rows, hence the clamp, which also maps NaN to 0 (the norm
 * limit of the point set keeps NaN out). exp(x) for x <= 0 has a relative
 * error of a few float ulp: x = n ln2 + r with |r| <= ln2 / 2, exp(r) by
 * its degree-7 Taylor polynomial (truncation error below 6e-9 relative),
 * and 2^n built in the exponent bits. Lanes below EXP_FLUSH give 0. */
static inline __attribute__((always_inline)) void
kernel_of_eight(float *values, float norm_a, const float *norms_b)
{
    v8f gram;
    v8f norm_b;
    memcpy(&gram, values, sizeof gram);
    memcpy(&norm_b, norms_b, sizeof norm_b);

    const v8f squared = (norm_a + norm_b) - 2.0f * gram;
    const v8f x = -KEEP_WHERE(squared > 0.0f, squared);

    const v8i in_range = x >= EXP_FLUSH;
    const v8f clamped = KEEP_WHERE(in_range, x) +
                        KEEP_WHERE(~in_range, x - x + EXP_FLUSH);
    const v8f n = (clamped * LOG2_E + ROUNDING_SHIFT) - ROUNDING_SHIFT;
    const v8f r = (clamped - n * LN2_HIGH) - n * LN2_LOW;

    v8f p = r * (1.0f / 5040.0f) + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;

    /* n is in [-126, 0], so 2^n is a normal float. */
    const v8i exponent = (__builtin_convertvector(n, v8i) + 127) << 23;
    const v8f kernel = KEEP_WHERE(in_range, p * (v8f)exponent);
    memcpy(values, &kernel, sizeof kernel);
}

/* In place through one pointer, 8 values at a time with the tail padded.
 * Every value goes through the same vector code, whatever its position. */
KDE_VECTOR_CLONES
void cs__kde_kernel_row(float *values, float norm_a, const float *norms_b,
                        size_t count)
{
    size_t j = 0;
    for (; j + VECTOR_FLOATS <= count; j += VECTOR_FLOATS)
        kernel_of_eight(values + j, norm_a, norms_b + j);
    if (j == count)
        return;

    /* The padding lanes compute a kernel that is thrown away. */
    float value_tail[VECTOR_FLOATS] = {0};
    float norm_tail[VECTOR_FLOATS] = {0};
    memcpy(value_tail, values + j, (count - j) * sizeof(float));
    memcpy(norm_tail, norms_b + j, (count - j) * sizeof(float));
    kernel_of_eight(value_tail, norm_a, norm_tail);
    memcpy(values + j, value_tail, (count - j) * sizeof(float));
}

/* ------------------------------------------------------------------------
 * Sums, left to the compiler's vectoriser
 * ------------------------------------------------------------------------ */

/* Squared distance for the bandwidth pass, with the clamp of
 * kernel_of_eight(). The sqrtf() over it stays scalar: without
 * -fno-math-errno GCC keeps a call that could set errno. That pass runs
 * only up to bandwidth_exact_limit rows, where sgemm dominates anyway. */
static inline float squared_distance(float gram, float norm_a, float norm_b)
{
    const float d2 = (norm_a + norm_b) - 2.0f * gram;
    return d2 > 0.0f ? d2 : 0.0f;
}

/* Adds the lanes in a fixed tree order. */
static inline double sum_lanes(const double lanes[LANES])
{
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
           ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

KDE_VECTOR_CLONES
double cs__kde_sum(const float *values, size_t count)
{
    double lanes[LANES] = {0};
    size_t j = 0;
    for (; j + LANES <= count; j += LANES)
        for (size_t l = 0; l < LANES; l++)
            lanes[l] += values[j + l];

    double tail = 0.0;
    for (; j < count; j++)
        tail += values[j];
    return sum_lanes(lanes) + tail;
}

KDE_VECTOR_CLONES
double cs__kde_distance_row_sum(const float *gram, float norm_a,
                                const float *norms_b, size_t count)
{
    double lanes[LANES] = {0};
    size_t j = 0;
    for (; j + LANES <= count; j += LANES)
        for (size_t l = 0; l < LANES; l++)
            lanes[l] += sqrtf(
                squared_distance(gram[j + l], norm_a, norms_b[j + l]));

    double tail = 0.0;
    for (; j < count; j++)
        tail += sqrtf(squared_distance(gram[j], norm_a, norms_b[j]));
    return sum_lanes(lanes) + tail;
}

KDE_VECTOR_CLONES
void cs__kde_add_to_column(double *column, const float *values, size_t count)
{
    for (size_t j = 0; j < count; j++)
        column[j] += values[j];
}

KDE_VECTOR_CLONES
double cs__kde_row_distance(const float *a, const float *b, size_t dim)
{
    double lanes[LANES] = {0};
    size_t k = 0;
    for (; k + LANES <= dim; k += LANES)
        for (size_t l = 0; l < LANES; l++) {
            const double offset = (double)a[k + l] - b[k + l];
            lanes[l] += offset * offset;
        }

    double tail = 0.0;
    for (; k < dim; k++) {
        const double offset = (double)a[k] - b[k];
        tail += offset * offset;
    }
    return sqrt(sum_lanes(lanes) + tail);
}

void cs__kde_add_class_sums(const cs__kde_set *set, size_t first_row,
                            const float *kernel, size_t count,
                            double *class_sums)
{
    const size_t end = first_row + count;
    size_t row = first_row;

    /* The set's rows are grouped by class, so each class present in
     * [first_row, end) is one contiguous run. */
    while (row < end) {
        const int32_t c = set->labels[row];
        size_t run_end = set->class_start[c + 1];
        if (run_end > end)
            run_end = end;

        class_sums[c] += cs__kde_sum(kernel + (row - first_row),
                                     run_end - row);
        row = run_end;
    }
}
