// Conv1D forward and input gradient with Winograd's minimal filtering F(4, 5): four outputs of a
// five-tap filter from eight products instead of twenty, so the channel-mixing GEMMs do 2/5 of
// im2col's work.
//
// Per tile of 4 output steps (inputs d_0..d_7 = x[4t − pad .. 4t − pad + 7], zero outside):
//   V_ξ = Σ_j BT[ξ][j]·d_j            (input transform, 8 × in_channels per tile)
//   U_ξ = Σ_k G[ξ][k]·w_k             (filter transform, 8 × in_channels × out_channels)
//   M_ξ = V_ξ · U_ξ                    (8 GEMMs: tiles × in_channels by in_channels × out_channels)
//   y_{4t+i} = Σ_ξ AT[i][ξ]·M_ξ + bias (output transform)
// The matrices come from the Toom–Cook construction with interpolation points 0, ±1, ±2, ±½, ∞
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016), with BT's rows
// scaled to small integers and halves and G's rows divided by the same factors. In float32 its
// rounding error is 2–5× the direct sum's (at most 1.9e-6 of the largest value in the kernel
// tests). The input gradient takes the same path (below); the filter gradient stays on im2col +
// GEMM.
//
// All transforms run along the channel axis, which is contiguous (channels last), so they are
// plain vectorizable loops; each is compiled per instruction-set variant like the other kernels.
#include "CKernels.h"
#include "internal.h"

#include <string.h>

enum { TILE = 4, TAPS = 5, POINTS = TILE + TAPS - 1 };

int hd_conv1d_winograd_applies(const hd_conv1d_geometry *g) {
  // Measured with har-bench's conv cases on one core: LM's 16 → 32 layer 0.22 → 0.14 ms, the
  // teacher's 64/128-channel layers about 2× faster; its 9 → 16 layer was slower (0.13 →
  // 0.15 ms): with few input channels the per-channel transforms outweigh the saved products.
  return g->kernel == TAPS && g->stride == 1 && g->dilation == 1 && g->in_channels >= 16 &&
         g->out_channels >= 16 && g->out_length > 0;
}

// U[ξ][i][o] from w[k][i][o]: G with rows 1–6 divided by BT's row scales (−9/2, 9/2, 180,
// −180, 45/64, −45/64).
#define HD_WINO_FILTER_BODY                                                                    \
  const long n = cin * cout;                                                                   \
  const float *w0 = w, *w1 = w + n, *w2 = w + 2 * n, *w3 = w + 3 * n, *w4 = w + 4 * n;         \
  float *u0 = u, *u1 = u + n, *u2 = u + 2 * n, *u3 = u + 3 * n, *u4 = u + 4 * n;               \
  float *u5 = u + 5 * n, *u6 = u + 6 * n, *u7 = u + 7 * n;                                     \
  for (long e = 0; e < n; e++) {                                                               \
    float a = w0[e], b = w1[e], c = w2[e], d = w3[e], f = w4[e];                               \
    float even = a + c + f, odd = b + d;                                                       \
    u0[e] = a;                                                                                 \
    u1[e] = (-2.0f / 9.0f) * (even + odd);                                                     \
    u2[e] = (2.0f / 9.0f) * (even - odd);                                                      \
    float even2 = (1.0f / 180.0f) * a + (1.0f / 45.0f) * c + (4.0f / 45.0f) * f;               \
    float odd2 = (1.0f / 90.0f) * b + (2.0f / 45.0f) * d;                                      \
    u3[e] = even2 + odd2;                                                                      \
    u4[e] = odd2 - even2;                                                                      \
    float even3 = (64.0f / 45.0f) * a + (16.0f / 45.0f) * c + (4.0f / 45.0f) * f;              \
    float odd3 = (32.0f / 45.0f) * b + (8.0f / 45.0f) * d;                                     \
    u5[e] = even3 + odd3;                                                                      \
    u6[e] = odd3 - even3;                                                                      \
    u7[e] = f;                                                                                 \
  }

// V[ξ][r][i] for one tile r from its eight input rows d[0..7] (each `cin` floats).
#define HD_WINO_INPUT_BODY                                                                     \
  const float *d0 = d[0], *d1 = d[1], *d2 = d[2], *d3 = d[3];                                  \
  const float *d4 = d[4], *d5 = d[5], *d6 = d[6], *d7 = d[7];                                  \
  for (long i = 0; i < cin; i++) {                                                             \
    float x0 = d0[i], x1 = d1[i], x2 = d2[i], x3 = d3[i];                                      \
    float x4 = d4[i], x5 = d5[i], x6 = d6[i], x7 = d7[i];                                      \
    v[i] = (x0 - x6) + 5.25f * (x4 - x2);                                                      \
    float a1 = x1 + x5 - 4.25f * x3, b1 = x2 + x6 - 4.25f * x4;                                \
    v[stride + i] = a1 + b1;                                                                   \
    v[2 * stride + i] = a1 - b1;                                                               \
    float a2 = x1 - 5.0f * x3 + 4.0f * x5, b2 = 0.5f * x2 - 2.5f * x4 + 2.0f * x6;             \
    v[3 * stride + i] = a2 + b2;                                                               \
    v[4 * stride + i] = a2 - b2;                                                               \
    float a3 = x1 - 1.25f * x3 + 0.25f * x5, b3 = 2.0f * x2 - 2.5f * x4 + 0.5f * x6;           \
    v[5 * stride + i] = a3 + b3;                                                               \
    v[6 * stride + i] = a3 - b3;                                                               \
    v[7 * stride + i] = (x7 - x1) + 5.25f * (x3 - x5);                                         \
  }

// Output rows y[0..rows) (rows ≤ 4) of one tile from M[ξ][r][o], plus the bias.
#define HD_WINO_OUTPUT_BODY                                                                    \
  for (long o = 0; o < cout; o++) {                                                            \
    float m0 = m[o], m1 = m[stride + o], m2 = m[2 * stride + o], m3 = m[3 * stride + o];       \
    float m4 = m[4 * stride + o], m5 = m[5 * stride + o], m6 = m[6 * stride + o];              \
    float m7 = m[7 * stride + o];                                                              \
    float s1 = m1 + m2, d1 = m1 - m2, s2 = m3 + m4, d2 = m3 - m4, s3 = m5 + m6, d3 = m5 - m6;  \
    float b = bias ? bias[o] : 0.0f;                                                           \
    float r0 = b + m0 + s1 + s2 + s3;                                                          \
    float r1 = b + d1 + 2.0f * d2 + 0.5f * d3;                                                 \
    float r2 = b + s1 + 4.0f * s2 + 0.25f * s3;                                                \
    float r3 = b + d1 + 8.0f * d2 + 0.125f * d3 + m7;                                          \
    y[o] = r0;                                                                                 \
    if (rows > 1) y[cout + o] = r1;                                                            \
    if (rows > 2) y[2 * cout + o] = r2;                                                        \
    if (rows > 3) y[3 * cout + o] = r3;                                                        \
  }

#define HD_WINO_FILTER_ARGS long cin, long cout, const float *restrict w, float *restrict u
#define HD_WINO_INPUT_ARGS                                                                     \
  long cin, const float *const *d, float *restrict v, long stride
#define HD_WINO_OUTPUT_ARGS                                                                    \
  long cout, const float *restrict m, long stride, const float *restrict bias,                 \
      float *restrict y, long rows

static void wino_filter_generic(HD_WINO_FILTER_ARGS) { HD_WINO_FILTER_BODY }
static void wino_input_generic(HD_WINO_INPUT_ARGS) { HD_WINO_INPUT_BODY }
static void wino_output_generic(HD_WINO_OUTPUT_ARGS) { HD_WINO_OUTPUT_BODY }
#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void wino_filter_avx2(HD_WINO_FILTER_ARGS) {
  HD_WINO_FILTER_BODY
}
__attribute__((target("avx2,fma"))) static void wino_input_avx2(HD_WINO_INPUT_ARGS) {
  HD_WINO_INPUT_BODY
}
__attribute__((target("avx2,fma"))) static void wino_output_avx2(HD_WINO_OUTPUT_ARGS) {
  HD_WINO_OUTPUT_BODY
}
__attribute__((target("avx512f"))) static void wino_filter_avx512(HD_WINO_FILTER_ARGS) {
  HD_WINO_FILTER_BODY
}
__attribute__((target("avx512f"))) static void wino_input_avx512(HD_WINO_INPUT_ARGS) {
  HD_WINO_INPUT_BODY
}
__attribute__((target("avx512f"))) static void wino_output_avx512(HD_WINO_OUTPUT_ARGS) {
  HD_WINO_OUTPUT_BODY
}
#endif

// Tiles per GEMM batch: enough rows for the GEMMs to run at full speed and to amortize packing
// each U_ξ, few enough that V and M (8 · tiles · (cin + cout) floats) stay near L2.
static long tiles_per_block(const hd_conv1d_geometry *g) {
  long per_tile = POINTS * (g->in_channels + g->out_channels);
  long tiles = (512 * 1024 / (long)sizeof(float)) / per_tile;
  return tiles < 64 ? 64 : tiles;
}

// The convolution of `g` with the filter already transformed into `u`.
static void winograd_run(int variant, const hd_conv1d_geometry *g, const float *x,
                         const float *u, const float *bias, float *y) {
  const long cin = g->in_channels, cout = g->out_channels, L = g->in_length;
  const long Lout = g->out_length, pad = g->pad_before;
  const long per_sample = (Lout + TILE - 1) / TILE, total = g->batch * per_sample;
  const long block = tiles_per_block(g) < total ? tiles_per_block(g) : total;
  float *v = hd_scratch(HD_SCRATCH_COLS, (size_t)(POINTS * block * cin + POINTS * cin));
  float *m = hd_scratch(HD_SCRATCH_FIX, (size_t)(POINTS * block * cout));
  float *edge = v + POINTS * block * cin;  // a tile's input rows when some fall on padding
  for (long r0 = 0; r0 < total; r0 += block) {
    long nr = total - r0 < block ? total - r0 : block;
    for (long r = 0; r < nr; r++) {
      long b = (r0 + r) / per_sample, t = (r0 + r) % per_sample;
      long s0 = t * TILE - pad;
      const float *sample = x + b * L * cin;
      const float *rows[POINTS];
      for (long j = 0; j < POINTS; j++) {
        long s = s0 + j;
        if (s >= 0 && s < L) {
          rows[j] = sample + s * cin;
        } else {
          memset(edge + j * cin, 0, (size_t)cin * sizeof(float));
          rows[j] = edge + j * cin;
        }
      }
      HD_DISPATCH(variant, wino_input, cin, rows, v + r * cin, nr * cin);
    }
    for (long p = 0; p < POINTS; p++)
      hd_sgemm(variant, 0, 0, nr, cout, cin, v + p * nr * cin, cin, u + p * cin * cout, cout,
               0.0f, m + p * nr * cout, cout);
    for (long r = 0; r < nr; r++) {
      long b = (r0 + r) / per_sample, t = (r0 + r) % per_sample;
      long rows = Lout - t * TILE < TILE ? Lout - t * TILE : TILE;
      HD_DISPATCH(variant, wino_output, cout, m + r * cout, nr * cout, bias,
                  y + (b * Lout + t * TILE) * cout, rows);
    }
  }
}

void hd_conv1d_winograd_forward(int variant, const hd_conv1d_geometry *g, const float *x,
                                const float *w, const float *bias, float *y) {
  const long cin = g->in_channels, cout = g->out_channels;
  float *u = hd_scratch(HD_SCRATCH_WINO_U, (size_t)(POINTS * cin * cout));
  HD_DISPATCH(variant, wino_filter, cin, cout, w, u);
  winograd_run(variant, g, x, u, bias, y);
}

// The input gradient is itself a stride-1 convolution: gx[s] = Σ_j gy[s + pad − j]·w[j]ᵀ, i.e.
// gy convolved with the filter flipped in time and transposed, w'[j][o][i] = w[4 − j][i][o],
// with k − 1 − pad zeros before. So it takes the same path with the roles of the channels
// swapped.
static hd_conv1d_geometry input_gradient_geometry(const hd_conv1d_geometry *g) {
  hd_conv1d_geometry t = *g;
  t.in_length = g->out_length;
  t.in_channels = g->out_channels;
  t.out_length = g->in_length;
  t.out_channels = g->in_channels;
  t.pad_before = g->kernel - 1 - g->pad_before;
  return t;
}

int hd_conv1d_winograd_backward_input_applies(const hd_conv1d_geometry *g) {
  hd_conv1d_geometry t = input_gradient_geometry(g);
  return g->pad_before <= g->kernel - 1 && hd_conv1d_winograd_applies(&t);
}

void hd_conv1d_winograd_backward_input(int variant, const hd_conv1d_geometry *g, const float *gy,
                                       const float *w, float *gx) {
  const hd_conv1d_geometry t = input_gradient_geometry(g);
  const long cin = g->in_channels, cout = g->out_channels;
  // [U (8 · cout · cin) | w' (5 · cout · cin)] in one scratch slot.
  float *u = hd_scratch(HD_SCRATCH_WINO_U, (size_t)((POINTS + TAPS) * cin * cout));
  float *flipped = u + POINTS * cin * cout;
  for (long j = 0; j < TAPS; j++) {
    const float *source = w + (TAPS - 1 - j) * cin * cout;  // [cin][cout]
    float *target = flipped + j * cout * cin;               // [cout][cin]
    for (long i = 0; i < cin; i++)
      for (long o = 0; o < cout; o++) target[o * cin + i] = source[i * cout + o];
  }
  HD_DISPATCH(variant, wino_filter, cout, cin, flipped, u);
  winograd_run(variant, &t, gy, u, NULL, gx);
}
