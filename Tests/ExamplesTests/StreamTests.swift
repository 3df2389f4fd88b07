import Foundation
import HARDistill
import Testing

/// Runs the built `stream` executable: bad options exit 64 with one line naming the option, and,
/// where the real UCI HAPT recordings are (`../shared/datasets/uci-hapt` beside the package), a
/// short run from a written checkpoint replays the test recordings and writes its results.
@Suite("stream", .serialized)
struct StreamTests {
  /// The built `stream` executable, beside the other examples.
  static let executable = ExamplesTests.binaries.appendingPathComponent("stream")

  /// The HAPT folder beside the package, if the recordings are there.
  static let hapt: String? = {
    let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let folder = package.deletingLastPathComponent().appendingPathComponent(
      "shared/datasets/uci-hapt"
    ).path
    return FileManager.default.fileExists(atPath: folder + "/RawData/labels.txt") ? folder : nil
  }()

  /// Runs `stream` with `arguments`; returns its exit status, standard output and error.
  func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    let process = Process()
    process.executableURL = Self.executable
    process.arguments = arguments
    let (output, errors) = (Pipe(), Pipe())
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let error = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text, error)
  }

  @Test(
    .enabled(
      if: FileManager.default.isExecutableFile(atPath: StreamTests.executable.path),
      "the stream executable is not built (swift build -c release --product stream)"),
    arguments: [
      (["--hop", "zero"], "--hop"), (["--model", "teacher"], "--model"),
      (["--frames", "3"], "--frames"), (["--checkpoint", "x", "--epochs", "3"], "--epochs"),
      (["--checkpoint"], "--checkpoint"),
    ])
  func badOptionExits64(arguments: [String], flag: String) throws {
    let (status, _, errors) = try run(arguments)
    #expect(status == 64)
    let lines = errors.split(separator: "\n")
    #expect(lines.count == 1 && lines[0].contains(flag), "\(errors)")
  }

  @Test(
    .enabled(
      if: StreamTests.hapt != nil, "no RawData/labels.txt under ../shared/datasets/uci-hapt"),
    .enabled(
      if: FileManager.default.isExecutableFile(atPath: StreamTests.executable.path),
      "the stream executable is not built"))
  func replaysACheckpointFromItsFileAlone() throws {
    // A student with random weights and a card is enough: the run checks the incremental
    // computation against full passes and scores every strategy, whatever the accuracy.
    let out = FileManager.default.temporaryDirectory.appendingPathComponent(
      "hardistill-stream-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: out) }
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    var generator = SplitMix64(seed: 4)
    let model = ReferenceModel.lm.make(channels: 6, classes: 6, generator: &generator)
    let card = try ModelCard(
      model: model,
      normalization: InputNormalization(
        mean: [0.8, 0, 0, 0, 0, 0], standardDeviation: [0.4, 0.4, 0.4, 1, 1, 1]),
      classNames: ["WALKING", "UPSTAIRS", "DOWNSTAIRS", "SITTING", "STANDING", "LAYING"],
      windowLength: 128)
    let checkpoint = out.appendingPathComponent("random.safetensors")
    try Checkpoint(model: model, card: card).write(to: checkpoint)
    let (status, output, errors) = try run([
      "--data-dir", Self.hapt!, "--checkpoint", checkpoint.path, "--hop", "64", "--out", out.path,
    ])
    #expect(status == 0, "\(errors)")
    #expect(output.contains("largest probability difference"))
    let results = try String(
      contentsOf: out.appendingPathComponent("results.md"), encoding: .utf8)
    #expect(results.contains("| HMM, switch 0.02 |"))
    #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("timeline.svg").path))
  }
}
