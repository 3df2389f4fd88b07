// Reshaping, permuting, joining, slicing and padding, each with its backward.

extension Tensor {
  /// The same storage under another shape, with no checks and no tracking (kernels only).
  func reshapedUnchecked(_ newShape: [Int]) -> Tensor {
    Tensor(uncheckedShape: newShape, sharingStorageOf: self)
  }

  /// The shape `reshaped(to:)` produces: `newShape` with at most one `-1` inferred.
  ///
  /// - Throws: ``ShapeError/incompatible(operation:lhs:rhs:rule:)`` naming both shapes when the
  ///   element counts differ or `-1` cannot be inferred.
  public static func reshapedShape(_ shape: [Int], to newShape: [Int]) throws(ShapeError) -> [Int] {
    let count = shape.reduce(1, *)
    let inferred = newShape.indices.filter { newShape[$0] == -1 }
    let known = newShape.filter { $0 != -1 }.reduce(1, *)
    let error = ShapeError.incompatible(
      operation: "reshape", lhs: shape, rhs: newShape, rule: "equal element counts")
    guard inferred.count <= 1, newShape.allSatisfy({ $0 >= -1 }) else { throw error }
    if let axis = inferred.first {
      guard known > 0, count % known == 0 else { throw error }
      var result = newShape
      result[axis] = count / known
      return result
    }
    guard known == count else { throw error }
    return newShape
  }

  /// The same elements in row-major order under `newShape`; one extent may be `-1`, inferred.
  public func reshaped(to newShape: [Int]) -> Tensor {
    let target = checked { () throws(ShapeError) in try Tensor.reshapedShape(shape, to: newShape) }
    let value = reshapedUnchecked(target)
    guard let tape = Tape.of(self) else { return value }
    let inputShape = shape
    return tape.record(.reshape, value, inputs: [self]) { grad in
      // A reshape moves no element: the gradient is reshaped back.
      [grad.reshapedUnchecked(inputShape)]
    }
  }

  /// `self` with a new axis of extent 1 inserted at `axis` (negative counts from the end).
  public func expandingShape(at axis: Int) -> Tensor {
    let position = axis < 0 ? axis + rank + 1 : axis
    require(
      position >= 0 && position <= rank,
      .invalid(
        operation: "expandingShape", shape: shape,
        rule: "axis in -\(rank + 1)...\(rank), got \(axis)"))
    var newShape = shape
    newShape.insert(1, at: position)
    return reshaped(to: newShape)
  }

  /// `self` without the axis `axis`, which must have extent 1.
  public func squeezingShape(at axis: Int) -> Tensor {
    let position = axis < 0 ? axis + rank : axis
    require(
      position >= 0 && position < rank && shape[position] == 1,
      .invalid(operation: "squeezingShape", shape: shape, rule: "an axis of extent 1, got \(axis)"))
    var newShape = shape
    newShape.remove(at: position)
    return reshaped(to: newShape)
  }

  /// `self` with its axes reordered: axis `i` of the result is axis `permutation[i]` of `self`.
  public func transposed(permutation: [Int]) -> Tensor {
    require(
      permutation.sorted() == Array(0..<rank),
      .invalid(
        operation: "transpose", shape: shape,
        rule: "a permutation of 0..<\(rank), got \(permutation)"))
    let value = Kernels.transpose(self, permutation: permutation)
    guard let tape = Tape.of(self) else { return value }
    var inverse = permutation
    for (i, axis) in permutation.enumerated() { inverse[axis] = i }
    return tape.record(.transpose, value, inputs: [self]) { grad in
      // A permutation's adjoint is the inverse permutation.
      [Kernels.transpose(grad, permutation: inverse)]
    }
  }

  /// `self` with its last two axes swapped (the matrix transpose, batched).
  public func transposed() -> Tensor {
    require(rank >= 2, .invalid(operation: "transpose", shape: shape, rule: "rank ≥ 2"))
    var permutation = Array(0..<rank)
    permutation.swapAt(rank - 1, rank - 2)
    return transposed(permutation: permutation)
  }

  /// The shape of `parts` joined along `axis`.
  ///
  /// - Throws: ``ShapeError/incompatible(operation:lhs:rhs:rule:)`` naming the first shape and the
  ///   first that differs from it off `axis`.
  public static func concatenatedShape(_ shapes: [[Int]], alongAxis axis: Int) throws(ShapeError)
    -> [Int]
  {
    guard let first = shapes.first else {
      throw .invalid(operation: "concatenate", shape: [], rule: "at least one tensor")
    }
    let position = axis < 0 ? axis + first.count : axis
    guard position >= 0 && position < first.count else {
      throw .invalid(operation: "concatenate", shape: first, rule: "axis in range, got \(axis)")
    }
    var result = first
    for shape in shapes.dropFirst() {
      guard shape.count == first.count,
        shape.indices.allSatisfy({ $0 == position || shape[$0] == first[$0] })
      else {
        throw .incompatible(
          operation: "concatenate", lhs: first, rhs: shape,
          rule: "equal extents except along axis \(position)")
      }
      result[position] += shape[position]
    }
    return result
  }

  /// `tensors` joined along `axis` (negative counts from the end).
  public static func concatenating(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
    let shape = checked { () throws(ShapeError) in
      try concatenatedShape(tensors.map(\.shape), alongAxis: axis)
    }
    let position = axis < 0 ? axis + shape.count : axis
    let value = Kernels.concatenate(tensors, axis: position)
    guard let tape = Tape.of(tensors) else { return value }
    let extents = tensors.map { $0.shape[position] }
    return tape.record(.concatenate, value, inputs: tensors) { grad in
      // Each part's gradient is its own slice of the upstream gradient.
      var start = 0
      return extents.map { extent in
        defer { start += extent }
        return Kernels.slice(grad, axis: position, range: start..<(start + extent))
      }
    }
  }

  /// The elements at positions `range` along `axis` (negative counts from the end).
  public func sliced(alongAxis axis: Int, range: Range<Int>) -> Tensor {
    let position = axis < 0 ? axis + rank : axis
    require(
      position >= 0 && position < rank && range.lowerBound >= 0
        && range.upperBound <= shape[position],
      .invalid(operation: "slice", shape: shape, rule: "axis \(axis) with range \(range) inside it")
    )
    let value = Kernels.slice(self, axis: position, range: range)
    guard let tape = Tape.of(self) else { return value }
    let extent = shape[position]
    return tape.record(.slice, value, inputs: [self]) { grad in
      // The slice's adjoint puts the gradient back in place, zero elsewhere.
      [
        Kernels.pad(
          grad, axis: position, before: range.lowerBound, after: extent - range.upperBound, value: 0
        )
      ]
    }
  }

  /// `self` with `before` and `after` elements of `value` added along `axis`.
  public func padded(alongAxis axis: Int, before: Int, after: Int, value: Float = 0) -> Tensor {
    let position = axis < 0 ? axis + rank : axis
    require(
      position >= 0 && position < rank && before >= 0 && after >= 0,
      .invalid(operation: "pad", shape: shape, rule: "axis \(axis) in range, padding ≥ 0"))
    let result = Kernels.pad(self, axis: position, before: before, after: after, value: value)
    guard let tape = Tape.of(self) else { return result }
    let extent = shape[position]
    return tape.record(.pad, result, inputs: [self]) { grad in
      // Padding is constant: only the original positions receive gradient.
      [Kernels.slice(grad, axis: position, range: before..<(before + extent))]
    }
  }
}
