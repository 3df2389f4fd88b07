import Export
import Foundation
import Layers
import Tensor
import Testing

@Suite("C export")
struct CExportTests {
  static let students = ExportCase.all.filter { ["lm", "lm-att", "mm"].contains($0.name) }

  /// Random raw windows around the card's normalization.
  static func windows(_ count: Int, timeSteps: Int, seed: UInt64) -> Tensor {
    var rng = SplitMix64(seed: seed)
    return Tensor.uniform([count, timeSteps, ExportCase.channels], in: -3...3, using: &rng)
  }

  /// The generated float C, compiled with the system `cc`, gives the Swift forward pass's
  /// logits on raw windows (standardized by the model's card) within 1e-4, and its arg-max.
  @Test(arguments: students)
  func floatCMatchesTheSwiftForwardPass(_ testCase: ExportCase) throws {
    guard SystemC.compiler != nil else {
      print("skipped: no `cc` on PATH to compile the generated C")
      return
    }
    let (model, card) = try testCase.make()
    let graph = try InferenceGraph(model: model, card: card)
    let source = try graph.cSource(
      name: "har_" + testCase.name.replacingOccurrences(of: "-", with: "_"))
    let windows = Self.windows(64, timeSteps: testCase.timeSteps, seed: 7)
    let expected = model(try #require(card.normalization).apply(to: windows)).scalars
    let (scores, classes) = try SystemC.predict(source, windows: windows, classes: 6)
    #expect(scores.count == expected.count)
    let difference = zip(scores, expected).map { abs($0 - $1) }.max() ?? .infinity
    #expect(difference <= 1e-4, "max abs difference \(difference)")
    for (index, predicted) in classes.enumerated() {
      let row = Array(scores[(6 * index)..<(6 * index + 6)])
      #expect(predicted == row.firstIndex(of: row.max()!)!)
    }
    #expect(source.arenaBytes > 0 && source.weightBytes > 0 && source.multiplyAccumulates > 0)
    #expect(!source.implementation.contains("malloc") && !source.implementation.contains("printf"))
  }

  /// A CNN with every kernel the C exporter has: strided, dilated and `valid` convolutions,
  /// batch normalization to fold, `same` max pooling, a ReLU that cannot be fused, dropout, CBAM
  /// and global max pooling; random weights, biases and batch-norm statistics.
  static func everyKernel() throws -> (model: Sequential, card: ModelCard) {
    var rng = SplitMix64(seed: 9)
    var model = Sequential {
      Conv1D(
        inputChannels: ExportCase.channels, outputChannels: 8, kernelSize: 4, stride: 2,
        dilation: 1, padding: .same, generator: &rng)  // [32, 8]
      BatchNorm(channels: 8)
      ReLU()
      MaxPool1D(kernelSize: 3, stride: 2, padding: .same)  // [16, 8]
      Conv1D(
        inputChannels: 8, outputChannels: 12, kernelSize: 3, stride: 1, dilation: 2,
        padding: .valid, generator: &rng)  // [12, 12]
      MaxPool1D(kernelSize: 2)  // [6, 12]
      ReLU()
      Dropout(rate: 0.2)
      CBAM(channels: 12, reduction: 3, spatialKernel: 3, generator: &rng)
      GlobalMaxPool1D()
      Dense(inputSize: 12, outputSize: 6, generator: &rng)
    }
    model.forEachParameter { name, value in
      if name.hasSuffix("bias") || name.hasSuffix("offset") || name.hasSuffix("scale") {
        value =
          Tensor.uniform(value.shape, in: -0.1...0.1, using: &rng)
          + (name.hasSuffix("scale") ? 1 : 0)
      }
    }
    model.forEachState { _, value in value = Tensor.uniform(value.shape, in: 0.1...0.9, using: &rng)
    }
    let mean = Tensor.uniform([ExportCase.channels], in: -1...1, using: &rng).scalars
    let std = Tensor.uniform([ExportCase.channels], in: 0.5...2, using: &rng).scalars
    let card = try ModelCard(
      model: model, normalization: InputNormalization(mean: mean, standardDeviation: std),
      windowLength: 64)
    return (model, card)
  }

  @Test func everyKernelMatchesInFloatAndInt8() throws {
    guard SystemC.compiler != nil else {
      print("skipped: no `cc` on PATH to compile the generated C")
      return
    }
    let (model, card) = try Self.everyKernel()
    let graph = try InferenceGraph(model: model, card: card)
    let windows = Self.windows(64, timeSteps: 64, seed: 3)
    let expected = model(try #require(card.normalization).apply(to: windows)).scalars
    let (scores, _) = try SystemC.predict(
      graph.cSource(name: "every"), windows: windows, classes: 6)
    let difference = zip(scores, expected).map { abs($0 - $1) }.max() ?? .infinity
    #expect(difference <= 1e-4, "max abs difference \(difference)")

    let quantized = try QuantizedModel(
      graph: graph, calibrationWindows: Self.windows(64, timeSteps: 64, seed: 4))
    let (int8Scores, classes) = try SystemC.predict(
      quantized.cSource(name: "every_int8"), windows: windows, classes: 6)
    #expect(
      int8Scores.map(\.bitPattern) == quantized.logits(for: windows).scalars.map(\.bitPattern))
    #expect(classes == quantized.predictions(for: windows))
  }

  @Test func aStepWithoutAKernelIsNamed() throws {
    let (model, card) = try ExportCase.all.first { $0.name == "dcl-lm" }!.make()
    let graph = try InferenceGraph(model: model, card: card)
    #expect {
      try graph.cSource(name: "dcl")
    } throws: { error in
      guard case .unsupported(let reason) = error as? ExportError else { return false }
      return reason.hasPrefix("step ") && reason.contains("the C exporter has no kernel")
    }
  }

  /// The C model takes raw windows, so it needs the card's normalization; its arena is sized
  /// for the card's window length.
  @Test func needsANormalizationAndAWindowLength() throws {
    let (model, card) = try Self.students[1].make()
    for missing in ["normalization", "window length"] {
      var partial = card
      if missing == "normalization" {
        partial.normalization = nil
      } else {
        partial.windowLength = nil
      }
      let graph = try InferenceGraph(model: model, card: partial)
      #expect {
        try graph.cSource(name: "lm_att")
      } throws: { error in
        guard case .unsupported(let reason) = error as? ExportError else { return false }
        return reason.contains(missing)
      }
    }
  }

  @Test func namesMustBeCIdentifiers() throws {
    #expect(CSource.identifier(from: "LM-Att-seed1") == "LM_Att_seed1")
    #expect(CSource.identifier(from: "1lm") == "_1lm")
    let (model, card) = try Self.students[0].make()
    let graph = try InferenceGraph(model: model, card: card)
    #expect(throws: ExportError.self) { try graph.cSource(name: "lm-att") }
  }

  @Test func writesBothFilesAtomically() throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("hardistill-cw-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let (model, card) = try Self.students[0].make()
    let source = try InferenceGraph(model: model, card: card).cSource(name: "lm")
    // A stale partial file from an interrupted write is replaced.
    try Data("half".utf8).write(to: folder.appendingPathComponent("lm.c.partial"))
    let (header, file) = try source.write(to: folder)
    #expect(try String(contentsOf: file, encoding: .utf8) == source.implementation)
    #expect(try String(contentsOf: header, encoding: .utf8) == source.header)
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    #expect(names == ["lm.c", "lm.h"])
    // Into a folder that does not exist: the error names the file.
    #expect(throws: ExportError.self) {
      try source.write(to: folder.appendingPathComponent("missing"))
    }
  }
}
