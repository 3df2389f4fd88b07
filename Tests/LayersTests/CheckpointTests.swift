import Foundation
import Layers
import Tensor
import Testing

@Suite("Checkpoints")
struct CheckpointTests {
  func temporaryURL(_ name: String) -> URL {
    FileManager.default.temporaryDirectory
      .appendingPathComponent("hardistill-\(UUID().uuidString)-\(name)")
  }

  @Test func saveThenLoadReproducesOutputsBitForBit() throws {
    var rng = SplitMix64(seed: 21)
    let model = ReferenceModel.lmAtt.make(channels: 9, classes: 6, generator: &rng)
    var optimizer = Adam()
    var trained = model
    let x = signedInput([4, 32, 9])
    let (_, gradients) = valueWithGradients(of: trained) { m in
      var context = ForwardContext(isTraining: true)
      return softmaxCrossEntropy(logits: m.forward(x, context: &context), labels: [0, 1, 2, 3])
    }
    optimizer.update(&trained, along: gradients)

    let url = temporaryURL("lm-att.safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try Checkpoint(model: trained, optimizer: optimizer, metadata: ["configuration": "LM-Att"])
      .write(to: url)
    let checkpoint = try Checkpoint.read(from: url)
    #expect(checkpoint.metadata == ["configuration": "LM-Att"])

    var rng2 = SplitMix64(seed: 99)
    var loaded = ReferenceModel.lmAtt.make(channels: 9, classes: 6, generator: &rng2)
    try loaded.load(from: checkpoint)
    #expect(loaded(x).scalars == trained(x).scalars)  // bit for bit

    var resumed = Adam()
    try resumed.restore(state: checkpoint.optimizerState)
    #expect(resumed.step == 1)
    #expect(resumed.state.keys.sorted() == optimizer.state.keys.sorted())
  }

  /// The byte layout of the safetensors format, checked by hand for one tiny tensor.
  @Test func layoutIsSafetensors() throws {
    let checkpoint = Checkpoint(tensors: ["w": Tensor([1, -2])])
    let bytes = [UInt8](checkpoint.encoded())
    let header = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    // 8 + header, padded with spaces to a multiple of 8.
    let padded = (header.utf8.count + 7) / 8 * 8
    #expect(bytes.count == 8 + padded + 8)
    #expect(Array(bytes[0..<8]) == [UInt8(padded), 0, 0, 0, 0, 0, 0, 0])
    #expect(String(decoding: bytes[8..<(8 + header.utf8.count)], as: UTF8.self) == header)
    // 1.0 = 0x3F800000 and −2.0 = 0xC0000000, little-endian.
    #expect(Array(bytes[(8 + padded)...]) == [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0])
    #expect(try Checkpoint(decoding: Data(bytes), path: "w") == checkpoint)
  }

  @Test func wrongShapeNamesTheTensor() throws {
    var rng = SplitMix64(seed: 1)
    let lm = ReferenceModel.lm.make(channels: 9, classes: 6, generator: &rng)
    var other = ReferenceModel.lm.make(channels: 6, classes: 6, generator: &rng)
    #expect(
      throws: CheckpointError.shapeMismatch(
        name: "0.filter", expected: [5, 6, 16], found: [5, 9, 16])
    ) {
      try other.load(from: Checkpoint(model: lm))
    }
    #expect(
      CheckpointError.shapeMismatch(name: "0.filter", expected: [5, 6, 16], found: [5, 9, 16])
        .description
        == "tensor '0.filter': expected shape [5, 6, 16], found [5, 9, 16]")
    var withAttention = ReferenceModel.lmAtt.make(channels: 9, classes: 6, generator: &rng)
    #expect(throws: CheckpointError.missingName("5.channel.hidden")) {
      try withAttention.load(from: Checkpoint(model: lm))
    }
    var plain = lm
    #expect(throws: CheckpointError.missingName("6.weight")) {
      try plain.load(from: Checkpoint(model: withAttention))
    }
    var extra = Checkpoint(model: lm)
    extra.tensors["9.weight"] = Tensor([1])
    #expect(throws: CheckpointError.unexpectedName("9.weight")) { try plain.load(from: extra) }
  }

  @Test func cutOffAndCorruptFilesThrow() throws {
    var rng = SplitMix64(seed: 1)
    let bytes = Checkpoint(model: ReferenceModel.lm.make(channels: 9, classes: 6, generator: &rng))
      .encoded()
    // Every prefix of a valid file is rejected with an error, never a crash.
    for length in stride(from: 0, to: bytes.count, by: 97) {
      #expect(throws: CheckpointError.self) {
        try Checkpoint(decoding: bytes.prefix(length), path: "cut.safetensors")
      }
    }
    #expect(throws: CheckpointError.truncated(path: "c", expectedBytes: 8, foundBytes: 3)) {
      try Checkpoint(decoding: Data([1, 2, 3]), path: "c")
    }
    var corrupt = [UInt8](bytes)
    corrupt[9] = UInt8(ascii: "!")
    #expect(throws: CheckpointError.malformedHeader(path: "c", reason: "not JSON")) {
      try Checkpoint(decoding: Data(corrupt), path: "c")
    }
    let f16 = #"{"w":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}"#
    var file = [UInt8(f16.utf8.count), 0, 0, 0, 0, 0, 0, 0] + Array(f16.utf8)
    file += [0, 0]
    #expect(throws: CheckpointError.unsupportedDType(path: "c", name: "w", dtype: "F16")) {
      try Checkpoint(decoding: Data(file), path: "c")
    }
    let missing = temporaryURL("absent.safetensors")
    #expect(throws: CheckpointError.self) { try Checkpoint.read(from: missing) }
  }

  @Test func writingIsAtomic() throws {
    let url = temporaryURL("atomic.safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try Checkpoint(tensors: ["a": Tensor([1])]).write(to: url)
    try Checkpoint(tensors: ["a": Tensor([2])]).write(to: url)
    #expect(try Checkpoint.read(from: url).tensors["a"]?.scalars == [2])
    // No temporary files are left beside the checkpoint.
    let siblings = try FileManager.default.contentsOfDirectory(
      atPath: url.deletingLastPathComponent().path)
    #expect(siblings.filter { $0.contains(url.lastPathComponent) } == [url.lastPathComponent])
  }
}

@Suite("Checkpoint writes on a full disk")
struct FullDiskTests {
  /// A full disk, injected: the partial file is a link to /dev/full, where every write fails
  /// with ENOSPC. Before, `<file>.partial` stayed behind (303 KB on a 300 KB disk).
  @Test func aFailedWriteLeavesNoPartialFile() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "hardistill-full-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("model.safetensors")
    try FileManager.default.createSymbolicLink(
      atPath: url.path + ".partial", withDestinationPath: "/dev/full")
    var generator = SplitMix64(seed: 3)
    let model = ReferenceModel.lm.make(channels: 3, classes: 4, generator: &generator)
    #expect {
      try Checkpoint(model: model).write(to: url)
    } throws: { error in
      "\(error)".contains("model.safetensors") && "\(error)".contains("No space left on device")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [])
  }
}
