// Elementwise arithmetic with NumPy broadcasting, and the unary functions, each with its
// backward. Broadcast gradients are summed back to each operand's shape.

extension Tensor {
  /// The shape two operands broadcast to under NumPy rules: shapes are right-aligned and each
  /// pair of extents must be equal or contain a 1.
  ///
  /// - Throws: ``ShapeError/incompatible(operation:lhs:rhs:rule:)`` naming both shapes.
  public static func broadcastShape(
    _ lhs: [Int], _ rhs: [Int], operation: String = "broadcast"
  ) throws(ShapeError) -> [Int] {
    let rank = Swift.max(lhs.count, rhs.count)
    var shape = [Int](repeating: 0, count: rank)
    for axis in 0..<rank {
      let l = axis < rank - lhs.count ? 1 : lhs[axis - (rank - lhs.count)]
      let r = axis < rank - rhs.count ? 1 : rhs[axis - (rank - rhs.count)]
      guard l == r || l == 1 || r == 1 else {
        throw .incompatible(
          operation: operation, lhs: lhs, rhs: rhs, rule: "broadcasting (equal extents or 1)")
      }
      shape[axis] = l == 1 ? r : l
    }
    return shape
  }

  /// Applies a broadcasting binary op and records its backward.
  @inline(__always)
  private static func binary(
    _ operation: Tape.Operation, _ lhs: Tensor, _ rhs: Tensor,
    _ op: Kernels.BinaryOperator,
    backward: @escaping (_ grad: Tensor, _ lhs: Tensor, _ rhs: Tensor) -> (Tensor?, Tensor?)
  ) -> Tensor {
    let shape = checked { () throws(ShapeError) in
      try broadcastShape(lhs.shape, rhs.shape, operation: operation.rawValue)
    }
    let value = Kernels.broadcastZipMap(lhs, rhs, to: shape, op)
    guard let tape = Tape.of(lhs, rhs) else { return value }
    let (a, b) = (lhs.detached(), rhs.detached())
    return tape.record(operation, value, inputs: [lhs, rhs]) { grad in
      let (ga, gb) = backward(grad, a, b)
      return [
        ga.map { Kernels.sumToShape($0, a.shape) }, gb.map { Kernels.sumToShape($0, b.shape) },
      ]
    }
  }

  /// Elementwise sum, broadcasting.
  public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
    // ∂(a+b)/∂a = ∂(a+b)/∂b = 1.
    binary(.add, lhs, rhs, .add) { grad, _, _ in (grad, grad) }
  }

  /// Elementwise difference, broadcasting.
  public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
    // ∂(a−b)/∂a = 1, ∂(a−b)/∂b = −1.
    binary(.subtract, lhs, rhs, .subtract) { grad, _, _ in (grad, -grad) }
  }

  /// Elementwise product, broadcasting.
  public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
    // ∂(ab)/∂a = b, ∂(ab)/∂b = a.
    binary(.multiply, lhs, rhs, .multiply) { grad, a, b in
      (
        Kernels.broadcastZipMap(grad, b, to: grad.shape, .multiply),
        Kernels.broadcastZipMap(grad, a, to: grad.shape, .multiply)
      )
    }
  }

  /// Elementwise quotient, broadcasting.
  public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
    // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b².
    binary(.divide, lhs, rhs, .divide) { grad, a, b in
      let gb = Kernels.broadcastZipMap(grad, a, to: grad.shape, .multiply)
      return (
        Kernels.broadcastZipMap(grad, b, to: grad.shape, .divide),
        Kernels.broadcastZipMap(gb, b, to: grad.shape) { -$0 / ($1 * $1) }
      )
    }
  }

  /// `lhs + rhs` for a scalar `rhs`.
  public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs + Tensor(rhs) }
  /// `lhs + rhs` for a scalar `lhs`.
  public static func + (lhs: Float, rhs: Tensor) -> Tensor { Tensor(lhs) + rhs }
  /// `lhs - rhs` for a scalar `rhs`.
  public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs - Tensor(rhs) }
  /// `lhs - rhs` for a scalar `lhs`.
  public static func - (lhs: Float, rhs: Tensor) -> Tensor { Tensor(lhs) - rhs }
  /// `lhs * rhs` for a scalar `rhs`.
  public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs * Tensor(rhs) }
  /// `lhs * rhs` for a scalar `lhs`.
  public static func * (lhs: Float, rhs: Tensor) -> Tensor { Tensor(lhs) * rhs }
  /// `lhs / rhs` for a scalar `rhs`.
  public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs / Tensor(rhs) }
  /// `lhs / rhs` for a scalar `lhs`.
  public static func / (lhs: Float, rhs: Tensor) -> Tensor { Tensor(lhs) / rhs }

  /// Applies a unary op and records its backward, given the detached input and output.
  @inline(__always)
  private func unary(
    _ operation: Tape.Operation, _ op: (Float) -> Float,
    backward: @escaping (_ grad: Tensor, _ input: Tensor, _ output: Tensor) -> Tensor
  ) -> Tensor {
    let value = Kernels.map(self, op)
    guard let tape = Tape.of(self) else { return value }
    let (x, y) = (detached(), value)
    return tape.record(operation, value, inputs: [self]) { grad in [backward(grad, x, y)] }
  }

  /// Elementwise negation.
  public static prefix func - (x: Tensor) -> Tensor {
    // ∂(−x)/∂x = −1.
    x.unary(.negate, -) { grad, _, _ in Kernels.map(grad, -) }
  }

  /// Elementwise `eˣ`.
  public func exp() -> Tensor {
    // ∂eˣ/∂x = eˣ.
    unary(.exp, Libm.exp) { grad, _, y in Kernels.zipMap(grad, y) { $0 * $1 } }
  }

  /// Elementwise natural logarithm.
  public func log() -> Tensor {
    // ∂ln x/∂x = 1/x.
    unary(.log, Libm.log) { grad, x, _ in Kernels.zipMap(grad, x) { $0 / $1 } }
  }

  /// Elementwise square root.
  public func sqrt() -> Tensor {
    // ∂√x/∂x = 1/(2√x).
    unary(
      .sqrt, { $0.squareRoot() },
      backward: { grad, _, y in
        Kernels.zipMap(grad, y) { $0 * 0.5 / $1 }
      })
  }

  /// Elementwise `xᵖ` for a scalar exponent `p`.
  public func pow(_ p: Float) -> Tensor {
    // ∂xᵖ/∂x = p·xᵖ⁻¹.
    unary(
      .pow, { Libm.pow($0, p) },
      backward: { grad, x, _ in
        Kernels.zipMap(grad, x) { $0 * p * Libm.pow($1, p - 1) }
      })
  }

  /// Elementwise `x²`, as `pow(2)`.
  public func squared() -> Tensor { pow(2) }

  /// Elementwise `max(0, x)`.
  public func relu() -> Tensor {
    // ∂relu/∂x = 1 where x > 0, else 0 (the subgradient at 0 is taken as 0).
    unary(
      .relu, { $0 < 0 ? 0 : $0 },
      backward: { grad, x, _ in
        Kernels.zipMap(grad, x) { $1 > 0 ? $0 : 0 }
      })
  }

  /// Elementwise logistic sigmoid `1 / (1 + e⁻ˣ)`.
  public func sigmoid() -> Tensor {
    // ∂σ/∂x = σ(1 − σ).
    unary(.sigmoid, Kernels.sigmoid) { grad, _, y in
      Kernels.zipMap(grad, y) { $0 * $1 * (1 - $1) }
    }
  }

  /// Elementwise hyperbolic tangent.
  public func tanh() -> Tensor {
    // ∂tanh/∂x = 1 − tanh².
    unary(.tanh, Libm.tanh) { grad, _, y in Kernels.zipMap(grad, y) { $0 * (1 - $1 * $1) } }
  }
}

extension Kernels {
  /// The logistic sigmoid, evaluated without overflow for large |x|.
  @inline(__always)
  static func sigmoid(_ x: Float) -> Float {
    if x >= 0 { return 1 / (1 + Libm.exp(-x)) }
    let e = Libm.exp(x)
    return e / (1 + e)
  }
}
