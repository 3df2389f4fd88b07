// Conv1D on channels-last data as im2col + GEMM, a block of whole samples at a time.
//
// Why im2col and not a direct loop: with channels last, one im2col row is `kernel` contiguous
// runs of `in_channels` floats (a memcpy each), 2–7 % of the GEMM's time (measured on the
// teacher's layers), and the GEMM then runs at its full rate for every layer shape, stride and dilation.
// Why blocks: the column buffer is reused block after block, so the whole batch's columns never
// exist at once (10 MB for the teacher's last layer), while each block is tall enough (≥ 512
// rows) for the GEMMs to run at full speed.
#include "CKernels.h"
#include "internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <stdlib.h>
#include <string.h>

static long block_samples(const hd_conv1d_geometry *g) {
  // At least 512 rows (one KC block of the filter-gradient GEMM, whose depth is the row count:
  // one sample of 64 rows per call ran at half speed), and at least 256 KiB of columns.
  long row_floats = g->kernel * g->in_channels;
  long per_sample = g->out_length * row_floats;
  long by_rows = g->out_length > 0 ? (512 + g->out_length - 1) / g->out_length : g->batch;
  long by_size = per_sample > 0 ? (64 * 1024) / per_sample : g->batch;
  long samples = by_rows > by_size ? by_rows : by_size;
  if (samples < 1) samples = 1;
  return samples < g->batch ? samples : g->batch;
}

// Columns for samples [b0, b0 + nb): row (b, t), column j·in_channels + i = x[b, s, i] with
// s = t·stride + j·dilation − pad, or 0 on padding.
static void im2col(const hd_conv1d_geometry *g, const float *x, long b0, long nb, float *cols) {
  const long cin = g->in_channels, row_floats = g->kernel * cin;
  for (long b = 0; b < nb; b++) {
    const float *sample = x + (b0 + b) * g->in_length * cin;
    for (long t = 0; t < g->out_length; t++) {
      float *row = cols + (b * g->out_length + t) * row_floats;
      long s0 = t * g->stride - g->pad_before;
      if (g->dilation == 1 && s0 >= 0 && s0 + g->kernel <= g->in_length) {
        // All taps inside: the row is one contiguous run of the input.
        memcpy(row, sample + s0 * cin, (size_t)row_floats * sizeof(float));
        continue;
      }
      for (long j = 0; j < g->kernel; j++) {
        long s = s0 + j * g->dilation;
        if (s >= 0 && s < g->in_length)
          memcpy(row + j * cin, sample + s * cin, (size_t)cin * sizeof(float));
        else
          memset(row + j * cin, 0, (size_t)cin * sizeof(float));
      }
    }
  }
}

// gx[b, s, :] += dcols[(b, t), j·cin : (j+1)·cin] for every tap that read s (overlap-add).
static void col2im_add(const hd_conv1d_geometry *g, const float *restrict dcols, long b0,
                       long nb, float *restrict gx) {
  const long cin = g->in_channels, row_floats = g->kernel * cin;
  for (long b = 0; b < nb; b++) {
    float *sample = gx + (b0 + b) * g->in_length * cin;
    for (long t = 0; t < g->out_length; t++) {
      const float *row = dcols + (b * g->out_length + t) * row_floats;
      for (long j = 0; j < g->kernel; j++) {
        long s = t * g->stride - g->pad_before + j * g->dilation;
        if (s < 0 || s >= g->in_length) continue;
        float *target = sample + s * cin;
        const float *source = row + j * cin;
        for (long i = 0; i < cin; i++) target[i] += source[i];
      }
    }
  }
}

// Convolutions with very few output channels (CBAM's spatial gate: 2 → 1) are too narrow for a
// GEMM to pay for packing; direct loops over the taps are several times faster there.
static int is_narrow(const hd_conv1d_geometry *g) { return g->out_channels <= 4; }

// Whether every tap of output step t reads a real, contiguous input run (no padding, dilation 1):
// then the window is one run of kernel·cin floats.
static inline int is_interior(const hd_conv1d_geometry *g, long t) {
  long s0 = t * g->stride - g->pad_before;
  return g->dilation == 1 && s0 >= 0 && s0 + g->kernel <= g->in_length;
}

static void direct_forward(const hd_conv1d_geometry *g, const float *restrict x,
                           const float *restrict w, const float *restrict bias,
                           float *restrict y) {
  const long cin = g->in_channels, cout = g->out_channels, row = g->kernel * cin;
  for (long b = 0; b < g->batch; b++) {
    const float *sample = x + b * g->in_length * cin;
    for (long t = 0; t < g->out_length; t++) {
      float *out = y + (b * g->out_length + t) * cout;
      for (long o = 0; o < cout; o++) out[o] = bias ? bias[o] : 0.0f;
      if (is_interior(g, t)) {
        const float *in = sample + (t * g->stride - g->pad_before) * cin;
        for (long o = 0; o < cout; o++) {
          float total = 0.0f;
          for (long q = 0; q < row; q++) total += in[q] * w[q * cout + o];
          out[o] += total;
        }
        continue;
      }
      for (long j = 0; j < g->kernel; j++) {
        long s = t * g->stride - g->pad_before + j * g->dilation;
        if (s < 0 || s >= g->in_length) continue;
        const float *in = sample + s * cin, *tap = w + j * cin * cout;
        for (long i = 0; i < cin; i++)
          for (long o = 0; o < cout; o++) out[o] += in[i] * tap[i * cout + o];
      }
    }
  }
}

static void direct_backward(const hd_conv1d_geometry *g, const float *restrict x,
                            const float *restrict gy, const float *restrict w,
                            float *restrict gx, float *restrict gw, float *restrict gb) {
  const long cin = g->in_channels, cout = g->out_channels, row = g->kernel * cin;
  for (long b = 0; b < g->batch; b++) {
    const float *sample = x ? x + b * g->in_length * cin : NULL;
    float *gsample = gx ? gx + b * g->in_length * cin : NULL;
    for (long t = 0; t < g->out_length; t++) {
      const float *up = gy + (b * g->out_length + t) * cout;
      if (gb)
        for (long o = 0; o < cout; o++) gb[o] += up[o];
      if (is_interior(g, t)) {
        long s0 = t * g->stride - g->pad_before;
        for (long o = 0; o < cout; o++) {
          float u = up[o];
          if (gw) {
            const float *in = sample + s0 * cin;
            for (long q = 0; q < row; q++) gw[q * cout + o] += in[q] * u;
          }
          if (gsample) {
            float *gin = gsample + s0 * cin;
            for (long q = 0; q < row; q++) gin[q] += u * w[q * cout + o];
          }
        }
        continue;
      }
      for (long j = 0; j < g->kernel; j++) {
        long s = t * g->stride - g->pad_before + j * g->dilation;
        if (s < 0 || s >= g->in_length) continue;
        for (long i = 0; i < cin; i++) {
          long f = (j * cin + i) * cout;
          if (gw)
            for (long o = 0; o < cout; o++) gw[f + o] += sample[s * cin + i] * up[o];
          if (gsample)
            for (long o = 0; o < cout; o++) gsample[s * cin + i] += up[o] * w[f + o];
        }
      }
    }
  }
}

// Implicit GEMM: with stride 1, dilation 1 and `same` length, row (b, t) of the columns matrix
// starts at x + (b·L + t − pad)·cin, a uniform stride of cin over the whole flattened block, so
// the GEMM reads A straight from x (lda = cin, overlapping rows) and im2col is skipped. Only the
// k − 1 rows per sample whose window crosses a sample edge are wrong there (they read the
// neighbour instead of zeros); they are redone from a small im2col of just those rows.
static int is_implicit(const hd_conv1d_geometry *g) {
  return g->stride == 1 && g->dilation == 1 && g->out_length == g->in_length &&
         g->in_length >= g->kernel && g->kernel > 1;
}

// The rows of a block whose window crosses a sample edge: in sample-major order, the first
// `pad` and the last `k − 1 − pad` steps of each sample. Returns the step of the r-th.
static inline long edge_step(const hd_conv1d_geometry *g, long r) {
  long pad = g->pad_before, per = g->kernel - 1, j = r % per;
  return j < pad ? j : g->in_length - per + j;
}

// Columns of the edge rows of samples [b0, b0 + nb), written as `rows` (nb·(k−1) of them).
static void edge_im2col(const hd_conv1d_geometry *g, const float *x, long b0, long nb,
                        float *cols) {
  const long cin = g->in_channels, row_floats = g->kernel * cin, per = g->kernel - 1;
  for (long r = 0; r < nb * per; r++) {
    long b = r / per, t = edge_step(g, r);
    const float *sample = x + (b0 + b) * g->in_length * cin;
    float *row = cols + r * row_floats;
    for (long j = 0; j < g->kernel; j++) {
      long s = t - g->pad_before + j;
      if (s >= 0 && s < g->in_length)
        memcpy(row + j * cin, sample + s * cin, (size_t)cin * sizeof(float));
      else
        memset(row + j * cin, 0, (size_t)cin * sizeof(float));
    }
  }
}

static void implicit_forward(int variant, const hd_conv1d_geometry *g, const float *x,
                             const float *w, const float *bias, float *y) {
  const long cin = g->in_channels, cout = g->out_channels, L = g->in_length;
  const long row_floats = g->kernel * cin, per = g->kernel - 1, pad = g->pad_before;
  const long block = block_samples(g);
  float *cols = hd_scratch(HD_SCRATCH_COLS, (size_t)(block * per * row_floats));
  float *fixed = hd_scratch(HD_SCRATCH_FIX, (size_t)(block * per * cout));
  for (long b0 = 0; b0 < g->batch; b0 += block) {
    long nb = g->batch - b0 < block ? g->batch - b0 : block;
    long rows = nb * L, first = pad, last = nb * L - (per - pad);
    float *out = y + b0 * L * cout;
    float beta = 0.0f;
    if (bias) {
      for (long r = first; r < last; r++)
        for (long o = 0; o < cout; o++) out[r * cout + o] = bias[o];
      beta = 1.0f;
    }
    // Row i of the view starts at x_block + (i − pad)·cin; rows [first, last) stay inside x.
    hd_sgemm(variant, 0, 0, last - first, cout, row_floats, x + b0 * L * cin, cin, w, cout, beta,
             out + first * cout, cout);
    (void)rows;
    edge_im2col(g, x, b0, nb, cols);
    hd_sgemm(variant, 0, 0, nb * per, cout, row_floats, cols, row_floats, w, cout, 0.0f, fixed,
             cout);
    for (long r = 0; r < nb * per; r++) {
      float *target = out + ((r / per) * L + edge_step(g, r)) * cout;
      for (long o = 0; o < cout; o++) target[o] = fixed[r * cout + o] + (bias ? bias[o] : 0.0f);
    }
  }
}

static void implicit_backward_filter(int variant, const hd_conv1d_geometry *g, const float *x,
                                     const float *gy, float *gw, float *gb, int accumulate) {
  const long cin = g->in_channels, cout = g->out_channels, L = g->in_length;
  const long row_floats = g->kernel * cin, per = g->kernel - 1, pad = g->pad_before;
  const long block = block_samples(g);
  float *delta = hd_scratch(HD_SCRATCH_COLS, (size_t)(block * per * row_floats));
  float *upstream = hd_scratch(HD_SCRATCH_FIX, (size_t)(block * per * cout));
  if (gb && !accumulate) memset(gb, 0, (size_t)cout * sizeof(float));
  for (long b0 = 0; b0 < g->batch; b0 += block) {
    long nb = g->batch - b0 < block ? g->batch - b0 : block;
    long first = pad, last = nb * L - (per - pad);
    const float *xb = x + b0 * L * cin, *gyb = gy + b0 * L * cout;
    // gw (+)= viewᵀ · gy over rows [first, last).
    float beta = (b0 == 0 && !accumulate) ? 0.0f : 1.0f;
    hd_sgemm(variant, 1, 0, row_floats, cout, last - first, xb, cin, gyb + first * cout, cout,
             beta, gw, cout);
    // Edge rows: add (correct − what the view read)ᵀ · gy.
    edge_im2col(g, x, b0, nb, delta);
    for (long r = 0; r < nb * per; r++) {
      long i = (r / per) * L + edge_step(g, r);
      float *d = delta + r * row_floats;
      if (i >= first && i < last) {
        const float *view = xb + (i - pad) * cin;
        for (long q = 0; q < row_floats; q++) d[q] -= view[q];
      }
      memcpy(upstream + r * cout, gyb + i * cout, (size_t)cout * sizeof(float));
    }
    hd_sgemm(variant, 1, 0, row_floats, cout, nb * per, delta, row_floats, upstream, cout, 1.0f,
             gw, cout);
    if (gb)
      for (long r = 0; r < nb * L; r++)
        for (long o = 0; o < cout; o++) gb[o] += gyb[r * cout + o];
  }
}

void hd_conv1d_forward(int variant, const hd_conv1d_geometry *g, const float *x, const float *w,
                       const float *bias, float *y) {
  if (g->winograd && hd_conv1d_winograd_applies(g)) {
    hd_conv1d_winograd_forward(variant, g, x, w, bias, y);
    return;
  }
  if (is_narrow(g)) {
    direct_forward(g, x, w, bias, y);
    return;
  }
  if (is_implicit(g)) {
    implicit_forward(variant, g, x, w, bias, y);
    return;
  }
  const long row_floats = g->kernel * g->in_channels, cout = g->out_channels;
  const long block = block_samples(g);
  float *cols = hd_scratch(HD_SCRATCH_COLS, (size_t)(block * g->out_length * row_floats));
  for (long b0 = 0; b0 < g->batch; b0 += block) {
    long nb = g->batch - b0 < block ? g->batch - b0 : block;
    long rows = nb * g->out_length;
    float *out = y + b0 * g->out_length * cout;
    float beta = 0.0f;
    if (bias) {
      // The bias goes in first and the GEMM accumulates onto it: no separate pass over y.
      for (long r = 0; r < rows; r++)
        for (long o = 0; o < cout; o++) out[r * cout + o] = bias[o];
      beta = 1.0f;
    }
    im2col(g, x, b0, nb, cols);
    hd_sgemm(variant, 0, 0, rows, cout, row_floats, cols, row_floats, w, cout, beta, out, cout);
  }
}

void hd_conv1d_backward_filter(int variant, const hd_conv1d_geometry *g, const float *x, const float *gy,
                               float *gw, float *gb, int accumulate) {
  if (g->winograd && hd_conv1d_winograd_applies(g)) {
    hd_conv1d_winograd_backward_filter(variant, g, x, gy, gw, gb, accumulate);
    return;
  }
  const long row_floats = g->kernel * g->in_channels, cout = g->out_channels;
  const long block = block_samples(g);
  float *cols = hd_scratch(HD_SCRATCH_COLS, (size_t)(block * g->out_length * row_floats));
  if (gb && !accumulate) memset(gb, 0, (size_t)cout * sizeof(float));
  if (is_narrow(g)) {
    if (!accumulate) memset(gw, 0, (size_t)(row_floats * cout) * sizeof(float));
    direct_backward(g, x, gy, NULL, NULL, gw, gb);
    return;
  }
  if (!accumulate && g->batch == 0) memset(gw, 0, (size_t)(row_floats * cout) * sizeof(float));
  if (is_implicit(g) && g->batch > 0) {
    implicit_backward_filter(variant, g, x, gy, gw, gb, accumulate);
    return;
  }
  for (long b0 = 0; b0 < g->batch; b0 += block) {
    long nb = g->batch - b0 < block ? g->batch - b0 : block;
    long rows = nb * g->out_length;
    const float *upstream = gy + b0 * g->out_length * cout;
    im2col(g, x, b0, nb, cols);
    // gw (+)= colsᵀ · gy: the transpose is absorbed by packing.
    float beta = (b0 == 0 && !accumulate) ? 0.0f : 1.0f;
    hd_sgemm(variant, 1, 0, row_floats, cout, rows, cols, row_floats, upstream, cout, beta, gw, cout);
    if (gb)
      for (long r = 0; r < rows; r++)
        for (long o = 0; o < cout; o++) gb[o] += upstream[r * cout + o];
  }
}

void hd_conv1d_backward_input(int variant, const hd_conv1d_geometry *g, const float *gy, const float *w,
                              float *gx) {
  if (g->winograd && hd_conv1d_winograd_backward_input_applies(g)) {
    hd_conv1d_winograd_backward_input(variant, g, gy, w, gx);
    return;
  }
  const long row_floats = g->kernel * g->in_channels, cout = g->out_channels;
  const long block = block_samples(g);
  float *dcols = hd_scratch(HD_SCRATCH_COLS, (size_t)(block * g->out_length * row_floats));
  memset(gx, 0, (size_t)(g->batch * g->in_length * g->in_channels) * sizeof(float));
  if (is_narrow(g)) {
    direct_backward(g, NULL, gy, w, gx, NULL, NULL);
    return;
  }
  for (long b0 = 0; b0 < g->batch; b0 += block) {
    long nb = g->batch - b0 < block ? g->batch - b0 : block;
    long rows = nb * g->out_length;
    // dcols = gy · wᵀ, with w stored [kernel·cin, cout].
    hd_sgemm(variant, 0, 1, rows, row_floats, cout, gy + b0 * g->out_length * cout, cout, w, cout, 0.0f,
             dcols, row_floats);
    col2im_add(g, dcols, b0, nb, gx);
  }
}
