import Foundation
import Layers
import Tensor
import Testing

/// Every parameter and state tensor set to fresh random values, so that zero biases and unit
/// forget biases are checked too.
private func randomized(_ model: Sequential, seed: UInt64) -> Sequential {
  var copy = model
  var rng = SplitMix64(seed: seed)
  copy.forEachParameter { _, value in
    value = Tensor.uniform(value.shape, in: -0.5...0.5, using: &rng)
  }
  copy.forEachState { _, value in value = Tensor.uniform(value.shape, in: 0.5...1.5, using: &rng) }
  return copy
}

private func temporaryURL(_ name: String) -> URL {
  FileManager.default.temporaryDirectory
    .appendingPathComponent("hardistill-\(UUID().uuidString)-\(name)")
}

/// A layer the architecture description does not know.
private struct Doubling: ParameterlessLayer {
  func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor { input * 2 }
  func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] { inputShape }
}

@Suite("Self-describing checkpoints")
struct ModelCardTests {
  static let families: [ModelFamily] = [
    .cnn, .deepConvLSTM(), .deepConvLSTM(attentionPosition: 2, reduction: 4, spatialKernel: 3),
  ]

  static let cases: [(ModelFamily, ReferenceModel)] = families.flatMap { family in
    ReferenceModel.allCases.map { (family, $0) }
  }

  /// Build, write with a card, rebuild from the file alone: the same parameter names, every
  /// tensor bit for bit, and the same forward pass.
  @Test(arguments: cases)
  func everyReferenceModelRoundTrips(family: ModelFamily, role: ReferenceModel) throws {
    var rng = SplitMix64(seed: 7)
    let model = randomized(family.make(role, channels: 6, classes: 5, generator: &rng), seed: 3)
    let normalization = try InputNormalization(
      mean: [0.1, -0.2, 0.3, 1e-7, 5, -6], standardDeviation: [1, 2, 0.5, 0.25, 3.3, 1e-3])
    let card = try ModelCard(
      model: model, normalization: normalization, classNames: ["a", "b", "c", "d", "é"],
      channelNames: ["ax", "ay", "az", "gx", "gy", "gz"], windowLength: 40, samplingRate: 50)
    #expect(card.architecture != nil)

    let url = temporaryURL("\(role.rawValue).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try Checkpoint(model: model, card: card).write(to: url)
    let (loaded, stored) = try Checkpoint.loadModel(from: url)

    #expect(stored == card)
    #expect(loaded.architecture == model.architecture)
    let original = model.parameters + model.states
    let rebuilt = loaded.parameters + loaded.states
    #expect(rebuilt.map(\.name) == original.map(\.name))
    for (a, b) in zip(original, rebuilt) {
      #expect(a.value.shape == b.value.shape, "\(a.name)")
      #expect(a.value.scalars.map(\.bitPattern) == b.value.scalars.map(\.bitPattern), "\(a.name)")
    }
    var inputRNG = SplitMix64(seed: 11)
    let x = Tensor.uniform([3, 40, 6], in: -2...2, using: &inputRNG)
    #expect(loaded(x).scalars.map(\.bitPattern) == model(x).scalars.map(\.bitPattern))
  }

  /// Every built-in layer type, nested, survives the JSON round trip.
  @Test func everyLayerTypeIsDescribedAndRebuilt() throws {
    var rng = SplitMix64(seed: 1)
    let model = Sequential {
      Conv1D(
        inputChannels: 3, outputChannels: 8, kernelSize: 3, stride: 2, dilation: 1,
        padding: .valid, useBias: false, generator: &rng)
      BatchNorm(channels: 8, momentum: 0.9, epsilon: 1e-5)
      Tanh()
      AvgPool1D(kernelSize: 2, stride: 1, padding: .same)
      ChannelAttention(channels: 8, reduction: 3, name: "c", generator: &rng)
      SpatialAttention(kernelSize: 5, name: "s", generator: &rng)
      Sequential {
        Sigmoid()
        MaxPool1D(kernelSize: 2)
      }
      Reshape([-1, 4, 2])
      SpatialAttention2D(kernelSize: 3, generator: &rng)
      CBAM2D(filters: 2, reduction: 2, spatialKernel: 3, generator: &rng)
      Conv2D(
        inputChannels: 2, outputChannels: 3, kernelHeight: 2, kernelWidth: 1, padding: .same,
        generator: &rng)
      Flatten()
      Reshape([-1, 12])
      LSTM(inputSize: 12, units: 4, returnSequences: true, generator: &rng)
      CBAM(channels: 4, reduction: 1, spatialKernel: 3, generator: &rng)
      GlobalMaxPool1D()
      Dropout(rate: 0.25)
      Dense(inputSize: 4, outputSize: 3, generator: &rng)
      Softmax()
    }
    let architecture = try #require(model.architecture)
    let json = try JSONEncoder().encode(architecture)
    let decoded = try JSONDecoder().decode(ModelArchitecture.self, from: json)
    #expect(decoded == architecture)
    let rebuilt = try decoded.makeModel()
    #expect(rebuilt.architecture == architecture)
    #expect(rebuilt.parameters.map(\.name) == model.parameters.map(\.name))
    #expect(rebuilt.parameters.map(\.value.shape) == model.parameters.map(\.value.shape))
    #expect(rebuilt.states.map(\.name) == model.states.map(\.name))
    #expect(architecture.scalarCount == model.parameterCount + 16)  // BatchNorm's two states
  }

  @Test func aCustomLayerHasNoArchitecture() throws {
    let model = Sequential {
      ReLU()
      Sequential {
        Sigmoid()
        Doubling()
      }
    }
    #expect(model.architecture == nil)
    #expect(throws: ModelCardError.undescribableLayer(path: "1.1", type: "Doubling")) {
      try ModelArchitecture(describing: model)
    }
    // Its checkpoint still carries the rest of the card, and loadModel says what is missing.
    let card = try ModelCard(model: model, classNames: ["x"])
    #expect(card.architecture == nil)
    let url = temporaryURL("custom.safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try Checkpoint(model: model, card: card).write(to: url)
    #expect(try Checkpoint.read(from: url).modelCard()?.classNames == ["x"])
    #expect(throws: CheckpointError.missingArchitecture(path: url.path)) {
      try Checkpoint.loadModel(from: url)
    }
  }

  /// A checkpoint written without a card still loads into a model built by hand.
  @Test func anOldCheckpointLoadsIntoACallerBuiltModelOnly() throws {
    var rng = SplitMix64(seed: 2)
    let model = randomized(
      ReferenceModel.lm.make(channels: 9, classes: 6, generator: &rng), seed: 4)
    let url = temporaryURL("old.safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try Checkpoint(model: model).write(to: url)
    #expect(throws: CheckpointError.missingArchitecture(path: url.path)) {
      try Checkpoint.loadModel(from: url)
    }
    var rebuilt = ReferenceModel.lm.make(channels: 9, classes: 6, generator: &rng)
    try rebuilt.load(from: Checkpoint.read(from: url))
    #expect(rebuilt.parameters.map(\.value.scalars) == model.parameters.map(\.value.scalars))
  }

  @Test func cardFieldsAreValidated() {
    #expect(throws: ModelCardError.self) {
      try InputNormalization(mean: [0, 1], standardDeviation: [1])
    }
    #expect(throws: ModelCardError.self) {
      try InputNormalization(mean: [0], standardDeviation: [0])
    }
    #expect(throws: ModelCardError.self) {
      try InputNormalization(mean: [.nan], standardDeviation: [1])
    }
    #expect(throws: ModelCardError.self) {
      try ModelCard(
        architecture: nil, normalization: InputNormalization(mean: [0], standardDeviation: [1]),
        channelNames: ["a", "b"])
    }
    #expect(throws: ModelCardError.self) { try ModelCard(architecture: nil, windowLength: 0) }
    #expect(throws: ModelCardError.self) { try ModelCard(architecture: nil, samplingRate: -1) }
  }

  /// A card whose architecture is corrupted is a typed error, not a trap or a huge allocation.
  @Test(arguments: [
    #"{"architecture":{"formatVersion":1,"layers":[{"dense":{"inputSize":0,"outputSize":2,"useBias":true}}]}}"#,
    #"{"architecture":{"formatVersion":1,"layers":[{"dense":{"inputSize":4611686018427387904,"outputSize":4,"useBias":true}}]}}"#,
    #"{"architecture":{"formatVersion":1,"layers":[{"maxPool1D":{"kernelSize":2,"stride":2,"padding":"full"}}]}}"#,
    #"{"architecture":{"formatVersion":9,"layers":[]}}"#,
    #"{"architecture":{"formatVersion":1,"layers":[{"teleport":{}}]}}"#,
    #"{"normalization":{"mean":[1],"standardDeviation":[-1]}}"#,
    "not json",
  ])
  func aCorruptedCardIsATypedError(json: String) throws {
    let checkpoint = Checkpoint(
      tensors: ["0.weight": Tensor(zeros: [1, 2]), "0.bias": Tensor(zeros: [2])],
      metadata: [Checkpoint.modelCardKey: json])
    let url = temporaryURL("corrupt.safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try checkpoint.write(to: url)
    do {
      _ = try Checkpoint.loadModel(from: url)
      Issue.record("loaded a corrupted card")
    } catch {
      switch error {
      case .invalidModelCard(let path, _), .missingArchitecture(let path): #expect(path == url.path)
      default: Issue.record("unexpected \(error)")
      }
    }
  }
}

/// The safetensors reader rejects what JSON readers disagree on, naming the file.
@Suite("Safetensors header hardening")
struct SafetensorsHardeningTests {
  func file(_ header: String, data: [UInt8] = [0, 0, 0, 0]) -> Data {
    var bytes: [UInt8] = []
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes += $0 }
    return Data(bytes + Array(header.utf8) + data)
  }

  @Test(arguments: ["[0.5,4]", "[0,4.0]", "[0,4e0]", "[0,-4]", #"[0,"4"]"#])
  func nonIntegerDataOffsetsAreRejected(offsets: String) {
    let data = file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":\#(offsets)}}"#)
    #expect(
      throws: CheckpointError.malformedHeader(
        path: "f.safetensors", reason: "entry 'a': data_offsets must be non-negative integers")
    ) { try Checkpoint(decoding: data, path: "f.safetensors") }
  }

  @Test func aFractionalShapeIsRejected() {
    let data = file(#"{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}"#)
    #expect(
      throws: CheckpointError.malformedHeader(
        path: "f", reason: "entry 'a' has a bad shape or data_offsets")
    ) { try Checkpoint(decoding: data, path: "f") }
  }

  @Test func aDuplicateTensorNameIsRejected() {
    let data = file(
      #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
    )
    #expect(throws: CheckpointError.duplicateKey(path: "f.safetensors", key: "a")) {
      try Checkpoint(decoding: data, path: "f.safetensors")
    }
  }

  @Test func aDuplicateFieldIsRejected() {
    let data = file(#"{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}"#)
    #expect(throws: CheckpointError.duplicateKey(path: "f", key: "dtype")) {
      try Checkpoint(decoding: data, path: "f")
    }
    let metadata = file(#"{"__metadata__":{"k":"1","k":"2"}}"#, data: [])
    #expect(throws: CheckpointError.duplicateKey(path: "f", key: "k")) {
      try Checkpoint(decoding: metadata, path: "f")
    }
  }

  @Test func aDTypeErrorNamesTheFile() {
    let data = file(#"{"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}"#)
    #expect(
      throws: CheckpointError.unsupportedDType(
        path: "run/model.safetensors", name: "w", dtype: "BF16")
    ) {
      try Checkpoint(decoding: data, path: "run/model.safetensors")
    }
    let error = CheckpointError.unsupportedDType(
      path: "run/model.safetensors", name: "w", dtype: "BF16")
    #expect(error.description.hasPrefix("run/model.safetensors: "))
  }

  /// Escapes, unicode and whitespace that JSON allows still read as before.
  @Test func validJSONVariantsStillRead() throws {
    let header =
      " {\n \"__metadata__\" : {\"note\":\"a\\\"b\\u00e9\\ud83d\\ude00\\n\"},\t\"w\\u0031\":{\"shape\":[2],\"dtype\":\"F32\",\"data_offsets\":[0,8]}} "
    let checkpoint = try Checkpoint(
      decoding: file(header, data: [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0]), path: "f")
    #expect(checkpoint.metadata == ["note": "a\"bé😀\n"])
    #expect(checkpoint.tensors["w1"]?.scalars == [1, -2])
  }

  @Test(arguments: [
    "{", #"{"a":}"#, #"{"a":01}"#, #"{"a":[1,]}"#, #"{"a":"\x"}"#, #"{"a":"\ud800"}"#, "[]x",
    String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
  ])
  func malformedJSONIsNotJSON(header: String) {
    #expect(throws: CheckpointError.self) { try Checkpoint(decoding: file(header), path: "f") }
  }
}
