extension Kernels {
  /// `op` applied to every element.
  @inline(__always)
  static func map(_ x: Tensor, _ op: (Float) -> Float) -> Tensor {
    let count = x.scalarCount
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      x.withUnsafeBufferPointer { source in
        for i in 0..<count { out[i] = op(source[i]) }
      }
      initialized = count
    }
    return Tensor(uncheckedShape: x.shape, scalars: result)
  }

  /// `max(0, x)` in place (a freshly computed, uniquely held output: no copy).
  static func reluInPlace(_ x: inout Tensor) {
    x.scalars.withUnsafeMutableBufferPointer { values in
      for i in values.indices { values[i] = values[i] < 0 ? 0 : values[i] }
    }
  }

  /// `op` applied to pairs of elements of two tensors of the same shape.
  @inline(__always)
  static func zipMap(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
    let count = a.scalarCount
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
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
  ///
  /// Walks the result row by row (``forEachRow(shape:strides:_:)``), with the innermost loop
  /// specialized for contiguous and repeated operands, instead of per-element index arithmetic,
  /// which costs ~35× more (measured on the per-element loop this replaced).
  @inline(__always)
  static func broadcastZipMap(
    _ a: Tensor, _ b: Tensor, to shape: [Int], _ op: (Float, Float) -> Float
  ) -> Tensor {
    if a.shape == b.shape { return zipMap(a, b, op) }
    if KernelConfiguration.current.variant == .reference {
      return referenceBroadcastZipMap(a, b, to: shape, op)
    }
    let count = shape.reduce(1, *)
    let strides = [
      broadcastStrides(of: a.shape, to: shape), broadcastStrides(of: b.shape, to: shape),
    ]
    let (dims, merged) = mergedAxes(shape: shape, strides: strides)
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
          let (o, px, py) = (out.baseAddress!, x.baseAddress!, y.baseAddress!)
          @inline(__always)
          func row(_ index: Int, _ offsetX: Int, _ offsetY: Int, _ inner: Int, _ sx: Int, _ sy: Int)
          {
            broadcastRow(o + index, px + offsetX, py + offsetY, inner, sx, sy, op)
          }
          // Up to two outer axes (every broadcast in the reference models) as plain loops; the
          // odometer only beyond that.
          switch dims.count {
          case 0: o[0] = op(px[0], py[0])
          case 1: row(0, 0, 0, dims[0], merged[0][0], merged[1][0])
          case 2:
            for r in 0..<dims[0] {
              row(
                r * dims[1], r * merged[0][0], r * merged[1][0], dims[1], merged[0][1], merged[1][1]
              )
            }
          case 3:
            let (d1, d2) = (dims[1], dims[2])
            for r in 0..<dims[0] {
              for q in 0..<d1 {
                row(
                  (r * d1 + q) * d2, r * merged[0][0] + q * merged[0][1],
                  r * merged[1][0] + q * merged[1][1], d2, merged[0][2], merged[1][2])
              }
            }
          default:
            forEachRow(shape: shape, strides: strides) { index, offsets, inner, innerStrides in
              row(index, offsets[0], offsets[1], inner, innerStrides[0], innerStrides[1])
            }
          }
        }
      }
      initialized = count
    }
    return Tensor(uncheckedShape: shape, scalars: result)
  }

  /// One row of ``broadcastZipMap(_:_:to:_:)``: `z[i] = op(x[i·sx], y[i·sy])`, with the
  /// contiguous and repeated-operand cases as separate loops so each vectorizes. A static
  /// function taking `op` (not a local closure capturing it) so `op` inlines into every loop.
  @inline(__always)
  static func broadcastRow(
    _ z: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
    _ inner: Int, _ sx: Int, _ sy: Int, _ op: (Float, Float) -> Float
  ) {
    switch (sx, sy) {
    case (1, 1): for i in 0..<inner { z[i] = op(x[i], y[i]) }
    case (1, 0):
      let v = y[0]
      for i in 0..<inner { z[i] = op(x[i], v) }
    case (0, 1):
      let v = x[0]
      for i in 0..<inner { z[i] = op(v, y[i]) }
    default: for i in 0..<inner { z[i] = op(x[i * sx], y[i * sy]) }
    }
  }

  /// The reference for ``broadcastZipMap(_:_:to:_:)``: per-element offsets.
  @inline(__always)
  static func referenceBroadcastZipMap(
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
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
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

  /// `x` expanded to `shape` by repeating it along broadcast axes, row by row.
  static func broadcast(_ x: Tensor, to shape: [Int]) -> Tensor {
    if x.shape == shape { return x }
    if KernelConfiguration.current.variant == .reference { return referenceBroadcast(x, to: shape) }
    let count = shape.reduce(1, *)
    let strides = [broadcastStrides(of: x.shape, to: shape)]
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      x.withUnsafeBufferPointer { source in
        let (o, px) = (out.baseAddress!, source.baseAddress!)
        forEachRow(shape: shape, strides: strides) { index, offsets, inner, innerStrides in
          let (xa, z) = (px + offsets[0], o + index)
          if innerStrides[0] == 1 {
            z.update(from: xa, count: inner)
          } else {
            z.update(repeating: xa[0], count: inner)
          }
        }
      }
      initialized = count
    }
    return Tensor(uncheckedShape: shape, scalars: result)
  }

  /// The reference for ``broadcast(_:to:)``: per-element offsets.
  static func referenceBroadcast(_ x: Tensor, to shape: [Int]) -> Tensor {
    if x.shape == shape { return x }
    let count = shape.reduce(1, *)
    let strides = broadcastStrides(of: x.shape, to: shape)
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
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
    if KernelConfiguration.current.variant != .reference {
      // The summed axes: leading axes `shape` lacks, and its extent-1 axes that `g` broadcast.
      let lead = g.rank - shape.count
      let axes = Set(
        g.shape.indices.filter { $0 < lead || (shape[$0 - lead] == 1 && g.shape[$0] != 1) })
      if let summed = reduceBlock(g, axes: axes, initial: 0, +) {
        return summed.reshapedUnchecked(shape)
      }
    }
    return referenceSumToShape(g, shape)
  }

  /// The reference for ``sumToShape(_:_:)``: per-element offsets.
  static func referenceSumToShape(_ g: Tensor, _ shape: [Int]) -> Tensor {
    if g.shape == shape { return g }
    var result = Kernels.pooledFloats(repeating: 0, count: shape.reduce(1, *))
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

extension Kernels {
  /// The four arithmetic operators, as values: passed to the `BinaryOperator` overload of
  /// `broadcastZipMap(_:_:to:_:)`
  /// they select a loop with the operator inlined. (A `(Float, Float) -> Float` that is itself a
  /// parameter, like `*` handed through an op, reached the loops as an indirect call per element:
  /// measured at ~10 % of a student's training step.)
  enum BinaryOperator {
    case add, subtract, multiply, divide
  }

  /// `a op b` elementwise after broadcasting, with `op` inlined into the loop.
  static func broadcastZipMap(
    _ a: Tensor, _ b: Tensor, to shape: [Int], _ op: BinaryOperator
  ) -> Tensor {
    switch op {
    case .add: broadcastZipMap(a, b, to: shape) { $0 + $1 }
    case .subtract: broadcastZipMap(a, b, to: shape) { $0 - $1 }
    case .multiply: broadcastZipMap(a, b, to: shape) { $0 * $1 }
    case .divide: broadcastZipMap(a, b, to: shape) { $0 / $1 }
    }
  }

  /// Calls `body` once per innermost row of `shape`: the row's first row-major index in the
  /// result, each operand's offset (under its `strides`), the row length, and each operand's
  /// stride along the row. Adjacent axes that every operand walks contiguously are merged first,
  /// so rows are as long as the layouts allow.
  @inline(__always)
  static func forEachRow(
    shape: [Int], strides: [[Int]],
    _ body: (_ index: Int, _ offsets: [Int], _ inner: Int, _ innerStrides: [Int]) -> Void
  ) {
    let (dims, merged) = mergedAxes(shape: shape, strides: strides)
    let count = shape.reduce(1, *)
    guard count > 0 else { return }
    guard let inner = dims.last else {
      body(0, strides.map { _ in 0 }, 1, strides.map { _ in 1 })
      return
    }
    let innerStrides = merged.map { $0.last! }
    let outerAxes = dims.count - 1
    var counter = [Int](repeating: 0, count: outerAxes)
    var offsets = strides.map { _ in 0 }
    var index = 0
    while index < count {
      body(index, offsets, inner, innerStrides)
      index += inner
      var axis = outerAxes - 1
      while axis >= 0 {
        counter[axis] += 1
        for k in offsets.indices { offsets[k] += merged[k][axis] }
        if counter[axis] < dims[axis] { break }
        for k in offsets.indices { offsets[k] -= merged[k][axis] * dims[axis] }
        counter[axis] = 0
        axis -= 1
      }
    }
  }

  /// `shape` without extent-1 axes and with adjacent axes merged wherever every operand walks
  /// them as one (stride of the outer = stride of the inner × its extent), with each operand's
  /// strides over the merged axes.
  static func mergedAxes(shape: [Int], strides: [[Int]]) -> (dims: [Int], strides: [[Int]]) {
    var dims: [Int] = []
    var merged = strides.map { _ in [Int]() }
    for axis in shape.indices where shape[axis] != 1 {
      if let last = dims.last,
        strides.indices.allSatisfy({ merged[$0].last! == strides[$0][axis] * shape[axis] })
      {
        dims[dims.count - 1] = last * shape[axis]
        for k in strides.indices { merged[k][merged[k].count - 1] = strides[k][axis] }
      } else {
        dims.append(shape[axis])
        for k in strides.indices { merged[k].append(strides[k][axis]) }
      }
    }
    return (dims, merged)
  }

  /// `x` viewed as `[outer, extent, inner]` when `axes` (ignoring extent-1 axes) are one
  /// contiguous block, else `nil`.
  static func reductionBlock(_ shape: [Int], axes: Set<Int>) -> (
    outer: Int, extent: Int, inner: Int
  )? {
    let reduced = shape.indices.filter { axes.contains($0) && shape[$0] != 1 }
    guard let first = reduced.first, let last = reduced.last else {
      return (shape.reduce(1, *), 1, 1)
    }
    guard (first...last).allSatisfy({ axes.contains($0) || shape[$0] == 1 }) else { return nil }
    return (
      shape[..<first].reduce(1, *), shape[first...last].reduce(1, *),
      shape[(last + 1)...].reduce(1, *)
    )
  }

  /// ``reduce(_:axes:initial:_:)`` for a contiguous block of reduced axes: rows of `inner`
  /// elements are combined into the result row, a loop the compiler vectorizes (the inner = 1
  /// case is a plain running total per output). `nil` when the axes are not one block.
  @inline(__always)
  static func reduceBlock(
    _ x: Tensor, axes: Set<Int>, initial: Float, _ combine: (Float, Float) -> Float
  ) -> Tensor? {
    guard let (outer, extent, inner) = reductionBlock(x.shape, axes: axes) else { return nil }
    let shape = x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] }
    let count = outer * inner
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      x.withUnsafeBufferPointer { source in
        let (o, px) = (out.baseAddress!, source.baseAddress!)
        for r in 0..<outer {
          let row = o + r * inner
          if inner == 1 {
            var total = initial
            let xs = px + r * extent
            for e in 0..<extent { total = combine(total, xs[e]) }
            row[0] = total
          } else {
            row.update(repeating: initial, count: inner)
            for e in 0..<extent {
              let xs = px + (r * extent + e) * inner
              for i in 0..<inner { row[i] = combine(row[i], xs[i]) }
            }
          }
        }
      }
      initialized = count
    }
    return Tensor(uncheckedShape: shape, scalars: result)
  }
}
