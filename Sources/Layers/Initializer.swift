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
  /// `U(−l, l)`, `l = 1 / √fanIn`: PyTorch's default for the weights of `Conv1d`, `Conv2d` and
  /// `Linear` (`kaiming_uniform_` with `a = √5`, whose gain `√(2 / (1 + a²))` times `√(3 / fanIn)`
  /// is `1 / √fanIn`). Fans as `Tensor.fans(of:)`: `fanIn` is the input channels times the
  /// kernel's receptive field.
  case pytorchUniform
  /// `U(−limit, limit)` whatever the shape, e.g. a PyTorch bias (`limit = 1 / √fanIn` of its
  /// layer's weight) or a PyTorch LSTM weight (`limit = 1 / √units`).
  case uniform(limit: Float)
  /// All zeros (the default for biases).
  case zeros

  /// A tensor of `shape` drawn with this initializer.
  public func make(_ shape: [Int], using generator: inout some RandomNumberGenerator) -> Tensor {
    switch self {
    case .glorotUniform: return .glorotUniform(shape, using: &generator)
    case .heNormal: return .heNormal(shape, using: &generator)
    case .heUniform: return .heUniform(shape, using: &generator)
    case .pytorchUniform:
      let limit = 1 / Float(Swift.max(Tensor.fans(of: shape).fanIn, 1)).squareRoot()
      return .uniform(shape, in: -limit...limit, using: &generator)
    case .uniform(let limit):
      precondition(
        limit.isFinite && limit >= 0, "Initializer.uniform(limit: \(limit)): must be finite, ≥ 0")
      return .uniform(shape, in: -limit...limit, using: &generator)
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

/// How a whole model's parameters are drawn at creation: the Keras defaults the package has always
/// used, or PyTorch's defaults, for comparing with a PyTorch implementation of the same model.
///
/// | layer | `.glorot` (Keras) | `.pytorch` |
/// |---|---|---|
/// | convolution, dense: weight | Glorot-uniform | `U(±1/√fanIn)` |
/// | convolution, dense: bias | 0 | `U(±1/√fanIn)` (the weight's `fanIn`) |
/// | LSTM: kernel | Glorot-uniform | `U(±1/√units)` |
/// | LSTM: recurrent kernel | orthogonal | `U(±1/√units)` |
/// | LSTM: bias | 0, forget gate 1 | `b_ih + b_hh`, each `U(±1/√units)` |
/// | CBAM weights (no biases) | Glorot-uniform | `U(±1/√fanIn)` |
///
/// `fanIn` is the input channels (features) times the kernel's receptive field, as PyTorch's
/// `_calculate_fan_in_and_fan_out`. PyTorch's LSTM has two bias vectors that are always added;
/// the package's single bias is drawn as their sum, so it has the same distribution (triangular
/// on `±2/√units`).
public enum WeightInitialization: String, Sendable, Equatable, CaseIterable, Codable {
  /// Glorot-uniform kernels, zero biases, orthogonal recurrent kernels and forget-gate biases of
  /// 1 (the Keras defaults); the default everywhere.
  case glorot
  /// The defaults of PyTorch's `nn.Conv1d`, `nn.Conv2d`, `nn.Linear` and `nn.LSTM`.
  case pytorch

  /// The initializer of a convolution's or dense layer's weight.
  public var weight: Initializer {
    switch self {
    case .glorot: .glorotUniform
    case .pytorch: .pytorchUniform
    }
  }

  /// The initializer of the bias of a layer whose weight has `fanIn` inputs per output.
  public func bias(fanIn: Int) -> Initializer {
    switch self {
    case .glorot: .zeros
    case .pytorch: .uniform(limit: 1 / Float(Swift.max(fanIn, 1)).squareRoot())
    }
  }
}
