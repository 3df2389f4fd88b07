import Tensor
import TestSupport
import Testing

/// How a gradient case draws its inputs.
enum InputKind: Sendable {
  /// Magnitudes in [0.1, 1] with alternating signs: away from relu's kink at 0.
  case signed
  /// Values in [0.5, 2]: inside the domain of log, sqrt, fractional powers and denominators.
  case positive
  /// Distinct values at least 0.1 apart, shuffled: no near-ties for max and max-pooling, whose
  /// finite differences would otherwise cross over.
  case spaced
}

/// One differentiable operation under test: its inputs' shapes and how to apply it.
struct GradientCase: Sendable, CustomTestStringConvertible {
  let operation: Tape.Operation
  let shapes: [[Int]]
  var inputs: InputKind = .signed
  let apply: @Sendable ([Tensor]) -> Tensor
  /// For a straight-through estimator: the function whose Jacobian the backward claims, which
  /// the finite differences are taken of (`apply`'s own forward is a step function).
  var surrogate: (@Sendable ([Tensor]) -> Tensor)?
  var testDescription: String { "\(operation) \(shapes)" }

  init(
    _ operation: Tape.Operation, _ shapes: [[Int]], inputs: InputKind = .signed,
    surrogate: (@Sendable ([Tensor]) -> Tensor)? = nil,
    _ apply: @escaping @Sendable ([Tensor]) -> Tensor
  ) {
    self.operation = operation
    self.shapes = shapes
    self.inputs = inputs
    self.surrogate = surrogate
    self.apply = apply
  }

  static let all: [GradientCase] = [
    .init(.add, [[2, 3], [2, 3]]) { $0[0] + $0[1] },
    .init(.add, [[2, 3], [3]]) { $0[0] + $0[1] },
    .init(.add, [[2, 1, 3], [4, 1]]) { $0[0] + $0[1] },
    .init(.add, [[2, 3], []]) { $0[0] + $0[1] },
    .init(.add, [[2, 3]]) { $0[0] + $0[0] * $0[0] },  // one tensor used twice
    .init(.subtract, [[2, 3], [3]]) { $0[0] - $0[1] },
    .init(.subtract, [[3, 1], [1, 4]]) { $0[0] - $0[1] },
    .init(.multiply, [[2, 3], [2, 3]]) { $0[0] * $0[1] },
    .init(.multiply, [[2, 3], [2, 1]]) { $0[0] * $0[1] },
    .init(.multiply, [[4]]) { 3 * $0[0] },
    .init(.divide, [[2, 3], [3]], inputs: .positive) { $0[0] / $0[1] },
    .init(.divide, [[2, 1], [2, 3]], inputs: .positive) { $0[0] / $0[1] },
    .init(.negate, [[2, 3]]) { -$0[0] },
    .init(.exp, [[2, 3]]) { $0[0].exp() },
    .init(.log, [[2, 3]], inputs: .positive) { $0[0].log() },
    .init(.sqrt, [[2, 3]], inputs: .positive) { $0[0].sqrt() },
    .init(.pow, [[2, 3]]) { $0[0].pow(3) },
    .init(.pow, [[2, 3]], inputs: .positive) { $0[0].pow(-1.5) },
    .init(.relu, [[2, 5]]) { $0[0].relu() },
    .init(.sigmoid, [[2, 5]]) { $0[0].sigmoid() },
    .init(.tanh, [[2, 5]]) { $0[0].tanh() },
    .init(.sum, [[2, 3, 4]]) { $0[0].sum(alongAxis: 1) },
    .init(.sum, [[2, 3, 4]]) { $0[0].sum(alongAxes: [0, 2], keepingDimensions: true) },
    .init(.sum, [[2, 3]]) { $0[0].sum() },
    .init(.mean, [[2, 3, 4]]) { $0[0].mean(alongAxis: -1) },
    .init(.mean, [[2, 3, 4]]) { $0[0].mean(alongAxes: [0, 1], keepingDimensions: true) },
    .init(.mean, [[3, 2]]) { $0[0].mean() },
    .init(.max, [[2, 3, 4]], inputs: .spaced) { $0[0].max(alongAxis: 1) },
    .init(.max, [[2, 3, 4]], inputs: .spaced) {
      $0[0].max(alongAxes: [0, 2], keepingDimensions: true)
    },
    .init(.max, [[2, 3]], inputs: .spaced) { $0[0].max() },
    .init(.matmul, [[3, 4], [4, 2]]) { $0[0].matmul($0[1]) },
    .init(.matmul, [[2, 3, 4], [2, 4, 2]]) { $0[0].matmul($0[1]) },
    .init(.matmul, [[2, 3, 4], [4, 2]]) { $0[0].matmul($0[1]) },
    .init(.matmul, [[3, 4], [2, 4, 5]]) { $0[0].matmul($0[1]) },
    .init(.reshape, [[2, 3, 2]]) { $0[0].reshaped(to: [3, -1]) * Tensor([1, 2, 3, 4]) },
    .init(.transpose, [[2, 3, 4]]) {
      $0[0].transposed(permutation: [2, 0, 1]) * Tensor([1, 2, 3])
    },
    .init(.transpose, [[3, 4]]) { $0[0].transposed() },
    .init(.concatenate, [[2, 1, 3], [2, 2, 3], [2, 1, 3]]) {
      Tensor.concatenating($0, alongAxis: 1)
    },
    .init(.concatenate, [[2, 3], [1, 3]]) { Tensor.concatenating($0, alongAxis: 0) },
    .init(.slice, [[2, 5, 3]]) { $0[0].sliced(alongAxis: 1, range: 1..<4) },
    .init(.slice, [[4, 3]]) { $0[0].sliced(alongAxis: -1, range: 2..<3) },
    .init(.pad, [[2, 3, 2]]) { $0[0].padded(alongAxis: 1, before: 2, after: 1, value: 0.5) },
    .init(.softmax, [[2, 3, 4]]) { $0[0].softmax(alongAxis: 1) },
    .init(.softmax, [[3, 5]]) { $0[0].softmax() },
    .init(.logSoftmax, [[2, 3, 4]]) { $0[0].logSoftmax(alongAxis: 1) },
    .init(.logSoftmax, [[3, 5]]) { $0[0].logSoftmax() },
    .init(.softmaxCrossEntropy, [[4, 3]]) {
      softmaxCrossEntropy(logits: $0[0], labels: [0, 2, 1, 2])
    },
    .init(.conv1D, [[2, 7, 3], [3, 3, 4], [4]]) {
      $0[0].conv1D(filter: $0[1], bias: $0[2], padding: .same)
    },
    .init(.conv1D, [[2, 9, 2], [3, 2, 3], [3]]) {
      $0[0].conv1D(filter: $0[1], bias: $0[2], stride: 2, dilation: 2, padding: .valid)
    },
    .init(.meanAndMax, [[2, 5, 3]]) { $0[0].meanAndMax(alongAxis: 1) },
    .init(.meanAndMax, [[2, 4, 6]]) { $0[0].meanAndMax(alongAxis: -1) },
    .init(.meanAndMax, [[3, 2]]) { $0[0].meanAndMax(alongAxis: 0) },
    .init(.lstmCellState, [[2, 12], [2, 3]]) {
      Tensor.lstmCellState(gates: $0[0], previous: $0[1])
    },
    .init(.lstmCellState, [[3, 8]]) { Tensor.lstmCellState(gates: $0[0], previous: nil) },
    .init(.lstmHiddenState, [[2, 12], [2, 3]]) {
      Tensor.lstmHiddenState(gates: $0[0], state: $0[1])
    },
    .init(.lstmSequence, [[2, 4, 12], [3, 12], [12]]) {
      Tensor.lstmSequence(
        projected: $0[0], recurrentKernel: $0[1], bias: $0[2], returnSequences: true)
    },
    .init(.lstmSequence, [[3, 3, 8], [2, 8], [8]]) {
      Tensor.lstmSequence(
        projected: $0[0], recurrentKernel: $0[1], bias: $0[2], returnSequences: false)
    },
    .init(.lstmSequence, [[2, 1, 8], [2, 8], [8]]) {
      Tensor.lstmSequence(
        projected: $0[0], recurrentKernel: $0[1], bias: $0[2], returnSequences: true)
    },
    .init(.conv1DReLU, [[2, 7, 3], [3, 3, 4], [4]]) {
      $0[0].conv1D(filter: $0[1], bias: $0[2], padding: .same, activation: .relu)
    },
    .init(.conv1DReLU, [[1, 9, 2], [3, 2, 3]]) {
      $0[0].conv1D(filter: $0[1], stride: 2, padding: .valid, activation: .relu)
    },
    .init(.conv1D, [[1, 6, 2], [4, 2, 2]]) {
      $0[0].conv1D(filter: $0[1], stride: 2, padding: .same)
    },
    // 16 and 32 output channels, stride 1, `same`: the direct small-channel kernels (input
    // gradient too when the input has 16 channels; an even kernel pads one step less ahead).
    // Positive inputs keep the many outputs away from ReLU's kink, which central differences
    // straddle; the mask itself is checked against the reference kernels (SmallConvolutionTests).
    .init(.conv1DReLU, [[2, 5, 3], [3, 3, 16], [16]], inputs: .positive) {
      $0[0].conv1D(filter: $0[1], bias: $0[2], padding: .same, activation: .relu)
    },
    .init(.conv1DReLU, [[1, 4, 16], [4, 16, 16], [16]], inputs: .positive) {
      $0[0].conv1D(filter: $0[1], bias: $0[2], padding: .same, activation: .relu)
    },
    .init(.conv1D, [[1, 3, 16], [3, 16, 32]]) {
      $0[0].conv1D(filter: $0[1], padding: .same)
    },
    .init(.conv1DReLUMaxPool, [[2, 5, 3], [3, 3, 16], [16]], inputs: .positive) {
      $0[0].conv1DReLUMaxPool(filter: $0[1], bias: $0[2])
    },
    .init(.conv1DReLUMaxPool, [[1, 4, 16], [2, 16, 32]], inputs: .positive) {
      $0[0].conv1DReLUMaxPool(filter: $0[1])
    },
    .init(.maxPool1D, [[2, 6, 3]], inputs: .spaced) { $0[0].maxPool1D(kernelSize: 2) },
    .init(.maxPool1D, [[2, 7, 2]], inputs: .spaced) {
      $0[0].maxPool1D(kernelSize: 3, stride: 2, padding: .same)
    },
    .init(.avgPool1D, [[2, 6, 3]]) { $0[0].avgPool1D(kernelSize: 2) },
    .init(.avgPool1D, [[2, 7, 2]]) { $0[0].avgPool1D(kernelSize: 3, stride: 2, padding: .same) },
    .init(.conv2D, [[2, 4, 3, 2], [3, 2, 2, 3], [3]]) {
      $0[0].conv2D(filter: $0[1], bias: $0[2], padding: .same)
    },
    .init(.conv2D, [[2, 6, 2, 2], [5, 1, 2, 2], [2]]) {
      $0[0].conv2D(filter: $0[1], bias: $0[2], padding: .valid)
    },
    .init(.conv2D, [[1, 4, 4, 2], [3, 3, 2, 1]]) { $0[0].conv2D(filter: $0[1], padding: .same) },
    // One column wide with 4, 1 and 8 input channels: im2col by kernel-row blocks (its vector
    // and scalar copies), `same` rows zero-filled.
    .init(.conv2D, [[1, 6, 3, 4], [3, 1, 4, 2], [2]]) {
      $0[0].conv2D(filter: $0[1], bias: $0[2], padding: .same)
    },
    .init(.conv2D, [[2, 5, 2, 1], [3, 1, 1, 2]]) { $0[0].conv2D(filter: $0[1], padding: .valid) },
    .init(.conv2D, [[1, 4, 2, 8], [2, 1, 8, 2]]) { $0[0].conv2D(filter: $0[1], padding: .same) },
    // One column wide, ≥ 16 channels, `same` rows: the in-place kernel-row GEMMs, edge rows
    // clipped.
    .init(.conv2D, [[1, 5, 2, 16], [4, 1, 16, 16], [16]]) {
      $0[0].conv2D(filter: $0[1], bias: $0[2], padding: .same)
    },
    // Fake quantization's clipped straight-through estimator: its backward against the finite
    // differences of the clamp it claims (the rounding itself is checked by hand in
    // FakeQuantizationTests). Scales put some inputs (magnitudes 0.1 … 1) outside ±127·s, none
    // within the step h = 1e-2 of the edge.
    .init(
      .fakeQuantize, [[2, 5]], surrogate: { clamp($0[0], 127 * 0.005) },
      { $0[0].fakeQuantized(scale: 0.005) }),
    .init(
      .fakeQuantize, [[3, 4]], surrogate: { clampColumns($0[0], fakeQuantizeScales) },
      { $0[0].fakeQuantized(scales: fakeQuantizeScales) }),
  ]
}

/// Per-column scales of the per-channel fake-quantization case: ranges ±0.3, ±0.6, ±1.27, ±0.2.
let fakeQuantizeScales: [Float] = [0.3 / 127, 0.6 / 127, 0.01, 0.2 / 127]

/// `clamp(x, −bound, bound)` from recorded operations: `relu(x + b) − relu(x − b) − b`.
func clamp(_ x: Tensor, _ bound: Float) -> Tensor {
  (x + bound).relu() - (x - bound).relu() - bound
}

/// `clamp(x[…, c], −127·s_c, 127·s_c)` from recorded operations.
func clampColumns(_ x: Tensor, _ scales: [Float]) -> Tensor {
  let bound = Tensor(scales.map { 127 * $0 })
  return (x + bound).relu() - (x - bound).relu() - bound
}

/// Inputs for a gradient case, deterministic for the seed.
func gradientInputs(_ shapes: [[Int]], kind: InputKind, seed: UInt64 = 42) -> [Tensor] {
  var rng = SplitMix64(seed: seed)
  return shapes.map { shape in
    switch kind {
    case .signed:
      var x = Tensor.uniform(shape, in: 0.1...1, using: &rng)
      x.withUnsafeMutableBufferPointer { s in for i in s.indices where i % 2 == 1 { s[i].negate() }
      }
      return x
    case .positive:
      return Tensor.uniform(shape, in: 0.5...2, using: &rng)
    case .spaced:
      let count = shape.reduce(1, *)
      let values = (0..<count).map { Float($0) * 0.1 - Float(count) * 0.05 }.shuffled(using: &rng)
      return try! Tensor(shape: shape, scalars: values)
    }
  }
}

@Suite("Gradient checks")
struct GradientCheckTests {
  // Tolerances: central differences with h = 1e-2 on Float32 forward passes; an entry passes
  // when |analytic − numeric| ≤ 1e-3 + 1e-2·max(|analytic|, |numeric|).
  @Test(arguments: GradientCase.all)
  func analyticMatchesCentralDifference(_ testCase: GradientCase) {
    let inputs = gradientInputs(testCase.shapes, kind: testCase.inputs)
    let report = checkGradients(of: testCase.apply, at: inputs, surrogate: testCase.surrogate)
    #expect(report.passed, "\(testCase.operation) \(testCase.shapes): \(report)")
    #expect(report.entryCount > 0)
  }

  @Test func everyRecordedOperationIsChecked() {
    let checked = Set(GradientCase.all.map(\.operation))
    let missing = Tape.Operation.allCases.filter { !checked.contains($0) }
    #expect(missing.isEmpty, "operations without a gradient check: \(missing)")
  }

  @Test func checkerCatchesAWrongGradient() {
    // x·x computed as a product of a tensor with a detached copy loses half the gradient.
    let report = checkGradients(of: { $0[0] * $0[0].detached() }, at: [Tensor([0.5, -0.3])])
    #expect(!report.passed)
    #expect(report.failures.count == 2)
  }
}
