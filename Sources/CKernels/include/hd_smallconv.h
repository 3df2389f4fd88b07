// Direct kernels for 1-D convolutions with few channels (the students' layers: 9 → 16,
// 16 → 32), where im2col + GEMM spends more on packing than on arithmetic.
#ifndef HARDISTILL_SMALLCONV_H
#define HARDISTILL_SMALLCONV_H

#ifdef __cplusplus
extern "C" {
#endif

/// Whether `hd_conv1d_small_forward` and `hd_conv1d_small_backward` (filter and bias
/// gradients) compute this convolution: stride 1, dilation 1, as many output steps as input
/// steps (`same`), 16 or 32 output channels, 1–32 input channels, kernel 1–16.
int hd_conv1d_small_applies(long in_channels, long out_channels, long kernel, long stride,
                            long dilation, long in_length, long out_length, long pad_before);

/// Whether `hd_conv1d_small_backward` can also give the input gradient: it applies and the
/// input has 16 or 32 channels.
int hd_conv1d_small_backward_input_applies(long in_channels, long out_channels, long kernel,
                                           long stride, long dilation, long in_length,
                                           long out_length, long pad_before);

/// `y[b, t, o] = bias[o] + Σ_j Σ_i w[j, i, o]·x[b, t + j − pad_before, i]` (zeros outside the
/// input), then `x < 0 ? 0 : x` (ReLU, NaN kept) when `relu` is nonzero. `x` is
/// `[batch, length, in_channels]`, `w` `[kernel, in_channels, out_channels]`, `bias`
/// `[out_channels]` or NULL; `y` `[batch, length, out_channels]` is fully written. Each sample's
/// output depends on that sample only, summed in the same order whatever the batch.
void hd_conv1d_small_forward(int variant, long batch, long length, long in_channels,
                             long out_channels, long kernel, long pad_before, const float *x,
                             const float *w, const float *bias, int relu, float *y);

/// The gradients of `hd_conv1d_small_forward` for upstream `gy` `[batch, length, out_channels]`.
///
/// When `mask` is not NULL (the forward output of a convolution with ReLU), the upstream
/// gradient counts only where `mask > 0`. `gw` (`[kernel, in_channels, out_channels]`) and `gb`
/// (`[out_channels]`, or NULL) are added to; `gx` (`[batch, length, in_channels]`, or NULL) is
/// fully written and needs `hd_conv1d_small_backward_input_applies`. The samples are summed in
/// order, one at a time.
void hd_conv1d_small_backward(int variant, long batch, long length, long in_channels,
                              long out_channels, long kernel, long pad_before, const float *x,
                              const float *w, const float *gy, const float *mask, float *gx,
                              float *gw, float *gb);

/// `hd_conv1d_small_backward` of a convolution with ReLU followed by max pooling over pairs of
/// steps (`hd_max_pool2`): `gp` `[batch, length / 2, out_channels]` is the gradient of the pooled
/// output and `y` the convolution's output (after ReLU). Each pair's gradient goes to its first
/// maximum, where that is > 0.
void hd_conv1d_small_backward_pooled(int variant, long batch, long length, long in_channels,
                                     long out_channels, long kernel, long pad_before,
                                     const float *x, const float *w, const float *gp,
                                     const float *y, float *gx, float *gw, float *gb);

/// `p[b, u, c] = max(y[b, 2u, c], y[b, 2u + 1, c])` for `u < length / 2` (the first on a tie
/// or a NaN, as `hd_max_pool1d`).
void hd_max_pool2(long batch, long length, long channels, const float *y, float *p);

#ifdef __cplusplus
}
#endif

#endif
