// 1-D convolution over time, channels-last, with input, filter and bias gradients.

/// How a sliding window treats the ends of the sequence.
public enum Padding: String, Sendable, CaseIterable {
  /// Zeros are added so that the output has `ceil(length / stride)` steps (Keras `same`; an odd
  /// total goes after the sequence).
  case same
  /// No padding: only windows that fit entirely inside the input.
  case valid
}

extension Tensor {
  /// The output shape of ``conv1D(filter:bias:stride:dilation:padding:activation:)``.
  ///
  /// - Throws: ``ShapeError`` naming the input and filter shapes when the input is not
  ///   `[batch, time, inChannels]`, the filter not `[kernel, inChannels, outChannels]`, the bias
  ///   not `[outChannels]`, stride or dilation < 1, or no output step fits.
  public static func conv1DShape(
    input: [Int], filter: [Int], bias: [Int]?, stride: Int, dilation: Int, padding: Padding
  ) throws(ShapeError) -> [Int] {
    guard input.count == 3, filter.count == 3, input[2] == filter[1], filter[0] > 0,
      stride >= 1, dilation >= 1
    else {
      throw .incompatible(
        operation: "conv1D", lhs: input, rhs: filter,
        rule: "[batch, time, c] ⊛ [kernel, c, out] with stride, dilation ≥ 1")
    }
    if let bias, bias != [filter[2]] {
      throw .incompatible(operation: "conv1D", lhs: filter, rhs: bias, rule: "bias [out]")
    }
    let geometry = WindowGeometry(
      inputLength: input[1], kernelSize: filter[0], stride: stride, dilation: dilation,
      padding: padding)
    guard geometry.outputLength > 0 else {
      throw .incompatible(
        operation: "conv1D", lhs: input, rhs: filter,
        rule: "a time axis at least as long as the dilated kernel with \(padding) padding")
    }
    return [input[0], geometry.outputLength, filter[2]]
  }

  /// The 1-D convolution (a cross-correlation, as in Keras and PyTorch) of `self` with `filter`.
  ///
  /// `y[b, t, o] = bias[o] + Σ_j Σ_i filter[j, i, o] · x[b, t·stride + j·dilation − pad, i]`,
  /// with zeros outside the input.
  ///
  /// - Parameters:
  ///   - filter: Weights shaped `[kernel, inChannels, outChannels]`.
  ///   - bias: An optional `[outChannels]` added to every output step.
  ///   - stride: Steps between output positions (≥ 1).
  ///   - dilation: Steps between kernel taps (≥ 1).
  ///   - padding: ``Padding/same`` or ``Padding/valid``.
  ///   - activation: ``ConvolutionActivation/relu`` applies `max(0, ·)` in the same operation:
  ///     no separate output array and no separate backward step (Keras' `activation="relu"`).
  /// - Returns: `[batch, outTime, outChannels]` for `self` shaped `[batch, time, inChannels]`.
  public func conv1D(
    filter: Tensor, bias: Tensor? = nil, stride: Int = 1, dilation: Int = 1,
    padding: Padding = .valid, activation: ConvolutionActivation = .identity
  ) -> Tensor {
    checked { () throws(ShapeError) in
      try Tensor.conv1DShape(
        input: shape, filter: filter.shape, bias: bias?.shape, stride: stride, dilation: dilation,
        padding: padding)
    }
    let geometry = WindowGeometry(
      inputLength: shape[1], kernelSize: filter.shape[0], stride: stride, dilation: dilation,
      padding: padding)
    let relu = activation == .relu
    // Few channels (the students): direct kernels, the ReLU applied as each row is stored.
    let small = Kernels.smallConv1D(self, filter, bias: bias, geometry: geometry, relu: relu)
    var value = small ?? Kernels.conv1D(self, filter, bias: bias, geometry: geometry)
    if relu && small == nil { Kernels.reluInPlace(&value) }
    // Inference (nothing tracked) returns before building the operand list.
    guard isTracked || filter.isTracked || bias?.isTracked == true else { return value }
    let inputs = [self, filter] + (bias.map { [$0] } ?? [])
    guard let tape = Tape.of(inputs) else { return value }
    let (x, w) = (detached(), filter.detached())
    let hasBias = bias != nil
    // A model's first convolution reads data, not a tracked value: skip its input gradient.
    let needsInput = isTracked
    let operation: Tape.Operation = activation == .relu ? .conv1DReLU : .conv1D
    let output = value
    return tape.record(operation, value, inputs: inputs) { grad in
      if let (gx, gw, gb) = Kernels.smallConv1DBackward(
        grad, x, w, mask: relu ? output : nil, geometry: geometry, needsInput: needsInput)
      {
        return hasBias ? [gx, gw, gb] : [gx, gw]
      }
      // With ReLU, the upstream gradient first passes where the output is > 0 (the same mask as
      // `relu()`: the subgradient at 0 is 0).
      let upstream = activation == .relu ? Kernels.zipMap(grad, output) { $1 > 0 ? $0 : 0 } : grad
      // ∂L/∂x[s, i] = Σ_{t, j: s = t·stride + j·dilation − pad} Σ_o g[t, o]·w[j, i, o];
      // ∂L/∂w[j, i, o] = Σ_t x[t·stride + j·dilation − pad, i]·g[t, o]; ∂L/∂bias[o] = Σ_t g[t, o].
      let (gx, gw, gb) = Kernels.conv1DBackward(
        upstream, x, w, geometry: geometry, needsInput: needsInput)
      return hasBias ? [gx, gw, gb] : [gx, gw]
    }
  }
}

/// An activation a convolution applies to its output in the same operation.
public enum ConvolutionActivation: Sendable, Equatable {
  /// No activation: the convolution's output itself.
  case identity
  /// `max(0, ·)`, with the same subgradient 0 at 0 as ``Tensor/relu()``.
  case relu
}
