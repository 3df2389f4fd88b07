import Tensor

/// A long short-term memory layer over time, with Keras's weight layout and defaults.
///
/// For `input` `[batch, time, inputSize]` and `h₀ = c₀ = 0`, at each step `t`:
///
/// ```
/// z  = x_t · kernel + h_{t−1} · recurrentKernel + bias      [batch, 4·units]
/// i  = σ(z[0 ..< u])          input gate
/// f  = σ(z[u ..< 2u])         forget gate
/// g  = tanh(z[2u ..< 3u])     candidate cell ("c" in Keras)
/// o  = σ(z[3u ..< 4u])        output gate
/// c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(c_t)
/// ```
///
/// The gate order along the last axis of every weight is Keras's `i, f, c, o`, so a Keras
/// `LSTM`'s `kernel`, `recurrent_kernel` and `bias` load as they are (Keras 2+ defaults:
/// `activation="tanh"`, `recurrent_activation="sigmoid"`, not the hard sigmoid of Keras 1).
/// Output: every `h_t`, `[batch, time, units]`, when ``returnSequences``; else the last step,
/// `[batch, units]`. The input projection of all steps is one matrix product; the recurrence is
/// one recorded operation (`Tensor.lstmSequence(projected:recurrentKernel:bias:returnSequences:)`)
/// whose backward pass runs back through time.
///
/// Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8), 1997; the forget
/// gate and its bias of 1: Gers, Schmidhuber & Cummins, "Learning to Forget", 2000, and
/// Jozefowicz, Zaremba & Sutskever, ICML 2015.
public struct LSTM: Layer {
  /// `[inputSize, 4·units]`, Glorot-uniform at creation (Keras `kernel`).
  public var kernel: Tensor
  /// `[units, 4·units]`, orthogonal at creation (Keras `recurrent_kernel`).
  public var recurrentKernel: Tensor
  /// `[4·units]`: zeros, with ones on the forget-gate slice `units ..< 2·units` when created with
  /// `unitForgetBias` (Keras `unit_forget_bias=True`, the default).
  public var bias: Tensor
  /// Whether the output is every step `[batch, time, units]` or the last `[batch, units]`.
  public let returnSequences: Bool

  /// An LSTM from `inputSize` features to `units` hidden units, weights drawn from `generator`.
  ///
  /// With `.glorot` (the default, Keras's): Glorot-uniform kernel, orthogonal recurrent kernel,
  /// zero bias. With `.pytorch` (`nn.LSTM`'s): every weight `U(±1/√units)` and the bias the sum
  /// of two such draws (PyTorch's `b_ih + b_hh`). `unitForgetBias` then adds 1 to the
  /// forget-gate slice of the bias; PyTorch has no such term, so pass `false` to match it.
  public init(
    inputSize: Int, units: Int, returnSequences: Bool = false, unitForgetBias: Bool = true,
    initialization: WeightInitialization = .glorot, generator: inout some RandomNumberGenerator
  ) {
    precondition(
      inputSize > 0 && units > 0, "LSTM(inputSize: \(inputSize), units: \(units)): both must be > 0"
    )
    var initialBias: [Float]
    switch initialization {
    case .glorot:
      kernel = .glorotUniform([inputSize, 4 * units], using: &generator)
      recurrentKernel = Initializer.orthogonal(gain: 1).make([units, 4 * units], using: &generator)
      initialBias = [Float](repeating: 0, count: 4 * units)
    case .pytorch:
      let uniform = Initializer.uniform(limit: 1 / Float(units).squareRoot())
      kernel = uniform.make([inputSize, 4 * units], using: &generator)
      recurrentKernel = uniform.make([units, 4 * units], using: &generator)
      let inputBias = uniform.make([4 * units], using: &generator).scalars
      let recurrentBias = uniform.make([4 * units], using: &generator).scalars
      initialBias = zip(inputBias, recurrentBias).map { $0 + $1 }
    }
    if unitForgetBias { for j in units..<(2 * units) { initialBias[j] += 1 } }
    bias = Tensor(initialBias)
    self.returnSequences = returnSequences
  }

  /// The number of input features per step.
  public var inputSize: Int { kernel.shape[0] }
  /// The number of hidden units.
  public var units: Int { recurrentKernel.shape[0] }

  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    let (batch, time) = (input.shape[0], input.shape[1])
    // The input projection of every step is one matrix product; the recurrence, one operation.
    let projected = input.reshaped(to: [batch * time, inputSize]).matmul(kernel)
      .reshaped(to: [batch, time, 4 * units])
    return Tensor.lstmSequence(
      projected: projected, recurrentKernel: recurrentKernel, bias: bias,
      returnSequences: returnSequences)
  }

  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    try expectShape(
      inputShape, rank: 3, lastAxis: inputSize, layer: "LSTM", rule: "[batch, time, \(inputSize)]")
    return returnSequences ? [inputShape[0], inputShape[1], units] : [inputShape[0], units]
  }

  /// `2 · time · 4·units · (inputSize + units)`: the input and recurrent products of every step
  /// (the first step's recurrent product, against `h₀ = 0`, is skipped at run time but counted,
  /// as cost tables do); gate nonlinearities and products are element-wise work, not counted.
  public func forwardFLOPs(for inputShape: [Int]) -> Int {
    guard inputShape.count == 3 else { return 0 }
    return 2 * inputShape[1] * 4 * units * (inputSize + units)
  }

  public mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {
    try body("kernel", &kernel)
    try body("recurrentKernel", &recurrentKernel)
    try body("bias", &bias)
  }
}
