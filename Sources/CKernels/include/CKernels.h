// HARDistill's hot loops in C, so that a plain `swift build -c release` (no unsafe flags) still
// runs AVX-512 / AVX2+FMA code: each variant is compiled with a per-function
// `__attribute__((target(...)))` and chosen at run time from what the CPU supports.
//
// Matrices are row-major with explicit leading dimensions (elements between rows). Everything
// here is single-threaded and re-entrant; the Swift side splits work across threads.
#ifndef HARDISTILL_CKERNELS_H
#define HARDISTILL_CKERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Kernel variants, slowest first. `HD_VARIANT_GENERIC` is portable C at the default target.
enum {
  HD_VARIANT_GENERIC = 0,
  HD_VARIANT_AVX2_FMA = 1,
  HD_VARIANT_AVX512F = 2,
  HD_VARIANT_COUNT = 3
};

/// A variant's name: "generic", "avx2+fma" or "avx512f".
const char *hd_variant_name(int variant);

/// Whether this CPU can run `variant`.
int hd_variant_supported(int variant);

/// `C = op(A)·op(B) + beta·C` for an `m×n` C, `op(A)` `m×k`, `op(B)` `k×n`, with kernel
/// `variant` (which must be supported; the caller chooses, so that tests can compare them).
///
/// `op(A)` is `A` (stored `m×k`, row stride `lda`) or, when `trans_a`, `Aᵀ` with `A` stored `k×m`;
/// likewise `B`. `beta` 0 ignores C's old contents (it may be uninitialized).
void hd_sgemm(int variant, int trans_a, int trans_b, long m, long n, long k, const float *a,
              long lda, const float *b, long ldb, float beta, float *c, long ldc);

/// Geometry of a 1-D convolution over time on channels-last `[batch, time, channels]` data.
typedef struct {
  long batch, in_length, in_channels, out_length, out_channels;
  long kernel, stride, dilation, pad_before;
  /// Nonzero lets `hd_conv1d_forward`, `hd_conv1d_backward_input` and
  /// `hd_conv1d_backward_filter` use Winograd's minimal filtering (F(4, 5), and F(5, 4) for the
  /// filter gradient; kernel 5, stride 1, dilation 1, ≥ 16 channels in and out), 2/5 of the
  /// multiplies at 2–5× the rounding error of the direct sums; zero keeps im2col + GEMM.
  int winograd;
} hd_conv1d_geometry;

/// `y[b, t, o] = bias[o] + Σ_j Σ_i w[j, i, o]·x[b, t·stride + j·dilation − pad, i]`
/// (zeros outside the input); `bias` may be NULL. `y` is fully written.
void hd_conv1d_forward(int variant, const hd_conv1d_geometry *g, const float *x, const float *w,
                       const float *bias, float *y);

/// The filter and bias gradients of `hd_conv1d_forward` for upstream `gy`:
/// `gw = Σ colsᵀ·gy` written (or added to, when `accumulate`), `gb = Σ_t gy` likewise when
/// `gb` is not NULL.
void hd_conv1d_backward_filter(int variant, const hd_conv1d_geometry *g, const float *x, const float *gy,
                               float *gw, float *gb, int accumulate);

/// The input gradient of `hd_conv1d_forward`: `gx` is fully written.
void hd_conv1d_backward_input(int variant, const hd_conv1d_geometry *g, const float *gy, const float *w,
                              float *gx);

/// Max pooling over time, `g->out_channels == g->in_channels`, no filter: `y[b, t, c]` is the
/// maximum of `x` over the window's real steps and `argmax` its flat input index (the first
/// maximum); windows of padding only give −∞ and −1.
void hd_max_pool1d(int variant, const hd_conv1d_geometry *g, const float *x, float *y,
                   long *argmax);

/// The maximum of `x` viewed as `[outer, extent, inner]` over its middle axis (`extent` ≥ 1):
/// `y[o, i]` and the flat index of the first maximum in `argmax[o, i]`.
void hd_max_block(int variant, long outer, long extent, long inner, const float *x, float *y,
                  long *argmax);

/// CBAM's two descriptors in one pass: for `x` viewed as `[outer, extent, inner]`, the mean over
/// the middle axis in `y[o, 0, i]` and the maximum in `y[o, 1, i]` (so `y` is `[outer, 2,
/// inner]`), with the flat index of the first maximum in `argmax[o, i]`. `extent` ≥ 1.
void hd_mean_max_block(int variant, long outer, long extent, long inner, const float *x, float *y,
                       long *argmax);

/// CBAM's forward pass (inference) on `x` `[batch, time, channels]`, one example at a time:
/// `mc[b, c] = σ(MLP(mean_t x)[c] + MLP(max_t x)[c])` with `MLP(d) = ReLU(d·w1)·w2` (`w1`
/// `[channels, hidden]`, `w2` `[hidden, channels]`); `ms[b, t] = σ(Σ_j filter[j, 0]·mean_c(x ⊙
/// mc)[t + j − pad] + filter[j, 1]·max_c(x ⊙ mc)[t + j − pad])` (`same` padding, `pad = (kernel
/// − 1) / 2`); `y = (x ⊙ mc) ⊙ ms`. `y`, `mc` (`[batch, channels]`) and `ms` (`[batch, time]`)
/// are fully written.
void hd_cbam1d_forward(int variant, long batch, long time, long channels, long hidden,
                       const float *x, const float *w1, const float *w2, long kernel,
                       const float *filter, float *y, float *mc, float *ms);

/// The lock around Tensor's buffer pool (a process-wide spin lock that yields the CPU after
/// 100 tries); not re-entrant.
void hd_pool_lock(void);
void hd_pool_unlock(void);

/// Returns `*counter` and adds 1 to it, atomically: the workers of a parallel region take their
/// next piece of work with it.
long hd_take_next(long *counter);

#ifdef __cplusplus
}
#endif

#include "hd_smallconv.h"

#endif
