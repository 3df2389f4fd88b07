import Foundation
import Layers
import Tensor
import Testing

/// `StreamingRecognizer` built from a checkpoint file alone: the model, normalization and window
/// length come from the model card, and the predictions equal a recognizer built by hand.
@Suite("Streaming recognizer from a checkpoint")
struct StreamingCheckpointTests {
  static let mean: [Float] = [0.5, -1, 2, 0, 3, -0.25]
  static let deviation: [Float] = [1.5, 2, 0.5, 1, 4, 3]

  /// A temporary file path that is removed when `body` returns.
  static func withTemporaryFile(_ body: (URL) throws -> Void) throws {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("streaming-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try body(url)
  }

  @Test(arguments: [ReferenceModel.lm, .lmAtt])
  func fromFileEqualsByHand(_ reference: ReferenceModel) throws {
    let model = StreamingRecognizerTests.model(reference, seed: 21)
    let card = try ModelCard(
      model: model,
      normalization: InputNormalization(mean: Self.mean, standardDeviation: Self.deviation),
      windowLength: 96)
    try Self.withTemporaryFile { url in
      try Checkpoint(model: model, card: card).write(to: url)
      let smoothing = Smoothing.hiddenMarkov(switchProbability: 0.02)
      let fromFile = try StreamingRecognizer(
        checkpointAt: url, hop: 16, smoothing: smoothing, unknownThreshold: 0.4)
      let byHand = try StreamingRecognizer(
        model: model, mean: Self.mean, standardDeviation: Self.deviation, windowLength: 96,
        hop: 16, smoothing: smoothing, unknownThreshold: 0.4)
      #expect(fromFile.windowLength == 96)
      #expect(fromFile.mean == Self.mean)
      #expect(fromFile.standardDeviation == Self.deviation)
      let samples = 700
      let stream = StreamingRecognizerTests.stream(samples: samples, channels: 6, seed: 5)
      let input = try Tensor(shape: [samples, 6], scalars: stream)
      let expected = try byHand.append(input)
      let found = try fromFile.append(input)
      #expect(expected.count == (samples - 96) / 16 + 1)
      #expect(found == expected)
    }
  }

  @Test func cardWithoutNormalizationOrWindowIsRejected() throws {
    let model = StreamingRecognizerTests.model(.lm, seed: 3)
    let normalization = try InputNormalization(mean: Self.mean, standardDeviation: Self.deviation)
    let noNormalization = Checkpoint(
      model: model, card: try ModelCard(model: model, windowLength: 128))
    #expect(throws: StreamingError.incompleteModelCard(path: "a", missing: "input normalization")) {
      try StreamingRecognizer(checkpoint: noNormalization, path: "a", hop: 16)
    }
    let noWindow = Checkpoint(
      model: model, card: try ModelCard(model: model, normalization: normalization))
    #expect(throws: StreamingError.incompleteModelCard(path: "b", missing: "window length")) {
      try StreamingRecognizer(checkpoint: noWindow, path: "b", hop: 16)
    }
    let noCard = Checkpoint(model: model)
    #expect(throws: StreamingError.checkpoint(.missingArchitecture(path: "c"))) {
      try StreamingRecognizer(checkpoint: noCard, path: "c", hop: 16)
    }
    #expect(throws: StreamingError.self) {
      try StreamingRecognizer(
        checkpointAt: URL(fileURLWithPath: "/nonexistent/student.safetensors"), hop: 16)
    }
  }
}
