import Layers
import Tensor
import TestSupport
import Testing

@Suite("LSTM")
struct LSTMTests {
  /// One unit, one feature, two steps, weights set by hand, against NumPy (Keras gate order
  /// i, f, c, o along the last axis):
  ///
  /// ```python
  /// sig = lambda z: 1 / (1 + np.exp(-z))
  /// x = np.array([[1.0], [-2.0]])                       # [T=2, F=1]
  /// W = np.array([[0.5, -0.3, 0.8, 0.2]])               # kernel [1, 4]
  /// R = np.array([[0.1, 0.4, -0.6, 0.3]])               # recurrent kernel [1, 4]
  /// b = np.array([0, 1, 0.1, -0.2])
  /// h = c = np.zeros(1)
  /// for t in range(2):
  ///     z = x[t] @ W + h @ R + b
  ///     i, f, g, o = sig(z[0:1]), sig(z[1:2]), np.tanh(z[2:3]), sig(z[3:4])
  ///     c = f * c + i * g; h = o * np.tanh(c)            # h: 0.20924759, then 0.04525900
  /// ```
  @Test func forwardMatchesAHandComputation() throws {
    var rng = SplitMix64(seed: 0)
    var lstm = LSTM(inputSize: 1, units: 1, returnSequences: true, generator: &rng)
    lstm.kernel = try Tensor(shape: [1, 4], scalars: [0.5, -0.3, 0.8, 0.2])
    lstm.recurrentKernel = try Tensor(shape: [1, 4], scalars: [0.1, 0.4, -0.6, 0.3])
    lstm.bias = Tensor([0, 1, 0.1, -0.2])
    let x = try Tensor(shape: [1, 2, 1], scalars: [1, -2])
    #expect(isClose(lstm(x), [0.20924759, 0.04525900], shape: [1, 2, 1], tolerance: 1e-6))
    var last = lstm
    last = LSTM(inputSize: 1, units: 1, returnSequences: false, generator: &rng)
    last.kernel = lstm.kernel
    last.recurrentKernel = lstm.recurrentKernel
    last.bias = lstm.bias
    #expect(isClose(last(x), [0.04525900], shape: [1, 1], tolerance: 1e-6))
  }

  @Test func sequenceOutputEndsWithTheLastStep() {
    var rng = SplitMix64(seed: 1)
    let sequence = LSTM(inputSize: 3, units: 4, returnSequences: true, generator: &rng)
    var last = sequence
    last = LSTM(inputSize: 3, units: 4, returnSequences: false, generator: &rng)
    last.kernel = sequence.kernel
    last.recurrentKernel = sequence.recurrentKernel
    last.bias = sequence.bias
    let x = Tensor.uniform([2, 5, 3], in: -1...1, using: &rng)
    let all = sequence(x)
    #expect(all.shape == [2, 5, 4])
    let final = all.sliced(alongAxis: 1, range: 4..<5).reshaped(to: [2, 4])
    #expect(final.isClose(to: last(x), tolerance: 1e-6))
    // Batch rows are independent: the second example alone gives the second row.
    let second = last(x.sliced(alongAxis: 0, range: 1..<2))
    #expect(second.isClose(to: last(x).sliced(alongAxis: 0, range: 1..<2), tolerance: 1e-6))
  }

  /// Keras defaults: Glorot-uniform kernel, orthogonal recurrent kernel (a `[u, 4u]` matrix with
  /// orthonormal rows), bias zero except ones on the forget slice (`unit_forget_bias=True`).
  @Test func initializationFollowsKeras() {
    var rng = SplitMix64(seed: 2)
    let lstm = LSTM(inputSize: 6, units: 3, generator: &rng)
    #expect(lstm.kernel.shape == [6, 12])
    let limit = (6 / Float(6 + 12)).squareRoot()
    #expect(lstm.kernel.scalars.allSatisfy { abs($0) <= limit })
    #expect(lstm.bias.scalars == [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    let r = lstm.recurrentKernel
    let gram = r.matmul(r.transposed())
    #expect(isClose(gram, [1, 0, 0, 0, 1, 0, 0, 0, 1], shape: [3, 3], tolerance: 1e-5))
    let plain = LSTM(inputSize: 6, units: 3, unitForgetBias: false, generator: &rng)
    #expect(plain.bias.scalars.allSatisfy { $0 == 0 })
  }

  @Test func shapesParametersAndFLOPs() throws {
    var rng = SplitMix64(seed: 3)
    let lstm = LSTM(inputSize: 10, units: 4, returnSequences: true, generator: &rng)
    #expect(try lstm.outputShape(for: [8, 7, 10]) == [8, 7, 4])
    #expect(
      try LSTM(inputSize: 10, units: 4, generator: &rng).outputShape(for: [8, 7, 10]) == [8, 4])
    #expect(
      throws: ShapeError.invalid(operation: "LSTM", shape: [8, 7, 9], rule: "[batch, time, 10]")
    ) {
      try lstm.outputShape(for: [8, 7, 9])
    }
    // 4u·(F + u + 1) = 16·15 = 240; FLOPs 2·T·4u·(F + u) = 2·7·16·14 = 3136.
    #expect(lstm.parameterCount == 240)
    #expect(lstm.forwardFLOPs(for: [8, 7, 10]) == 3136)
    #expect(lstm.parameters.map(\.name) == ["kernel", "recurrentKernel", "bias"])
  }

  @Test(arguments: [true, false])
  func gradientsThroughTime(_ returnSequences: Bool) {
    var rng = SplitMix64(seed: 4)
    let lstm = LSTM(inputSize: 2, units: 3, returnSequences: returnSequences, generator: &rng)
    let report = layerGradientReport(lstm, input: signedInput([2, 3, 2]))
    #expect(report.passed, "\(report)")
  }

  @Test func stackedGradients() throws {
    var rng = SplitMix64(seed: 5)
    let model = Sequential {
      LSTM(inputSize: 2, units: 3, returnSequences: true, generator: &rng)
      LSTM(inputSize: 3, units: 2, generator: &rng)
    }
    #expect(try model.outputShape(for: [2, 4, 2]) == [2, 2])
    let report = layerGradientReport(model, input: signedInput([2, 4, 2]))
    #expect(report.passed, "\(report)")
  }
}
