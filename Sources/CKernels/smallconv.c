// Direct 1-D convolutions for few channels (16 or 32 outputs): the students' layers.
//
// Why not im2col + GEMM there: with 16–32 output channels the GEMM's panels are one or two
// vectors wide, and packing the (k·cin)-float windows cost more instructions than the
// multiply-adds themselves (callgrind on the LM training step: pack_a 26 % of the step, the
// micro-kernel 21 %). Here each sample is copied once into a zero-padded buffer, so that output
// step t reads the contiguous window `xp[t·cin, (t + k)·cin)`, and the sums run on a register
// block of output rows (forward, input gradient) or of filter taps (filter gradient), the
// channels in 16-float vectors. The input gradient is the forward kernel on the padded upstream
// gradient with the filter flipped in time and transposed.
#include "CKernels.h"
#include "internal.h"

#include <string.h>

typedef float v16 __attribute__((vector_size(64), aligned(4)));
typedef int vi16 __attribute__((vector_size(64), aligned(4)));

#define ALWAYS static inline __attribute__((always_inline))
#define UNROLL _Pragma("clang loop unroll(full)")
#define LOAD(p) (*(const v16 *)(p))
#define STORE(p, value) (*(v16 *)(p) = (value))

int hd_conv1d_small_applies(long in_channels, long out_channels, long kernel, long stride,
                            long dilation, long in_length, long out_length, long pad_before) {
  return (out_channels == 16 || out_channels == 32) && in_channels >= 1 && in_channels <= 32 &&
         kernel >= 1 && kernel <= 16 && stride == 1 && dilation == 1 && in_length >= 1 &&
         out_length == in_length && pad_before >= 0 && pad_before < kernel;
}

int hd_conv1d_small_backward_input_applies(long in_channels, long out_channels, long kernel,
                                           long stride, long dilation, long in_length,
                                           long out_length, long pad_before) {
  return hd_conv1d_small_applies(in_channels, out_channels, kernel, stride, dilation, in_length,
                                 out_length, pad_before) &&
         (in_channels == 16 || in_channels == 32);
}

// R output rows of 16·V channels: y[r] = bias + Σ_q win[r·ld + q]·w[q] (w rows of 16·V), then
// max(0, ·) when relu.
ALWAYS void rows(const int V, const int R, const float *restrict win, long ld, long depth,
                 const float *restrict w, const float *restrict bias, int relu,
                 float *restrict y) {
  const long width = 16 * V;
  v16 acc[8][2];
  UNROLL for (int r = 0; r < R; r++) UNROLL for (int v = 0; v < V; v++) acc[r][v] =
      bias ? LOAD(bias + 16 * v) : (v16){0};
  for (long q = 0; q < depth; q++) {
    v16 wv[2];
    UNROLL for (int v = 0; v < V; v++) wv[v] = LOAD(w + q * width + 16 * v);
    UNROLL for (int r = 0; r < R; r++) {
      const float s = win[r * ld + q];
      UNROLL for (int v = 0; v < V; v++) acc[r][v] += s * wv[v];
    }
  }
  UNROLL for (int r = 0; r < R; r++) UNROLL for (int v = 0; v < V; v++) {
    v16 a = acc[r][v];
    // As Tensor's ReLU, `x < 0 ? 0 : x`: a NaN stays NaN (and reaches the loss).
    if (relu) a = (v16)((vi16)a & ~(a < (v16){0}));
    STORE(y + r * width + 16 * v, a);
  }
}

// One sample's `length` output rows from its padded input `xp` (row stride cin).
ALWAYS void sample_forward(const int V, const int R, const float *xp, long cin, long length,
                           long depth, const float *w, const float *bias, int relu, float *y) {
  const long width = 16 * V;
  long t = 0;
  for (; t + R <= length; t += R)
    rows(V, R, xp + t * cin, cin, depth, w, bias, relu, y + t * width);
  for (; t + 4 <= length; t += 4)
    rows(V, 4, xp + t * cin, cin, depth, w, bias, relu, y + t * width);
  for (; t < length; t++) rows(V, 1, xp + t * cin, cin, depth, w, bias, relu, y + t * width);
}

// gw[q0 + j] += Σ_t xp[t·cin + q0 + j]·g[t] for j < Q (g rows of 16·V).
ALWAYS void taps(const int V, const int Q, const float *restrict xp, long cin, long length,
                 const float *restrict g, long q0, float *restrict gw) {
  const long width = 16 * V;
  v16 acc[24][2];
  UNROLL for (int j = 0; j < Q; j++) UNROLL for (int v = 0; v < V; v++) acc[j][v] = (v16){0};
  for (long t = 0; t < length; t++) {
    v16 gv[2];
    UNROLL for (int v = 0; v < V; v++) gv[v] = LOAD(g + t * width + 16 * v);
    const float *row = xp + t * cin + q0;
    UNROLL for (int j = 0; j < Q; j++) {
      const float s = row[j];
      UNROLL for (int v = 0; v < V; v++) acc[j][v] += s * gv[v];
    }
  }
  UNROLL for (int j = 0; j < Q; j++) UNROLL for (int v = 0; v < V; v++) {
    float *target = gw + (q0 + j) * width + 16 * v;
    STORE(target, LOAD(target) + acc[j][v]);
  }
}

ALWAYS void sample_filter(const int V, const int Q, const float *xp, long cin, long length,
                          long depth, const float *g, float *gw) {
  long q = 0;
  for (; q + Q <= depth; q += Q) taps(V, Q, xp, cin, length, g, q, gw);
  if (Q > 8)
    for (; q + 8 <= depth; q += 8) taps(V, 8, xp, cin, length, g, q, gw);
  if (Q > 4)
    for (; q + 4 <= depth; q += 4) taps(V, 4, xp, cin, length, g, q, gw);
  for (; q < depth; q++) taps(V, 1, xp, cin, length, g, q, gw);
}

// `length` rows of `channels` from `source` into `target` with `before` zero rows ahead and
// `after` behind; with `mask`, elements where mask ≤ 0 become 0. With `pooled`, `source` holds
// the gradient of max(mask[2u], mask[2u + 1]) (`length / 2` rows): row t gets row t / 2 where
// t is the first step of its pair holding the pair's maximum and mask > 0, else 0.
static void pad_rows(const float *source, const float *mask, int pooled, long length,
                     long channels, long before, long after, float *target) {
  memset(target, 0, (size_t)(before * channels) * sizeof(float));
  float *body = target + before * channels;
  if (pooled) {
    const long pairs = length / 2;
    for (long u = 0; u < pairs; u++) {
      const float *m0 = mask + 2 * u * channels, *m1 = m0 + channels, *g = source + u * channels;
      float *t0 = body + 2 * u * channels, *t1 = t0 + channels;
      for (long c = 0; c < channels; c++) {
        int first = !(m1[c] > m0[c]);  // as max pooling: the first maximum, NaN kept
        float peak = first ? m0[c] : m1[c];
        float value = peak > 0.0f ? g[c] : 0.0f;
        t0[c] = first ? value : 0.0f;
        t1[c] = first ? 0.0f : value;
      }
    }
    memset(body + 2 * pairs * channels, 0,
           (size_t)((length - 2 * pairs) * channels) * sizeof(float));
  } else if (mask) {
    for (long i = 0; i < length * channels; i++) body[i] = mask[i] > 0.0f ? source[i] : 0.0f;
  } else {
    memcpy(body, source, (size_t)(length * channels) * sizeof(float));
  }
  memset(body + length * channels, 0, (size_t)(after * channels) * sizeof(float));
}

#define FORWARD_ARGS                                                                          \
  long batch, long length, long cin, long cout, long kernel, long pad, const float *x,         \
      const float *w, const float *bias, int relu, float *y

ALWAYS void forward_impl(FORWARD_ARGS, const int R1, const int R2) {
  const long padded = length + kernel - 1, depth = kernel * cin;
  float *xp = hd_scratch(HD_SCRATCH_COLS, (size_t)(padded * cin));
  for (long b = 0; b < batch; b++) {
    pad_rows(x + b * length * cin, NULL, 0, length, cin, pad, kernel - 1 - pad, xp);
    float *out = y + b * length * cout;
    if (cout == 16)
      sample_forward(1, R1, xp, cin, length, depth, w, bias, relu, out);
    else
      sample_forward(2, R2, xp, cin, length, depth, w, bias, relu, out);
  }
}

#define BACKWARD_ARGS                                                                         \
  long batch, long length, long cin, long cout, long kernel, long pad, const float *x,         \
      const float *w, const float *gy, const float *mask, int pooled, float *gx, float *gw,      \
      float *gb

ALWAYS void backward_impl(BACKWARD_ARGS, const int R1, const int R2, const int Q1,
                          const int Q2) {
  const long padded = length + kernel - 1, depth = kernel * cin;
  // The input gradient pads the upstream gradient the other way round: k − 1 − pad ahead.
  const long flipped_pad = kernel - 1 - pad;
  float *xp = hd_scratch(HD_SCRATCH_COLS, (size_t)(padded * cin));
  float *gp = hd_scratch(HD_SCRATCH_FIX, (size_t)(padded * cout));
  float *wt = NULL;
  if (gx) {
    // wt[j', o, i] = w[k − 1 − j', i, o].
    wt = hd_scratch(HD_SCRATCH_WINO_U, (size_t)(kernel * cin * cout));
    for (long j = 0; j < kernel; j++)
      for (long i = 0; i < cin; i++)
        for (long o = 0; o < cout; o++)
          wt[((kernel - 1 - j) * cout + o) * cin + i] = w[(j * cin + i) * cout + o];
  }
  for (long b = 0; b < batch; b++) {
    pad_rows(x + b * length * cin, NULL, 0, length, cin, pad, kernel - 1 - pad, xp);
    const float *upstream = gy + b * (pooled ? length / 2 : length) * cout;
    pad_rows(upstream, mask ? mask + b * length * cout : NULL, pooled, length, cout, flipped_pad,
             pad, gp);
    const float *g = gp + flipped_pad * cout;
    if (gb)
      for (long t = 0; t < length; t++)
        for (long o = 0; o < cout; o++) gb[o] += g[t * cout + o];
    if (cout == 16)
      sample_filter(1, Q1, xp, cin, length, depth, g, gw);
    else
      sample_filter(2, Q2, xp, cin, length, depth, g, gw);
    if (gx) {
      float *out = gx + b * length * cin;
      if (cin == 16)
        sample_forward(1, R1, gp, cout, length, kernel * cout, wt, NULL, 0, out);
      else
        sample_forward(2, R2, gp, cout, length, kernel * cout, wt, NULL, 0, out);
    }
  }
}

// Register blocks per target: 32 zmm, 16 ymm (a v16 is two), 16 xmm (four).
static void forward_generic(FORWARD_ARGS) {
  forward_impl(batch, length, cin, cout, kernel, pad, x, w, bias, relu, y, 2, 1);
}
static void backward_generic(BACKWARD_ARGS) {
  backward_impl(batch, length, cin, cout, kernel, pad, x, w, gy, mask, pooled, gx, gw, gb, 2, 1, 2,
                1);
}
#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void forward_avx2(FORWARD_ARGS) {
  forward_impl(batch, length, cin, cout, kernel, pad, x, w, bias, relu, y, 4, 2);
}
__attribute__((target("avx2,fma"))) static void backward_avx2(BACKWARD_ARGS) {
  backward_impl(batch, length, cin, cout, kernel, pad, x, w, gy, mask, pooled, gx, gw, gb, 4, 2, 6,
                2);
}
__attribute__((target("avx512f"))) static void forward_avx512(FORWARD_ARGS) {
  forward_impl(batch, length, cin, cout, kernel, pad, x, w, bias, relu, y, 8, 8);
}
__attribute__((target("avx512f"))) static void backward_avx512(BACKWARD_ARGS) {
  backward_impl(batch, length, cin, cout, kernel, pad, x, w, gy, mask, pooled, gx, gw, gb, 8, 8, 24,
                12);
}
#endif

void hd_conv1d_small_forward(int variant, long batch, long length, long in_channels,
                             long out_channels, long kernel, long pad_before, const float *x,
                             const float *w, const float *bias, int relu, float *y) {
  HD_DISPATCH(variant, forward, batch, length, in_channels, out_channels, kernel, pad_before, x,
              w, bias, relu, y);
}

void hd_conv1d_small_backward(int variant, long batch, long length, long in_channels,
                              long out_channels, long kernel, long pad_before, const float *x,
                              const float *w, const float *gy, const float *mask, float *gx,
                              float *gw, float *gb) {
  HD_DISPATCH(variant, backward, batch, length, in_channels, out_channels, kernel, pad_before, x,
              w, gy, mask, 0, gx, gw, gb);
}

void hd_conv1d_small_backward_pooled(int variant, long batch, long length, long in_channels,
                                     long out_channels, long kernel, long pad_before,
                                     const float *x, const float *w, const float *gp,
                                     const float *y, float *gx, float *gw, float *gb) {
  HD_DISPATCH(variant, backward, batch, length, in_channels, out_channels, kernel, pad_before, x,
              w, gp, y, 1, gx, gw, gb);
}

void hd_max_pool2(long batch, long length, long channels, const float *y, float *p) {
  const long pairs = length / 2;
  for (long b = 0; b < batch; b++)
    for (long u = 0; u < pairs; u++) {
      const float *y0 = y + (b * length + 2 * u) * channels, *y1 = y0 + channels;
      float *out = p + (b * pairs + u) * channels;
      for (long c = 0; c < channels; c++) out[c] = y1[c] > y0[c] ? y1[c] : y0[c];
    }
}
