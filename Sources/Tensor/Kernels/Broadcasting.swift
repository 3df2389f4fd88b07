extension Kernels {
  /// `op` applied to every element.
  @inline(__always)
  static func map(_ x: Tensor, _ op: (Float) -> Float) -> Tensor {
    let count = x.scalarCount
    let result = [Float](unsafeUninitializedCapacity: count) { out, initialized in
      x.withUnsafeBufferPointer { source in
        for i in 0..<count { out[i] = op(source[i]) }
      }
      initialized = count
    }
    return Tensor(uncheckedShape: x.shape, scalars: result)
  }

  /// `op` applied to pairs of elements of two tensors of the same shape.
  @inline(__always)
  static func zipMap(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
    let count = a.scalarCount
    let result = [Float](unsafeUninitializedCapacity: count) { out, initialized in
      a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
          for i in 0..<count { out[i] = op(x[i], y[i]) }
        }
      }
      initialized = count
    }
    return Tensor(uncheckedShape: a.shape, scalars: result)
  }

  /// `op` applied elementwise after broadcasting `a` and `b` to `shape` (NumPy rules, already
  /// checked by the caller).
  @inline(__always)
  static func broadcastZipMap(
    _ a: Tensor, _ b: Tensor, to shape: [Int], _ op: (Float, Float) -> Float
  ) -> Tensor {
    if a.shape == b.shape { return zipMap(a, b, op) }
    let count = shape.reduce(1, *)
    // Common fast paths: a scalar operand, and an operand that repeats along leading axes
    // (a bias [c] added to [batch, time, c]).
    if b.scalarCount == 1 && a.shape == shape {
      let y = b.scalars[0]
      return map(a) { op($0, y) }
    }
    if a.scalarCount == 1 && b.shape == shape {
      let x = a.scalars[0]
      return map(b) { op(x, $0) }
    }
    let result = [Float](unsafeUninitializedCapacity: count) { out, initialized in
      a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
          let trailing = Array(b.shape.drop { $0 == 1 })
          if a.shape == shape, !trailing.isEmpty, Array(shape.suffix(trailing.count)) == trailing {
            let period = b.scalarCount
            var i = 0
            while i < count {
              for j in 0..<period { out[i + j] = op(x[i + j], y[j]) }
              i += period
            }
          } else {
            let sa = broadcastStrides(of: a.shape, to: shape)
            let sb = broadcastStrides(of: b.shape, to: shape)
            // One pass per operand keeps each walk a simple odometer.
            forEachOffset(shape: shape, strides: sa) { index, offset in out[index] = x[offset] }
            forEachOffset(shape: shape, strides: sb) { index, offset in
              out[index] = op(out[index], y[offset])
            }
          }
        }
      }
      initialized = count
    }
    return Tensor(uncheckedShape: shape, scalars: result)
  }

  /// `x` expanded to `shape` by repeating it along broadcast axes.
  static func broadcast(_ x: Tensor, to shape: [Int]) -> Tensor {
    if x.shape == shape { return x }
    let count = shape.reduce(1, *)
    let strides = broadcastStrides(of: x.shape, to: shape)
    let result = [Float](unsafeUninitializedCapacity: count) { out, initialized in
      x.withUnsafeBufferPointer { source in
        forEachOffset(shape: shape, strides: strides) { index, offset in
          out[index] = source[offset]
        }
      }
      initialized = count
    }
    return Tensor(uncheckedShape: shape, scalars: result)
  }

  /// `g`, the gradient of a broadcast result, summed back to the operand's `shape`.
  static func sumToShape(_ g: Tensor, _ shape: [Int]) -> Tensor {
    if g.shape == shape { return g }
    var result = [Float](repeating: 0, count: shape.reduce(1, *))
    let strides = broadcastStrides(of: shape, to: g.shape)
    result.withUnsafeMutableBufferPointer { out in
      g.withUnsafeBufferPointer { source in
        forEachOffset(shape: g.shape, strides: strides) { index, offset in
          out[offset] += source[index]
        }
      }
    }
    return Tensor(uncheckedShape: shape, scalars: result)
  }
}
