import CommandLineOptions
import Distillation
import Foundation
import Layers
import Metrics
import Study
import Tensor
import Testing

@Suite("Study", .serialized)
struct StudyTests {
  func temporaryFolder() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent(
      "hardistill-study-\(UUID().uuidString)"
    ).path
  }

  @Test func smokeStudyWritesItsOutputsAndResumes() throws {
    let out = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: out) }
    let options = try StudyCommand.parser.parse([
      "--smoke", "--out", out, "--configurations", "teacher-att,LM,LM-Att,RAB-KD",
    ])
    try StudyCommand.run(options)
    let files = try FileManager.default.contentsOfDirectory(atPath: out)
    for name in [
      "results.json", "report.md", "accuracy-vs-flops.svg", "model-size.svg",
      "predictions-LM-seed1.csv", "predictions-RAB-KD-seed2.csv",
      "predictions-teacher-att-seed1.csv",
    ] {
      #expect(files.contains(name), "missing \(name)")
    }
    let json =
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: out + "/results.json"))) as? [String: Any]
    let runs = json?["runs"] as? [[String: Any]] ?? []
    // teacher-att once, three students with two seeds each.
    #expect(runs.count == 7)
    #expect(
      Set(runs.compactMap { $0["configuration"] as? String }) == [
        "teacher-att", "LM", "LM-Att", "RAB-KD",
      ])
    #expect(json?["dataset"] as? String == "synthetic")
    // The protocol: the split's subjects and windows, threads, shards, the package version.
    let studyProtocol = try #require(json?["protocol"] as? [String: Any])
    #expect(studyProtocol["packageVersion"] as? String == RunFingerprint.packageVersion)
    #expect(studyProtocol["shards"] as? Int == 2)
    #expect((studyProtocol["threads"] as? [Int])?.isEmpty == false)
    let subjects = try #require(studyProtocol["subjects"] as? [String: [Int]])
    let parts = ["train", "validation", "test"].map { Set(subjects[$0] ?? []) }
    #expect(parts.allSatisfy { !$0.isEmpty })
    #expect(parts[0].isDisjoint(with: parts[1]) && parts[0].isDisjoint(with: parts[2]))
    let windows = try #require(studyProtocol["windows"] as? [String: Int])
    #expect(windows.count == 3 && windows.values.allSatisfy { $0 > 0 })
    let claims = try #require(json?["claims"] as? [[String: Any]])
    #expect(claims.count == 5)
    let csv = try String(contentsOfFile: out + "/predictions-LM-seed1.csv", encoding: .utf8)
    #expect(csv.hasPrefix("index,label,prediction\n0,"))
    let checkpoint = out + "/checkpoints/RAB-KD-seed1.safetensors"
    #expect(FileManager.default.fileExists(atPath: checkpoint))

    // --resume skips every finished run: nothing is retrained, the record is untouched.
    let record = out + "/runs/RAB-KD-seed1.json"
    let before =
      try FileManager.default.attributesOfItem(atPath: record)[.modificationDate] as? Date
    var resumed = options
    resumed.resume = true
    try StudyCommand.run(resumed)
    let after = try FileManager.default.attributesOfItem(atPath: record)[.modificationDate] as? Date
    #expect(before == after)

    // Aggregating the folder gives the same runs.
    let aggregated = try StudyCommand.parser.parse(["--smoke", "--aggregate", out])
    try StudyCommand.run(aggregated)
    let again =
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: out + "/results.json"))) as? [String: Any]
    #expect((again?["runs"] as? [Any])?.count == 7)
  }

  @Test func planPrintsOneCommandPerRunTeachersFirst() throws {
    let options = try StudyCommand.parser.parse([
      "--seeds", "2", "--out", "o", "--configurations", "RAB-KD,LM,teacher-att",
    ])
    let plan = StudyCommand.plan(options)
    #expect(plan.count == 1 + 2 + 2)
    #expect(plan[0].hasPrefix("swift run -c release study --dataset synthetic"))
    #expect(
      plan[0].hasSuffix("--configurations teacher-att --seed 1 --seeds 1 --resume --shared-out"))
    #expect(
      plan.contains {
        $0.hasPrefix("swift run -c release study ")
          && $0.contains("--teacher-checkpoint o/checkpoints/teacher-att-seed1.safetensors")
          && $0.hasSuffix("--configurations RAB-KD --seed 2 --seeds 1 --resume --shared-out")
      })
    let script = StudyCommand.slurmScript(options)
    #expect(script.contains("#SBATCH --array=0-4"))
    #expect(script.hasPrefix("#!/bin/bash\n"))
    #expect(script.contains("# finished: swift run -c release study --aggregate o --dataset "))
    // The aggregate command carries the settings the report states, not a run's own teacher.
    let distilling = try StudyCommand.parser.parse([
      "--out", "o", "--temperature", "1", "--teacher-checkpoint", "t.safetensors",
    ])
    let aggregate = distilling.aggregateArguments.joined(separator: " ")
    #expect(aggregate.hasPrefix("--aggregate o --dataset "))
    #expect(aggregate.contains("--temperature 1.0") && !aggregate.contains("t.safetensors"))
  }

  @Test func gridReportsTheBestPairByValidation() throws {
    let out = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: out) }
    let options = try StudyCommand.parser.parse([
      "--smoke", "--epochs", "1", "--out", out, "--grid", "--configurations", "RB-KD",
      "--grid-temperatures", "1,4", "--grid-alphas", "0.1,0.9",
    ])
    try StudyCommand.run(options)
    let entries = try JSONDecoder().decode(
      [GridEntry].self, from: Data(contentsOf: URL(fileURLWithPath: out + "/grid.json")))
    #expect(entries.map(\.temperature) == [1, 1, 4, 4])
    #expect(entries.map(\.alpha) == [0.1, 0.9, 0.1, 0.9])
    #expect(
      entries.allSatisfy { (0...1).contains($0.validationMacroF1) && $0.configuration == "RB-KD" })
    // The grid never writes run records: it is not a test evaluation.
    #expect(
      ((try? FileManager.default.contentsOfDirectory(atPath: out + "/runs")) ?? []).filter {
        $0.hasPrefix("RB-KD")
      }.isEmpty)
  }

  @Test func deepConvLSTMFamilyRunsTheStudy() throws {
    let out = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: out) }
    let options = try StudyCommand.parser.parse([
      "--smoke", "--epochs", "1", "--seeds", "1", "--family", "deepconvlstm",
      "--attention-position", "2",
      "--out", out, "--configurations", "teacher-att,RAB-KD",
    ])
    try StudyCommand.run(options)
    let json =
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: out + "/results.json"))) as? [String: Any]
    #expect(json?["family"] as? String == "deepconvlstm")
    #expect((json?["runs"] as? [Any])?.count == 2)
  }

  @Test func pytorchInitializationIsRecordedAndFingerprinted() throws {
    let out = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: out) }
    let glorot = try Experiment(options: StudyCommand.parser.parse(["--smoke", "--out", out]))
    let lm = try #require(Configuration.named("LM"))
    // Glorot is not named, so runs stored before the option keep their fingerprint.
    #expect(try glorot.fingerprint(lm, seed: 1).settings["initialization"] == nil)
    let options = try StudyCommand.parser.parse([
      "--smoke", "--epochs", "1", "--seeds", "1", "--initialization", "pytorch", "--out", out,
      "--configurations", "LM",
    ])
    let pytorch = try Experiment(options: options)
    #expect(try pytorch.fingerprint(lm, seed: 1).settings["initialization"] == "pytorch")
    // PyTorch's defaults draw the biases; Glorot leaves them at zero.
    let biases = pytorch.makeModel(.lm, seed: 1).parameters.filter { $0.value.shape.count == 1 }
    #expect(biases.allSatisfy { $0.value.scalars.contains { $0 != 0 } })
    try StudyCommand.run(options)
    let json =
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: out + "/results.json"))) as? [String: Any]
    let settings = json?["settings"] as? [String: Any]
    #expect(settings?["initialization"] as? String == "pytorch")
  }

  @Test func claimsAreChecked() throws {
    let out = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: out) }
    let options = try StudyCommand.parser.parse([
      "--smoke", "--out", out, "--configurations", "LM,LM-Att",
    ])
    try StudyCommand.run(options)
    let summary = try StudySummary(folder: OutputFolder(path: out), options: options)
    let attention = try #require(summary.claims.first { $0.claim.hasPrefix("attention beats LM") })
    #expect(["supported", "not significant", "not supported"].contains(attention.verdict))
    #expect(attention.evidence.contains("2 seeds"))
    let distillation = try #require(
      summary.claims.first { $0.claim.hasPrefix("distillation beats LM") })
    #expect(distillation.verdict == "not checked")
  }

  /// The arguments of one planned command, without `swift run -c release study`.
  func plannedArguments(_ command: String) -> [String] {
    Array(command.split(separator: " ").map(String.init).dropFirst(5))
  }

  @Test func aPlannedRunWritesWhatALocalRunWrites() throws {
    let local = temporaryFolder()
    let planned = temporaryFolder()
    defer {
      try? FileManager.default.removeItem(atPath: local)
      try? FileManager.default.removeItem(atPath: planned)
    }
    let arguments = ["--smoke", "--seeds", "1", "--configurations", "teacher,RB-KD"]
    try StudyCommand.run(StudyCommand.parser.parse(arguments + ["--out", local]))
    // The plan's commands, run one by one as a cluster would: the teacher, then the student
    // reading the teacher's checkpoint.
    let plan = StudyCommand.plan(try StudyCommand.parser.parse(arguments + ["--out", planned]))
    #expect(plan.count == 2)
    for command in plan {
      try StudyCommand.run(StudyCommand.parser.parse(plannedArguments(command)))
    }
    for stem in ["teacher-seed1", "RB-KD-seed1"] {
      let records = try [local, planned].map { folder in
        try JSONDecoder().decode(
          RunRecord.self,
          from: Data(contentsOf: URL(fileURLWithPath: "\(folder)/runs/\(stem).json")))
      }
      #expect(records[0].result.accuracy == records[1].result.accuracy)
      #expect(records[0].result.macroF1 == records[1].result.macroF1)
      #expect(records[0].confusion == records[1].confusion)
      #expect(records[0].curve == records[1].curve)
      let weights = try [local, planned].map { folder in
        try Checkpoint.read(
          from: URL(fileURLWithPath: "\(folder)/checkpoints/\(stem).safetensors"))
      }
      #expect(weights[0] == weights[1], "\(stem): the weights differ")
    }
  }

  @Test func studentSeedSDistillsFromTeacherSMod() throws {
    let options = try StudyCommand.parser.parse([
      "--seeds", "3", "--teachers", "2", "--out", "o", "--configurations", "RB-KD,teacher",
    ])
    #expect(options.teacherSeeds == [1, 2])
    // seed + (s mod 2): students 1, 2, 3 use teachers 2, 1, 2.
    #expect([1, 2, 3].map { options.teacherSeed(forStudent: $0) } == [2, 1, 2])
    let plan = StudyCommand.plan(options)
    #expect(plan.count == 2 + 3)
    #expect(plan[0].hasSuffix("--configurations teacher --seed 1 --seeds 1 --resume --shared-out"))
    #expect(plan[1].hasSuffix("--configurations teacher --seed 2 --seeds 1 --resume --shared-out"))
    for (student, teacher) in [(1, 2), (2, 1), (3, 2)] {
      #expect(
        plan.contains {
          $0.contains("--teacher-checkpoint o/checkpoints/teacher-seed\(teacher).safetensors")
            && $0.contains("--configurations RB-KD --seed \(student) --seeds 1")
        }, "student \(student) should name teacher seed \(teacher)")
    }
    #expect(!plan.contains { $0.contains("--teachers") })
  }

  @Test func severalTeachersRunLocallyAndThroughThePlanAlike() throws {
    let local = temporaryFolder()
    let planned = temporaryFolder()
    defer {
      try? FileManager.default.removeItem(atPath: local)
      try? FileManager.default.removeItem(atPath: planned)
    }
    let arguments = [
      "--smoke", "--epochs", "1", "--seeds", "2", "--teachers", "2", "--configurations",
      "teacher,RB-KD",
    ]
    let options = try StudyCommand.parser.parse(arguments + ["--out", local])
    try StudyCommand.run(options)
    let summary = try StudySummary(folder: OutputFolder(path: local), options: options)
    // Both teachers are runs of the report: their mean ± std is the table's teacher row.
    #expect(summary.report.results.runs(of: "teacher").map(\.seed) == [1, 2])
    let teacherRow = try #require(summary.report.results.summary(of: "teacher"))
    let accuracies = summary.report.results.runs(of: "teacher").map(\.accuracy)
    #expect(teacherRow.mean[.accuracy] == (accuracies[0] + accuracies[1]) / 2)
    #expect(summary.text.contains { $0 == "±" })
    let plan = StudyCommand.plan(try StudyCommand.parser.parse(arguments + ["--out", planned]))
    #expect(plan.count == 4)
    for command in plan {
      try StudyCommand.run(StudyCommand.parser.parse(plannedArguments(command)))
    }
    var teacherDigests: [String] = []
    for stem in ["teacher-seed1", "teacher-seed2", "RB-KD-seed1", "RB-KD-seed2"] {
      let records = try [local, planned].map { folder in
        try JSONDecoder().decode(
          RunRecord.self,
          from: Data(contentsOf: URL(fileURLWithPath: "\(folder)/runs/\(stem).json")))
      }
      #expect(records[0].result.accuracy == records[1].result.accuracy, "\(stem)")
      #expect(records[0].fingerprint == records[1].fingerprint, "\(stem)")
      if let digest = records[0].fingerprint?.settings["teacher"] { teacherDigests.append(digest) }
      let weights = try [local, planned].map { folder in
        try Checkpoint.read(
          from: URL(fileURLWithPath: "\(folder)/checkpoints/\(stem).safetensors"))
      }
      #expect(weights[0] == weights[1], "\(stem): the weights differ")
    }
    // The two students distilled from different teachers.
    #expect(teacherDigests.count == 2 && teacherDigests[0] != teacherDigests[1])
  }

  @Test func foldsDealTheSortedSubjectsRoundRobin() throws {
    var options = try StudyCommand.parser.parse(["--folds", "10"])
    let hapt = try options.foldSubjects(of: Array(1...30).reversed())
    #expect(hapt.count == 10 && hapt.allSatisfy { $0.count == 3 })
    #expect(hapt[0] == [1, 11, 21] && hapt[9] == [10, 20, 30])
    #expect(throws: UsageError("--folds 10: the data set has only 8 subjects")) {
      try options.foldSubjects(of: Array(1...8))
    }
    options = try StudyCommand.parser.parse(["--loso"])
    #expect(try options.foldSubjects(of: [4, 2, 9]) == [[2], [4], [9]])
  }

  @Test func crossValidationRunsLocallyAndThroughItsPlanAlike() throws {
    let local = temporaryFolder()
    let planned = temporaryFolder()
    defer {
      try? FileManager.default.removeItem(atPath: local)
      try? FileManager.default.removeItem(atPath: planned)
    }
    let arguments = [
      "--smoke", "--epochs", "1", "--seeds", "2", "--folds", "4", "--configurations",
      "teacher,LM,RB-KD",
    ]
    try StudyCommand.run(StudyCommand.parser.parse(arguments + ["--out", local]))
    func results(_ folder: String) throws -> StudyResults {
      try StudyResults(jsonData: Data(contentsOf: URL(fileURLWithPath: folder + "/results.json")))
    }
    let localResults = try results(local)
    // Four folds of one teacher and two students with two seeds each.
    #expect(localResults.runs.count == 4 * (1 + 2 + 2))
    #expect(
      FileManager.default.fileExists(atPath: local + "/runs/RB-KD-fold3-seed2.json")
        && FileManager.default.fileExists(
          atPath: local + "/checkpoints/teacher-fold4-seed1.safetensors")
    )
    // The folds' test subjects partition the eight subjects; validation comes from training.
    let folds = try #require(localResults.studyProtocol?.folds)
    #expect(folds.map(\.fold) == [1, 2, 3, 4] && localResults.studyProtocol?.subjects == nil)
    let tests = folds.compactMap(\.subjects?.test)
    #expect(tests == [[1, 5], [2, 6], [3, 7], [4, 8]])
    for fold in folds {
      let subjects = try #require(fold.subjects)
      #expect(Set(subjects.validation).isDisjoint(with: subjects.test + subjects.train))
      #expect(Set(subjects.train + subjects.validation + subjects.test) == Set(1...8))
    }
    // Mean ± std over folds: each fold's mean over its seeds, then over the folds.
    let lm = localResults.runs(of: "LM")
    let foldMeans = (1...4).map { fold in
      let values = lm.filter { $0.fold == fold }.map(\.accuracy)
      return values.reduce(0, +) / Double(values.count)
    }
    let expected = try Summary(foldMeans)
    let row = try #require(localResults.summary(of: "LM"))
    #expect(
      row.mean[.accuracy] == expected.mean && row.std[.accuracy] == expected.standardDeviation)
    // The claims pair (fold, seed): 8 pairs.
    #expect(localResults.claims?.first?.statistics?.pairs == 8)

    let plan = StudyCommand.plan(try StudyCommand.parser.parse(arguments + ["--out", planned]))
    #expect(plan.count == 4 * (1 + 2 + 2))
    #expect(
      plan.contains {
        $0.contains("--teacher-checkpoint \(planned)/checkpoints/teacher-fold2-seed1.safetensors")
          && $0.contains("--folds 4 --fold 2 --configurations RB-KD --seed 2 --seeds 1")
      })
    for command in plan {
      try StudyCommand.run(StudyCommand.parser.parse(plannedArguments(command)))
    }
    // Reported with the command the plan's runs print: the options they were trained with.
    let planOptions = try StudyCommand.parser.parse(arguments + ["--out", planned])
    try StudyCommand.run(StudyCommand.parser.parse(planOptions.aggregateArguments))
    let aggregated = try results(planned)
    #expect(aggregated.settings == localResults.settings)
    func scores(_ results: StudyResults) -> [String] {
      results.runs.map {
        "\($0.configuration) \($0.fold ?? 0) \($0.seed) \($0.accuracy) \($0.macroF1)"
      }
    }
    #expect(scores(aggregated) == scores(localResults))
    for metric in [RunMetric.accuracy, .macroF1] {
      #expect(
        aggregated.summary.map { $0.mean[metric] } == localResults.summary.map { $0.mean[metric] })
      #expect(
        aggregated.summary.map { $0.std[metric] } == localResults.summary.map { $0.std[metric] })
    }
    #expect(aggregated.claims == localResults.claims)
    #expect(aggregated.studyProtocol == localResults.studyProtocol)
  }

  @Test func theWeightsAreTheSameOnEveryThreadCount() throws {
    var weights: [Checkpoint] = []
    for threads in [1, 2] {
      let out = temporaryFolder()
      defer { try? FileManager.default.removeItem(atPath: out) }
      let options = try StudyCommand.parser.parse([
        "--smoke", "--seeds", "1", "--configurations", "teacher-att,RAB-KD", "--threads",
        "\(threads)", "--out", out,
      ])
      try KernelConfiguration.with(threadCount: threads) { try StudyCommand.run(options) }
      for stem in ["teacher-att-seed1", "RAB-KD-seed1"] {
        weights.append(
          try Checkpoint.read(from: URL(fileURLWithPath: "\(out)/checkpoints/\(stem).safetensors")))
      }
    }
    // Two epochs of the teacher (dropout, parallel convolutions) and of the distilled student.
    #expect(weights[0] == weights[2], "teacher-att: the weights differ between 1 and 2 threads")
    #expect(weights[1] == weights[3], "RAB-KD: the weights differ between 1 and 2 threads")
  }
}
