// Sums, means and maxima along axes, each with its backward.

extension Tensor {
  /// `axes` with negative entries counted from the end, checked and without duplicates.
  ///
  /// - Throws: ``ShapeError/invalid(operation:shape:rule:)`` naming the shape and the axes.
  public static func normalizedAxes(
    _ axes: [Int], rank: Int, shape: [Int], operation: String
  ) throws(ShapeError) -> Set<Int> {
    var result = Set<Int>()
    for axis in axes {
      let normalized = axis < 0 ? axis + rank : axis
      guard normalized >= 0 && normalized < rank, result.insert(normalized).inserted else {
        throw .invalid(
          operation: operation, shape: shape,
          rule: "distinct axes in -\(rank)..<\(rank), got \(axes)")
      }
    }
    return result
  }

  /// The shape after reducing `axes`, kept as 1 or dropped.
  private func reducedShape(_ axes: Set<Int>, keepingDimensions: Bool) -> [Int] {
    keepingDimensions
      ? shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
      : shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
  }

  private func reductionAxes(_ axes: [Int], _ operation: String) -> Set<Int> {
    checked { () throws(ShapeError) in
      try Tensor.normalizedAxes(axes, rank: rank, shape: shape, operation: operation)
    }
  }

  /// The sum of the elements along `axes`; negative axes count from the end.
  ///
  /// - Parameters:
  ///   - axes: The axes to reduce, each at most once, e.g. `[0, 2]` for `[batch, time, channels]`
  ///     → `[time]`.
  ///   - keepingDimensions: Keep reduced axes with extent 1 (for broadcasting back).
  public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
    let set = reductionAxes(axes, "sum")
    let kept = Kernels.reduce(self, axes: set, initial: 0) { $0 + $1 }
    let value = kept.reshapedUnchecked(reducedShape(set, keepingDimensions: keepingDimensions))
    guard let tape = Tape.of(self) else { return value }
    let (inputShape, keptShape) = (shape, kept.shape)
    return tape.record(.sum, value, inputs: [self]) { grad in
      // ∂Σx/∂x = 1: the upstream gradient is repeated over the reduced axes.
      [Kernels.broadcast(grad.reshapedUnchecked(keptShape), to: inputShape)]
    }
  }

  /// The sum along one axis.
  public func sum(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
    sum(alongAxes: [axis], keepingDimensions: keepingDimensions)
  }

  /// The sum of all elements, shaped `[]`.
  public func sum() -> Tensor { sum(alongAxes: Array(shape.indices)) }

  /// The mean of the elements along `axes`; negative axes count from the end.
  public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
    let set = reductionAxes(axes, "mean")
    let count = set.reduce(1) { $0 * shape[$1] }
    let scale = 1 / Float(Swift.max(count, 1))
    let kept = Kernels.map(Kernels.reduce(self, axes: set, initial: 0) { $0 + $1 }) { $0 * scale }
    let value = kept.reshapedUnchecked(reducedShape(set, keepingDimensions: keepingDimensions))
    guard let tape = Tape.of(self) else { return value }
    let (inputShape, keptShape) = (shape, kept.shape)
    return tape.record(.mean, value, inputs: [self]) { grad in
      // ∂mean/∂x = 1/n for every reduced element.
      [
        Kernels.broadcast(
          Kernels.map(grad.reshapedUnchecked(keptShape)) { $0 * scale }, to: inputShape)
      ]
    }
  }

  /// The mean along one axis.
  public func mean(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
    mean(alongAxes: [axis], keepingDimensions: keepingDimensions)
  }

  /// The mean of all elements, shaped `[]`.
  public func mean() -> Tensor { mean(alongAxes: Array(shape.indices)) }

  /// The maximum of the elements along `axes`; negative axes count from the end.
  ///
  /// The gradient flows to the first maximal element of each reduced group.
  public func max(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
    let set = reductionAxes(axes, "max")
    require(
      set.allSatisfy { shape[$0] > 0 },
      .invalid(operation: "max", shape: shape, rule: "non-empty reduced axes, got \(axes)"))
    let (kept, indices) = Kernels.reduceMax(self, axes: set)
    let argmax = ArgMaxIndices(indices)
    let value = kept.reshapedUnchecked(reducedShape(set, keepingDimensions: keepingDimensions))
    guard let tape = Tape.of(self) else { return value }
    let inputShape = shape
    return tape.record(.max, value, inputs: [self]) { grad in
      // ∂max/∂x = 1 at the arg-max, 0 elsewhere.
      [Kernels.scatter(grad, at: argmax.indices, shape: inputShape)]
    }
  }

  /// The maximum along one axis.
  public func max(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
    max(alongAxes: [axis], keepingDimensions: keepingDimensions)
  }

  /// The maximum of all elements, shaped `[]`.
  public func max() -> Tensor { max(alongAxes: Array(shape.indices)) }

  /// The index of the largest element along the last axis, for each leading index.
  ///
  /// For logits shaped `[batch, classes]` these are the predicted classes. Not differentiable.
  public func argmaxAlongLastAxis() -> [Int] {
    guard let classes = shape.last, classes > 0 else { return [] }
    let rows = scalarCount / classes
    return withUnsafeBufferPointer { x in
      (0..<rows).map { row in
        var best = 0
        for k in 1..<classes where x[row * classes + k] > x[row * classes + best] { best = k }
        return best
      }
    }
  }
}

extension Tensor {
  /// The mean and the maximum along `axis`, stacked in its place: `[…, 2, …]` with the mean at
  /// index 0 and the maximum at index 1 (CBAM's two descriptors, in one pass and one operation).
  ///
  /// For `[batch, time, channels]`, `meanAndMax(alongAxis: 1)` is `[batch, 2, channels]` (the
  /// channel-attention descriptors) and `meanAndMax(alongAxis: 2)` is `[batch, time, 2]` (the
  /// spatial-attention input). Equal to `concatenating([mean(alongAxis: a, keepingDimensions:
  /// true), max(alongAxis: a, keepingDimensions: true)], alongAxis: a)`, with the same gradient:
  /// `1/n` to every element for the mean, everything to the first maximum for the max.
  public func meanAndMax(alongAxis axis: Int) -> Tensor {
    let position = reductionAxes([axis], "meanAndMax").first!
    require(
      shape[position] > 0,
      .invalid(operation: "meanAndMax", shape: shape, rule: "a non-empty axis \(axis)"))
    let outer = shape[..<position].reduce(1, *)
    let extent = shape[position]
    let inner = shape[(position + 1)...].reduce(1, *)
    var resultShape = shape
    resultShape[position] = 2
    let (value, indices) = Kernels.meanAndMax(
      self, outer: outer, extent: extent, inner: inner, shape: resultShape)
    let argmax = ArgMaxIndices(indices)
    guard let tape = Tape.of(self) else { return value }
    let inputShape = shape
    return tape.record(.meanAndMax, value, inputs: [self]) { grad in
      // ∂mean/∂x = 1/n along the axis; ∂max/∂x = 1 at the arg-max.
      [
        Kernels.meanAndMaxBackward(
          grad, argmax.indices, outer: outer, extent: extent, inner: inner, shape: inputShape)
      ]
    }
  }
}
