/*
 * Per-row statistics of one prediction row: softmax of the true label and
 * of the top class, the margin and EL2N, computed in two passes over the
 * row with no state change, so a batch can be checked whole before it is
 * recorded.
 *
 * This is the hot path of cs_observe_epoch(): one exp per logit. The loops
 * keep CS__LANES independent accumulators so the compiler can vectorise
 * them without reassociating floating-point sums, and the results depend
 * only on the row, never on where it sits in a batch.
 */
#if defined(__GNUC__) && !defined(__clang__)
/* See CS__INLINE below: no vector crosses a call, so the note is moot. */
#pragma GCC diagnostic ignored "-Wpsabi"
/* ISO C mode turns off fusing a * b + c into one FMA instruction; the
 * polynomial below is most of the work, so allow it in this file. Results
 * then differ in the last bit between CPUs with and without FMA. */
#pragma GCC optimize("fp-contract=fast")
#endif

#include "tracker_internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Every vector helper is forced inline, even at -O0: the AVX2 clone and
 * the default clone pass 32-byte vectors in different ways (the ABI change
 * -Wpsabi warns about), so a vector must never cross a call between code
 * compiled for different targets. */
#define CS__INLINE static inline __attribute__((always_inline))

/* Eight float lanes, as GCC and clang vector extensions: 256-bit AVX
 * registers where the CPU has them, two SSE registers otherwise. */
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
#define CS__LANES 8

/* exp() clamps its argument here: 88 / ln2 rounds to 127, the exponent
 * of 2^-127 is all zero bits, and exp(-88) is under FLT_MIN anyway. */
#define CS__EXP_FLUSH (-88.0f)

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
/* One build runs on any x86-64 and uses AVX2 and FMA (the x86-64-v3
 * level) where the CPU has them. Sanitizer builds go without the clones,
 * because their instrumented ifunc resolvers run at load time, before the
 * sanitizer runtime is ready, and crash (seen with GCC 12's TSan). */
#define CS__VECTOR_CLONES \
    __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CS__VECTOR_CLONES
#endif

CS__INLINE v8f splat(float value)
{
    return (v8f){value, value, value, value, value, value, value, value};
}

/* Loads x[0 .. n-1], n <= 8, padding the missing lanes with `fill`. */
CS__INLINE v8f load_partial(const float *x, size_t n, float fill)
{
    float lanes[CS__LANES];
    for (size_t l = 0; l < CS__LANES; l++)
        lanes[l] = l < n ? x[l] : fill;
    v8f v;
    memcpy(&v, lanes, sizeof v);
    return v;
}

CS__INLINE v8f load(const float *x)
{
    v8f v;
    memcpy(&v, x, sizeof v);
    return v;
}

/* Lane-wise `mask ? if_set : if_clear` and maximum. Macros rather than
 * functions because GCC notes an ABI change for any function that takes a
 * 32-byte vector by value when compiled without AVX. */
#define SELECT_WHERE(mask, if_set, if_clear) \
    ((v8f)(((v8i)(if_set) & (mask)) | ((v8i)(if_clear) & ~(mask))))
#define VMAX(a, b) SELECT_WHERE((a) > (b), (a), (b))

/* exp(x) for x <= 0 (-inf included): x = n ln2 + r with |r| <= ln2/2
 * (ln2 split in two parts so that n ln2 is exact), exp(r) by a degree-5
 * polynomial, and 2^n built from the exponent bits. The coefficients are a
 * least-squares fit of the relative error at 4001 Chebyshev nodes of
 * [-ln2/2, ln2/2], made for this file with numpy: 1.04e-7 maximum relative
 * error in exact arithmetic, 1.8e-7 (1.5 ulp) measured in float32 over
 * [-60, 0].
 *
 * x is clamped at CS__EXP_FLUSH, where n is -127 and 2^n has exponent
 * bits 0, so every x below about -87.7 gives exactly 0 without a mask.
 * Adding 1.5 * 2^23 rounds x / ln2 to the integer n and leaves n in the
 * low mantissa bits. Shifting those bits into the exponent field drops the
 * constant's own bits, so no float-to-int conversion is needed. */
CS__INLINE v8f exp_nonpositive(const v8f *arg)
{
    const v8f round_magic = splat(12582912.0f); /* 1.5 * 2^23 */
    const v8f flush = splat(CS__EXP_FLUSH);
    const v8f x = VMAX(*arg, flush);

    const v8f n_magic = x * 1.44269504f + round_magic;
    const v8f n = n_magic - round_magic;
    const v8f r = x - n * 0.693145752f /* ln2, low bits zero */
                  - n * 1.42860677e-6f; /* ln2 minus the above */

    v8f p = splat(0.00826153252f);
    p = p * r + 0.0418987535f;
    p = p * r + 0.166681141f;
    p = p * r + 0.499991417f;
    p = p * r + 0.999999523f;
    p = p * r + 1.0f;

    const v8i exponent = ((v8i)n_magic + 127) << 23;
    return p * (v8f)exponent;
}

/* Swaps lane halves of width 4, 2 and 1, for the tree reductions. */
#if defined(__clang__)
#define SHUFFLE(v, ...) __builtin_shufflevector((v), (v), __VA_ARGS__)
#else
#define SHUFFLE(v, ...) __builtin_shuffle((v), (v8i){__VA_ARGS__})
#endif
#define SWAP_4(v) SHUFFLE(v, 4, 5, 6, 7, 0, 1, 2, 3)
#define SWAP_2(v) SHUFFLE(v, 2, 3, 0, 1, 6, 7, 4, 5)
#define SWAP_1(v) SHUFFLE(v, 1, 0, 3, 2, 5, 4, 7, 6)

/* Horizontal sum and maximum as a tree of three steps, which is shorter
 * than a chain of seven dependent operations and always adds the lanes in
 * the same order. */
CS__INLINE float lanes_sum(const v8f *v)
{
    v8f t = *v + SWAP_4(*v);
    t = t + SWAP_2(t);
    t = t + SWAP_1(t);
    return t[0];
}

CS__INLINE float lanes_max(const v8f *v)
{
    v8f t = VMAX(*v, SWAP_4(*v));
    t = VMAX(t, SWAP_2(t));
    t = VMAX(t, SWAP_1(t));
    return t[0];
}

/* Lane numbers 0 .. 7, to find the true label's lane in a block. */
#define LANE_INDEX ((v8i){0, 1, 2, 3, 4, 5, 6, 7})

/* Loads the block of row starting at k, with the label's lane and lanes
 * past the end of the row set to -FLT_MAX: finite, never the maximum of a
 * real row, and exp(-FLT_MAX - shift) is 0. `readable` floats from row[0]
 * may be read; when the row is not the last of its batch the block at the
 * row's end reads into the next row instead of copying lane by lane, and
 * the extra lanes are masked. */
CS__INLINE v8f load_others(const float *row, size_t n_classes, size_t label,
                           size_t readable, size_t k)
{
    const v8f lowest = splat(-FLT_MAX);
    v8i masked = LANE_INDEX == (v8i){0} + (int32_t)(label - k);
    if (k + CS__LANES > readable) {
        const v8f tail = load_partial(row + k, n_classes - k, -FLT_MAX);
        return SELECT_WHERE(masked, lowest, tail);
    }

    const v8f v = load(row + k);
    if (k + CS__LANES > n_classes)
        masked |= LANE_INDEX >= (v8i){0} + (int32_t)(n_classes - k);
    return SELECT_WHERE(masked, lowest, v);
}

/* A row's blocks of CS__LANES classes fall into plain blocks, loaded as
 * they are, and at most two special ones: the label's block and a partial
 * block at the row's end, which go through load_others(). Plain blocks
 * run in loops with no masking, which is most of a wide row's work. */
typedef struct row_blocks {
    size_t label_block; /* first class of the label's block */
    size_t full_end;    /* classes [0, full_end) form whole blocks */
} row_blocks;

CS__INLINE row_blocks split_row(size_t n_classes, size_t label)
{
    const row_blocks blocks = {label - label % CS__LANES,
                               n_classes - n_classes % CS__LANES};
    return blocks;
}

/* Scans plain blocks [from, to) into the maximum and the finiteness
 * poison. Two pairs of accumulators take alternate blocks, so a block does
 * not wait for the previous one's addition. A maximum and a sum of zeros
 * do not depend on that order. */
CS__INLINE void scan_max_plain(const float *row, size_t from, size_t to,
                               v8f *max, v8f *poison)
{
    v8f max_odd = splat(-FLT_MAX);
    v8f poison_odd = splat(0.0f);
    size_t k = from;
    for (; k + 2 * CS__LANES <= to; k += 2 * CS__LANES) {
        const v8f even = load(row + k);
        const v8f odd = load(row + k + CS__LANES);
        *max = VMAX(even, *max);
        max_odd = VMAX(odd, max_odd);
        *poison += even * 0.0f;
        poison_odd += odd * 0.0f;
    }
    for (; k < to; k += CS__LANES) {
        const v8f v = load(row + k);
        *max = VMAX(v, *max);
        *poison += v * 0.0f;
    }
    *max = VMAX(max_odd, *max);
    *poison += poison_odd;
}

/* Maximum over the other classes, and a finiteness check of the whole row:
 * `poison` stays 0 while every value is finite, since x * 0 is NaN for NaN
 * and infinities. */
CS__INLINE void scan_max(const float *row, size_t n_classes, size_t label,
                         size_t readable, v8f *max, v8f *poison)
{
    const row_blocks blocks = split_row(n_classes, label);
    scan_max_plain(row, 0, blocks.label_block, max, poison);

    v8f v = load_others(row, n_classes, label, readable, blocks.label_block);
    *max = VMAX(v, *max);
    *poison += v * 0.0f;

    scan_max_plain(row, blocks.label_block + CS__LANES, blocks.full_end, max,
                   poison);
    if (blocks.full_end < n_classes && blocks.full_end != blocks.label_block) {
        v = load_others(row, n_classes, label, readable, blocks.full_end);
        *max = VMAX(v, *max);
        *poison += v * 0.0f;
    }
}

/* Adds exp(x - shift) and its square for one block x. */
CS__INLINE void add_exp(const v8f *x, const v8f *shift, v8f *sum,
                        v8f *sum_sq)
{
    const v8f shifted = *x - *shift;
    const v8f e = exp_nonpositive(&shifted);
    *sum += e;
    *sum_sq += e * e;
}

/* Sums exp(x - shift) and its square over the other classes, block by
 * block in class order, so the sums depend only on the row. */
CS__INLINE void sum_exp(const float *row, size_t n_classes, size_t label,
                        size_t readable, float shift, v8f *sum, v8f *sum_sq)
{
    const v8f s = splat(shift);
    const row_blocks blocks = split_row(n_classes, label);
    for (size_t k = 0; k < blocks.label_block; k += CS__LANES) {
        const v8f v = load(row + k);
        add_exp(&v, &s, sum, sum_sq);
    }

    v8f v = load_others(row, n_classes, label, readable, blocks.label_block);
    add_exp(&v, &s, sum, sum_sq);

    for (size_t k = blocks.label_block + CS__LANES; k < blocks.full_end;
         k += CS__LANES) {
        v = load(row + k);
        add_exp(&v, &s, sum, sum_sq);
    }
    if (blocks.full_end < n_classes && blocks.full_end != blocks.label_block) {
        v = load_others(row, n_classes, label, readable, blocks.full_end);
        add_exp(&v, &s, sum, sum_sq);
    }
}

/* Adds one vector of probabilities to the running maximum, sum and sum
 * of squares. Comparisons give -1 in lanes that pass, so `bad` gains 1 in
 * each lane that is negative, NaN or infinite (NaN fails both tests). */
CS__INLINE void add_probabilities(const v8f *value, v8f *max, v8f *sum, v8f *sum_sq,
                                     v8i *bad)
{
    const v8f v = *value;
    *max = VMAX(v, *max);
    *sum += v;
    *sum_sq += v * v;
    *bad += 1 + ((v >= splat(0.0f)) & (v <= splat(FLT_MAX)));
}

/* Scans probabilities x[0 .. n-1]; padding with 0 changes no result. */
CS__INLINE void scan_probabilities(const float *x, size_t n, v8f *max,
                                      v8f *sum, v8f *sum_sq, v8i *bad)
{
    size_t k = 0;
    for (; k + CS__LANES <= n; k += CS__LANES) {
        const v8f v = load(x + k);
        add_probabilities(&v, max, sum, sum_sq, bad);
    }
    if (k < n) {
        const v8f v = load_partial(x + k, n - k, 0.0f);
        add_probabilities(&v, max, sum, sum_sq, bad);
    }
}

CS__VECTOR_CLONES
bool cs__all_finite(const float *x, size_t n)
{
    /* Two accumulators so that consecutive blocks do not wait on each
     * other's additions. */
    v8f poison_a = splat(0.0f);
    v8f poison_b = splat(0.0f);
    size_t k = 0;
    for (; k + 2 * CS__LANES <= n; k += 2 * CS__LANES) {
        poison_a += load(x + k) * 0.0f;
        poison_b += load(x + k + CS__LANES) * 0.0f;
    }
    for (; k < n; k += CS__LANES) {
        const size_t left = n - k;
        const v8f v = left >= CS__LANES ? load(x + k)
                                        : load_partial(x + k, left, 0.0f);
        poison_a += v * 0.0f;
    }
    poison_a += poison_b;
    return lanes_sum(&poison_a) == 0.0f;
}

CS__VECTOR_CLONES
bool cs__row_stats_logits(const float *row, size_t n_classes, size_t label,
                          size_t readable, cs__row_stats *out)
{
    const float z_label = row[label];

    /* Pass 1: the largest logit among the other classes. */
    v8f max = splat(-FLT_MAX);
    v8f poison = splat(0.0f);
    scan_max(row, n_classes, label, readable, &max, &poison);
    if (lanes_sum(&poison) != 0.0f || !isfinite(z_label))
        return false;
    const float max_other = lanes_max(&max);
    const float shift = z_label > max_other ? z_label : max_other;

    /* Pass 2: softmax sums over the other classes, shifted by the maximum
     * so no exp overflows. Summing the other classes apart from the label
     * keeps 1 - p_L exact when p_L is close to 1. */
    v8f sum = splat(0.0f);
    v8f sum_sq = splat(0.0f);
    sum_exp(row, n_classes, label, readable, shift, &sum, &sum_sq);

    const v8f label_shifted = splat(z_label - shift);
    const double e_label = exp_nonpositive(&label_shifted)[0];
    const double s_other = lanes_sum(&sum);
    const double s2_other = lanes_sum(&sum_sq);
    const double s = s_other + e_label;

    /* The largest class has exp(0) = 1, so p_max = 1 / s. EL2N is
     * sqrt((1 - p_L)^2 + sum_{k != y} p_k^2) with 1 - p_L = s_other / s. */
    const double inverse = 1.0 / s;
    out->p_l = (float)(e_label * inverse);
    out->p_max = (float)inverse;
    out->margin = (float)((double)z_label - max_other);
    out->el2n = (float)(sqrt(s_other * s_other + s2_other) * inverse);
    out->correct = z_label > max_other;
    return true;
}

CS__VECTOR_CLONES
bool cs__row_stats_probabilities(const float *row, size_t n_classes,
                                 size_t label, double tolerance,
                                 cs__row_stats *out)
{
    const float p_label = row[label];
    const float *after = row + label + 1;
    const size_t n_after = n_classes - label - 1;

    v8f max = splat(-FLT_MAX);
    v8f sum = splat(0.0f);
    v8f sum_sq = splat(0.0f);
    v8i bad = {0};
    scan_probabilities(row, label, &max, &sum, &sum_sq, &bad);
    scan_probabilities(after, n_after, &max, &sum, &sum_sq, &bad);

    int32_t bad_count = 0;
    for (int l = 0; l < CS__LANES; l++)
        bad_count += bad[l];
    if (bad_count != 0 || !(p_label >= 0.0f && p_label <= FLT_MAX))
        return false;

    const double s_other = lanes_sum(&sum);
    if (!(fabs(s_other + p_label - 1.0) <= tolerance))
        return false;

    /* Log-probabilities stand in for logits; FLT_MIN keeps log finite. */
    const float max_other = lanes_max(&max);
    const double log_label = log(p_label > FLT_MIN ? p_label : FLT_MIN);
    const double log_other = log(max_other > FLT_MIN ? max_other : FLT_MIN);
    const double miss = 1.0 - (double)p_label;

    out->p_l = p_label;
    out->p_max = p_label > max_other ? p_label : max_other;
    out->margin = (float)(log_label - log_other);
    out->el2n = (float)sqrt(miss * miss + lanes_sum(&sum_sq));
    out->correct = p_label > max_other;
    return true;
}
