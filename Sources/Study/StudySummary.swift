import Distillation
import Foundation
import Metrics
import Tensor

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
      (order[$0.result.configuration] ?? 99, $0.result.fold ?? 0, $0.result.seed) < (
        order[$1.result.configuration] ?? 99, $1.result.fold ?? 0, $1.result.seed
      )
    }
    try Self.checkSharedSettings(sorted, folder: folder)
    try Self.checkOptions(sorted, options: options, folder: folder)
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
      "shards": .integer(run.shards), "initialization": .string(run.initialization.rawValue),
    ]
    if case .deepConvLSTM = run.family {
      settings["attentionPosition"] = .integer(run.attention.position)
      settings["reduction"] = .integer(run.attention.reduction)
      settings["spatialKernel"] = .integer(run.attention.spatialKernel)
    }
    if let clip = run.clipNorm { settings["clipNorm"] = decimal(clip) }
    if run.kdWarmup > 0 { settings["kdWarmup"] = .integer(run.kdWarmup) }
    if let subjects = run.testSubjects {
      settings["testSubjects"] = .list(subjects.map { .integer($0) })
    }
    if let subjects = run.validationSubjects {
      settings["validationSubjects"] = .list(subjects.map { .integer($0) })
    }
    // Runs recorded before the lowest recall was kept get it from their confusion matrix.
    let runs = sorted.map { record in
      var result = record.result
      if result.lowestRecall == nil {
        result.lowestRecall = ClassRecall(
          lowestOf: ClassificationReport(confusionMatrix: record.confusion))
      }
      return result
    }
    var results = try StudyResults(
      dataset: run.dataset.rawValue, family: run.family.name, settings: settings, runs: runs)
    results.claims = Self.checkClaims(results)
    results.studyProtocol = StudyProtocol(merging: sorted.compactMap(\.studyProtocol))
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
    claims = results.claims ?? []
  }

  /// Writes the report into `folder`, then reads `results.json` back to check that it decodes to
  /// the same runs.
  public func write(to folder: OutputFolder) throws {
    _ = try report.write(to: folder.root)
    let url = folder.root.appendingPathComponent("results.json")
    let decoded = try StudyResults(jsonData: Data(contentsOf: url))
    guard decoded.runs == report.results.runs, decoded.claims == report.results.claims,
      decoded.studyProtocol == report.results.studyProtocol
    else {
      throw ExperimentError.unreadableRun(
        path: url.path, reason: "results.json does not read back as written")
    }
  }

  /// The comparison table and the claims, as printed at the end of a study.
  public var text: String {
    var lines = ["", "Configuration  Accuracy %       Macro-F1 %       Params    FLOPs      Seeds"]
    for summary in report.results.summary {
      let runs = report.results.runs(of: summary.configuration)
      // Mean ± std over seeds, or over folds (of the folds' means) under cross-validation.
      func cell(_ metric: RunMetric) -> String {
        String(format: "%6.2f ± %5.2f", 100 * summary.mean[metric], 100 * summary.std[metric])
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
      Self.claimsHeader(
        claims, crossValidated: report.results.runs.contains { $0.fold != nil }))
    lines += claims.map(\.line)
    if let note = report.collapsedRunsNote(markdown: false) { lines += ["", note] }
    return lines.joined(separator: "\n")
  }

  /// Checks that the options describe the runs: `results.json` and `report.md` state the
  /// settings of the options, so `--aggregate` given other options than the runs were trained
  /// with would label them wrongly.
  ///
  /// - Throws: ``ExperimentError/optionsDiffer(path:differences:)`` naming the first run that
  ///   differs and each of its settings that does.
  static func checkOptions(
    _ records: [RunRecord], options: StudyOptions, folder: OutputFolder
  ) throws {
    for record in records {
      guard let stored = record.fingerprint?.settings,
        let configuration = Configuration.named(record.result.configuration)
      else { continue }
      let expected = RunFingerprint.optionSettings(options.run, configuration: configuration)
      let differences = RunFingerprint.optionKeys.compactMap { key -> String? in
        guard stored[key] != expected[key] else { return nil }
        return "\(key) \(stored[key] ?? "(not set)") in the run, "
          + "\(expected[key] ?? "(not set)") in the options"
      }
      guard differences.isEmpty else {
        let stem = RunRecord.stem(
          configuration: record.result.configuration, seed: UInt64(record.result.seed),
          fold: record.result.fold)
        throw ExperimentError.optionsDiffer(
          path: folder.record(stem).path, differences: differences)
      }
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
        configuration: record.result.configuration, seed: UInt64(record.result.seed),
        fold: record.result.fold)
      // The split of a cross-validation run is its fold's: compared within the fold only.
      let perFold = ["data", "testSubjects", "validationSubjects", "fold"]
      for (name, value) in settings.sorted(by: { $0.key < $1.key })
      where !["configuration", "seed", "teacher"].contains(name) {
        let fold = settings["fold"].map { " (fold \($0))" } ?? ""
        let key = perFold.contains(name) ? name + fold : name
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
