import CKernels

/// Sums, means and maxima along axes, with the arg-max the backward pass of a maximum needs.
extension Kernels {
  /// Reduces `x` over `axes` (a set of valid axes) with `combine`, starting from `initial`;
  /// the result keeps reduced axes with extent 1.
  @inline(__always)
  static func reduce(
    _ x: Tensor, axes: Set<Int>, initial: Float, _ combine: (Float, Float) -> Float
  ) -> Tensor {
    if KernelConfiguration.current.variant != .reference,
      let result = reduceBlock(x, axes: axes, initial: initial, combine)
    {
      return result
    }
    return referenceReduce(x, axes: axes, initial: initial, combine)
  }

  /// The reference for ``reduce(_:axes:initial:_:)``: per-element offsets.
  @inline(__always)
  static func referenceReduce(
    _ x: Tensor, axes: Set<Int>, initial: Float, _ combine: (Float, Float) -> Float
  ) -> Tensor {
    let shape = x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] }
    var result = [Float](repeating: initial, count: shape.reduce(1, *))
    let writeStrides = broadcastStrides(of: shape, to: x.shape)
    result.withUnsafeMutableBufferPointer { out in
      x.withUnsafeBufferPointer { source in
        forEachOffset(shape: x.shape, strides: writeStrides) { index, offset in
          out[offset] = combine(out[offset], source[index])
        }
      }
    }
    return Tensor(uncheckedShape: shape, scalars: result)
  }

  /// The maximum of `x` over `axes`, keeping reduced axes with extent 1, and for every result
  /// element the flat input index of its (first) maximum.
  static func reduceMax(_ x: Tensor, axes: Set<Int>) -> (value: Tensor, argmax: [Int]) {
    guard let variant = KernelConfiguration.current.variant.cValue,
      let (outer, extent, inner) = reductionBlock(x.shape, axes: axes), extent > 0
    else { return referenceReduceMax(x, axes: axes) }
    let shape = x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] }
    let count = outer * inner
    var argmax: [Int] = []
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      // The C kernel writes every element of both.
      argmax = Kernels.pooledIndices(unsafeUninitializedCapacity: count) { arg, written in
        x.withUnsafeBufferPointer { source in
          hd_max_block(
            variant, outer, extent, inner, source.baseAddress!, out.baseAddress!, arg.baseAddress!)
        }
        written = count
      }
      initialized = count
    }
    return (Tensor(uncheckedShape: shape, scalars: result), argmax)
  }

  /// The reference for ``reduceMax(_:axes:)``.
  static func referenceReduceMax(_ x: Tensor, axes: Set<Int>) -> (value: Tensor, argmax: [Int]) {
    let shape = x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] }
    let count = shape.reduce(1, *)
    var result = [Float](repeating: -.infinity, count: count)
    var argmax = [Int](repeating: -1, count: count)
    let writeStrides = broadcastStrides(of: shape, to: x.shape)
    result.withUnsafeMutableBufferPointer { out in
      argmax.withUnsafeMutableBufferPointer { arg in
        x.withUnsafeBufferPointer { source in
          forEachOffset(shape: x.shape, strides: writeStrides) { index, offset in
            // `arg < 0` admits the first element even when it is −∞ or NaN.
            if arg[offset] < 0 || source[index] > out[offset] {
              out[offset] = source[index]
              arg[offset] = index
            }
          }
        }
      }
    }
    return (Tensor(uncheckedShape: shape, scalars: result), argmax)
  }

  /// A tensor of `shape` that is zero except `values[i]` added at flat index `indices[i]`.
  /// `x` viewed as `[outer, extent, inner]` → `[outer, 2, inner]`: the mean over the middle
  /// axis, then the maximum; and the flat input index of each maximum (the first one).
  static func meanAndMax(
    _ x: Tensor, outer: Int, extent: Int, inner: Int, shape: [Int]
  ) -> (value: Tensor, argmax: [Int]) {
    let count = outer * 2 * inner
    var argmax: [Int] = []
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      argmax = Kernels.pooledIndices(unsafeUninitializedCapacity: outer * inner) { arg, written in
        x.withUnsafeBufferPointer { source in
          if let variant = KernelConfiguration.current.variant.cValue {
            hd_mean_max_block(
              variant, outer, extent, inner, source.baseAddress!, out.baseAddress!,
              arg.baseAddress!)
          } else {
            referenceMeanAndMax(source, out, arg, outer: outer, extent: extent, inner: inner)
          }
        }
        written = outer * inner
      }
      initialized = count
    }
    return (Tensor(uncheckedShape: shape, scalars: result), argmax)
  }

  /// The reference for ``meanAndMax(_:outer:extent:inner:shape:)``: per element, sums in
  /// `extent` order, `>` keeping the first maximum.
  static func referenceMeanAndMax(
    _ x: UnsafeBufferPointer<Float>, _ out: UnsafeMutableBufferPointer<Float>,
    _ arg: UnsafeMutableBufferPointer<Int>, outer: Int, extent: Int, inner: Int
  ) {
    for o in 0..<outer {
      for i in 0..<inner {
        let first = o * extent * inner + i
        var (sum, best, index) = (x[first], x[first], first)
        for e in 1..<extent {
          let v = x[first + e * inner]
          sum += v
          if v > best { (best, index) = (v, first + e * inner) }
        }
        out[o * 2 * inner + i] = sum / Float(extent)
        out[o * 2 * inner + inner + i] = best
        arg[o * inner + i] = index
      }
    }
  }

  /// The gradient of ``meanAndMax(_:outer:extent:inner:shape:)`` for upstream `grad`
  /// `[outer, 2, inner]`: the mean's share `1/extent` to every element, the maximum's to its
  /// arg-max.
  static func meanAndMaxBackward(
    _ grad: Tensor, _ argmax: [Int], outer: Int, extent: Int, inner: Int, shape: [Int]
  ) -> Tensor {
    let scale = 1 / Float(extent)
    let count = outer * extent * inner
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      grad.withUnsafeBufferPointer { g in
        for o in 0..<outer {
          let mean = g.baseAddress! + o * 2 * inner
          let block = out.baseAddress! + o * extent * inner
          if inner == 1 {
            block.update(repeating: mean[0] * scale, count: extent)
            continue
          }
          for e in 0..<extent {
            let row = block + e * inner
            for i in 0..<inner { row[i] = mean[i] * scale }
          }
        }
        argmax.withUnsafeBufferPointer { arg in
          for o in 0..<outer {
            for i in 0..<inner { out[arg[o * inner + i]] += g[o * 2 * inner + inner + i] }
          }
        }
      }
      initialized = count
    }
    return Tensor(uncheckedShape: shape, scalars: result)
  }

  /// A tensor of `shape`, zero but for `values[i]` added at flat index `indices[i]` (where it
  /// is ≥ 0): the backward pass of a maximum, sending each gradient to its arg-max.
  static func scatter(_ values: Tensor, at indices: [Int], shape: [Int]) -> Tensor {
    var result = Kernels.pooledFloats(repeating: 0, count: shape.reduce(1, *))
    result.withUnsafeMutableBufferPointer { out in
      values.withUnsafeBufferPointer { source in
        indices.withUnsafeBufferPointer { targets in
          for i in 0..<targets.count where targets[i] >= 0 { out[targets[i]] += source[i] }
        }
      }
    }
    return Tensor(uncheckedShape: shape, scalars: result)
  }
}
