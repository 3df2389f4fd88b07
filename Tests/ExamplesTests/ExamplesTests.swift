import CommandLineOptions
import Foundation
import HARDistill
import Testing

/// Runs the example executables as a user would, in their smoke setting, and checks what they
/// write against the library: the scores in each JSON file are those of the saved model on the
/// same test windows.
@Suite("Examples", .serialized)
struct ExamplesTests {
  /// The folder of the built executables: beside this test bundle.
  static let binaries: URL = {
    var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: url.appendingPathComponent("lm").path),
      url.path != "/"
    {
      url.deleteLastPathComponent()
    }
    return url
  }()

  /// Runs `program` with `arguments`; returns its exit status and standard error.
  func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, errors: String) {
    let process = Process()
    process.executableURL = Self.binaries.appendingPathComponent(program)
    process.arguments = arguments
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text)
  }

  func temporaryFolder() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent(
      "hardistill-example-\(UUID().uuidString)"
    ).path
  }

  @Test(arguments: [
    ("teacher", "teacher", ReferenceModel.teacher), ("teacher-att", "teacher-att", .teacherAtt),
    ("mm", "MM", .mm), ("lm", "LM", .lm), ("lm-att", "LM-Att", .lmAtt), ("rb-kd", "RB-KD", .lm),
    ("rb-kd-att", "RB-KD-Att", .lmAtt), ("rab-kd", "RAB-KD", .lmAtt),
  ])
  func exampleWritesTheScoresOfItsModel(
    program: String, name: String, kind: ReferenceModel
  ) throws {
    var generator = SplitMix64(seed: 0)
    let out = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: out) }
    let (status, errors) = try run(program, ["--smoke", "--seeds", "1", "--out", out])
    #expect(status == 0, "\(program) failed: \(errors)")
    let stem = URL(fileURLWithPath: out).appendingPathComponent("\(name)-seed1")
    let written = try JSONDecoder().decode(
      ClassificationReport.self,
      from: Data(contentsOf: stem.appendingPathExtension("json")))

    // The same data, the model rebuilt from its file alone, the library's evaluation: the same
    // report, to the count; the card carries what new recordings need.
    var options = RunOptions()
    options.smoke = true
    let data = try PreparedData(options.loadSplit())
    let (model, card) = try Checkpoint.loadModel(from: stem.appendingPathExtension("safetensors"))
    #expect(
      model.architecture == kind.make(channels: 9, classes: 6, generator: &generator).architecture)
    #expect(try model.evaluate(on: data.test) == written)
    #expect(card.windowLength == 64 && card.classNames == data.classNames)
    #expect(card.normalization?.mean == data.standardizer.mean)
    #expect(written.confusionMatrix.total == data.test.count)
  }

  @Test func channelAlignmentReachesTheTraining() throws {
    let out = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: out) }
    var students: [Checkpoint] = []
    for way in ["average", "project"] {
      let folder = out + "/" + way
      let (status, errors) = try run(
        "rab-kd", ["--smoke", "--seeds", "1", "--channel-alignment", way, "--out", folder])
      #expect(status == 0, "rab-kd failed: \(errors)")
      students.append(
        try Checkpoint.read(from: URL(fileURLWithPath: folder + "/RAB-KD-seed1.safetensors")))
    }
    // The same seeds and data: only the alignment differs, so the students must too.
    #expect(students[0] != students[1])
  }

  @Test(arguments: [
    ("lm", ["--temperature", "9"]), ("lm", ["--alpha", "0.5"]), ("teacher", ["--beta", "1"]),
    ("rb-kd", ["--channel-alignment", "project"]), ("rab-kd", ["--configurations", "LM"]),
    ("mm", ["--resume"]), ("lm", ["--epochs", "2", "--epochs", "3"]),
  ])
  func anOptionTheExampleWouldIgnoreExits64(program: String, arguments: [String]) throws {
    let (status, errors) = try run(program, arguments)
    #expect(status == 64)
    #expect(errors.split(separator: "\n").count == 1)
    #expect(errors.contains(arguments[0]), "the message names the option: \(errors)")
  }

  /// A long-format CSV file: 4 subjects, 3 activities of 96 samples each, 6 channels whose level
  /// depends on the activity.
  func writeRecordings(to path: String) throws {
    var text = "time,subject,activity,ax,ay,az,gx,gy,gz,note\n"
    var generator = SplitMix64(seed: 5)
    for subject in 1...4 {
      for (a, activity) in ["sit", "walk", "run"].enumerated() {
        for t in 0..<96 {
          let values = (0..<6).map { c in
            Float(a * (c + 1)) + Float(generator.next() % 1000) / 1000
          }
          text += "\(t),\(subject),\(activity),"
          text += values.map { "\($0)" }.joined(separator: ",") + ",x\n"
        }
      }
    }
    try text.write(toFile: path, atomically: true, encoding: .utf8)
  }

  @Test func anExampleTrainsOnALongFormatCSVFile() throws {
    let out = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: out) }
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let csv = out + "/recordings.csv"
    try writeRecordings(to: csv)
    let (status, errors) = try run(
      "lm",
      [
        "--dataset", "csv", "--data-dir", csv, "--csv-subject", "subject", "--csv-label",
        "activity", "--csv-channels", "ax,ay,az,gx,gy,gz", "--window", "32", "--step", "16",
        "--test-subjects", "4", "--validation-subjects", "3", "--epochs", "3", "--seeds", "1",
        "--out", out,
      ])
    #expect(status == 0, "lm failed: \(errors)")
    let report = try JSONDecoder().decode(
      ClassificationReport.self,
      from: Data(contentsOf: URL(fileURLWithPath: out + "/LM-seed1.json")))
    // Subject 4 alone is tested: 3 activities × 5 windows of 32 samples every 16 in 96.
    #expect(report.confusionMatrix.total == 15)
    #expect(report.classes == [0, 1, 2])
    let (_, card) = try Checkpoint.loadModel(
      from: URL(fileURLWithPath: out + "/LM-seed1.safetensors"))
    #expect(card.classNames == ["run", "sit", "walk"] && card.windowLength == 32)
    #expect(card.normalization?.channels == 6)

    // A column the file does not have: one line naming the file and what was expected, exit 1.
    let missing = try run(
      "lm",
      [
        "--dataset", "csv", "--data-dir", csv, "--csv-subject", "subject", "--csv-label",
        "activity", "--csv-channels", "ax,ay,bz", "--test-subjects", "4", "--out", out,
      ])
    #expect(missing.status == 1)
    #expect(missing.errors.contains(csv + ":1:"), "\(missing.errors)")
    #expect(missing.errors.contains("bz"))
  }
}
