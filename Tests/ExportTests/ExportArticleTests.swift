import Export
import Foundation
import Layers
import Tensor
import Testing

// The Swift code of the "From a trained student to an ONNX file" article (Sources/Export/
// Export.docc), compiled and run here; `articleQuotesOnlyCompiledCode` fails when the article and
// this code drift apart.

/// The article's steps, in order.
func exportStudent(
  _ student: Sequential, mean: [Float], standardDeviation: [Float], folder: URL
) throws {
  let card = try ModelCard(
    model: student,
    normalization: InputNormalization(mean: mean, standardDeviation: standardDeviation),
    classNames: ["walking", "upstairs", "downstairs", "sitting", "standing", "lying"],
    channelNames: [
      "acc x", "acc y", "acc z", "gyro x", "gyro y", "gyro z", "tot x", "tot y", "tot z",
    ],
    windowLength: 128, samplingRate: 50)
  let checkpoint = folder.appendingPathComponent("student.safetensors")
  try Checkpoint(model: student, card: card).write(to: checkpoint)

  let graph = try InferenceGraph(checkpoint: Checkpoint.read(from: checkpoint))
  try graph.onnxModel().write(to: folder.appendingPathComponent("student.onnx"))
}

@Suite("Export article")
struct ExportArticleTests {
  static let article = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Sources/Export/Export.docc/ExportingToONNX.md")

  @Test func theArticleRuns() throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("hardistill-article-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var rng = SplitMix64(seed: 5)
    let student = ReferenceModel.lmAtt.make(channels: 9, classes: 6, generator: &rng)
    try exportStudent(
      student, mean: Array(repeating: 0.5, count: 9),
      standardDeviation: Array(repeating: 2, count: 9),
      folder: folder)
    let onnx = try ONNXModel(contentsOf: folder.appendingPathComponent("student.onnx"))
    #expect(onnx.metadata(ONNXMetadataKey.classNames)?.contains("lying") == true)
  }

  /// Every line of the article's Swift blocks is a line of this file.
  @Test func articleQuotesOnlyCompiledCode() throws {
    let article = try String(contentsOf: Self.article, encoding: .utf8)
    let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
    let compiled = Set(
      source.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
    var inSwift = false
    var quoted = 0
    for line in article.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("```") {
        inSwift = line == "```swift"
        continue
      }
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      guard inSwift, !trimmed.isEmpty else { continue }
      #expect(compiled.contains(trimmed), "not compiled: \(trimmed)")
      quoted += 1
    }
    #expect(quoted > 5)
  }
}
