import Foundation
import Layers
import Tensor
import TestSupport
import Testing

// The code of the "Writing a custom layer" article (Sources/Layers/Layers.docc), compiled and run
// here; `articleQuotesOnlyCompiledCode` fails when the article and this code drift apart.

/// Squeeze-and-excitation for `[batch, time, channels]`: one gate per channel, computed from the
/// mean over time, `x ⊙ σ(relu(mean_t(x) · squeeze) · excite)`.
///
/// Hu, Shen & Sun, "Squeeze-and-Excitation Networks", CVPR 2018
/// (https://arxiv.org/abs/1709.01507).
struct SqueezeExcitation: Layer {
  /// `[channels, hidden]`.
  var squeeze: Tensor
  /// `[hidden, channels]`.
  var excite: Tensor

  /// A gate over `channels` with hidden size `max(1, channels / reduction)`.
  init(channels: Int, reduction: Int, generator: inout some RandomNumberGenerator) {
    let hidden = max(1, channels / reduction)
    squeeze = .glorotUniform([channels, hidden], using: &generator)
    excite = .glorotUniform([hidden, channels], using: &generator)
  }

  func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    let gate = input.mean(alongAxis: 1).matmul(squeeze).relu().matmul(excite).sigmoid()
    // Left where attention losses look for maps: [batch, channels], tracked when training.
    context.attentionMaps[context.path, default: AttentionMaps()].channel = gate
    return input * gate.expandingShape(at: 1)  // [batch, 1, channels], broadcast over time
  }

  func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    let channels = squeeze.shape[0]
    guard inputShape.count == 3, inputShape[2] == channels else {
      throw .invalid(
        operation: "SqueezeExcitation", shape: inputShape, rule: "[batch, time, \(channels)]")
    }
    return inputShape
  }

  func forwardFLOPs(for inputShape: [Int]) -> Int {
    2 * 2 * squeeze.shape[0] * squeeze.shape[1]  // two matrix products, 2 FLOPs per multiply-add
  }

  mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {
    try body("squeeze", &squeeze)
    try body("excite", &excite)
  }
}

@Suite("Custom layer article")
struct CustomLayerArticleTests {
  @Test func layerFitsIntoAModel() throws {
    var generator = SplitMix64(seed: 1)
    let model = Sequential {
      Conv1D(inputChannels: 9, outputChannels: 16, kernelSize: 5, generator: &generator)
      ReLU()
      SqueezeExcitation(channels: 16, reduction: 4, generator: &generator)
      GlobalAvgPool1D()
      Dense(inputSize: 16, outputSize: 6, generator: &generator)
    }
    print(try model.summary(inputShape: [1, 128, 9]))
    // model.parameters: 0.filter, 0.bias, 2.squeeze, 2.excite, 4.weight, 4.bias

    #expect(
      model.parameters.map(\.name)
        == ["0.filter", "0.bias", "2.squeeze", "2.excite", "4.weight", "4.bias"])
    #expect(try model.outputShape(for: [64, 128, 9]) == [64, 6])
    let summary = try model.summary(inputShape: [1, 128, 9])
    #expect(summary.rows[2].parameters == 2 * 16 * 4)
    #expect(summary.rows[2].flops == 2 * 2 * 16 * 4)

    var context = ForwardContext(isTraining: false)
    let input = Tensor.normal([2, 128, 9], using: &generator)
    #expect(model.forward(input, context: &context).shape == [2, 6])
    #expect(context.attentionMaps["2"]?.channel?.shape == [2, 16])
  }

  @Test func wrongChannelCountNamesTheLayer() {
    var generator = SplitMix64(seed: 1)
    let model = Sequential {
      Conv1D(inputChannels: 9, outputChannels: 8, kernelSize: 5, generator: &generator)
      SqueezeExcitation(channels: 16, reduction: 4, generator: &generator)
    }
    #expect(throws: ShapeError.self) { try model.outputShape(for: [64, 128, 9]) }
    do {
      _ = try model.outputShape(for: [64, 128, 9])
    } catch {
      #expect(
        error.description
          == "layer 1 (SqueezeExcitation): SqueezeExcitation: shape [64, 128, 8] does not fit "
          + "[batch, time, 16]")
    }
  }

  @Test func gradientsAreChecked() {
    var generator = SplitMix64(seed: 2)
    let layer = SqueezeExcitation(channels: 4, reduction: 2, generator: &generator)
    let input = Tensor.uniform([2, 5, 4], in: -1...1, using: &generator)
    let report = layerGradientReport(layer, input: input)
    #expect(report.passed, "SqueezeExcitation: \(report)")
  }

  /// The example of the module's landing page (Layers.docc/Layers.md).
  @Test func landingPageModel() throws {
    var generator = SplitMix64(seed: 1)
    let model = Sequential {
      Conv1D(inputChannels: 9, outputChannels: 16, kernelSize: 5, generator: &generator)
      ReLU()
      MaxPool1D(kernelSize: 2)
      CBAM(channels: 16, reduction: 4, name: "cbam", generator: &generator)
      GlobalAvgPool1D()
      Dense(inputSize: 16, outputSize: 6, generator: &generator)
    }
    print(try model.summary(inputShape: [1, 128, 9]))  // [batch, time, channels]
    #expect(try model.outputShape(for: [64, 128, 9]) == [64, 6])
  }

  @Test func articleQuotesOnlyCompiledCode() throws {
    for article in ["WritingACustomLayer", "Layers"] {
      try expectQuoted(
        "Sources/Layers/Layers.docc/\(article).md",
        quotesOnly: [
          "Tests/LayersTests/CustomLayerArticleTests.swift",
          "Tests/LayersTests/LayerTestSupport.swift",
        ])
    }
  }
}

/// Expects every Swift block of `article` to be quoted from `files` (see `unquotedArticleBlocks`).
private func expectQuoted(_ article: String, quotesOnly files: [String]) throws {
  for problem in try unquotedArticleBlocks(article, quotesOnly: files) {
    Issue.record("\(problem)")
  }
}
