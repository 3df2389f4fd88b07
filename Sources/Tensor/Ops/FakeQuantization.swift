// Fake quantization for quantization-aware training: int8 rounding in the forward pass, a
// clipped straight-through estimator in the backward pass.

extension Tensor {
  /// Symmetric int8 fake quantization with one scale: `s · clamp(round(x / s), −127, 127)`.
  ///
  /// The forward pass rounds every element to the int8 grid of step `scale` (ties away from zero)
  /// and clips it to `±127 · scale`, as a symmetric int8 tensor with zero point 0 stores it; the
  /// result stays a float tensor, so a model trained through it sees its own quantization error.
  ///
  /// The backward pass is the *clipped straight-through estimator*: the rounding's derivative
  /// (zero almost everywhere) is replaced by 1, so the gradient is that of the surrogate
  /// `clamp(x, −127 · s, 127 · s)`: the upstream gradient where `|x| ≤ 127 · s`, zero where the
  /// element clipped. It is not the derivative of the forward pass (a step function), by design.
  ///
  /// - Parameter scale: The quantization step, > 0 and finite.
  public func fakeQuantized(scale: Float) -> Tensor {
    fakeQuantized(scales: [scale])
  }

  /// Symmetric int8 fake quantization with one scale per index of the last axis (per output
  /// channel, for a filter `[kernel, in, out]` or a weight `[in, out]`), or one for all:
  /// `y[…, c] = s_c · clamp(round(x[…, c] / s_c), −127, 127)`.
  ///
  /// The backward pass is the clipped straight-through estimator of ``fakeQuantized(scale:)``:
  /// the gradient of `clamp(x[…, c], −127 · s_c, 127 · s_c)`.
  ///
  /// - Parameter scales: One scale, or as many as the last axis has elements; each > 0 and
  ///   finite.
  public func fakeQuantized(scales: [Float]) -> Tensor {
    let channels = shape.last ?? 1
    precondition(
      scales.count == 1 || scales.count == channels,
      "fakeQuantized(scales:): \(scales.count) scales for shape \(shape): expected 1 or "
        + "\(channels) (the last axis)")
    precondition(
      scales.allSatisfy { $0 > 0 && $0.isFinite },
      "fakeQuantized(scales:): scales must be positive and finite, got \(scales)")
    let count = scalarCount
    let perChannel = scales.count > 1
    var values = [Float](repeating: 0, count: count)
    var inside = [Bool](repeating: true, count: count)
    withUnsafeBufferPointer { x in
      for i in 0..<count {
        let s = scales[perChannel ? i % channels : 0]
        let q = (x[i] / s).rounded()
        if q > 127 {
          values[i] = 127 * s
        } else if q < -127 {
          values[i] = -127 * s
        } else {
          values[i] = q * s
        }
        // The surrogate clamp(x, −127s, 127s) passes the gradient inside the range only.
        inside[i] = abs(x[i]) <= 127 * s
      }
    }
    let value = Tensor(uncheckedShape: shape, scalars: values)
    guard let tape = Tape.of(self) else { return value }
    return tape.record(.fakeQuantize, value, inputs: [self]) { grad in
      var g = grad.scalars
      for i in g.indices where !inside[i] { g[i] = 0 }
      return [Tensor(uncheckedShape: grad.shape, scalars: g)]
    }
  }
}
