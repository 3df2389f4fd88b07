import Foundation
import Layers
import Tensor
import Testing

/// The inputs the checkpoint fuzzer found interesting (`Fuzz/corpus/checkpoint/`): each must
/// decode or throw a ``CheckpointError``; a trap fails the whole run.
@Suite("Checkpoint fuzz corpus")
struct CheckpointFuzzCorpusTests {
  static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fuzz/corpus/checkpoint")

  @Test func everyCorpusInputDecodesOrThrowsACheckpointError() throws {
    let inputs = try FileManager.default.contentsOfDirectory(
      at: Self.corpus, includingPropertiesForKeys: nil)
    #expect(!inputs.isEmpty)
    var decoded = 0
    for input in inputs {
      let data = try Data(contentsOf: input)
      do throws(CheckpointError) {
        let checkpoint = try Checkpoint(decoding: data, path: "corpus")
        // What decodes re-encodes to a file that decodes to the same tensors.
        let again = try Checkpoint(decoding: checkpoint.encoded(), path: "re-encoded")
        #expect(
          again == checkpoint
            || checkpoint.tensors.values.contains { $0.scalars.contains(where: \.isNaN) },
          "\(input.lastPathComponent)")
        decoded += 1
        // So does the card's model, when there is one: rebuilt, or a CheckpointError.
        _ = try? checkpoint.model(path: "corpus")
      } catch {
        #expect(!error.description.isEmpty)
      }
    }
    #expect(decoded > 0)
  }
}

/// Checkpoints that crashed the reader before it was fixed (see `Documentation/Reliability.md`).
@Suite("Checkpoint fuzz findings")
struct CheckpointFuzzFindingsTests {
  /// A safetensors file with `header` as its JSON header, followed by `data`.
  func file(_ header: String, data: [UInt8] = []) -> Data {
    var bytes: [UInt8] = []
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes += $0 }
    return Data(bytes + Array(header.utf8) + data)
  }

  @Test(arguments: [
    // Before the fix: the element count wrapped to 0, then Tensor's own product trapped.
    ("[1073741824,1073741824,1073741824,4]", "shape [1073741824, 1073741824, 1073741824, 4]"),
    // Before the fix: 4 × the element count trapped.
    ("[2147483647,2147483647,3]", "shape [2147483647, 2147483647, 3]"),
  ])
  func shapeWithTooManyElementsIsMalformed(shape: String, described: String) {
    let data = file(#"{"a":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,0]}}"#)
    #expect(
      throws: CheckpointError.malformedHeader(
        path: "x", reason: "entry 'a': \(described) needs too many bytes, offsets give 0")
    ) { try Checkpoint(decoding: data, path: "x") }
  }

  @Test func offsetsNearIntMaxAreTruncation() {
    // Before the fix: the expected file size in the error overflowed.
    let header =
      #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[9223372036854775800,9223372036854775804]}}"#
    let data = file(header, data: [0, 0, 0, 0])
    #expect(
      throws: CheckpointError.truncated(path: "x", expectedBytes: Int.max, foundBytes: data.count)
    ) { try Checkpoint(decoding: data, path: "x") }
  }
}

/// A write killed half-way leaves `<file>.partial` and the previous checkpoint; the next write
/// replaces both.
@Suite("Checkpoint writes interrupted by a kill")
struct InterruptedCheckpointWriteTests {
  @Test func aLeftoverPartialFileIsConsumedByTheNextWrite() throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("hardistill-partial-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("run.training.safetensors")
    try Checkpoint(tensors: ["a": Tensor([1])]).write(to: url)
    // What a process killed while writing the next checkpoint leaves behind.
    let partial = folder.appendingPathComponent("run.training.safetensors.partial")
    try Data(Checkpoint(tensors: ["a": Tensor([2])]).encoded().prefix(20)).write(to: partial)
    #expect(try Checkpoint.read(from: url).tensors["a"]?.scalars == [1])

    try Checkpoint(tensors: ["a": Tensor([3])]).write(to: url)
    #expect(try Checkpoint.read(from: url).tensors["a"]?.scalars == [3])
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: folder.path) == [url.lastPathComponent])
  }
}
