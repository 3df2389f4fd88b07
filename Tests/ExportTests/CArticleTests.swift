import Export
import Foundation
import Layers
import Tensor
import TestSupport
import Testing

// The Swift code of the "From a trained student to a C file in your firmware" article
// (Sources/Export/Export.docc/FromStudentToC.md), compiled and run here.

/// The article's steps, in order.
func exportStudentToC(
  checkpoint: URL, trainingWindows: Tensor, testWindows: Tensor, folder: URL
) throws -> [Int] {
  let graph = try InferenceGraph(checkpoint: Checkpoint.read(from: checkpoint))
  try graph.cSource(name: "student").write(to: folder)

  let quantized = try QuantizedModel(
    graph: graph, calibrationWindows: trainingWindows, method: .percentile(99.99))
  let predictions = quantized.predictions(for: testWindows)
  try quantized.cSource(name: "student_int8").write(to: folder)
  return predictions
}

/// The article's quantization-aware fine-tuning, from a graph and labelled training windows.
func fineTuneThenQuantize(
  graph: InferenceGraph, trainingWindows: Tensor, trainingLabels: [Int], folder: URL
) throws -> QuantizedModel {
  let calibrationWindows = trainingWindows
  let settings = QuantizationAwareTraining(
    epochs: 3, learningRate: 1e-4, calibration: .percentile(99.99))
  let tuned = try settings.fineTune(
    graph, windows: trainingWindows, labels: trainingLabels,
    calibrationWindows: calibrationWindows)
  let quantized = try QuantizedModel(
    graph: tuned, calibrationWindows: calibrationWindows, method: .percentile(99.99))
  try quantized.cSource(name: "student_int8").write(to: folder)
  return quantized
}

@Suite("C article")
struct CArticleTests {
  @Test func theArticleRuns() throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("hardistill-c-article-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let (model, card) = try CExportTests.students[1].make()
    let checkpoint = folder.appendingPathComponent("student.safetensors")
    try Checkpoint(model: model, card: card).write(to: checkpoint)
    let predictions = try exportStudentToC(
      checkpoint: checkpoint,
      trainingWindows: QuantizationTests.syntheticWindows(64, timeSteps: 128, seed: 1),
      testWindows: QuantizationTests.syntheticWindows(8, timeSteps: 128, seed: 2), folder: folder)
    #expect(predictions.count == 8)
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    #expect(
      names == [
        "student.c", "student.h", "student.safetensors", "student_int8.c", "student_int8.h",
      ])
  }

  @Test func theArticlesFineTuningRuns() throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("hardistill-c-article-qat-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let (model, card) = try CExportTests.students[1].make()
    let quantized = try fineTuneThenQuantize(
      graph: InferenceGraph(model: model, card: card),
      trainingWindows: QuantizationTests.syntheticWindows(64, timeSteps: 128, seed: 1),
      trainingLabels: (0..<64).map { $0 % 6 }, folder: folder)
    #expect(quantized.calibration == .percentile(99.99))
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    #expect(names == ["student_int8.c", "student_int8.h"])
  }

  /// Every Swift block of the article is quoted, line for line, from this file.
  @Test func articleQuotesOnlyCompiledCode() throws {
    for problem in try unquotedArticleBlocks(
      "Sources/Export/Export.docc/FromStudentToC.md",
      quotesOnly: ["Tests/ExportTests/CArticleTests.swift"])
    {
      Issue.record("\(problem)")
    }
  }
}
