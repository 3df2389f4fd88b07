import CKernels

/// The forward kernels on caller-owned memory, for planned inference (`InferencePlan` in Layers):
/// each writes its result where the caller says instead of returning a new tensor, so a plan that
/// allocated its buffers once runs a model with no allocation and no per-operation bookkeeping.
///
/// Clients write `@_spi(Inference) import Tensor`. Shapes are the caller's responsibility (a plan
/// checks them once, when it is made); every call runs on the calling thread with the C variant
/// of ``KernelConfiguration/current`` (the generic one when the reference kernels are selected,
/// which have no buffer form).
@_spi(Inference)
public enum BufferKernels {
  /// The C variant to use: the configured one, or the portable C one instead of the reference.
  static var variant: Int32 {
    KernelConfiguration.current.variant.cValue ?? Int32(HD_VARIANT_GENERIC)
  }

  /// A 1-D convolution of `x` `[batch, length, inChannels]` with `filter`
  /// `[kernelSize, inChannels, outChannels]` and `bias`, into `y` `[batch, outLength,
  /// outChannels]` (``Tensor/conv1DShape(input:filter:bias:stride:dilation:padding:)``), with a
  /// ReLU on the output when `relu`. Winograd's F(4, 5) applies as in
  /// ``KernelConfiguration/winograd``.
  public static func conv1D(
    _ x: UnsafePointer<Float>, batch: Int, length: Int, inChannels: Int,
    filter: UnsafePointer<Float>, kernelSize: Int, outChannels: Int, stride: Int, dilation: Int,
    padding: Padding, bias: UnsafePointer<Float>?, relu: Bool, into y: UnsafeMutablePointer<Float>
  ) {
    let g = WindowGeometry(
      inputLength: length, kernelSize: kernelSize, stride: stride, dilation: dilation,
      padding: padding)
    var geometry = Kernels.cGeometry(
      g, batch: batch, inC: inChannels, outC: outChannels,
      winograd: KernelConfiguration.current.winograd)
    hd_conv1d_forward(variant, &geometry, x, filter, bias, y)
    if relu {
      let count = batch * g.outputLength * outChannels
      self.relu(y, count: count, into: y)
    }
  }

  /// `y = max(0, x)` element by element; `y` may be `x`.
  public static func relu(
    _ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>
  ) {
    for i in 0..<count { y[i] = x[i] < 0 ? 0 : x[i] }
  }

  /// Max pooling over time of `x` `[batch, length, channels]` into `y`; `indices` receives the
  /// arg-max of each output element (as many as `y` has; scratch for the caller).
  public static func maxPool1D(
    _ x: UnsafePointer<Float>, batch: Int, length: Int, channels: Int, kernelSize: Int,
    stride: Int, padding: Padding, into y: UnsafeMutablePointer<Float>,
    indices: UnsafeMutablePointer<Int>
  ) {
    let g = WindowGeometry(
      inputLength: length, kernelSize: kernelSize, stride: stride, dilation: 1, padding: padding)
    var geometry = Kernels.cGeometry(g, batch: batch, inC: channels, outC: channels)
    hd_max_pool1d(variant, &geometry, x, y, indices)
  }

  /// CBAM on `x` `[batch, time, channels]` into `y` (same shape), with its maps written to
  /// `channelMap` `[batch, channels]` and `spatialMap` `[batch, time]`, as
  /// ``Tensor/cbamForInference(hidden:output:spatialFilter:)``.
  public static func cbam(
    _ x: UnsafePointer<Float>, batch: Int, time: Int, channels: Int, hidden: UnsafePointer<Float>,
    width: Int, output: UnsafePointer<Float>, spatialFilter: UnsafePointer<Float>,
    spatialKernel: Int, into y: UnsafeMutablePointer<Float>,
    channelMap: UnsafeMutablePointer<Float>, spatialMap: UnsafeMutablePointer<Float>
  ) {
    hd_cbam1d_forward(
      variant, batch, time, channels, width, x, hidden, output, spatialKernel, spatialFilter, y,
      channelMap, spatialMap)
  }

  /// The mean over time of `x` `[batch, time, channels]` into `y` `[batch, channels]`.
  public static func meanOverTime(
    _ x: UnsafePointer<Float>, batch: Int, time: Int, channels: Int,
    into y: UnsafeMutablePointer<Float>
  ) {
    for b in 0..<batch {
      let row = y + b * channels
      let sample = x + b * time * channels
      for c in 0..<channels { row[c] = sample[c] }
      for t in 1..<Swift.max(time, 1) {
        let step = sample + t * channels
        for c in 0..<channels { row[c] += step[c] }
      }
      // As `mean(alongAxis:)`: the sum times 1/n.
      let scale = 1 / Float(Swift.max(time, 1))
      for c in 0..<channels { row[c] *= scale }
    }
  }

  /// `y = x · weight + bias` for `x` `[rows, inputSize]`, `weight` `[inputSize, outputSize]`.
  public static func dense(
    _ x: UnsafePointer<Float>, rows: Int, inputSize: Int, weight: UnsafePointer<Float>,
    outputSize: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>
  ) {
    var beta: Float = 0
    if let bias {
      for r in 0..<rows { (y + r * outputSize).update(from: bias, count: outputSize) }
      beta = 1
    }
    hd_sgemm(
      variant, 0, 0, rows, outputSize, inputSize, x, inputSize, weight, outputSize, beta, y,
      outputSize)
  }
}

/// Window-at-a-time kernels for the fused path of planned inference: one window's layers run
/// back to back on small buffers that stay in cache, with a convolution's bias, ReLU and what
/// follows it (max pooling by 2, or the sum over time) applied before its output is stored.
@_spi(Inference)
extension BufferKernels {
  /// What ``windowConv1D(_:length:inChannels:filter:kernelSize:outChannels:bias:relu:output:into:)``
  /// does with its (activated) outputs `a[t, o]`.
  public enum WindowOutput: Sendable, Equatable {
    /// `y[t · rowStride + o] = a[t, o]`.
    case store(rowStride: Int)
    /// `y[t · rowStride + o] = max(a[2t, o], a[2t + 1, o])`: max pooling by 2 with stride 2 and
    /// no padding (an odd last step is dropped).
    case pool2(rowStride: Int)
    /// `y[o] += Σ_t a[t, o]`.
    case sum
  }

  /// One window's `same` convolution with stride and dilation 1: `a[t, o] = bias[o] + Σ_j Σ_i
  /// filter[j, i, o] · xp[t + j, i]`, with a ReLU when `relu`, written as `output` says.
  ///
  /// `xp` is the window `[length, inChannels]` with `(kernelSize − 1) / 2` zero rows before it and
  /// `kernelSize / 2` after it, as `same` padding places them.
  public static func windowConv1D(
    _ xp: UnsafePointer<Float>, length: Int, inChannels: Int, filter: UnsafePointer<Float>,
    kernelSize: Int, outChannels: Int, bias: UnsafePointer<Float>?, relu: Bool,
    output: WindowOutput, into y: UnsafeMutablePointer<Float>
  ) {
    let (mode, stride) = output.modeAndStride
    hd_infer_conv1d(
      variant, length, inChannels, outChannels, kernelSize, xp, filter, bias, relu ? 1 : 0, mode,
      y, stride)
  }

  /// The floats of `work` that ``windowCBAMMean(_:time:channels:hidden:width:output:spatialFilter:spatialKernel:into:work:)``
  /// needs.
  public static func windowCBAMMeanWorkCount(
    time: Int, channels: Int, width: Int, spatialKernel: Int
  ) -> Int {
    hd_infer_cbam_mean_work(time, channels, width, spatialKernel)
  }

  /// CBAM on one window `x` `[time, channels]` followed by the mean over time, into `y`
  /// `[channels]`: the mean of ``cbam(_:batch:time:channels:hidden:width:output:spatialFilter:spatialKernel:into:channelMap:spatialMap:)``'s
  /// output, without storing it.
  public static func windowCBAMMean(
    _ x: UnsafePointer<Float>, time: Int, channels: Int, hidden: UnsafePointer<Float>,
    width: Int, output: UnsafePointer<Float>, spatialFilter: UnsafePointer<Float>,
    spatialKernel: Int, into y: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>
  ) {
    hd_infer_cbam_mean(
      variant, time, channels, width, x, hidden, output, spatialKernel, spatialFilter, y, work)
  }

  /// Winograd's F(4, 5) transform of a kernel-5 `filter` `[5, inChannels, outChannels]` into
  /// `u` `[8, inChannels, outChannels]`, for
  /// ``windowConv1DWinograd(_:length:inChannels:transformedFilter:outChannels:bias:relu:output:into:work:)``.
  public static func winogradFilter(
    _ filter: UnsafePointer<Float>, inChannels: Int, outChannels: Int,
    into u: UnsafeMutablePointer<Float>
  ) {
    hd_infer_winograd_filter(variant, inChannels, outChannels, filter, u)
  }

  /// The floats of `work` that
  /// ``windowConv1DWinograd(_:length:inChannels:transformedFilter:outChannels:bias:relu:output:into:work:)``
  /// needs.
  public static func windowWinogradWorkCount(length: Int, inChannels: Int, outChannels: Int)
    -> Int
  {
    hd_infer_winograd_work(length, inChannels, outChannels)
  }

  /// ``windowConv1D(_:length:inChannels:filter:kernelSize:outChannels:bias:relu:output:into:)``
  /// for kernel 5 and a `length` that is a multiple of 4, by Winograd's F(4, 5) from the filter
  /// transformed by ``winogradFilter(_:inChannels:outChannels:into:)``: 2/5 of the multiplies
  /// in the channel-mixing products, at 2–5× the rounding error of the direct sums.
  public static func windowConv1DWinograd(
    _ xp: UnsafePointer<Float>, length: Int, inChannels: Int,
    transformedFilter u: UnsafePointer<Float>, outChannels: Int, bias: UnsafePointer<Float>?,
    relu: Bool, output: WindowOutput, into y: UnsafeMutablePointer<Float>,
    work: UnsafeMutablePointer<Float>
  ) {
    precondition(
      length % 4 == 0, "windowConv1DWinograd: length \(length) is not a multiple of 4")
    let (mode, stride) = output.modeAndStride
    hd_infer_conv1d_winograd(
      variant, length, inChannels, outChannels, xp, u, bias, relu ? 1 : 0, mode, y, stride, work)
  }
}

extension BufferKernels.WindowOutput {
  /// The C kernels' mode and row stride.
  var modeAndStride: (Int32, Int) {
    switch self {
    case .store(let rowStride): (Int32(HD_INFER_STORE), rowStride)
    case .pool2(let rowStride): (Int32(HD_INFER_POOL2), rowStride)
    case .sum: (Int32(HD_INFER_SUM), 0)
    }
  }
}
