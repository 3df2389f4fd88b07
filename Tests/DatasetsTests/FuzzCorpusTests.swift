import Datasets
import Foundation
import Testing

/// The inputs the fuzzers found interesting (`Fuzz/corpus/<target>/`), replayed through the same
/// code the fuzzer runs: each must load or throw a ``DatasetError``; a trap fails the whole run.
@Suite("Fuzz corpus")
struct FuzzCorpusTests {
  /// `Fuzz/corpus` in this repository.
  static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fuzz/corpus")

  static func inputs(_ target: String) throws -> [URL] {
    try FileManager.default.contentsOfDirectory(
      at: corpus.appendingPathComponent(target), includingPropertiesForKeys: nil
    ).sorted { $0.lastPathComponent < $1.lastPathComponent }
  }

  @Test(arguments: DatasetFuzzTarget.allCases)
  func everyCorpusInputLoadsOrThrowsADatasetError(_ target: DatasetFuzzTarget) throws {
    let inputs = try Self.inputs(target.rawValue)
    #expect(!inputs.isEmpty, "no corpus for \(target.rawValue)")
    var loaded = 0
    for input in inputs {
      let folder = FixtureFolder()
      let bytes = [UInt8](try Data(contentsOf: input))
      do throws(DatasetError) {
        _ = try target.load(bytes, in: folder.path)
        loaded += 1
      } catch {
        // Every message names the file it is about.
        #expect(error.description.contains(folder.path), "\(input.lastPathComponent): \(error)")
      }
    }
    // The seeds are valid data sets; the corpus must still exercise the success path.
    #expect(loaded > 0, "no input of \(target.rawValue) loaded")
  }
}
