extension Kernels {
  /// `x` with its axes reordered: result axis `i` is input axis `permutation[i]`.
  static func transpose(_ x: Tensor, permutation: [Int]) -> Tensor {
    let shape = permutation.map { x.shape[$0] }
    let inputStrides = strides(of: x.shape)
    let readStrides = permutation.map { inputStrides[$0] }
    let count = x.scalarCount
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      x.withUnsafeBufferPointer { source in
        forEachOffset(shape: shape, strides: readStrides) { index, offset in
          out[index] = source[offset]
        }
      }
      initialized = count
    }
    return Tensor(uncheckedShape: shape, scalars: result)
  }

  /// `x` viewed as `[outer, extent, inner]` around `axis`.
  static func split(_ shape: [Int], at axis: Int) -> (outer: Int, extent: Int, inner: Int) {
    (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
  }

  /// Copies, for every outer index, `length` rows of `inner` scalars from `source` starting at
  /// row `sourceStart` (of `sourceExtent`) to `target` at row `targetStart` (of `targetExtent`).
  static func copyRows(
    from source: UnsafeBufferPointer<Float>, sourceExtent: Int, sourceStart: Int,
    to target: UnsafeMutableBufferPointer<Float>, targetExtent: Int, targetStart: Int,
    length: Int, outer: Int, inner: Int, accumulate: Bool = false
  ) {
    let block = length * inner
    for o in 0..<outer {
      let s = (o * sourceExtent + sourceStart) * inner
      let t = (o * targetExtent + targetStart) * inner
      if accumulate {
        for i in 0..<block { target[t + i] += source[s + i] }
      } else if block > 0 {
        // One memcpy per run (the element loop did not vectorize: ~5 instructions a float).
        (target.baseAddress! + t).update(from: source.baseAddress! + s, count: block)
      }
    }
  }

  /// Rows `range` of `x` along `axis`.
  static func slice(_ x: Tensor, axis: Int, range: Range<Int>) -> Tensor {
    let (outer, extent, inner) = split(x.shape, at: axis)
    var shape = x.shape
    shape[axis] = range.count
    let count = outer * range.count * inner
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      x.withUnsafeBufferPointer { source in
        copyRows(
          from: source, sourceExtent: extent, sourceStart: range.lowerBound, to: out,
          targetExtent: range.count, targetStart: 0, length: range.count, outer: outer,
          inner: inner)
      }
      initialized = count
    }
    return Tensor(uncheckedShape: shape, scalars: result)
  }

  /// `x` with `before` and `after` rows of `value` added along `axis`.
  static func pad(_ x: Tensor, axis: Int, before: Int, after: Int, value: Float) -> Tensor {
    let (outer, extent, inner) = split(x.shape, at: axis)
    var shape = x.shape
    shape[axis] = before + extent + after
    var result = [Float](repeating: value, count: shape.reduce(1, *))
    result.withUnsafeMutableBufferPointer { out in
      x.withUnsafeBufferPointer { source in
        copyRows(
          from: source, sourceExtent: extent, sourceStart: 0, to: out, targetExtent: shape[axis],
          targetStart: before, length: extent, outer: outer, inner: inner)
      }
    }
    return Tensor(uncheckedShape: shape, scalars: result)
  }

  /// `parts` joined along `axis`; their other extents are equal (checked by the caller).
  static func concatenate(_ parts: [Tensor], axis: Int) -> Tensor {
    var shape = parts[0].shape
    shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
    let (outer, total, inner) = split(shape, at: axis)
    var result = Kernels.pooledFloats(repeating: 0, count: shape.reduce(1, *))
    result.withUnsafeMutableBufferPointer { out in
      var start = 0
      for part in parts {
        let extent = part.shape[axis]
        part.withUnsafeBufferPointer { source in
          copyRows(
            from: source, sourceExtent: extent, sourceStart: 0, to: out, targetExtent: total,
            targetStart: start, length: extent, outer: outer, inner: inner)
        }
        start += extent
      }
    }
    return Tensor(uncheckedShape: shape, scalars: result)
  }
}
