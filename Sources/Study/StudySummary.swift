import Distillation
import Foundation
import Metrics
import Tensor

/// One of the study's claims, checked on this run's results.
public struct ClaimCheck: Sendable {
  /// The claim, e.g. "distillation beats LM (RB-KD > LM)".
  public var claim: String
  /// "supported", "not significant", "not supported", or why it could not be checked.
  public var verdict: String
  /// The evidence: mean difference in accuracy and macro-F1, the paired p-value, cost ratios.
  public var evidence: String

  /// The line printed for it.
  public var line: String { "- \(claim): \(verdict)\(evidence.isEmpty ? "" : " — \(evidence)")" }
}

/// Builds the report of every run recorded in an output folder, checks the study's claims, and
/// writes `results.json`, `report.md` and the figures.
public struct StudySummary {
  /// The report (results, confusion matrices, curves).
  public var report: StudyReport
  /// The study's claims, each with this run's verdict.
  public var claims: [ClaimCheck]

  /// The summary of the runs in `folder`.
  ///
  /// - Throws: ``ExperimentError`` when there is no run or a run file cannot be read.
  public init(folder: OutputFolder, options: StudyOptions) throws {
    let records = try folder.records()
    guard !records.isEmpty else { throw ExperimentError.noRuns(path: folder.runs.path) }
    // Runs in the study's order of configurations, then by seed.
    let order = Dictionary(
      uniqueKeysWithValues: Configuration.all.enumerated().map { ($1.name, $0) })
    let sorted = records.sorted {
      (order[$0.result.configuration] ?? 99, $0.result.seed) < (
        order[$1.result.configuration] ?? 99, $1.result.seed
      )
    }
    try Self.checkSharedSettings(sorted, folder: folder)
    // Floats as their shortest decimal (0.1, not 0.10000000149011612).
    func decimal(_ value: Float) -> SettingValue { .number(Double("\(value)") ?? Double(value)) }
    let run = options.run
    var settings: [String: SettingValue] = [
      "epochs": .integer(run.epochs), "patience": .integer(run.patience),
      "batchSize": .integer(run.batchSize), "learningRate": decimal(run.learningRate),
      "temperature": decimal(run.temperature), "alpha": decimal(run.alpha),
      "beta": decimal(run.beta), "temperatureSquared": .bool(run.temperatureSquared),
      "smoke": .bool(run.smoke), "channelAlignment": .string(run.channelAlignment.optionValue),
      "threads": .integer(run.threads ?? KernelConfiguration.current.threadCount),
      "shards": .integer(run.shards),
    ]
    if case .deepConvLSTM = run.family {
      settings["attentionPosition"] = .integer(run.attention.position)
      settings["reduction"] = .integer(run.attention.reduction)
      settings["spatialKernel"] = .integer(run.attention.spatialKernel)
    }
    if let clip = run.clipNorm { settings["clipNorm"] = decimal(clip) }
    if let subjects = run.testSubjects {
      settings["testSubjects"] = .list(subjects.map { .integer($0) })
    }
    if let subjects = run.validationSubjects {
      settings["validationSubjects"] = .list(subjects.map { .integer($0) })
    }
    let results = try StudyResults(
      dataset: run.dataset.rawValue, family: run.family.name, settings: settings,
      runs: sorted.map(\.result))
    var confusion: [String: ConfusionMatrix] = [:]
    var curves: [TrainingCurve] = []
    var checkpointBytes: [String: Int] = [:]
    for record in sorted {
      let name = record.result.configuration
      if let existing = confusion[name] {
        confusion[name] = try existing.adding(record.confusion)
      } else {
        confusion[name] = record.confusion
        curves.append(record.curve)
        checkpointBytes[name] = record.checkpointBytes
      }
    }
    let classNames = Dictionary(
      uniqueKeysWithValues: sorted[0].classNames.enumerated().map { ($0, $1) })
    report = StudyReport(
      results: results, baseline: "LM", confusionMatrices: confusion, trainingCurves: curves,
      classNames: classNames, checkpointBytes: checkpointBytes)
    claims = Self.checkClaims(results)
  }

  /// Writes the report into `folder`, then reads `results.json` back to check that it decodes to
  /// the same runs.
  public func write(to folder: OutputFolder) throws {
    _ = try report.write(to: folder.root)
    let url = folder.root.appendingPathComponent("results.json")
    let decoded = try StudyResults(jsonData: Data(contentsOf: url))
    guard decoded.runs == report.results.runs else {
      throw ExperimentError.unreadableRun(
        path: url.path, reason: "results.json does not read back as written")
    }
  }

  /// The comparison table and the claims, as printed at the end of a study.
  public var text: String {
    var lines = ["", "Configuration  Accuracy %       Macro-F1 %       Params    FLOPs      Seeds"]
    for summary in report.results.summary {
      let runs = report.results.runs(of: summary.configuration)
      func cell(_ metric: RunMetric) -> String {
        let values = runs.map { 100 * $0.value(of: metric) }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance =
          values.count > 1
          ? values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1) : 0
        return String(format: "%6.2f ± %5.2f", mean, variance.squareRoot())
      }
      let first = runs[0]
      lines.append(
        summary.configuration.padding(toLength: 15, withPad: " ", startingAt: 0)
          + cell(.accuracy) + "  " + cell(.macroF1) + "  "
          + String(first.parameters).padding(toLength: 10, withPad: " ", startingAt: 0)
          + Format.si(Double(first.flops)).padding(toLength: 11, withPad: " ", startingAt: 0)
          + "\(runs.count)")
    }
    lines.append("")
    lines.append(
      "The study's claims on this run (paired over seeds; supported = better and p < 0.05):")
    lines += claims.map(\.line)
    return lines.joined(separator: "\n")
  }

  /// Checks each claim of the study with a paired comparison over common seeds.
  static func checkClaims(_ results: StudyResults) -> [ClaimCheck] {
    func paired(_ baseline: String, _ candidate: String, _ metric: RunMetric) -> (
      PairedComparison?, Int
    ) {
      let base = Dictionary(
        uniqueKeysWithValues: results.runs(of: baseline).map { ($0.seed, $0.value(of: metric)) })
      let cand = Dictionary(
        uniqueKeysWithValues: results.runs(of: candidate).map { ($0.seed, $0.value(of: metric)) })
      let seeds = Set(base.keys).intersection(cand.keys).sorted()
      return (
        try? PairedComparison(
          baseline: seeds.map { base[$0]! }, candidate: seeds.map { cand[$0]! }), seeds.count
      )
    }
    func check(_ claim: String, baseline: String, candidate: String, extra: String = "")
      -> ClaimCheck
    {
      let (accuracy, count) = paired(baseline, candidate, .accuracy)
      let (f1, _) = paired(baseline, candidate, .macroF1)
      guard count > 0 else {
        return ClaimCheck(
          claim: claim, verdict: "not checked",
          evidence: "\(baseline) and \(candidate) share no seed")
      }
      let difference = accuracy?.meanDifference ?? 0
      let p = accuracy.map { $0.tTestPValue }
      var evidence = String(format: "accuracy %+.2f pp", 100 * difference)
      if let f1 { evidence += String(format: ", macro-F1 %+.2f pp", 100 * f1.meanDifference) }
      if count >= 2, let p, p.isFinite { evidence += String(format: ", paired t-test p = %.3f", p) }
      evidence += ", \(count) seed\(count == 1 ? "" : "s")" + extra
      let verdict: String
      if difference <= 0 {
        verdict = "not supported"
      } else if count >= 2, let p, p < 0.05 {
        verdict = "supported"
      } else {
        verdict = count >= 2 ? "not significant" : "better, but one seed cannot test it"
      }
      return ClaimCheck(claim: claim, verdict: verdict, evidence: evidence)
    }
    var checks = [
      check("distillation beats LM (RB-KD > LM)", baseline: "LM", candidate: "RB-KD"),
      check("attention beats LM (LM-Att > LM)", baseline: "LM", candidate: "LM-Att"),
      check("RB-KD-Att beats LM-Att", baseline: "LM-Att", candidate: "RB-KD-Att"),
      check("RAB-KD beats LM-Att", baseline: "LM-Att", candidate: "RAB-KD"),
    ]
    if let mm = results.runs(of: "MM").first, let boosted = results.runs(of: "RAB-KD").first {
      let ratio = Double(boosted.flops) / Double(Swift.max(mm.flops, 1))
      checks.append(
        check(
          "the boosted LM beats MM at a fraction of its FLOPs (RAB-KD > MM)", baseline: "MM",
          candidate: "RAB-KD",
          extra: String(format: ", RAB-KD uses %.0f%% of MM's FLOPs", 100 * ratio)))
    } else {
      checks.append(
        ClaimCheck(
          claim: "the boosted LM beats MM at a fraction of its FLOPs", verdict: "not checked",
          evidence: "MM or RAB-KD not run"))
    }
    return checks.map { check in
      let names = ["LM", "RB-KD", "LM-Att", "RB-KD-Att", "RAB-KD", "MM"]
      let missing = names.filter { name in
        check.claim.contains(name) && results.runs(of: name).isEmpty
      }
      guard missing.isEmpty || check.verdict == "not checked" else {
        return ClaimCheck(
          claim: check.claim, verdict: "not checked",
          evidence: "\(missing.joined(separator: ", ")) not run")
      }
      return check
    }
  }

  /// Checks that the runs were made with the same settings, but for what differs by design
  /// between runs (configuration, seed, teacher): a folder holds one study.
  ///
  /// - Throws: ``ExperimentError/mixedSettings(path:differences:)`` naming each setting with two
  ///   values, and the runs that hold them.
  static func checkSharedSettings(_ records: [RunRecord], folder: OutputFolder) throws {
    var seen: [String: (value: String, run: String)] = [:]
    var differences: [String] = []
    for record in records {
      guard let settings = record.fingerprint?.settings else { continue }
      let run = RunRecord.stem(
        configuration: record.result.configuration, seed: UInt64(record.result.seed))
      for (key, value) in settings.sorted(by: { $0.key < $1.key })
      where !["configuration", "seed", "teacher"].contains(key) {
        if let first = seen[key] {
          if first.value != value {
            differences.append("\(key): \(first.value) in \(first.run), \(value) in \(run)")
          }
        } else {
          seen[key] = (value, run)
        }
      }
    }
    guard differences.isEmpty else {
      throw ExperimentError.mixedSettings(path: folder.root.path, differences: differences)
    }
  }
}
