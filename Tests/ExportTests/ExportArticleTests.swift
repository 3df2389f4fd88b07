import Export
import Foundation
import Layers
import Tensor
import TestSupport
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

  /// Every Swift block of the article is quoted, line for line, from this file.
  @Test func articleQuotesOnlyCompiledCode() throws {
    for problem in try unquotedArticleBlocks(
      "Sources/Export/Export.docc/ExportingToONNX.md",
      quotesOnly: ["Tests/ExportTests/ExportArticleTests.swift"])
    {
      Issue.record("\(problem)")
    }
  }
}
