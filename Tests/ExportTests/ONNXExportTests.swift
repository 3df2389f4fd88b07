import Export
import Foundation
import Layers
import Tensor
import Testing

@Suite("ONNX export")
struct ONNXExportTests {
  /// Export, serialize, decode: the same model, and every checkpoint tensor recovered bit for bit
  /// from the initializers.
  @Test(arguments: ExportCase.all)
  func everyReferenceModelRoundTripsThroughTheDecoder(_ testCase: ExportCase) throws {
    let (model, card) = try testCase.make()
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("hardistill-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try Checkpoint(model: model, card: card).write(to: url)
    let checkpoint = try Checkpoint.read(from: url)

    let onnx = try InferenceGraph(checkpoint: checkpoint).onnxModel()
    let decoded = try ONNXModel(serialized: onnx.serialized())
    #expect(decoded == onnx)
    #expect(decoded.irVersion == 8)
    #expect(decoded.opsetImports.map(\.version) == [17])

    let recovered = checkpointTensors(from: decoded)
    for (name, tensor) in checkpoint.tensors {
      let found = try #require(recovered[name], "\(name) is not an initializer")
      #expect(found.shape == tensor.shape, "\(name)")
      #expect(found.scalars.map(\.bitPattern) == tensor.scalars.map(\.bitPattern), "\(name)")
    }
    let normalization = try #require(card.normalization)
    #expect(recovered["normalization.mean"]?.scalars == normalization.mean)
    #expect(
      recovered["normalization.standardDeviation"]?.scalars == normalization.standardDeviation)

    // Raw windows in, logits out, batch dynamic; the card in metadata_props.
    #expect(decoded.graph.inputs.map(\.name) == ["input"])
    #expect(
      decoded.graph.inputs[0].shape
        == [.symbol("batch"), .value(testCase.timeSteps), .value(ExportCase.channels)])
    #expect(decoded.graph.outputs[0].shape == [.symbol("batch"), .value(testCase.classes)])
    #expect(Array(decoded.graph.nodes.prefix(2).map(\.opType)) == ["Sub", "Div"])
    #expect(decoded.metadata(ONNXMetadataKey.windowLength) == "\(testCase.timeSteps)")
    #expect(decoded.metadata(ONNXMetadataKey.samplingRate) == "50.0")
    let classes = try JSONDecoder().decode(
      [String].self, from: Data(try #require(decoded.metadata(ONNXMetadataKey.classNames)).utf8))
    #expect(classes == card.classNames)
  }

  @Test func theOperatorsAreStandard() throws {
    let cnn = try InferenceGraph(
      model: ExportCase.all.first { $0.name == "lm-att" }!.make().model,
      card: ExportCase.all[0].make().card
    ).onnxModel()
    let cnnOps = Set(cnn.graph.nodes.map(\.opType))
    #expect(
      cnnOps == [
        "Sub", "Div", "Transpose", "Conv", "Relu", "MaxPool", "ReduceMean", "ReduceMax", "MatMul",
        "Add", "Sigmoid", "Unsqueeze", "Mul", "Concat", "Gemm",
      ])
    let dcl = try ExportCase.all.first { $0.name == "dcl-lm-att" }!.make()
    let lstmModel = try InferenceGraph(model: dcl.model, card: dcl.card).onnxModel()
    let lstms = lstmModel.graph.nodes.filter { $0.opType == "LSTM" }
    #expect(lstms.count == 2)
    #expect(lstms.map { $0.attribute("hidden_size")?.value } == [.int(8), .int(8)])
    #expect(lstms[0].outputs.count == 1 && lstms[1].outputs.first == "")
    let convs = lstmModel.graph.nodes.filter { $0.opType == "Conv" }
    #expect(convs.prefix(4).allSatisfy { $0.attribute("kernel_shape")?.value == .ints([5, 1]) })
  }

  @Test func writesAreAtomicAndReadBack() throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("hardistill-onnx-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let (model, card) = try ExportCase.all[3].make()
    let onnx = try InferenceGraph(model: model, card: card).onnxModel()
    let url = folder.appendingPathComponent("lm.onnx")
    // What a write killed half-way leaves behind is replaced by the next write.
    try Data(onnx.serialized().prefix(10)).write(
      to: folder.appendingPathComponent("lm.onnx.partial"))
    try onnx.write(to: url)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["lm.onnx"])
    #expect(try ONNXModel(contentsOf: url) == onnx)
    let missing = folder.appendingPathComponent("absent/lm.onnx")
    #expect(throws: ExportError.self) { try onnx.write(to: missing) }
  }

  /// The wire format of a few fields, checked by hand.
  @Test func protobufBytesAreTheWireFormat() throws {
    let tensor = ONNXTensor(
      name: "w", dims: [300], scalars: .float(Array(repeating: 0.5, count: 300)))
    let model = ONNXModel(
      irVersion: -1,
      graph: ONNXGraph(
        name: "g", nodes: [ONNXNode("Relu", inputs: ["x"], outputs: ["y"], name: "n")],
        initializers: [], inputs: [], outputs: []))
    let bytes = model.serialized()
    // Field 1, varint (tag 0x08), -1 as ten bytes of two's complement.
    #expect(Array(bytes.prefix(11)) == [0x08] + Array(repeating: 0xFF, count: 9) + [0x01])
    #expect(try ONNXModel(serialized: bytes) == model)
    let withTensor = ONNXModel(
      graph: ONNXGraph(name: "", nodes: [], initializers: [tensor], inputs: [], outputs: []))
    let decoded = try ONNXModel(serialized: withTensor.serialized())
    #expect(decoded.graph.initializers == [tensor])
    // dims [300]: field 1 varint 300 = 0xAC 0x02.
    let serialized = withTensor.serialized()
    #expect(
      serialized.indices.contains {
        serialized[$0...].starts(with: [0x08, 0xAC, 0x02, 0x10, 0x01])
      })
  }

  /// Cut or corrupted bytes are an error, never a trap.
  @Test func malformedBytesThrow() throws {
    let (model, card) = try ExportCase.all[3].make()
    let bytes = try InferenceGraph(model: model, card: card).onnxModel().serialized()
    var failures = 0
    for length in stride(from: 1, to: bytes.count, by: 97) {
      do {
        _ = try ONNXModel(serialized: Array(bytes.prefix(length)))
      } catch {
        failures += 1
      }
    }
    #expect(failures > 0)
    // Random bytes overwritten: decoded or rejected, never a trap.
    var rng = SplitMix64(seed: 9)
    for _ in 0..<300 {
      var corrupted = bytes
      for _ in 0..<3 {
        corrupted[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
      }
      _ = try? ONNXModel(serialized: corrupted)
    }
    // A tensor whose dims overflow the byte count.
    var writer = [UInt8]()
    writer += [0x3A, 0x1E]  // graph, 30 bytes
    writer += [0x2A, 0x1C]  // initializer, 28 bytes
    writer += [0x08] + Array(repeating: 0xFF, count: 8) + [0x7F]  // dims 2^63 − 1
    writer += [0x08] + Array(repeating: 0xFF, count: 8) + [0x7F]
    writer += [0x10, 0x01, 0x4A, 0x04, 0, 0, 0, 0]  // FLOAT, raw_data 4 bytes
    #expect(
      throws: ExportError.malformedONNX(
        reason: "tensor '': data type 1 with 4 raw bytes for dims "
          + "[9223372036854775807, 9223372036854775807]")
    ) { try ONNXModel(serialized: writer) }
    #expect(throws: ExportError.self) { try ONNXModel(serialized: [0x0B, 0x00]) }  // a group
    #expect(throws: ExportError.self) { try ONNXModel(serialized: [0x3A, 0x7F, 0x00]) }
  }

  /// Without a window length the time axis is dynamic; a strided, dilated `same` convolution,
  /// whose padding depends on the length, then cannot be expressed.
  @Test func withoutAWindowLengthTimeIsDynamic() throws {
    var rng = SplitMix64(seed: 3)
    let lm = ReferenceModel.lm.make(channels: 9, classes: 6, generator: &rng)
    let onnx = try InferenceGraph(model: lm, card: ModelCard()).onnxModel()
    #expect(onnx.graph.inputs[0].shape == [.symbol("batch"), .symbol("time"), .value(9)])
    #expect(onnx.graph.nodes.first?.opType == "Transpose")  // no normalization nodes
    let dilated = Sequential {
      Conv1D(
        inputChannels: 9, outputChannels: 4, kernelSize: 3, stride: 2, dilation: 2,
        padding: .same, generator: &rng)
    }
    #expect(throws: ExportError.self) {
      try InferenceGraph(model: dilated, card: ModelCard()).onnxModel()
    }
    let fixed = try ModelCard(architecture: nil, windowLength: 32)
    let pads = try InferenceGraph(model: dilated, card: fixed).onnxModel().graph.nodes
      .first { $0.opType == "Conv" }?.attribute("pads")?.value
    #expect(pads == .ints([1, 2]))  // (16 − 1)·2 + 5 − 32 = 3: one before, two after
  }

  @Test func aModelWithACustomLayerCannotBeExported() {
    struct Halving: ParameterlessLayer {
      func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor { input * 0.5 }
      func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] { inputShape }
    }
    #expect(throws: ExportError.self) {
      try InferenceGraph(model: Sequential([Halving()]), card: ModelCard())
    }
    #expect(throws: ExportError.unknownInputChannels) {
      try InferenceGraph(model: Sequential([ReLU()]), card: ModelCard())
    }
  }
}

/// Writes what `Scripts/onnx-check.sh` compares against ONNX Runtime: for each model of
/// ``ExportCase/all``, `<name>.onnx`, 1,000 random raw windows (`<name>.input.f32`) and the
/// Swift forward pass's logits on them (`<name>.expected.f32`), plus `manifest.tsv`.
@Suite("ONNX fixtures")
struct ONNXFixtures {
  static let folder = ProcessInfo.processInfo.environment["HARDISTILL_ONNX_FIXTURES"]

  @Test(
    .enabled(
      if: folder != nil,
      "set HARDISTILL_ONNX_FIXTURES to a folder (Scripts/onnx-check.sh does) to write the fixtures")
  )
  func writeFixtures() throws {
    let folder = URL(fileURLWithPath: try #require(Self.folder))
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var manifest = "name\twindows\ttime\tchannels\tclasses\n"
    let windows = 1000
    for (index, testCase) in ExportCase.all.enumerated() {
      let (model, card) = try testCase.make(seed: UInt64(100 + index))
      try InferenceGraph(model: model, card: card).onnxModel()
        .write(to: folder.appendingPathComponent("\(testCase.name).onnx"))
      let normalization = try #require(card.normalization)
      var rng = SplitMix64(seed: UInt64(200 + index))
      // Raw sensor values: around each channel's mean, a few standard deviations wide.
      let unit = Tensor.uniform(
        [windows, testCase.timeSteps, ExportCase.channels], in: -3...3, using: &rng)
      let raw = unit * Tensor(normalization.standardDeviation) + Tensor(normalization.mean)
      var logits: [Float] = []
      for start in stride(from: 0, to: windows, by: 250) {
        let chunk = raw.sliced(alongAxis: 0, range: start..<min(windows, start + 250))
        logits += model(normalization.apply(to: chunk)).scalars
      }
      try rawFloats(raw.scalars).write(
        to: folder.appendingPathComponent("\(testCase.name).input.f32"))
      try rawFloats(logits).write(
        to: folder.appendingPathComponent("\(testCase.name).expected.f32"))
      manifest +=
        "\(testCase.name)\t\(windows)\t\(testCase.timeSteps)\t\(ExportCase.channels)\t"
        + "\(testCase.classes)\n"
    }
    try Data(manifest.utf8).write(to: folder.appendingPathComponent("manifest.tsv"))
  }
}
