// Max and average pooling over time, channels-last, with their backward.

extension Tensor {
  /// The output shape of a 1-D pooling over time.
  ///
  /// - Throws: ``ShapeError/invalid(operation:shape:rule:)`` naming the input shape when it is not
  ///   `[batch, time, channels]`, the kernel or stride is < 1, or no window fits.
  public static func pool1DShape(
    input: [Int], kernelSize: Int, stride: Int, padding: Padding, operation: String = "pool1D"
  ) throws(ShapeError) -> [Int] {
    guard input.count == 3, kernelSize >= 1, stride >= 1 else {
      throw .invalid(
        operation: operation, shape: input,
        rule: "[batch, time, channels] with kernel \(kernelSize) ≥ 1 and stride \(stride) ≥ 1")
    }
    let geometry = WindowGeometry(
      inputLength: input[1], kernelSize: kernelSize, stride: stride, dilation: 1, padding: padding)
    guard geometry.outputLength > 0 else {
      throw .invalid(
        operation: operation, shape: input,
        rule: "a time axis of at least \(kernelSize) steps for \(padding) padding")
    }
    return [input[0], geometry.outputLength, input[2]]
  }

  private func poolGeometry(
    _ kernelSize: Int, _ stride: Int?, _ padding: Padding, _ operation: String
  ) -> WindowGeometry {
    let stride = stride ?? kernelSize
    checked { () throws(ShapeError) in
      try Tensor.pool1DShape(
        input: shape, kernelSize: kernelSize, stride: stride, padding: padding,
        operation: operation)
    }
    return WindowGeometry(
      inputLength: shape[1], kernelSize: kernelSize, stride: stride, dilation: 1, padding: padding)
  }

  /// The maximum over windows of `kernelSize` time steps, for `self` shaped
  /// `[batch, time, channels]`.
  ///
  /// - Parameters:
  ///   - kernelSize: Time steps per window.
  ///   - stride: Steps between windows; defaults to `kernelSize`.
  ///   - padding: ``Padding/valid`` (only full windows, Keras' default) or ``Padding/same``
  ///     (`ceil(time / stride)` windows).
  /// - Returns: `[batch, outTime, channels]`. The gradient flows to each window's first maximum.
  public func maxPool1D(kernelSize: Int, stride: Int? = nil, padding: Padding = .valid) -> Tensor {
    let geometry = poolGeometry(kernelSize, stride, padding, "maxPool1D")
    let (value, indices) = Kernels.maxPool1D(self, geometry: geometry)
    let argmax = ArgMaxIndices(indices)  // back to the pool when the backward closure goes
    guard let tape = Tape.of(self) else { return value }
    let inputShape = shape
    return tape.record(.maxPool1D, value, inputs: [self]) { grad in
      // ∂max/∂x = 1 at each window's arg-max; overlapping windows add up.
      [Kernels.scatter(grad, at: argmax.indices, shape: inputShape)]
    }
  }

  /// The mean over windows of `kernelSize` time steps, for `self` shaped
  /// `[batch, time, channels]`; padded steps are not counted.
  ///
  /// - Parameters:
  ///   - kernelSize: Time steps per window.
  ///   - stride: Steps between windows; defaults to `kernelSize`.
  ///   - padding: ``Padding/valid`` (only full windows, Keras' default) or ``Padding/same``
  ///     (`ceil(time / stride)` windows, each averaged over its real steps only).
  /// - Returns: `[batch, outTime, channels]`.
  public func avgPool1D(kernelSize: Int, stride: Int? = nil, padding: Padding = .valid) -> Tensor {
    let geometry = poolGeometry(kernelSize, stride, padding, "avgPool1D")
    let value = Kernels.avgPool1D(self, geometry: geometry)
    guard let tape = Tape.of(self) else { return value }
    let inputShape = shape
    return tape.record(.avgPool1D, value, inputs: [self]) { grad in
      // ∂mean/∂x = 1/n for each of the window's n real steps.
      [Kernels.avgPool1DBackward(grad, inputShape: inputShape, geometry: geometry)]
    }
  }
}
