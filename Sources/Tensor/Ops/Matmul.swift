// Matrix products, 2-D and batched, with their backward.

extension Tensor {
  /// The result shape of `lhs.matmul(rhs)`: `[..., m, k] × [..., k, n] → [..., m, n]`, with the
  /// leading (batch) axes broadcast under NumPy rules.
  ///
  /// - Throws: ``ShapeError/incompatible(operation:lhs:rhs:rule:)`` naming both shapes.
  public static func matmulShape(_ lhs: [Int], _ rhs: [Int]) throws(ShapeError) -> [Int] {
    let error = ShapeError.incompatible(
      operation: "matmul", lhs: lhs, rhs: rhs, rule: "[..., m, k] × [..., k, n]")
    guard lhs.count >= 2, rhs.count >= 2, lhs[lhs.count - 1] == rhs[rhs.count - 2] else {
      throw error
    }
    let batch: [Int]
    do {
      batch = try broadcastShape(Array(lhs.dropLast(2)), Array(rhs.dropLast(2)))
    } catch {
      throw error
    }
    return batch + [lhs[lhs.count - 2], rhs[rhs.count - 1]]
  }

  /// The matrix product of `self`, shaped `[..., m, k]`, and `other`, shaped `[..., k, n]`.
  ///
  /// Leading axes are batch axes and broadcast (a `[k, n]` weight applies to every matrix of a
  /// `[batch, m, k]` input).
  ///
  /// - Returns: A tensor shaped `[..., m, n]`.
  public func matmul(_ other: Tensor) -> Tensor {
    let shape = checked { () throws(ShapeError) in try Tensor.matmulShape(self.shape, other.shape) }
    let batch = Array(shape.dropLast(2))
    let value = Kernels.batchedMatmul(
      self, transposeA: false, other, transposeB: false, batch: batch)
    guard let tape = Tape.of(self, other) else { return value }
    let (a, b) = (detached(), other.detached())
    return tape.record(.matmul, value, inputs: [self, other]) { grad in
      // d(a·b) = da·b + a·db, so ∂L/∂a = g·bᵀ and ∂L/∂b = aᵀ·g, summed over broadcast batches.
      let ga = Kernels.batchedMatmul(grad, transposeA: false, b, transposeB: true, batch: batch)
      let gb = Kernels.batchedMatmul(a, transposeA: true, grad, transposeB: false, batch: batch)
      return [Kernels.sumToShape(ga, a.shape), Kernels.sumToShape(gb, b.shape)]
    }
  }
}
