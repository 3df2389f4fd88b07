import Tensor

/// How a layer's weights are drawn at creation; always from the generator passed to the layer.
public enum Initializer: Sendable, Equatable {
  /// `U(−l, l)`, `l = √(6 / (fanIn + fanOut))` (Glorot & Bengio 2010); the Keras default.
  case glorotUniform
  /// `N(0, 2 / fanIn)` (He et al. 2015), for ReLU networks.
  case heNormal
  /// `U(−l, l)`, `l = √(6 / fanIn)`.
  case heUniform
  /// A (semi-)orthogonal matrix times `gain` (Saxe, McClelland & Ganguli, "Exact solutions to
  /// the nonlinear dynamics of learning in deep linear neural networks", ICLR 2014); for a
  /// filter `[kernel..., in, out]` the leading axes are flattened into rows, as Keras does.
  case orthogonal(gain: Float)
  /// All zeros (the default for biases).
  case zeros

  /// A tensor of `shape` drawn with this initializer.
  public func make(_ shape: [Int], using generator: inout some RandomNumberGenerator) -> Tensor {
    switch self {
    case .glorotUniform: return .glorotUniform(shape, using: &generator)
    case .heNormal: return .heNormal(shape, using: &generator)
    case .heUniform: return .heUniform(shape, using: &generator)
    case .zeros: return Tensor(zeros: shape)
    case .orthogonal(let gain): return Initializer.orthogonal(shape, gain: gain, using: &generator)
    }
  }

  /// An orthogonal matrix from the QR decomposition (modified Gram–Schmidt, in `Double`) of a
  /// normal random matrix, with the sign correction that makes it uniformly distributed.
  private static func orthogonal(
    _ shape: [Int], gain: Float, using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    guard shape.count >= 2 else { return .normal(shape, using: &generator) }
    let rows = shape.dropLast().reduce(1, *)
    let columns = shape[shape.count - 1]
    // Orthonormalize the columns of a tall matrix: transpose first if it is wide.
    let (tall, wide) = (Swift.max(rows, columns), Swift.min(rows, columns))
    let normal = Tensor.normal([tall * wide], using: &generator).scalars.map(Double.init)
    var q = [[Double]](repeating: [], count: wide)  // `wide` orthonormal vectors of length `tall`
    for j in 0..<wide {
      var v = (0..<tall).map { normal[$0 * wide + j] }
      for previous in q[..<j] {
        let dot = zip(v, previous).reduce(0) { $0 + $1.0 * $1.1 }
        for i in 0..<tall { v[i] -= dot * previous[i] }
      }
      let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
      q[j] = v.map { $0 / Swift.max(norm, 1e-12) }
    }
    var scalars = [Float](repeating: 0, count: rows * columns)
    for r in 0..<rows {
      for c in 0..<columns {
        let value = rows >= columns ? q[c][r] : q[r][c]
        scalars[r * columns + c] = gain * Float(value)
      }
    }
    return try! Tensor(shape: shape, scalars: scalars)
  }
}
