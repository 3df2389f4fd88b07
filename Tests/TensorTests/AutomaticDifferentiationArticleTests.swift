import Foundation
import Tensor
import TestSupport
import Testing

// The code of the "Automatic differentiation" article (Sources/Tensor/Tensor.docc), compiled and
// run here; `articleQuotesOnlyCompiledCode` fails when the article and this code drift apart.

extension Tensor {
  /// Elementwise softplus `log(1 + eˣ)`, as `max(x, 0) + log(1 + e^−|x|)` so that `eˣ` never
  /// overflows. Its derivative is the sigmoid.
  func softplus() -> Tensor {
    let magnitude = relu() + (-self).relu()  // |x|
    return relu() + ((-magnitude).exp() + 1).log()
  }
}

@Suite("Automatic differentiation article")
struct AutomaticDifferentiationArticleTests {
  @Test func tapeGivesTheLeastSquaresGradient() {
    var generator = SplitMix64(seed: 3)
    let x = Tensor.normal([8, 3], using: &generator)
    let y = Tensor.normal([8, 2], using: &generator)
    let weight = Tensor.normal([3, 2], using: &generator)

    let tape = Tape()
    let w = tape.variable(weight)
    let loss = (x.matmul(w) - y).squared().mean()
    let dw = tape.gradients(of: loss, wrt: [w])[0]

    // ∂/∂w mean((xw − y)²) = 2/(8·2) · xᵀ(xw − y).
    let expected = x.transposed().matmul(x.matmul(weight) - y) * (2 / 16)
    #expect(dw.isClose(to: expected, tolerance: 1e-5))
    #expect(tape.operationCount == 4)  // matmul, subtract, pow, mean

    // Inference: nothing tracked, nothing recorded.
    let before = tape.operationCount
    _ = (x.matmul(weight) - y).squared().mean()
    #expect(tape.operationCount == before)
  }

  @Test func softplusGradientIsChecked() {
    var generator = SplitMix64(seed: 7)
    let x = Tensor.uniform([4, 5], in: -3...3, using: &generator)
    let report = checkGradients(of: { $0[0].softplus() }, at: [x])
    #expect(report.passed, "softplus: \(report)")

    let (_, gradients) = valueWithGradients(at: [x]) { $0[0].softplus().sum() }
    #expect(gradients[0].isClose(to: x.sigmoid(), tolerance: 1e-6))
  }

  /// The example of the module's landing page (Tensor.docc/Tensor.md).
  @Test func landingPageExample() {
    var generator = SplitMix64(seed: 42)  // every random draw is seeded
    let x = Tensor.normal([8, 128, 9], using: &generator)  // [batch, time, channels]
    let filter = Tensor.glorotUniform([5, 9, 16], using: &generator)
    let (loss, gradients) = valueWithGradients(at: [filter]) { p in
      let h = x.conv1D(filter: p[0], padding: .same).relu().maxPool1D(kernelSize: 2)
      return softmaxCrossEntropy(logits: h.mean(alongAxis: 1), labels: [0, 1, 2, 3, 4, 5, 0, 1])
    }
    #expect(loss.scalar.isFinite && gradients[0].shape == [5, 9, 16])
  }

  @Test func articleQuotesOnlyCompiledCode() throws {
    try expectQuoted(
      "Sources/Tensor/Tensor.docc/Tensor.md",
      quotesOnly: ["Tests/TensorTests/AutomaticDifferentiationArticleTests.swift"])
    try expectQuoted(
      "Sources/Tensor/Tensor.docc/AutomaticDifferentiation.md",
      quotesOnly: [
        "Tests/TensorTests/AutomaticDifferentiationArticleTests.swift",
        "Sources/Tensor/Ops/Elementwise.swift",
        "Sources/Tensor/Ops/Softmax.swift",
        "Tests/TensorTests/GradientCheckTests.swift",
      ])
  }
}

/// Expects every Swift block of `article` to be quoted from `files` (see `unquotedArticleBlocks`).
private func expectQuoted(_ article: String, quotesOnly files: [String]) throws {
  for problem in try unquotedArticleBlocks(article, quotesOnly: files) {
    Issue.record("\(problem)")
  }
}
