import CommandLineOptions
import Foundation
import Layers
import Study
import Testing

/// Regression tests for what an adversarial test of the study found: runs that reused stale
/// results or teachers while exiting 0, and output folders written by two processes at once.
@Suite("Study reliability", .serialized)
struct ReliabilityTests {
  func temporaryFolder() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent(
      "hardistill-reliability-\(UUID().uuidString)"
    ).path
  }

  func run(_ arguments: [String]) throws {
    try StudyCommand.run(StudyCommand.parser.parse(arguments))
  }

  @Test func aTeacherTrainedWithOtherSettingsIsNotReused() throws {
    let out = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: out) }
    try run(["--smoke", "--seeds", "1", "--configurations", "teacher", "--out", out])
    // Before: RB-KD distilled from the stored teacher although it was trained differently.
    #expect {
      try run([
        "--smoke", "--seeds", "1", "--configurations", "RB-KD", "--learning-rate", "0.01",
        "--out", out,
      ])
    } throws: { error in
      let text = "\(error)"
      return text.contains("teacher-seed1: the stored teacher was made with other settings")
        && text.contains("learningRate: stored 0.001, now 0.01")
    }
    // Told to, it trains the teacher again, and the run goes through.
    try run([
      "--smoke", "--seeds", "1", "--configurations", "RB-KD", "--learning-rate", "0.01",
      "--retrain-changed", "--out", out,
    ])
    #expect(FileManager.default.fileExists(atPath: out + "/runs/RB-KD-seed1.json"))
  }

  @Test func resumingWithChangedSettingsStopsAndNamesThem() throws {
    let out = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: out) }
    let base = ["--smoke", "--seeds", "1", "--configurations", "teacher,RB-KD", "--out", out]
    try run(base + ["--alpha", "0.1"])
    // Before: "done already, skipped", and results.json claimed α 0.9 and τ 1.
    #expect {
      try run(base + ["--alpha", "0.9", "--temperature", "1", "--resume"])
    } throws: { error in
      let text = "\(error)"
      return text.contains("RB-KD-seed1: the stored run was made with other settings")
        && text.contains("alpha: stored 0.1, now 0.9")
        && text.contains("temperature: stored 4.0, now 1.0")
    }
    // The same settings resume without training anything.
    let record = out + "/runs/RB-KD-seed1.json"
    let before = try FileManager.default.attributesOfItem(atPath: record)[.modificationDate]
    try run(base + ["--alpha", "0.1", "--resume"])
    let after = try FileManager.default.attributesOfItem(atPath: record)[.modificationDate]
    #expect(before as? Date == after as? Date)
  }

  @Test func aTeacherCheckpointOfAnotherModelIsAnError() throws {
    let out = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: out) }
    try run(["--smoke", "--seeds", "1", "--configurations", "LM", "--out", out])
    // Before: the student's checkpoint was passed over and a fresh teacher trained, exit 0.
    let student = out + "/checkpoints/LM-seed1.safetensors"
    #expect {
      try run([
        "--smoke", "--seeds", "1", "--configurations", "RB-KD", "--teacher-checkpoint", student,
        "--out", out + "/distilled",
      ])
    } throws: { error in
      "\(error)".contains("\(student): cannot use as teacher: it holds lm of the cnn family")
    }
  }

  @Test func aSecondWriterIsRefusedAndAStaleLockTakenOver() throws {
    let out = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: out) }
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    // A live process (pid 1 always runs) holds the folder: a second writer stops at once.
    try "1\n".write(toFile: out + "/.lock", atomically: true, encoding: .utf8)
    let arguments = ["--smoke", "--seeds", "1", "--configurations", "LM", "--out", out]
    #expect {
      try run(arguments)
    } throws: { error in
      "\(error)".contains("another process (pid 1) is writing into this output folder")
    }
    // A lock left by a process that is gone (killed, say) is taken over, and removed after.
    let gone = Process()
    gone.executableURL = URL(fileURLWithPath: "/bin/true")
    try gone.run()
    gone.waitUntilExit()
    try "\(gone.processIdentifier)\n".write(
      toFile: out + "/.lock", atomically: true, encoding: .utf8)
    try run(arguments)
    #expect(FileManager.default.fileExists(atPath: out + "/runs/LM-seed1.json"))
    #expect(!FileManager.default.fileExists(atPath: out + "/.lock"))
  }

  @Test func runsOfDifferentStudiesDoNotAggregateSilently() throws {
    let out = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: out) }
    // Two plans' runs in one folder, with different learning rates (before: one results.json
    // holding both, its settings showing one of the two rates).
    for (configuration, rate) in [("LM", "0.001"), ("MM", "0.002")] {
      try run([
        "--smoke", "--seeds", "1", "--configurations", configuration, "--learning-rate", rate,
        "--shared-out", "--out", out,
      ])
    }
    #expect {
      try run(["--aggregate", out])
    } throws: { error in
      "\(error)".contains("learningRate: 0.002 in MM-seed1, 0.001 in LM-seed1")
    }
  }

  @Test func aggregatingWithOtherOptionsThanTheRunsThrows() throws {
    let out = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: out) }
    try run([
      "--smoke", "--seeds", "1", "--configurations", "LM", "--learning-rate", "0.002",
      "--shared-out", "--out", out,
    ])
    // results.json would state the options' learning rate (0.001) for a run trained at 0.002.
    #expect {
      try run(["--smoke", "--aggregate", out])
    } throws: { error in
      "\(error)".contains("runs/LM-seed1.json: made with other settings than these options")
        && "\(error)".contains("learningRate 0.002 in the run, 0.001 in the options")
    }
    try run(["--smoke", "--learning-rate", "0.002", "--aggregate", out])
    let results = try StudyResults(
      jsonData: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
    #expect(results.settings["learningRate"] == .number(0.002))
  }
}
