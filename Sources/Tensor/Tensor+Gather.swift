extension Tensor {
  /// The sub-tensors at `indices` along the first axis, in that order: `[n, …]` → `[k, …]`.
  ///
  /// For assembling mini-batches from a data set; the result is a constant (not tracked).
  public func gathering(rows indices: [Int]) -> Tensor {
    require(
      rank >= 1 && indices.allSatisfy { $0 >= 0 && $0 < shape[0] },
      .invalid(
        operation: "gathering", shape: shape,
        rule:
          "row indices in 0..<\(shape.first ?? 0), got \(indices.first { $0 < 0 || $0 >= (shape.first ?? 0) } ?? -1)"
      ))
    let width = shape.dropFirst().reduce(1, *)
    let count = indices.count * width
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      withUnsafeBufferPointer { source in
        for (row, index) in indices.enumerated() {
          let from = source.baseAddress! + index * width
          (out.baseAddress! + row * width).initialize(from: from, count: width)
        }
      }
      initialized = count
    }
    return Tensor(uncheckedShape: [indices.count] + shape.dropFirst(), scalars: result)
  }
}
