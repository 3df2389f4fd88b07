// Window-at-a-time inference kernels for the small CNNs (InferencePlan's fused path).
//
// Why a direct kernel and not im2col + GEMM: a student's layers have 9–64 channels, so each
// GEMM is narrow (N = 16 or 32) and short (K = 45 or 80); packing, the column copies, the bias
// and ReLU passes, max pooling and the global mean each cost as much as the arithmetic around
// them (measured at batch 256: GEMM and Winograd ≈ 45 % of LM's time, copies 19 %, pooling 10 %).
// Here one output block of T time steps × up to 64 channels lives in registers across all
// kernel·cin taps, and bias, ReLU, pooling by 2 or the sum over time are applied to the
// registers before anything is stored. One window's activations (≤ 32 KiB) stay in L1.
#include "CKernels.h"
#include "internal.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// The portable form of `hd_infer_conv1d` (the generic and AVX2 variants).
#define HD_INFER_CONV_BODY                                                                      \
  const long row = kernel * cin;                                                                \
  const long out_length = mode == HD_INFER_POOL2 ? length / 2 : length;                         \
  for (long t = 0; t < out_length; t++) {                                                       \
    for (long o = 0; o < cout; o++) {                                                           \
      float v[2];                                                                               \
      int taken = mode == HD_INFER_POOL2 ? 2 : 1;                                               \
      for (int p = 0; p < taken; p++) {                                                         \
        long s = mode == HD_INFER_POOL2 ? 2 * t + p : t;                                        \
        const float *in = xp + s * cin;                                                         \
        float total = bias ? bias[o] : 0.0f;                                                    \
        for (long q = 0; q < row; q++) total += in[q] * w[q * cout + o];                        \
        v[p] = relu && total < 0.0f ? 0.0f : total;                                             \
      }                                                                                         \
      float r = taken == 2 && v[1] > v[0] ? v[1] : v[0];                                        \
      if (mode == HD_INFER_SUM)                                                                 \
        y[o] += r;                                                                              \
      else                                                                                      \
        y[t * ldy + o] = r;                                                                     \
    }                                                                                           \
  }

#define HD_INFER_CONV_ARGS                                                                      \
  long length, long cin, long cout, long kernel, const float *restrict xp,                      \
      const float *restrict w, const float *restrict bias, int relu, int mode,                  \
      float *restrict y, long ldy

static void conv_generic(HD_INFER_CONV_ARGS) { HD_INFER_CONV_BODY }

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void conv_avx2(HD_INFER_CONV_ARGS) {
  HD_INFER_CONV_BODY
}

// One block: rows t0 .. t0 + T − 1 (T a constant after inlining) and output channels o0 .. o0 +
// 16·NV − 1 (the last vector masked by `last`). Accumulators acc[t][v] stay in registers over
// the row·(kernel·cin) taps: each tap loads NV weight vectors and broadcasts T inputs.
__attribute__((target("avx512f"), always_inline)) static inline void
conv_block_avx512(const int T, const int NV, long t0, long o0, __mmask16 last, long cin,
                  long cout, long row, const float *restrict xp, const float *restrict w,
                  const float *restrict bias, int relu, int mode, float *restrict y, long ldy) {
  __m512 acc[16][4];
#pragma clang loop unroll(full)
  for (int v = 0; v < NV; v++) {
    __mmask16 m = v == NV - 1 ? last : (__mmask16)0xFFFF;
    __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + o0 + 16 * v) : _mm512_setzero_ps();
#pragma clang loop unroll(full)
    for (int t = 0; t < T; t++) acc[t][v] = b;
  }
  const float *in = xp + t0 * cin;
  const float *wq = w + o0;
  for (long q = 0; q < row; q++, wq += cout) {
    __m512 wv[4];
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) {
      __mmask16 m = v == NV - 1 ? last : (__mmask16)0xFFFF;
      wv[v] = _mm512_maskz_loadu_ps(m, wq + 16 * v);
    }
#pragma clang loop unroll(full)
    for (int t = 0; t < T; t++) {
      __m512 x = _mm512_set1_ps(in[t * cin + q]);
#pragma clang loop unroll(full)
      for (int v = 0; v < NV; v++) acc[t][v] = _mm512_fmadd_ps(x, wv[v], acc[t][v]);
    }
  }
  const __m512 zero = _mm512_setzero_ps();
#pragma clang loop unroll(full)
  for (int v = 0; v < NV; v++) {
    __mmask16 m = v == NV - 1 ? last : (__mmask16)0xFFFF;
    long o = o0 + 16 * v;
    if (mode == HD_INFER_POOL2) {
#pragma clang loop unroll(full)
      for (int t = 0; t + 1 < T; t += 2) {
        __m512 r = _mm512_max_ps(acc[t][v], acc[t + 1][v]);
        if (relu) r = _mm512_max_ps(r, zero);
        _mm512_mask_storeu_ps(y + ((t0 + t) / 2) * ldy + o, m, r);
      }
    } else if (mode == HD_INFER_SUM) {
      __m512 s = _mm512_maskz_loadu_ps(m, y + o);
#pragma clang loop unroll(full)
      for (int t = 0; t < T; t++) s = _mm512_add_ps(s, relu ? _mm512_max_ps(acc[t][v], zero)
                                                             : acc[t][v]);
      _mm512_mask_storeu_ps(y + o, m, s);
    } else {
#pragma clang loop unroll(full)
      for (int t = 0; t < T; t++) {
        __m512 r = relu ? _mm512_max_ps(acc[t][v], zero) : acc[t][v];
        _mm512_mask_storeu_ps(y + (t0 + t) * ldy + o, m, r);
      }
    }
  }
}

// The rows of one output-channel block with NV vectors: blocks of TB rows, then at most one of
// 8 and one of 4, then blocks of 2, then (not pooling) one row.
#define HD_INFER_ROWS(NV, TB)                                                                   \
  __attribute__((target("avx512f"))) static void conv_rows_##NV(                                \
      long length, long o0, __mmask16 last, long cin, long cout, long row, const float *xp,     \
      const float *w, const float *bias, int relu, int mode, float *y, long ldy) {              \
    long t = 0;                                                                                 \
    for (; t + TB <= length; t += TB)                                                           \
      conv_block_avx512(TB, NV, t, o0, last, cin, cout, row, xp, w, bias, relu, mode, y, ldy);  \
    if (TB > 8 && t + 8 <= length) {                                                            \
      conv_block_avx512(8, NV, t, o0, last, cin, cout, row, xp, w, bias, relu, mode, y, ldy);   \
      t += 8;                                                                                   \
    }                                                                                           \
    if (TB > 4 && t + 4 <= length) {                                                            \
      conv_block_avx512(4, NV, t, o0, last, cin, cout, row, xp, w, bias, relu, mode, y, ldy);   \
      t += 4;                                                                                   \
    }                                                                                           \
    for (; t + 2 <= length; t += 2)                                                             \
      conv_block_avx512(2, NV, t, o0, last, cin, cout, row, xp, w, bias, relu, mode, y, ldy);   \
    if (t < length && mode != HD_INFER_POOL2)                                                   \
      conv_block_avx512(1, NV, t, o0, last, cin, cout, row, xp, w, bias, relu, mode, y, ldy);   \
  }

HD_INFER_ROWS(1, 16)
HD_INFER_ROWS(2, 12)
HD_INFER_ROWS(3, 8)
HD_INFER_ROWS(4, 6)

__attribute__((target("avx512f"))) static void conv_avx512(HD_INFER_CONV_ARGS) {
  const long row = kernel * cin;
  for (long o0 = 0; o0 < cout; o0 += 64) {
    long width = cout - o0 < 64 ? cout - o0 : 64;
    long nv = (width + 15) / 16, tail = width - 16 * (nv - 1);
    __mmask16 last = (__mmask16)((1u << tail) - 1u);
    switch (nv) {
    case 1: conv_rows_1(length, o0, last, cin, cout, row, xp, w, bias, relu, mode, y, ldy); break;
    case 2: conv_rows_2(length, o0, last, cin, cout, row, xp, w, bias, relu, mode, y, ldy); break;
    case 3: conv_rows_3(length, o0, last, cin, cout, row, xp, w, bias, relu, mode, y, ldy); break;
    default: conv_rows_4(length, o0, last, cin, cout, row, xp, w, bias, relu, mode, y, ldy); break;
    }
  }
}
#endif

void hd_infer_conv1d(int variant, long length, long cin, long cout, long kernel, const float *xp,
                     const float *w, const float *bias, int relu, int mode, float *y, long ldy) {
  if (length <= 0 || cout <= 0) return;
  HD_DISPATCH(variant, conv, length, cin, cout, kernel, xp, w, bias, relu, mode, y, ldy);
}

// CBAM followed by the mean over time, for one window: out[c] = mean_t (x[t, c]·mc[c])·ms[t],
// with mc and ms as in cbam.c (the same order of operations up to the final sum). `work` holds
// 2·channels + 2·hidden + 2·time floats.
#define HD_INFER_CBAM_BODY                                                                      \
  float *sum = work, *peak = work + channels, *ha = peak + channels, *hm = ha + hidden;        \
  float *smean = hm + hidden, *ms = smean + time;                                              \
  HD_CBAM_CHANNEL_MAP(sum); /* mc overwrites the descriptors' mean */                           \
  const float *mc = sum;                                                                        \
  float *tops = ms + time;                                                                      \
  HD_CBAM_SPATIAL_MAP(smean, tops, ms);                                                         \
  for (long c = 0; c < channels; c++) out[c] = 0.0f;                                            \
  for (long t = 0; t < time; t++) {                                                             \
    const float *row = x + t * channels;                                                        \
    const float gate = ms[t];                                                                   \
    for (long c = 0; c < channels; c++) out[c] += (row[c] * mc[c]) * gate;                      \
  }                                                                                             \
  const float inverse_time = 1.0f / (float)time;                                                \
  for (long c = 0; c < channels; c++) out[c] *= inverse_time;

#define HD_INFER_CBAM_ARGS                                                                      \
  long time, long channels, long hidden, const float *restrict x, const float *restrict w1,     \
      const float *restrict w2, long kernel, const float *restrict filter,                      \
      float *restrict out, float *restrict work

static void cbam_mean_generic(HD_INFER_CBAM_ARGS) { HD_INFER_CBAM_BODY }

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void cbam_mean_avx2(HD_INFER_CBAM_ARGS) {
  HD_INFER_CBAM_BODY
}

__attribute__((target("avx512f"))) static void cbam_mean_wide_avx512(HD_INFER_CBAM_ARGS) {
  HD_INFER_CBAM_BODY
}

// The AVX-512 form for up to 64 channels (NV vectors, the last masked by `last`) and a hidden
// width of at most 16: the descriptors, the MLP, the per-step channel descriptors, the spatial
// convolution (over 16 steps at a time, from zero-padded descriptor rows) and the weighted mean
// all in vector registers. The channel descriptors over x ⊙ mc are the same sums in another
// order; the output is Σ_t (x·mc)·ms as one fused multiply-add per step.
__attribute__((target("avx512f"), always_inline)) static inline void
cbam_mean_block_avx512(const int NV, __mmask16 last, long time, long channels, long hidden,
                       const float *restrict x, const float *restrict w1,
                       const float *restrict w2, long kernel, const float *restrict filter,
                       float *restrict out, float *restrict work) {
  __mmask16 mask[4];
  for (int v = 0; v < NV; v++) mask[v] = v == NV - 1 ? last : (__mmask16)0xFFFF;
  __m512 sum[4], peak[4];
#pragma clang loop unroll(full)
  for (int v = 0; v < NV; v++) sum[v] = peak[v] = _mm512_maskz_loadu_ps(mask[v], x + 16 * v);
  for (long t = 1; t < time; t++) {
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) {
      __m512 r = _mm512_maskz_loadu_ps(mask[v], x + t * channels + 16 * v);
      sum[v] = _mm512_add_ps(sum[v], r);
      peak[v] = _mm512_max_ps(peak[v], r);
    }
  }
  const __m512 steps = _mm512_set1_ps((float)time);
  const __mmask16 hmask = (__mmask16)((1u << hidden) - 1u);
  __m512 ha = _mm512_setzero_ps(), hm = _mm512_setzero_ps();
  float *descriptors = work; /* mean then max, 2·channels floats */
#pragma clang loop unroll(full)
  for (int v = 0; v < NV; v++) {
    _mm512_mask_storeu_ps(descriptors + 16 * v, mask[v], _mm512_div_ps(sum[v], steps));
    _mm512_mask_storeu_ps(descriptors + channels + 16 * v, mask[v], peak[v]);
  }
  for (long c = 0; c < channels; c++) {
    __m512 wr = _mm512_maskz_loadu_ps(hmask, w1 + c * hidden);
    ha = _mm512_fmadd_ps(_mm512_set1_ps(descriptors[c]), wr, ha);
    hm = _mm512_fmadd_ps(_mm512_set1_ps(descriptors[channels + c]), wr, hm);
  }
  const __m512 zero = _mm512_setzero_ps();
  float *hidden_values = descriptors + 2 * channels; /* 2·16 floats */
  _mm512_storeu_ps(hidden_values, _mm512_max_ps(ha, zero));
  _mm512_storeu_ps(hidden_values + 16, _mm512_max_ps(hm, zero));
  __m512 qa[4], qm[4];
#pragma clang loop unroll(full)
  for (int v = 0; v < NV; v++) qa[v] = qm[v] = zero;
  for (long h = 0; h < hidden; h++) {
    __m512 a = _mm512_set1_ps(hidden_values[h]), b = _mm512_set1_ps(hidden_values[16 + h]);
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) {
      __m512 wr = _mm512_maskz_loadu_ps(mask[v], w2 + h * channels + 16 * v);
      qa[v] = _mm512_fmadd_ps(a, wr, qa[v]);
      qm[v] = _mm512_fmadd_ps(b, wr, qm[v]);
    }
  }
  float *mc = hidden_values + 32; /* channels floats */
#pragma clang loop unroll(full)
  for (int v = 0; v < NV; v++)
    _mm512_mask_storeu_ps(mc + 16 * v, mask[v], _mm512_add_ps(qa[v], qm[v]));
  for (long c = 0; c < channels; c++) mc[c] = hd_sigmoid(mc[c]);
  __m512 gate[4];
#pragma clang loop unroll(full)
  for (int v = 0; v < NV; v++) gate[v] = _mm512_maskz_loadu_ps(mask[v], mc + 16 * v);
  /* Channel descriptors per step, into rows padded by `pad` zeros before and 16 + kernel after. */
  const long pad = (kernel - 1) / 2, padded = time + kernel + 16;
  float *smean = mc + channels, *smax = smean + padded, *ms = smax + padded;
  for (long k = 0; k < padded; k++) smean[k] = smax[k] = 0.0f;
  const float inverse_channels = 1.0f / (float)channels;
  for (long t = 0; t < time; t++) {
    __m512 total = zero, top = _mm512_set1_ps(-INFINITY);
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) {
      __m512 r = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask[v], x + t * channels + 16 * v), gate[v]);
      total = _mm512_add_ps(total, r);
      top = _mm512_mask_max_ps(top, mask[v], top, r);
    }
    smean[pad + t] = _mm512_reduce_add_ps(total) * inverse_channels;
    smax[pad + t] = _mm512_reduce_max_ps(top);
  }
  for (long t0 = 0; t0 < time; t0 += 16) {
    __m512 q = zero;
    for (long j = 0; j < kernel; j++) {
      q = _mm512_fmadd_ps(_mm512_set1_ps(filter[2 * j]), _mm512_loadu_ps(smean + t0 + j), q);
      q = _mm512_fmadd_ps(_mm512_set1_ps(filter[2 * j + 1]), _mm512_loadu_ps(smax + t0 + j), q);
    }
    _mm512_storeu_ps(ms + t0, q);
  }
  for (long t = 0; t < time; t++) ms[t] = hd_sigmoid(ms[t]);
  __m512 acc[4];
#pragma clang loop unroll(full)
  for (int v = 0; v < NV; v++) acc[v] = zero;
  for (long t = 0; t < time; t++) {
    __m512 g = _mm512_set1_ps(ms[t]);
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) {
      __m512 r = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask[v], x + t * channels + 16 * v), gate[v]);
      acc[v] = _mm512_fmadd_ps(r, g, acc[v]);
    }
  }
  const __m512 inverse_time = _mm512_set1_ps(1.0f / (float)time);
#pragma clang loop unroll(full)
  for (int v = 0; v < NV; v++)
    _mm512_mask_storeu_ps(out + 16 * v, mask[v], _mm512_mul_ps(acc[v], inverse_time));
}

__attribute__((target("avx512f"))) static void cbam_mean_avx512(HD_INFER_CBAM_ARGS) {
  long nv = (channels + 15) / 16, tail = channels - 16 * (nv - 1);
  __mmask16 last = (__mmask16)((1u << tail) - 1u);
  if (channels > 64 || hidden > 16 || hidden < 1) {
    cbam_mean_wide_avx512(time, channels, hidden, x, w1, w2, kernel, filter, out, work);
    return;
  }
  switch (nv) {
  case 1:
    cbam_mean_block_avx512(1, last, time, channels, hidden, x, w1, w2, kernel, filter, out, work);
    break;
  case 2:
    cbam_mean_block_avx512(2, last, time, channels, hidden, x, w1, w2, kernel, filter, out, work);
    break;
  case 3:
    cbam_mean_block_avx512(3, last, time, channels, hidden, x, w1, w2, kernel, filter, out, work);
    break;
  default:
    cbam_mean_block_avx512(4, last, time, channels, hidden, x, w1, w2, kernel, filter, out, work);
    break;
  }
}
#endif

long hd_infer_cbam_mean_work(long time, long channels, long hidden, long kernel) {
  // The portable body: 2·channels + 2·hidden + 3·time; the AVX-512 one: 3·channels + 32 + three
  // rows of time + kernel + 16.
  long portable = 2 * channels + 2 * hidden + 3 * time;
  long vector = 3 * channels + 32 + 3 * (time + kernel + 16);
  return portable > vector ? portable : vector;
}

void hd_infer_cbam_mean(int variant, long time, long channels, long hidden, const float *x,
                        const float *w1, const float *w2, long kernel, const float *filter,
                        float *out, float *work) {
  if (time <= 0 || channels <= 0) return;
  HD_DISPATCH(variant, cbam_mean, time, channels, hidden, x, w1, w2, kernel, filter, out, work);
}

// ---------------------------------------------------------------------------------------------
// Winograd F(4, 5) for one window (kernel 5, `same`, length a multiple of 4): the transforms of
// winograd.c (same points and scales; see there), with the channel-mixing products run by the
// register-blocked kernel above as a one-tap convolution over the tiles, and the output
// transform followed by the bias, ReLU and the output mode.

enum { WINO_TILE = 4, WINO_POINTS = 8 };

// V[ξ][τ][i] (rows of `cin` floats, `ldv` floats between points) from the padded window.
#define HD_INFER_WINO_INPUT_BODY                                                                \
  for (long tile = 0; tile < tiles; tile++) {                                                   \
    const float *d = xp + tile * WINO_TILE * cin;                                               \
    float *v = vbase + tile * cin;                                                              \
    for (long i = 0; i < cin; i++) {                                                            \
      float x0 = d[i], x1 = d[cin + i], x2 = d[2 * cin + i], x3 = d[3 * cin + i];               \
      float x4 = d[4 * cin + i], x5 = d[5 * cin + i], x6 = d[6 * cin + i];                      \
      float x7 = d[7 * cin + i];                                                                \
      v[i] = (x0 - x6) + 5.25f * (x4 - x2);                                                     \
      float a1 = x1 + x5 - 4.25f * x3, b1 = x2 + x6 - 4.25f * x4;                               \
      v[ldv + i] = a1 + b1;                                                                     \
      v[2 * ldv + i] = a1 - b1;                                                                 \
      float a2 = x1 - 5.0f * x3 + 4.0f * x5, b2 = 0.5f * x2 - 2.5f * x4 + 2.0f * x6;            \
      v[3 * ldv + i] = a2 + b2;                                                                 \
      v[4 * ldv + i] = a2 - b2;                                                                 \
      float a3 = x1 - 1.25f * x3 + 0.25f * x5, b3 = 2.0f * x2 - 2.5f * x4 + 0.5f * x6;          \
      v[5 * ldv + i] = a3 + b3;                                                                 \
      v[6 * ldv + i] = a3 - b3;                                                                 \
      v[7 * ldv + i] = (x7 - x1) + 5.25f * (x3 - x5);                                           \
    }                                                                                           \
  }

#define HD_INFER_WINO_INPUT_ARGS                                                                \
  long tiles, long cin, const float *restrict xp, float *restrict vbase, long ldv

// The output transform of every tile from M[ξ][τ][o], plus the bias, ReLU and `mode`.
#define HD_INFER_WINO_OUTPUT_BODY                                                               \
  for (long tile = 0; tile < tiles; tile++) {                                                   \
    const float *m = mbase + tile * cout;                                                       \
    for (long o = 0; o < cout; o++) {                                                           \
      float m0 = m[o], m1 = m[ldm + o], m2 = m[2 * ldm + o], m3 = m[3 * ldm + o];               \
      float m4 = m[4 * ldm + o], m5 = m[5 * ldm + o], m6 = m[6 * ldm + o];                      \
      float m7 = m[7 * ldm + o];                                                                \
      float s1 = m1 + m2, d1 = m1 - m2, s2 = m3 + m4, d2 = m3 - m4, s3 = m5 + m6;              \
      float d3 = m5 - m6;                                                                       \
      float b = bias ? bias[o] : 0.0f;                                                          \
      float r[4];                                                                               \
      r[0] = b + m0 + s1 + s2 + s3;                                                             \
      r[1] = b + d1 + 2.0f * d2 + 0.5f * d3;                                                    \
      r[2] = b + s1 + 4.0f * s2 + 0.25f * s3;                                                   \
      r[3] = b + d1 + 8.0f * d2 + 0.125f * d3 + m7;                                             \
      if (relu)                                                                                 \
        for (int k = 0; k < 4; k++) r[k] = r[k] < 0.0f ? 0.0f : r[k];                           \
      if (mode == HD_INFER_SUM) {                                                               \
        y[o] += (r[0] + r[1]) + (r[2] + r[3]);                                                  \
      } else if (mode == HD_INFER_POOL2) {                                                      \
        y[(2 * tile) * ldy + o] = r[1] > r[0] ? r[1] : r[0];                                    \
        y[(2 * tile + 1) * ldy + o] = r[3] > r[2] ? r[3] : r[2];                                \
      } else {                                                                                  \
        for (int k = 0; k < 4; k++) y[(4 * tile + k) * ldy + o] = r[k];                         \
      }                                                                                         \
    }                                                                                           \
  }

#define HD_INFER_WINO_OUTPUT_ARGS                                                               \
  long tiles, long cout, const float *restrict mbase, long ldm, const float *restrict bias,     \
      int relu, int mode, float *restrict y, long ldy

static void wino_input_generic(HD_INFER_WINO_INPUT_ARGS) { HD_INFER_WINO_INPUT_BODY }

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void wino_input_avx2(HD_INFER_WINO_INPUT_ARGS) {
  HD_INFER_WINO_INPUT_BODY
}

// The input transform 16 channels at a time, masked (a first layer has 9).
__attribute__((target("avx512f"))) static void wino_input_avx512(HD_INFER_WINO_INPUT_ARGS) {
  const __m512 c525 = _mm512_set1_ps(5.25f), c425 = _mm512_set1_ps(4.25f);
  const __m512 c5 = _mm512_set1_ps(5.0f), c4 = _mm512_set1_ps(4.0f), c05 = _mm512_set1_ps(0.5f);
  const __m512 c25 = _mm512_set1_ps(2.5f), c2 = _mm512_set1_ps(2.0f);
  const __m512 c125 = _mm512_set1_ps(1.25f), c025 = _mm512_set1_ps(0.25f);
  for (long i = 0; i < cin; i += 16) {
    __mmask16 k = cin - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (cin - i)) - 1u);
    for (long tile = 0; tile < tiles; tile++) {
      const float *d = xp + tile * WINO_TILE * cin + i;
      float *v = vbase + tile * cin + i;
      __m512 x0 = _mm512_maskz_loadu_ps(k, d), x1 = _mm512_maskz_loadu_ps(k, d + cin);
      __m512 x2 = _mm512_maskz_loadu_ps(k, d + 2 * cin), x3 = _mm512_maskz_loadu_ps(k, d + 3 * cin);
      __m512 x4 = _mm512_maskz_loadu_ps(k, d + 4 * cin), x5 = _mm512_maskz_loadu_ps(k, d + 5 * cin);
      __m512 x6 = _mm512_maskz_loadu_ps(k, d + 6 * cin), x7 = _mm512_maskz_loadu_ps(k, d + 7 * cin);
      _mm512_mask_storeu_ps(
          v, k, _mm512_fmadd_ps(c525, _mm512_sub_ps(x4, x2), _mm512_sub_ps(x0, x6)));
      __m512 a1 = _mm512_fnmadd_ps(c425, x3, _mm512_add_ps(x1, x5));
      __m512 b1 = _mm512_fnmadd_ps(c425, x4, _mm512_add_ps(x2, x6));
      _mm512_mask_storeu_ps(v + ldv, k, _mm512_add_ps(a1, b1));
      _mm512_mask_storeu_ps(v + 2 * ldv, k, _mm512_sub_ps(a1, b1));
      __m512 a2 = _mm512_fmadd_ps(c4, x5, _mm512_fnmadd_ps(c5, x3, x1));
      __m512 b2 = _mm512_fmadd_ps(c2, x6, _mm512_fnmadd_ps(c25, x4, _mm512_mul_ps(c05, x2)));
      _mm512_mask_storeu_ps(v + 3 * ldv, k, _mm512_add_ps(a2, b2));
      _mm512_mask_storeu_ps(v + 4 * ldv, k, _mm512_sub_ps(a2, b2));
      __m512 a3 = _mm512_fmadd_ps(c025, x5, _mm512_fnmadd_ps(c125, x3, x1));
      __m512 b3 = _mm512_fmadd_ps(c05, x6, _mm512_fnmadd_ps(c25, x4, _mm512_mul_ps(c2, x2)));
      _mm512_mask_storeu_ps(v + 5 * ldv, k, _mm512_add_ps(a3, b3));
      _mm512_mask_storeu_ps(v + 6 * ldv, k, _mm512_sub_ps(a3, b3));
      _mm512_mask_storeu_ps(
          v + 7 * ldv, k, _mm512_fmadd_ps(c525, _mm512_sub_ps(x3, x5), _mm512_sub_ps(x7, x1)));
    }
  }
}
#endif

static void wino_output_generic(HD_INFER_WINO_OUTPUT_ARGS) { HD_INFER_WINO_OUTPUT_BODY }

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void wino_output_avx2(HD_INFER_WINO_OUTPUT_ARGS) {
  HD_INFER_WINO_OUTPUT_BODY
}

// The output transform 16 channels at a time (the portable body's branches per element kept it
// from vectorizing: it took half of the layer's time).
__attribute__((target("avx512f"))) static void wino_output_avx512(HD_INFER_WINO_OUTPUT_ARGS) {
  const __m512 zero = _mm512_setzero_ps(), two = _mm512_set1_ps(2.0f);
  const __m512 half = _mm512_set1_ps(0.5f), four = _mm512_set1_ps(4.0f);
  const __m512 quarter = _mm512_set1_ps(0.25f), eight = _mm512_set1_ps(8.0f);
  const __m512 eighth = _mm512_set1_ps(0.125f);
  for (long o = 0; o < cout; o += 16) {
    __mmask16 k = cout - o >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (cout - o)) - 1u);
    __m512 b = bias ? _mm512_maskz_loadu_ps(k, bias + o) : zero;
    __m512 total = zero;
    for (long tile = 0; tile < tiles; tile++) {
      const float *m = mbase + tile * cout + o;
      __m512 m0 = _mm512_maskz_loadu_ps(k, m), m1 = _mm512_maskz_loadu_ps(k, m + ldm);
      __m512 m2 = _mm512_maskz_loadu_ps(k, m + 2 * ldm), m3 = _mm512_maskz_loadu_ps(k, m + 3 * ldm);
      __m512 m4 = _mm512_maskz_loadu_ps(k, m + 4 * ldm), m5 = _mm512_maskz_loadu_ps(k, m + 5 * ldm);
      __m512 m6 = _mm512_maskz_loadu_ps(k, m + 6 * ldm), m7 = _mm512_maskz_loadu_ps(k, m + 7 * ldm);
      __m512 s1 = _mm512_add_ps(m1, m2), d1 = _mm512_sub_ps(m1, m2);
      __m512 s2 = _mm512_add_ps(m3, m4), d2 = _mm512_sub_ps(m3, m4);
      __m512 s3 = _mm512_add_ps(m5, m6), d3 = _mm512_sub_ps(m5, m6);
      __m512 r0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(b, m0), s1), _mm512_add_ps(s2, s3));
      __m512 r1 = _mm512_add_ps(_mm512_add_ps(b, d1), _mm512_fmadd_ps(two, d2, _mm512_mul_ps(half, d3)));
      __m512 r2 = _mm512_add_ps(_mm512_add_ps(b, s1), _mm512_fmadd_ps(four, s2, _mm512_mul_ps(quarter, s3)));
      __m512 r3 = _mm512_add_ps(_mm512_add_ps(b, d1),
                                _mm512_add_ps(_mm512_fmadd_ps(eight, d2, _mm512_mul_ps(eighth, d3)), m7));
      if (relu) {
        r0 = _mm512_max_ps(r0, zero);
        r1 = _mm512_max_ps(r1, zero);
        r2 = _mm512_max_ps(r2, zero);
        r3 = _mm512_max_ps(r3, zero);
      }
      if (mode == HD_INFER_SUM) {
        total = _mm512_add_ps(total, _mm512_add_ps(_mm512_add_ps(r0, r1), _mm512_add_ps(r2, r3)));
      } else if (mode == HD_INFER_POOL2) {
        _mm512_mask_storeu_ps(y + (2 * tile) * ldy + o, k, _mm512_max_ps(r0, r1));
        _mm512_mask_storeu_ps(y + (2 * tile + 1) * ldy + o, k, _mm512_max_ps(r2, r3));
      } else {
        _mm512_mask_storeu_ps(y + (4 * tile) * ldy + o, k, r0);
        _mm512_mask_storeu_ps(y + (4 * tile + 1) * ldy + o, k, r1);
        _mm512_mask_storeu_ps(y + (4 * tile + 2) * ldy + o, k, r2);
        _mm512_mask_storeu_ps(y + (4 * tile + 3) * ldy + o, k, r3);
      }
    }
    if (mode == HD_INFER_SUM)
      _mm512_mask_storeu_ps(y + o, k, _mm512_add_ps(_mm512_maskz_loadu_ps(k, y + o), total));
  }
}
#endif

long hd_infer_winograd_work(long length, long cin, long cout) {
  long tiles = length / WINO_TILE;
  return WINO_POINTS * tiles * (cin + cout);
}

void hd_infer_winograd_filter(int variant, long cin, long cout, const float *w, float *u) {
  hd_conv1d_winograd_filter(variant, cin, cout, w, u);
}

void hd_infer_conv1d_winograd(int variant, long length, long cin, long cout, const float *xp,
                              const float *u, const float *bias, int relu, int mode, float *y,
                              long ldy, float *work) {
  if (length <= 0 || cout <= 0) return;
  const long tiles = length / WINO_TILE;
  float *v = work, *m = work + WINO_POINTS * tiles * cin;
  HD_DISPATCH(variant, wino_input, tiles, cin, xp, v, tiles * cin);
  for (long p = 0; p < WINO_POINTS; p++)
    HD_DISPATCH(variant, conv, tiles, cin, cout, 1, v + p * tiles * cin, u + p * cin * cout, NULL,
                0, HD_INFER_STORE, m + p * tiles * cout, cout);
  HD_DISPATCH(variant, wino_output, tiles, cout, m, tiles * cout, bias, relu, mode, y, ldy);
}
