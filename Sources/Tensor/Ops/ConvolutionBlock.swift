// A student's first block, convolution + ReLU + max pooling, as one differentiable operation.

extension Tensor {
  /// `conv1D(filter: filter, bias: bias, padding: .same, activation: .relu)` followed by
  /// `maxPool1D(kernelSize: 2)`, as one operation when the direct small-channel kernels apply
  /// (16 or 32 output channels, at most 32 input channels; an input gradient, when the input is
  /// tracked, also needs 16 or 32 input channels), otherwise as those two operations.
  ///
  /// The same values and gradients as the two operations (each pair's gradient goes to its
  /// first maximum, where that is > 0), with one backward step: no arg-max indices, no scattered
  /// gradient array, the pooling's gradient routed as the convolution's upstream gradient is
  /// read.
  ///
  /// - Parameters:
  ///   - filter: Weights `[kernel, inChannels, outChannels]`.
  ///   - bias: An optional `[outChannels]`.
  /// - Returns: `[batch, time / 2, outChannels]` for `self` shaped `[batch, time, inChannels]`
  ///   (time ≥ 2).
  public func conv1DReLUMaxPool(filter: Tensor, bias: Tensor? = nil) -> Tensor {
    checked { () throws(ShapeError) in
      let convolved = try Tensor.conv1DShape(
        input: shape, filter: filter.shape, bias: bias?.shape, stride: 1, dilation: 1,
        padding: .same)
      _ = try Tensor.pool1DShape(
        input: convolved, kernelSize: 2, stride: 2, padding: .valid,
        operation: "conv1DReLUMaxPool")
    }
    let geometry = WindowGeometry(
      inputLength: shape[1], kernelSize: filter.shape[0], stride: 1, dilation: 1, padding: .same)
    let configuration = KernelConfiguration.current
    let (inC, outC) = (shape[2], filter.shape[2])
    let needsInput = isTracked
    guard
      Kernels.smallConv1DApplies(geometry, inC: inC, outC: outC, configuration: configuration),
      !needsInput || inC == 16 || inC == 32,
      let y = Kernels.smallConv1D(
        self, filter, bias: bias, geometry: geometry, relu: true, configuration: configuration)
    else {
      return conv1D(filter: filter, bias: bias, padding: .same, activation: .relu)
        .maxPool1D(kernelSize: 2)
    }
    let value = Kernels.maxPool2(y)
    guard isTracked || filter.isTracked || bias?.isTracked == true else { return value }
    let inputs = [self, filter] + (bias.map { [$0] } ?? [])
    guard let tape = Tape.of(inputs) else { return value }
    let (x, w) = (detached(), filter.detached())
    let hasBias = bias != nil
    return tape.record(.conv1DReLUMaxPool, value, inputs: inputs) { grad in
      // The forward pass's kernel configuration: the direct kernels that made `y` apply.
      let (gx, gw, gb) = Kernels.smallConv1DBackward(
        grad, x, w, mask: y, pooled: true, geometry: geometry, needsInput: needsInput,
        configuration: configuration)!
      return hasBias ? [gx, gw, gb] : [gx, gw]
    }
  }
}
