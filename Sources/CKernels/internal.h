// Shared by the C kernels only; not part of the module's interface.
#ifndef HARDISTILL_CKERNELS_INTERNAL_H
#define HARDISTILL_CKERNELS_INTERNAL_H

#include "CKernels.h"

#include <stddef.h>

#include <math.h>

/// The logistic function without overflow for large |x| (as the Swift kernel).
static inline float hd_sigmoid(float x) {
  if (x >= 0) return 1.0f / (1.0f + expf(-x));
  float e = expf(x);
  return e / (1.0f + e);
}

// CBAM's channel map of one example `x` `[time, channels]` into `mc_out[channels]` (cbam.c and
// inference.c): the mean and the first maximum over time, the shared MLP ReLU(d·W1)·W2 on both,
// summed, through the sigmoid. Needs `x`, `w1` `[channels, hidden]`, `w2` `[hidden, channels]`,
// `time`, `channels`, `hidden` and the work arrays `sum`, `peak` `[channels]` and `ha`, `hm`
// `[hidden]` in scope; `mc_out` may be `sum` (each element is read before it is written).
#define HD_CBAM_CHANNEL_MAP(mc_out)                                                          \
  do {                                                                                       \
    for (long c = 0; c < channels; c++) {                                                    \
      sum[c] = x[c];                                                                         \
      peak[c] = x[c];                                                                        \
    }                                                                                        \
    for (long t = 1; t < time; t++) {                                                        \
      const float *row = x + t * channels;                                                   \
      for (long c = 0; c < channels; c++) {                                                  \
        sum[c] += row[c];                                                                    \
        peak[c] = row[c] > peak[c] ? row[c] : peak[c];                                       \
      }                                                                                      \
    }                                                                                        \
    for (long c = 0; c < channels; c++) sum[c] /= (float)time;                               \
    for (long h = 0; h < hidden; h++) ha[h] = hm[h] = 0.0f;                                  \
    for (long c = 0; c < channels; c++) {                                                    \
      const float *wr = w1 + c * hidden;                                                     \
      for (long h = 0; h < hidden; h++) {                                                    \
        ha[h] += sum[c] * wr[h];                                                             \
        hm[h] += peak[c] * wr[h];                                                            \
      }                                                                                      \
    }                                                                                        \
    for (long h = 0; h < hidden; h++) {                                                      \
      ha[h] = ha[h] > 0.0f ? ha[h] : 0.0f;                                                   \
      hm[h] = hm[h] > 0.0f ? hm[h] : 0.0f;                                                   \
    }                                                                                        \
    for (long c = 0; c < channels; c++) sum[c] = peak[c] = 0.0f;                             \
    for (long h = 0; h < hidden; h++) {                                                      \
      const float *wr = w2 + h * channels;                                                   \
      for (long c = 0; c < channels; c++) {                                                  \
        sum[c] += ha[h] * wr[c];                                                             \
        peak[c] += hm[h] * wr[c];                                                            \
      }                                                                                      \
    }                                                                                        \
    for (long c = 0; c < channels; c++) (mc_out)[c] = hd_sigmoid(sum[c] + peak[c]);          \
  } while (0)

// CBAM's spatial map of one example after the channel map `mc` (cbam.c and inference.c): the
// mean and maximum over channels of x ⊙ mc per step into `mean_out`, `max_out` `[time]` (16 lanes
// so that the loops vectorize; a multiply by 1/C instead of a division per step, one rounding
// more), then a `same` convolution of [mean, max] over time by `filter` `[kernel, 2]` and the
// sigmoid into `ms_out` `[time]`. Needs `x`, `mc`, `time`, `channels`, `kernel`, `filter` in scope.
#define HD_CBAM_SPATIAL_MAP(mean_out, max_out, ms_out)                                       \
  do {                                                                                       \
    const float inverse_channels = 1.0f / (float)channels;                                   \
    for (long t = 0; t < time; t++) {                                                        \
      const float *row = x + t * channels;                                                   \
      float lanes_[16], tops_[16];                                                             \
      float first = row[0] * mc[0];                                                          \
      for (int k = 0; k < 16; k++) {                                                         \
        lanes_[k] = 0.0f;                                                                     \
        tops_[k] = first;                                                                     \
      }                                                                                      \
      long c = 0;                                                                            \
      for (; c + 16 <= channels; c += 16)                                                    \
        for (int k = 0; k < 16; k++) {                                                       \
          float v = row[c + k] * mc[c + k];                                                  \
          lanes_[k] += v;                                                                     \
          tops_[k] = v > tops_[k] ? v : tops_[k];                                               \
        }                                                                                    \
      for (; c < channels; c++) {                                                            \
        float v = row[c] * mc[c];                                                            \
        lanes_[0] += v;                                                                       \
        tops_[0] = v > tops_[0] ? v : tops_[0];                                                 \
      }                                                                                      \
      /* Halving tree over the lanes_: 4 dependent steps instead of a 16-add chain. */       \
      for (int width = 8; width >= 1; width /= 2)                                            \
        for (int k = 0; k < width; k++) {                                                    \
          lanes_[k] += lanes_[k + width];                                                      \
          tops_[k] = tops_[k + width] > tops_[k] ? tops_[k + width] : tops_[k];                   \
        }                                                                                    \
      (mean_out)[t] = lanes_[0] * inverse_channels;                                           \
      (max_out)[t] = tops_[0];                                                                \
    }                                                                                        \
    const long pad = (kernel - 1) / 2;                                                       \
    for (long t = 0; t < time; t++) {                                                        \
      float q = 0.0f;                                                                        \
      for (long j = 0; j < kernel; j++) {                                                    \
        long s = t + j - pad;                                                                \
        if (s >= 0 && s < time)                                                              \
          q += filter[2 * j] * (mean_out)[s] + filter[2 * j + 1] * (max_out)[s];             \
      }                                                                                      \
      (ms_out)[t] = hd_sigmoid(q);                                                           \
    }                                                                                        \
  } while (0)

enum {
  HD_SCRATCH_PACK_A = 0,
  HD_SCRATCH_PACK_B = 1,
  HD_SCRATCH_COLS = 2,
  HD_SCRATCH_FIX = 3,
  HD_SCRATCH_WINO_U = 4,
  HD_SCRATCH_COUNT = 5
};

/// A 64-byte-aligned per-thread buffer of at least `count` floats in slot `slot`; it grows only
/// and is freed when the thread exits. Contents are not preserved across growth.
float *hd_scratch(int slot, size_t count);

// Calls `name`_avx512, `name`_avx2 or `name`_generic with the arguments: the best variant the
// caller asked for that this CPU supports.
#if defined(__x86_64__)
#define HD_DISPATCH(variant, name, ...)                                                      \
  do {                                                                                       \
    if (hd_variant_supported(variant) && (variant) == HD_VARIANT_AVX512F)                    \
      name##_avx512(__VA_ARGS__);                                                            \
    else if (hd_variant_supported(variant) && (variant) == HD_VARIANT_AVX2_FMA)              \
      name##_avx2(__VA_ARGS__);                                                              \
    else                                                                                     \
      name##_generic(__VA_ARGS__);                                                           \
  } while (0)
#else
#define HD_DISPATCH(variant, name, ...) ((void)(variant), name##_generic(__VA_ARGS__))
#endif

// Defines `name`_generic, `name`_avx2 and `name`_avx512 (what HD_DISPATCH calls) from one
// parameter list and one body, each variant compiled for its own target.
#if defined(__x86_64__)
#define HD_VARIANTS(name, ARGS, BODY)                                                        \
  static void name##_generic(ARGS) { BODY }                                                  \
  __attribute__((target("avx2,fma"))) static void name##_avx2(ARGS) { BODY }                 \
  __attribute__((target("avx512f"))) static void name##_avx512(ARGS) { BODY }
#else
#define HD_VARIANTS(name, ARGS, BODY) static void name##_generic(ARGS) { BODY }
#endif

/// Whether `hd_conv1d_winograd_forward` can compute this convolution and is expected to pay
/// (kernel 5, stride 1, dilation 1, at least 16 channels in and out).
int hd_conv1d_winograd_applies(const hd_conv1d_geometry *g);

/// `hd_conv1d_forward` by Winograd's F(4, 5) (winograd.c); `g` must satisfy
/// `hd_conv1d_winograd_applies`.
void hd_conv1d_winograd_forward(int variant, const hd_conv1d_geometry *g, const float *x,
                                const float *w, const float *bias, float *y);

/// F(4, 5)'s filter transform: `u` `[8, cin, cout]` from `w` `[5, cin, cout]`.
void hd_conv1d_winograd_filter(int variant, long cin, long cout, const float *w, float *u);

/// Whether `hd_conv1d_winograd_backward_input` can compute the input gradient of this
/// convolution (the same conditions, with the channel counts swapped).
int hd_conv1d_winograd_backward_input_applies(const hd_conv1d_geometry *g);

/// `hd_conv1d_backward_input` by Winograd's F(4, 5): `gy` convolved with the filter flipped in
/// time and transposed; `gx` is fully written.
void hd_conv1d_winograd_backward_input(int variant, const hd_conv1d_geometry *g, const float *gy,
                                       const float *w, float *gx);

/// `hd_conv1d_backward_filter` by Winograd's F(5, 4) over time, under the same conditions as the
/// forward pass (`hd_conv1d_winograd_applies`).
void hd_conv1d_winograd_backward_filter(int variant, const hd_conv1d_geometry *g, const float *x,
                                        const float *gy, float *gw, float *gb, int accumulate);

#endif
