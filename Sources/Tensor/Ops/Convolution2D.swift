// 2-D convolution, channels-last, stride 1, with input, filter and bias gradients: the (5×1)
// convolutions over time of DeepConvLSTM and the k×k spatial attention over time × sensors.

extension Tensor {
  /// The output shape of ``conv2D(filter:bias:padding:)``.
  ///
  /// With `valid` padding the output is `[batch, h − kh + 1, w − kw + 1, out]`; with `same` it is
  /// `[batch, h, w, out]` (Keras: an odd total of padding goes after).
  ///
  /// - Throws: ``ShapeError`` naming the input and filter shapes when the input is not
  ///   `[batch, h, w, inChannels]`, the filter not `[kh, kw, inChannels, outChannels]`, the bias
  ///   not `[outChannels]`, or (with `valid`) the kernel does not fit inside the input.
  public static func conv2DShape(
    input: [Int], filter: [Int], bias: [Int]?, padding: Padding
  ) throws(ShapeError) -> [Int] {
    guard input.count == 4, filter.count == 4, input[3] == filter[2], filter[0] > 0,
      filter[1] > 0, filter[3] > 0, input.allSatisfy({ $0 >= 0 })
    else {
      throw .incompatible(
        operation: "conv2D", lhs: input, rhs: filter, rule: "[batch, h, w, c] ⊛ [kh, kw, c, out]")
    }
    if let bias, bias != [filter[3]] {
      throw .incompatible(operation: "conv2D", lhs: filter, rhs: bias, rule: "bias [out]")
    }
    switch padding {
    case .same:
      return [input[0], input[1], input[2], filter[3]]
    case .valid:
      let (height, width) = (input[1] - filter[0] + 1, input[2] - filter[1] + 1)
      guard height > 0, width > 0 else {
        throw .incompatible(
          operation: "conv2D", lhs: input, rhs: filter,
          rule: "h ≥ kh and w ≥ kw with valid padding")
      }
      return [input[0], height, width, filter[3]]
    }
  }

  /// The 2-D convolution (a cross-correlation, as Keras `Conv2D`) of `self` with `filter`,
  /// stride 1.
  ///
  /// `y[b, r, c, o] = bias[o] + Σ_i Σ_j Σ_k filter[i, j, k, o] · x[b, r + i − padH, c + j − padW, k]`,
  /// with zeros outside the input. DeepConvLSTM reads `[batch, time, sensors, filters]` as
  /// `[batch, h, w, c]`, so a `[5, 1, in, out]` filter convolves over time with weights shared
  /// across sensors (Ordóñez & Roggen, "Deep Convolutional and LSTM Recurrent Neural Networks for
  /// Multimodal Wearable Activity Recognition", Sensors 16(1):115, 2016).
  ///
  /// - Parameters:
  ///   - filter: Weights shaped `[kh, kw, inChannels, outChannels]`.
  ///   - bias: An optional `[outChannels]` added at every position.
  ///   - padding: ``Padding/same`` or ``Padding/valid``.
  /// - Returns: `[batch, outH, outW, outChannels]` for `self` shaped `[batch, h, w, inChannels]`.
  public func conv2D(filter: Tensor, bias: Tensor? = nil, padding: Padding = .valid) -> Tensor {
    let geometry = conv2DGeometry(filter: filter, bias: bias, padding: padding)
    let value = Kernels.conv2D(self, filter, bias: bias, geometry: geometry)
    let inputs = [self, filter] + (bias.map { [$0] } ?? [])
    guard let tape = Tape.of(inputs) else { return value }
    let (x, w) = (detached(), filter.detached())
    let hasBias = bias != nil
    // A model's first convolution reads data, not a tracked value: skip its input gradient.
    let needsInput = isTracked
    return tape.record(.conv2D, value, inputs: inputs) { grad in
      // ∂L/∂x[s, t, k] = Σ over taps (i, j) landing on (s, t) of Σ_o g[r, c, o]·w[i, j, k, o];
      // ∂L/∂w[i, j, k, o] = Σ_{b, r, c} x[r + i − padH, c + j − padW, k]·g[r, c, o];
      // ∂L/∂bias[o] = Σ_{b, r, c} g[r, c, o].
      let (gx, gw, gb) = Kernels.conv2DBackward(
        grad, x, w, geometry: geometry, needsInput: needsInput)
      return hasBias ? [gx, gw, gb] : [gx, gw]
    }
  }

  /// The checked geometry of ``conv2D(filter:bias:padding:)``; stops with both shapes named when
  /// they do not fit.
  private func conv2DGeometry(filter: Tensor, bias: Tensor?, padding: Padding) -> Conv2DGeometry {
    checked { () throws(ShapeError) in
      try Tensor.conv2DShape(
        input: shape, filter: filter.shape, bias: bias?.shape, padding: padding)
    }
    return Conv2DGeometry(
      height: shape[1], width: shape[2], kernelHeight: filter.shape[0],
      kernelWidth: filter.shape[1], inChannels: shape[3], outChannels: filter.shape[3],
      padding: padding)
  }

  /// ``conv2D(filter:bias:padding:)`` computed by direct loops, without recording: the reference
  /// the fast kernel is checked against in tests and benchmarks.
  public func referenceConv2D(filter: Tensor, bias: Tensor? = nil, padding: Padding = .valid)
    -> Tensor
  {
    let geometry = conv2DGeometry(filter: filter, bias: bias, padding: padding)
    return Kernels.referenceConv2D(
      detached(), filter.detached(), bias: bias?.detached(), geometry: geometry)
  }
}
