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

/// Runs `iterations` rounds of independent fused multiply-adds on `variant`'s widest registers
/// (the arithmetic ceiling of one core) and returns a sum of the results, so that the loop is
/// not removed. `hd_fma_ceiling_flops` gives the floating-point operations that makes.
float hd_fma_ceiling(int variant, long iterations);
long hd_fma_ceiling_flops(int variant, long iterations);

/// What `hd_infer_conv1d` does with its activated outputs.
enum {
  /// `y[t, o]` (row stride `ldy`).
  HD_INFER_STORE = 0,
  /// Max pooling by 2 (stride 2, an odd last step dropped): `y[t, o] = max(a[2t, o], a[2t+1, o])`.
  HD_INFER_POOL2 = 1,
  /// The sum over time added to `y[o]`.
  HD_INFER_SUM = 2
};

/// One window's `same` 1-D convolution for planned inference (stride 1, dilation 1, odd
/// `kernel`): `a[t, o] = bias[o] + Σ_j Σ_i w[j, i, o]·xp[t + j, i]`, then `max(0, ·)` when
/// `relu`, then what `mode` says. `xp` is the window `[length, cin]` with `(kernel − 1) / 2` zero
/// rows before and after it (`length + kernel − 1` rows in all); `w` is `[kernel, cin, cout]`;
/// `bias` may be NULL.
void hd_infer_conv1d(int variant, long length, long cin, long cout, long kernel, const float *xp,
                     const float *w, const float *bias, int relu, int mode, float *y, long ldy);

/// The floats of work `hd_infer_cbam_mean` needs.
long hd_infer_cbam_mean_work(long time, long channels, long hidden, long kernel);

/// CBAM (as `hd_cbam1d_forward`) on one window `x` `[time, channels]` followed by the mean over
/// time: `out[c] = (1/time)·Σ_t (x[t, c]·mc[c])·ms[t]`. `work` holds
/// `hd_infer_cbam_mean_work(time, channels, hidden, kernel)` floats.
void hd_infer_cbam_mean(int variant, long time, long channels, long hidden, const float *x,
                        const float *w1, const float *w2, long kernel, const float *filter,
                        float *out, float *work);

/// F(4, 5)'s transformed filter for `hd_infer_conv1d_winograd`: `u` `[8, cin, cout]` from `w`
/// `[5, cin, cout]`.
void hd_infer_winograd_filter(int variant, long cin, long cout, const float *w, float *u);

/// The floats of work `hd_infer_conv1d_winograd` needs.
long hd_infer_winograd_work(long length, long cin, long cout);

/// `hd_infer_conv1d` for kernel 5 and a `length` that is a multiple of 4, by Winograd's F(4, 5)
/// (2/5 of the multiplies in the channel-mixing products, at 2–5× the rounding error of the
/// direct sums) with the filter transformed by `hd_infer_winograd_filter` into `u`. `work` holds
/// `hd_infer_winograd_work(length, cin, cout)` floats.
void hd_infer_conv1d_winograd(int variant, long length, long cin, long cout, const float *xp,
                              const float *u, const float *bias, int relu, int mode, float *y,
                              long ldy, float *work);

/// One LSTM step's element-wise forward pass over `batch` rows of `units` units: `z` holds the
/// gate pre-activations `[batch, 4·units]` (Keras' order i, f, c, o) and is overwritten with the
/// activated gates `σ(z_i), σ(z_f), tanh(z_c), σ(z_o)`; `c = f·c_prev + i·g` (`c_prev` NULL for
/// zeros), `tc = tanh(c)` (both `[batch, units]`) and `h = o·tc` (row `b` at `h + b·h_stride`)
/// are written. The exponential is a polynomial the compiler vectorizes (about 2 ulp).
void hd_lstm_cell_forward(int variant, long batch, long units, float *z, const float *c_prev,
                          float *c, float *tc, float *h, long h_stride);

/// The backward pass of `hd_lstm_cell_forward` from its activated gates `act`, `c_prev` (NULL
/// for zeros) and `tc`: with `dh = dh_up + dh_rec` (row `b` of `dh_up` at `b·dh_stride`; either
/// may be NULL for zeros) and `dc` holding the gradient carried into this step's cell state, it
/// writes the pre-activation gradients `dz` `[batch, 4·units]` and replaces `dc` with the
/// gradient of `c_prev`.
void hd_lstm_cell_backward(int variant, long batch, long units, const float *act,
                           const float *c_prev, const float *tc, const float *dh_up,
                           long dh_stride, const float *dh_rec, float *dc, float *dz);

/// The lock around Tensor's buffer pool (a process-wide spin lock that yields the CPU after
/// 100 tries); not re-entrant.
void hd_pool_lock(void);
void hd_pool_unlock(void);

/// Returns `*counter` and adds 1 to it, atomically: the workers of a parallel region take their
/// next piece of work with it.
long hd_take_next(long *counter);

/// A piece of a parallel region: `fn(context, piece)`.
typedef void (*hd_piece_fn)(void *context, long piece);

/// Runs `fn(context, piece)` for every piece in `0..<count` on the calling thread and at most
/// `threads − 1` parked pool workers (each takes the next piece not yet taken) and returns 1 when
/// all are done. Returns 0 at once, having run nothing, when the pool is running another region
/// (another thread's, or this one's from inside a piece): the caller then runs the region itself.
int hd_parallel_for(long count, int threads, hd_piece_fn fn, void *context);

#ifdef __cplusplus
}
#endif

#include "hd_smallconv.h"

#endif
