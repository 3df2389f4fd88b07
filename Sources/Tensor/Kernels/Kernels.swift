/// The numeric loops behind the ops, on plain buffers, with no knowledge of tapes.
///
/// Implementation goals: correct first, then free of per-element overhead (unsafe buffers, no
/// bounds checks in inner loops, contiguous innermost loops the compiler can vectorize at the
/// default target). Each kernel here is also the reference the fast kernels are checked against.
enum Kernels {}

extension Kernels {
  /// Row-major strides of `shape`.
  static func strides(of shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var stride = 1
    for axis in shape.indices.reversed() {
      strides[axis] = stride
      stride *= shape[axis]
    }
    return strides
  }

  /// Calls `body` with the row-major offset into `shape` under `strides` of every element of
  /// `shape`, in row-major order. The innermost axis is walked in a tight loop.
  @inline(__always)
  static func forEachOffset(
    shape: [Int], strides: [Int], _ body: (_ index: Int, _ offset: Int) -> Void
  ) {
    let count = shape.reduce(1, *)
    guard count > 0 else { return }
    guard let last = shape.indices.last else {
      body(0, 0)
      return
    }
    let inner = shape[last]
    let innerStride = strides[last]
    var counter = [Int](repeating: 0, count: shape.count)
    var base = 0
    var index = 0
    while index < count {
      var offset = base
      for _ in 0..<inner {
        body(index, offset)
        index += 1
        offset += innerStride
      }
      // Odometer over the outer axes.
      var axis = last - 1
      while axis >= 0 {
        counter[axis] += 1
        base += strides[axis]
        if counter[axis] < shape[axis] { break }
        base -= strides[axis] * shape[axis]
        counter[axis] = 0
        axis -= 1
      }
    }
  }

  /// The strides with which an operand of `shape` is read when broadcast to `target`
  /// (right-aligned; 0 along broadcast axes).
  static func broadcastStrides(of shape: [Int], to target: [Int]) -> [Int] {
    let own = strides(of: shape)
    let lead = target.count - shape.count
    return target.indices.map { axis in
      axis < lead || shape[axis - lead] == 1 ? 0 : own[axis - lead]
    }
  }
}
