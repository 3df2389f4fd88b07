// Conv1D forward and gradients with Winograd's minimal filtering F(4, 5): four outputs of a
// five-tap filter from eight products instead of twenty, so the channel-mixing GEMMs do 2/5 of
// im2col's work (the filter gradient uses its transpose, F(5, 4), the same way).
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
// tests). The input gradient takes the same path, and the filter gradient F(5, 4) (below).
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

// Filter gradient, F(5, 4): the 4 upstream rows g[0..3] of one tile, transformed with G's rows
// (4 taps, same points and scales as above) into u[ξ·stride + o].
#define HD_WINO_UPSTREAM_BODY                                                                  \
  const float *g0 = g[0], *g1 = g[1], *g2 = g[2], *g3 = g[3];                                  \
  for (long o = 0; o < cout; o++) {                                                            \
    float a = g0[o], b = g1[o], c = g2[o], d = g3[o];                                          \
    float even = a + c, odd = b + d;                                                           \
    u[o] = a;                                                                                  \
    u[stride + o] = (-2.0f / 9.0f) * (even + odd);                                             \
    u[2 * stride + o] = (2.0f / 9.0f) * (even - odd);                                          \
    float even2 = (1.0f / 180.0f) * a + (1.0f / 45.0f) * c;                                    \
    float odd2 = (1.0f / 90.0f) * b + (2.0f / 45.0f) * d;                                      \
    u[3 * stride + o] = even2 + odd2;                                                          \
    u[4 * stride + o] = odd2 - even2;                                                          \
    float even3 = (64.0f / 45.0f) * a + (16.0f / 45.0f) * c;                                   \
    float odd3 = (32.0f / 45.0f) * b + (8.0f / 45.0f) * d;                                     \
    u[5 * stride + o] = even3 + odd3;                                                          \
    u[6 * stride + o] = odd3 - even3;                                                          \
    u[7 * stride + o] = d;                                                                     \
  }

// The 5 filter-gradient taps gw[j·n + e] from the 8 accumulated products m[ξ·n + e] (Aᵀ of
// F(5, 4): rows 1, p, p², p³, p⁴ at the points), written or added.
#define HD_WINO_TAPS_BODY                                                                      \
  for (long e = 0; e < n; e++) {                                                               \
    float m0 = m[e], m1 = m[n + e], m2 = m[2 * n + e], m3 = m[3 * n + e];                      \
    float m4 = m[4 * n + e], m5 = m[5 * n + e], m6 = m[6 * n + e], m7 = m[7 * n + e];          \
    float s1 = m1 + m2, d1 = m1 - m2, s2 = m3 + m4, d2 = m3 - m4, s3 = m5 + m6, d3 = m5 - m6;  \
    float t0 = m0 + s1 + s2 + s3;                                                              \
    float t1 = d1 + 2.0f * d2 + 0.5f * d3;                                                     \
    float t2 = s1 + 4.0f * s2 + 0.25f * s3;                                                    \
    float t3 = d1 + 8.0f * d2 + 0.125f * d3;                                                   \
    float t4 = s1 + 16.0f * s2 + 0.0625f * s3 + m7;                                            \
    if (accumulate) {                                                                          \
      gw[e] += t0; gw[n + e] += t1; gw[2 * n + e] += t2; gw[3 * n + e] += t3;                  \
      gw[4 * n + e] += t4;                                                                     \
    } else {                                                                                   \
      gw[e] = t0; gw[n + e] = t1; gw[2 * n + e] = t2; gw[3 * n + e] = t3; gw[4 * n + e] = t4;  \
    }                                                                                          \
  }

#define HD_WINO_UPSTREAM_ARGS long cout, const float *const *g, float *restrict u, long stride
#define HD_WINO_TAPS_ARGS long n, const float *restrict m, float *restrict gw, int accumulate
#define HD_WINO_FILTER_ARGS long cin, long cout, const float *restrict w, float *restrict u
#define HD_WINO_INPUT_ARGS                                                                     \
  long cin, const float *const *d, float *restrict v, long stride
#define HD_WINO_OUTPUT_ARGS                                                                    \
  long cout, const float *restrict m, long stride, const float *restrict bias,                 \
      float *restrict y, long rows

HD_VARIANTS(wino_filter, HD_WINO_FILTER_ARGS, HD_WINO_FILTER_BODY)
HD_VARIANTS(wino_input, HD_WINO_INPUT_ARGS, HD_WINO_INPUT_BODY)
HD_VARIANTS(wino_output, HD_WINO_OUTPUT_ARGS, HD_WINO_OUTPUT_BODY)
HD_VARIANTS(wino_upstream, HD_WINO_UPSTREAM_ARGS, HD_WINO_UPSTREAM_BODY)
HD_VARIANTS(wino_taps, HD_WINO_TAPS_ARGS, HD_WINO_TAPS_BODY)

void hd_conv1d_winograd_filter(int variant, long cin, long cout, const float *w, float *u) {
  HD_DISPATCH(variant, wino_filter, cin, cout, w, u);
}

// Tiles per GEMM batch: enough rows for the GEMMs to run at full speed and to amortize packing
// each U_ξ, few enough that V and M (8 · tiles · (cin + cout) floats) stay near L2.
static long tiles_per_block(const hd_conv1d_geometry *g) {
  long per_tile = POINTS * (g->in_channels + g->out_channels);
  long tiles = (512 * 1024 / (long)sizeof(float)) / per_tile;
  return tiles < 64 ? 64 : tiles;
}

// V for tiles [r0, r0 + nr) (flat index b · tiles per sample + t): their 8 input rows each
// (zeros outside the sample, from `edge`), transformed into v[ξ · nr · cin + r · cin + i].
static void transform_inputs(int variant, const hd_conv1d_geometry *g, const float *x, long r0,
                             long nr, float *v, float *edge) {
  const long cin = g->in_channels, L = g->in_length, pad = g->pad_before;
  const long per_sample = (g->out_length + TILE - 1) / TILE;
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
}

// The convolution of `g` with the filter already transformed into `u`.
static void winograd_run(int variant, const hd_conv1d_geometry *g, const float *x,
                         const float *u, const float *bias, float *y) {
  const long cin = g->in_channels, cout = g->out_channels, Lout = g->out_length;
  const long per_sample = (Lout + TILE - 1) / TILE, total = g->batch * per_sample;
  const long block = tiles_per_block(g) < total ? tiles_per_block(g) : total;
  float *v = hd_scratch(HD_SCRATCH_COLS, (size_t)(POINTS * block * cin + POINTS * cin));
  float *m = hd_scratch(HD_SCRATCH_FIX, (size_t)(POINTS * block * cout));
  float *edge = v + POINTS * block * cin;  // a tile's input rows when some fall on padding
  for (long r0 = 0; r0 < total; r0 += block) {
    long nr = total - r0 < block ? total - r0 : block;
    transform_inputs(variant, g, x, r0, nr, v, edge);
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

// The filter gradient is F(5, 4) over time: gw[j] = Σ_t x[t + j − pad]·gy[t] collects, per tile
// of 4 upstream steps, 5 taps from the tile's 8 input rows (the same rows and input transform
// as the forward pass) and its 4 upstream rows. The 8 products are summed over all tiles before
// the output transform, as 8 GEMMs of cin × tiles by tiles × cout.
void hd_conv1d_winograd_backward_filter(int variant, const hd_conv1d_geometry *g, const float *x,
                                        const float *gy, float *gw, float *gb, int accumulate) {
  const long cin = g->in_channels, cout = g->out_channels, Lout = g->out_length;
  const long per_sample = (Lout + TILE - 1) / TILE, total = g->batch * per_sample;
  const long block = tiles_per_block(g) < total ? tiles_per_block(g) : total;
  float *v = hd_scratch(HD_SCRATCH_COLS, (size_t)(POINTS * block * cin + POINTS * cin));
  float *u = hd_scratch(HD_SCRATCH_FIX, (size_t)(POINTS * block * cout + cout));
  float *m = hd_scratch(HD_SCRATCH_WINO_U, (size_t)(POINTS * cin * cout));
  float *edge = v + POINTS * block * cin, *zeros = u + POINTS * block * cout;
  memset(zeros, 0, (size_t)cout * sizeof(float));
  for (long r0 = 0; r0 < total; r0 += block) {
    long nr = total - r0 < block ? total - r0 : block;
    transform_inputs(variant, g, x, r0, nr, v, edge);
    for (long r = 0; r < nr; r++) {
      long b = (r0 + r) / per_sample, t = (r0 + r) % per_sample;
      const float *rows[TILE];
      for (long j = 0; j < TILE; j++) {
        long step = t * TILE + j;
        rows[j] = step < Lout ? gy + (b * Lout + step) * cout : zeros;
      }
      HD_DISPATCH(variant, wino_upstream, cout, rows, u + r * cout, nr * cout);
    }
    for (long p = 0; p < POINTS; p++)
      hd_sgemm(variant, 1, 0, cin, cout, nr, v + p * nr * cin, cin, u + p * nr * cout, cout,
               r0 == 0 ? 0.0f : 1.0f, m + p * cin * cout, cout);
  }
  HD_DISPATCH(variant, wino_taps, cin * cout, m, gw, accumulate);
  if (gb) {
    if (!accumulate) memset(gb, 0, (size_t)cout * sizeof(float));
    for (long r = 0; r < g->batch * Lout; r++)
      for (long o = 0; o < cout; o++) gb[o] += gy[r * cout + o];
  }
}
