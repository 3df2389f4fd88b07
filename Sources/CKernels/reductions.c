// Max pooling and the reductions along one axis (maximum; mean and maximum together for CBAM's
// descriptors), each with the flat index of its first maximum for the backward pass.
#include "CKernels.h"
#include "internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Max pooling and max reductions keep an arg-max (64-bit) beside each maximum (32-bit): the
// select over mixed widths vectorizes only with AVX2/AVX-512 blends, so these loops are compiled
// per variant like the GEMM (at the default target they stay scalar).
#define HD_MAX_POOL_BODY                                                                     \
  const long channels = g->in_channels;                                                      \
  for (long b = 0; b < g->batch; b++) {                                                      \
    for (long t = 0; t < g->out_length; t++) {                                               \
      float *restrict out = y + (b * g->out_length + t) * channels;                          \
      long *restrict arg = argmax + (b * g->out_length + t) * channels;                      \
      int first = 1;                                                                         \
      for (long j = 0; j < g->kernel; j++) {                                                 \
        long s = t * g->stride - g->pad_before + j * g->dilation;                            \
        if (s < 0 || s >= g->in_length) continue;                                            \
        long base = (b * g->in_length + s) * channels;                                       \
        const float *restrict in = x + base;                                                 \
        if (first) {                                                                         \
          for (long c = 0; c < channels; c++) {                                              \
            out[c] = in[c];                                                                  \
            arg[c] = base + c;                                                               \
          }                                                                                  \
          first = 0;                                                                         \
        } else {                                                                             \
          /* `>` keeps the first maximum; NaN never replaces. */                             \
          for (long c = 0; c < channels; c++) {                                              \
            int better = in[c] > out[c];                                                     \
            out[c] = better ? in[c] : out[c];                                                \
            arg[c] = better ? base + c : arg[c];                                             \
          }                                                                                  \
        }                                                                                    \
      }                                                                                      \
      if (first)                                                                             \
        for (long c = 0; c < channels; c++) {                                                \
          out[c] = -__builtin_inff();                                                        \
          arg[c] = -1;                                                                       \
        }                                                                                    \
    }                                                                                        \
  }

#define HD_MAX_BLOCK_BODY                                                                    \
  for (long r = 0; r < outer; r++) {                                                         \
    const float *restrict xs = x + r * extent * inner;                                       \
    float *restrict out = y + r * inner;                                                     \
    long *restrict arg = argmax + r * inner;                                                 \
    long first = r * extent * inner;                                                         \
    if (inner == 1) {                                                                        \
      float best = xs[0];                                                                    \
      long index = 0;                                                                        \
      for (long e = 1; e < extent; e++)                                                      \
        if (xs[e] > best) {                                                                  \
          best = xs[e];                                                                      \
          index = e;                                                                         \
        }                                                                                    \
      out[0] = best;                                                                         \
      arg[0] = first + index;                                                                \
      continue;                                                                              \
    }                                                                                        \
    for (long i = 0; i < inner; i++) {                                                       \
      out[i] = xs[i];                                                                        \
      arg[i] = first + i;                                                                    \
    }                                                                                        \
    for (long e = 1; e < extent; e++) {                                                      \
      const float *restrict row = xs + e * inner;                                            \
      long base = first + e * inner;                                                         \
      for (long i = 0; i < inner; i++) {                                                     \
        int better = row[i] > out[i];                                                        \
        out[i] = better ? row[i] : out[i];                                                   \
        arg[i] = better ? base + i : arg[i];                                                 \
      }                                                                                      \
    }                                                                                        \
  }

#define HD_POOL_ARGS                                                                         \
  const hd_conv1d_geometry *g, const float *restrict x, float *restrict y,                   \
      long *restrict argmax
#define HD_BLOCK_ARGS                                                                        \
  long outer, long extent, long inner, const float *restrict x, float *restrict y,           \
      long *restrict argmax

static void max_pool_generic(HD_POOL_ARGS) { HD_MAX_POOL_BODY }
static void max_block_generic(HD_BLOCK_ARGS) { HD_MAX_BLOCK_BODY }
#if defined(__x86_64__)
__attribute__((target("avx2"))) static void max_pool_avx2(HD_POOL_ARGS) { HD_MAX_POOL_BODY }
__attribute__((target("avx2"))) static void max_block_avx2(HD_BLOCK_ARGS) { HD_MAX_BLOCK_BODY }
__attribute__((target("avx512f"))) static void max_pool_avx512(HD_POOL_ARGS) { HD_MAX_POOL_BODY }
// The maximum of one contiguous row and the index of its first occurrence, with the scalar
// loop's semantics (`>` keeps the first maximum; NaN never replaces, so a NaN first element stays
// the answer): lanes start at −∞ and `max_ps(x, m)` returns m when x is NaN, then the first
// element equal to the maximum is searched for. Two passes without branches on the data beat
// one pass whose branch mispredicts (CBAM's max over 32 channels per time step).
__attribute__((target("avx512f"))) static float max_row_avx512(const float *xs, long extent,
                                                                long *index) {
  if (xs[0] != xs[0]) {
    *index = 0;
    return xs[0];
  }
  const __m512 low = _mm512_set1_ps(-__builtin_inff());
  __m512 m = low;
  long e = 0;
  for (; e + 16 <= extent; e += 16) m = _mm512_max_ps(_mm512_loadu_ps(xs + e), m);
  if (e < extent) {
    __mmask16 tail = (__mmask16)((1u << (extent - e)) - 1);
    m = _mm512_max_ps(_mm512_mask_loadu_ps(low, tail, xs + e), m);
  }
  float best = _mm512_reduce_max_ps(m);
  long found = 0;
  while (xs[found] != best) found++;
  *index = found;
  return xs[found];  // −0 and +0 compare equal: the first one is the scalar loop's answer
}

__attribute__((target("avx512f"))) static void max_block_avx512(HD_BLOCK_ARGS) {
  if (inner == 1) {
    for (long r = 0; r < outer; r++) {
      long index;
      y[r] = max_row_avx512(x + r * extent, extent, &index);
      argmax[r] = r * extent + index;
    }
    return;
  }
  HD_MAX_BLOCK_BODY
}
#endif

// Mean and maximum over the middle axis of [outer, extent, inner], written as [outer, 2, inner].
// The sum runs in extent order (like the reference) except over contiguous rows in AVX-512; the
// maximum keeps the first one, NaN never replacing (HD_MAX_BLOCK_BODY's rules).
#define HD_MEAN_MAX_BODY                                                                     \
  for (long r = 0; r < outer; r++) {                                                         \
    const float *restrict xs = x + r * extent * inner;                                       \
    float *restrict mean = y + r * 2 * inner;                                                \
    float *restrict out = mean + inner;                                                      \
    long *restrict arg = argmax + r * inner;                                                 \
    long first = r * extent * inner;                                                         \
    for (long i = 0; i < inner; i++) {                                                       \
      mean[i] = xs[i];                                                                       \
      out[i] = xs[i];                                                                        \
      arg[i] = first + i;                                                                    \
    }                                                                                        \
    for (long e = 1; e < extent; e++) {                                                      \
      const float *restrict row = xs + e * inner;                                            \
      long base = first + e * inner;                                                         \
      for (long i = 0; i < inner; i++) {                                                     \
        mean[i] += row[i];                                                                   \
        int better = row[i] > out[i];                                                        \
        out[i] = better ? row[i] : out[i];                                                   \
        arg[i] = better ? base + i : arg[i];                                                 \
      }                                                                                      \
    }                                                                                        \
    for (long i = 0; i < inner; i++) mean[i] /= (float)extent;                               \
  }

#define HD_MEAN_MAX_ARGS                                                                     \
  long outer, long extent, long inner, const float *restrict x, float *restrict y,           \
      long *restrict argmax

static void mean_max_generic(HD_MEAN_MAX_ARGS) { HD_MEAN_MAX_BODY }
#if defined(__x86_64__)
__attribute__((target("avx2"))) static void mean_max_avx2(HD_MEAN_MAX_ARGS) { HD_MEAN_MAX_BODY }
__attribute__((target("avx512f"))) static void mean_max_avx512(HD_MEAN_MAX_ARGS) {
  if (inner == 1) {
    // Over a contiguous row (CBAM's spatial descriptors: over channels): the vector maximum and
    // a 16-lane sum (a scalar sum is one dependent add per element: 4 cycles each).
    const __m512 zero = _mm512_setzero_ps();
    for (long r = 0; r < outer; r++) {
      const float *xs = x + r * extent;
      __m512 lanes = zero;
      long e = 0;
      for (; e + 16 <= extent; e += 16) lanes = _mm512_add_ps(lanes, _mm512_loadu_ps(xs + e));
      if (e < extent) {
        __mmask16 tail = (__mmask16)((1u << (extent - e)) - 1);
        lanes = _mm512_add_ps(lanes, _mm512_maskz_loadu_ps(tail, xs + e));
      }
      float sum = _mm512_reduce_add_ps(lanes);
      long index;
      y[2 * r] = sum / (float)extent;
      y[2 * r + 1] = max_row_avx512(xs, extent, &index);
      argmax[r] = r * extent + index;
    }
    return;
  }
  HD_MEAN_MAX_BODY
}
#endif

void hd_mean_max_block(int variant, long outer, long extent, long inner, const float *x, float *y,
                       long *argmax) {
  if (extent <= 0) return;
  HD_DISPATCH(variant, mean_max, outer, extent, inner, x, y, argmax);
}

void hd_max_pool1d(int variant, const hd_conv1d_geometry *g, const float *x, float *y,
                   long *argmax) {
  HD_DISPATCH(variant, max_pool, g, x, y, argmax);
}

void hd_max_block(int variant, long outer, long extent, long inner, const float *x, float *y,
                  long *argmax) {
  if (extent <= 0) return;
  HD_DISPATCH(variant, max_block, outer, extent, inner, x, y, argmax);
}
