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

// The rows of one output-channel block with NV vectors: blocks of TB rows, then blocks of 2,
// then (not pooling) one row.
#define HD_INFER_ROWS(NV, TB)                                                                   \
  __attribute__((target("avx512f"))) static void conv_rows_##NV(                                \
      long length, long o0, __mmask16 last, long cin, long cout, long row, const float *xp,     \
      const float *w, const float *bias, int relu, int mode, float *y, long ldy) {              \
    long t = 0;                                                                                 \
    for (; t + TB <= length; t += TB)                                                           \
      conv_block_avx512(TB, NV, t, o0, last, cin, cout, row, xp, w, bias, relu, mode, y, ldy);  \
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

static inline float sigmoid(float x) {
  // As the Swift kernel and cbam.c: no overflow for large |x|.
  if (x >= 0) return 1.0f / (1.0f + expf(-x));
  float e = expf(x);
  return e / (1.0f + e);
}

// CBAM followed by the mean over time, for one window: out[c] = mean_t (x[t, c]·mc[c])·ms[t],
// with mc and ms as in cbam.c (the same order of operations up to the final sum). `work` holds
// 2·channels + 2·hidden + 2·time floats.
#define HD_INFER_CBAM_BODY                                                                      \
  float *sum = work, *peak = work + channels, *ha = peak + channels, *hm = ha + hidden;        \
  float *smean = hm + hidden, *ms = smean + time;                                              \
  for (long c = 0; c < channels; c++) {                                                         \
    sum[c] = x[c];                                                                              \
    peak[c] = x[c];                                                                             \
  }                                                                                             \
  for (long t = 1; t < time; t++) {                                                             \
    const float *row = x + t * channels;                                                        \
    for (long c = 0; c < channels; c++) {                                                       \
      sum[c] += row[c];                                                                         \
      peak[c] = row[c] > peak[c] ? row[c] : peak[c];                                            \
    }                                                                                           \
  }                                                                                             \
  for (long c = 0; c < channels; c++) sum[c] /= (float)time;                                    \
  for (long h = 0; h < hidden; h++) ha[h] = hm[h] = 0.0f;                                       \
  for (long c = 0; c < channels; c++) {                                                         \
    const float *wr = w1 + c * hidden;                                                          \
    for (long h = 0; h < hidden; h++) {                                                         \
      ha[h] += sum[c] * wr[h];                                                                  \
      hm[h] += peak[c] * wr[h];                                                                 \
    }                                                                                           \
  }                                                                                             \
  for (long h = 0; h < hidden; h++) {                                                           \
    ha[h] = ha[h] > 0.0f ? ha[h] : 0.0f;                                                        \
    hm[h] = hm[h] > 0.0f ? hm[h] : 0.0f;                                                        \
  }                                                                                             \
  for (long c = 0; c < channels; c++) sum[c] = peak[c] = 0.0f;                                  \
  for (long h = 0; h < hidden; h++) {                                                           \
    const float *wr = w2 + h * channels;                                                        \
    for (long c = 0; c < channels; c++) {                                                       \
      sum[c] += ha[h] * wr[c];                                                                  \
      peak[c] += hm[h] * wr[c];                                                                 \
    }                                                                                           \
  }                                                                                             \
  /* mc overwrites the descriptors' sum: `peak` keeps the second MLP output until here. */      \
  for (long c = 0; c < channels; c++) sum[c] = sigmoid(sum[c] + peak[c]);                       \
  const float *mc = sum;                                                                        \
  const float inverse_channels = 1.0f / (float)channels;                                        \
  float *tops = ms + time;                                                                      \
  for (long t = 0; t < time; t++) {                                                             \
    const float *row = x + t * channels;                                                        \
    float lanes[16], top[16];                                                                   \
    float first = row[0] * mc[0];                                                               \
    for (int k = 0; k < 16; k++) {                                                              \
      lanes[k] = 0.0f;                                                                          \
      top[k] = first;                                                                           \
    }                                                                                           \
    long c = 0;                                                                                 \
    for (; c + 16 <= channels; c += 16)                                                         \
      for (int k = 0; k < 16; k++) {                                                            \
        float v = row[c + k] * mc[c + k];                                                       \
        lanes[k] += v;                                                                          \
        top[k] = v > top[k] ? v : top[k];                                                       \
      }                                                                                         \
    for (; c < channels; c++) {                                                                 \
      float v = row[c] * mc[c];                                                                 \
      lanes[0] += v;                                                                            \
      top[0] = v > top[0] ? v : top[0];                                                         \
    }                                                                                           \
    for (int width = 8; width >= 1; width /= 2)                                                 \
      for (int k = 0; k < width; k++) {                                                         \
        lanes[k] += lanes[k + width];                                                           \
        top[k] = top[k + width] > top[k] ? top[k + width] : top[k];                             \
      }                                                                                         \
    smean[t] = lanes[0] * inverse_channels;                                                     \
    tops[t] = top[0];                                                                           \
  }                                                                                             \
  const long pad = (kernel - 1) / 2;                                                            \
  for (long t = 0; t < time; t++) {                                                             \
    float q = 0.0f;                                                                             \
    for (long j = 0; j < kernel; j++) {                                                         \
      long s = t + j - pad;                                                                     \
      if (s >= 0 && s < time) q += filter[2 * j] * smean[s] + filter[2 * j + 1] * tops[s];      \
    }                                                                                           \
    ms[t] = sigmoid(q);                                                                         \
  }                                                                                             \
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

HD_VARIANTS(cbam_mean, HD_INFER_CBAM_ARGS, HD_INFER_CBAM_BODY)

long hd_infer_cbam_mean_work(long time, long channels, long hidden) {
  return 2 * channels + 2 * hidden + 3 * time;
}

void hd_infer_cbam_mean(int variant, long time, long channels, long hidden, const float *x,
                        const float *w1, const float *w2, long kernel, const float *filter,
                        float *out, float *work) {
  if (time <= 0 || channels <= 0) return;
  HD_DISPATCH(variant, cbam_mean, time, channels, hidden, x, w1, w2, kernel, filter, out, work);
}
