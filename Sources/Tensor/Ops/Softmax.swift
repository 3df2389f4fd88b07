// Softmax, log-softmax and the fused softmax cross-entropy, with their backward.

extension Tensor {
  private func softmaxAxis(_ axis: Int, _ operation: String) -> Int {
    let position = axis < 0 ? axis + rank : axis
    require(
      position >= 0 && position < rank,
      .invalid(operation: operation, shape: shape, rule: "axis in -\(rank)..<\(rank), got \(axis)"))
    return position
  }

  /// `exp(x) / Σ exp(x)` along `axis` (default: the last), computed without overflow.
  public func softmax(alongAxis axis: Int = -1) -> Tensor {
    let position = softmaxAxis(axis, "softmax")
    let value = Kernels.softmax(self, axis: position, log: false)
    guard let tape = Tape.of(self) else { return value }
    let y = value
    return tape.record(.softmax, value, inputs: [self]) { grad in
      // ∂L/∂x = y ⊙ (g − Σ(g ⊙ y)) along the axis.
      let products = Kernels.zipMap(grad, y) { $0 * $1 }
      let dot = Kernels.reduce(products, axes: [position], initial: 0) { $0 + $1 }
      let centered = Kernels.broadcastZipMap(grad, dot, to: grad.shape, .subtract)
      return [Kernels.zipMap(centered, y) { $0 * $1 }]
    }
  }

  /// `x − log Σ exp(x)` along `axis` (default: the last), computed without overflow.
  public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
    let position = softmaxAxis(axis, "logSoftmax")
    let value = Kernels.softmax(self, axis: position, log: true)
    guard let tape = Tape.of(self) else { return value }
    let y = value
    return tape.record(.logSoftmax, value, inputs: [self]) { grad in
      // ∂L/∂x = g − softmax(x) · Σ g along the axis.
      let total = Kernels.reduce(grad, axes: [position], initial: 0) { $0 + $1 }
      let p = Kernels.map(y, Libm.exp)
      let spread = Kernels.broadcastZipMap(p, total, to: p.shape, .multiply)
      return [Kernels.zipMap(grad, spread) { $0 - $1 }]
    }
  }
}

/// The shape rule of ``softmaxCrossEntropy(logits:labels:)``.
///
/// - Throws: ``ShapeError/invalid(operation:shape:rule:)`` naming the logits' shape when they are
///   not `[batch, classes]` with one label in `0..<classes` per row.
public func checkSoftmaxCrossEntropy(logitsShape shape: [Int], labels: [Int]) throws(ShapeError) {
  guard shape.count == 2, shape[0] == labels.count, shape[1] > 0 else {
    throw .invalid(
      operation: "softmaxCrossEntropy", shape: shape,
      rule: "[batch, classes] with batch = \(labels.count) labels")
  }
  if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= shape[1] }) {
    throw .invalid(
      operation: "softmaxCrossEntropy", shape: shape,
      rule: "labels in 0..<\(shape[1]), found \(labels[bad]) at row \(bad)")
  }
}

/// The mean cross-entropy between `softmax(logits)` and integer class `labels`:
/// `(1/B) Σ_b −log softmax(z_b)[y_b]`, fused and numerically stable.
///
/// - Parameters:
///   - logits: Unnormalized scores shaped `[batch, classes]`.
///   - labels: One class index in `0..<classes` per row.
/// - Returns: A scalar tensor (shape `[]`).
public func softmaxCrossEntropy(logits: Tensor, labels: [Int]) -> Tensor {
  checked { () throws(ShapeError) in
    try checkSoftmaxCrossEntropy(logitsShape: logits.shape, labels: labels)
  }
  let (loss, probabilities) = Kernels.softmaxCrossEntropy(logits, labels: labels)
  let value = Tensor(loss)
  guard let tape = Tape.of(logits) else { return value }
  return tape.record(.softmaxCrossEntropy, value, inputs: [logits]) { grad in
    // ∂CE/∂z = (softmax(z) − onehot(y)) / B.
    let classes = probabilities.shape[1]
    let scale = grad.scalars[0] / Float(labels.count)
    var result = probabilities
    result.withUnsafeMutableBufferPointer { p in
      for (row, label) in labels.enumerated() { p[row * classes + label] -= 1 }
      for i in 0..<p.count { p[i] *= scale }
    }
    return [result]
  }
}
