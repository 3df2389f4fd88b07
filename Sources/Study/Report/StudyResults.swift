import Foundation
import Metrics

/// One training run: one configuration trained from one seed and evaluated on the test split.
///
/// A row of `runs` in `results.json`; the property names are the JSON keys.
public struct RunResult: Sendable, Equatable, Codable {
  /// The configuration's name, e.g. `"RAB-KD"`.
  public var configuration: String
  /// The seed of the run.
  public var seed: Int
  /// The cross-validation fold (from 1) whose test subjects the run was tested on; `nil`, and
  /// absent from the JSON, outside cross-validation.
  public var fold: Int?
  /// Test accuracy, in [0, 1].
  public var accuracy: Double
  /// Test macro-F1, in [0, 1].
  public var macroF1: Double
  /// Test weighted-F1, in [0, 1].
  public var weightedF1: Double
  /// Trainable parameters of the trained model.
  public var parameters: Int
  /// Forward FLOPs per window (see ``LayerCost``).
  public var flops: Int
  /// Model size in bytes: the float32 parameters (`4 × parameters`) unless the caller chose the
  /// checkpoint file's size.
  public var sizeBytes: Int
  /// Epochs trained (including those after the best epoch, before early stopping).
  public var epochs: Int
  /// Wall-clock training time in seconds.
  public var trainSeconds: Double
  /// The class the model recognized worst on the test set, with its recall there. A recall near 0
  /// marks a run that never learned the class; the mean over seeds does not show it. `nil`, and
  /// absent from the JSON, when not known (a run made without its test predictions).
  public var lowestRecall: ClassRecall?

  /// A run from its numbers.
  public init(
    configuration: String, seed: Int, accuracy: Double, macroF1: Double, weightedF1: Double,
    parameters: Int, flops: Int, sizeBytes: Int, epochs: Int, trainSeconds: Double,
    fold: Int? = nil
  ) {
    self.fold = fold
    self.configuration = configuration
    self.seed = seed
    self.accuracy = accuracy
    self.macroF1 = macroF1
    self.weightedF1 = weightedF1
    self.parameters = parameters
    self.flops = flops
    self.sizeBytes = sizeBytes
    self.epochs = epochs
    self.trainSeconds = trainSeconds
  }

  /// A run from its test-set scores and its model's cost; ``sizeBytes`` is
  /// ``ModelCost/float32Bytes``.
  public init(
    configuration: String, seed: Int, scores: ClassificationReport, cost: ModelCost, epochs: Int,
    trainSeconds: Double, fold: Int? = nil
  ) {
    self.init(
      configuration: configuration, seed: seed, accuracy: scores.accuracy,
      macroF1: scores.macroF1, weightedF1: scores.weightedF1, parameters: cost.parameters,
      flops: cost.flops, sizeBytes: cost.float32Bytes, epochs: epochs, trainSeconds: trainSeconds,
      fold: fold)
    lowestRecall = ClassRecall(lowestOf: scores)
  }

  /// What pairs two configurations' runs: the fold (0 outside cross-validation) and the seed.
  var pairing: [Int] { [fold ?? 0, seed] }

  /// The run's name in messages: `seed 2`, or `fold 3 seed 2`.
  var replicate: String { (fold.map { "fold \($0) " } ?? "") + "seed \(seed)" }

  /// The run's value of `metric`.
  public func value(of metric: RunMetric) -> Double {
    switch metric {
    case .accuracy: accuracy
    case .macroF1: macroF1
    case .weightedF1: weightedF1
    case .parameters: Double(parameters)
    case .flops: Double(flops)
    case .sizeBytes: Double(sizeBytes)
    case .epochs: Double(epochs)
    case .trainSeconds: trainSeconds
    }
  }
}

/// One class's recall on a test set.
public struct ClassRecall: Sendable, Equatable, Codable {
  /// The class id.
  public var classID: Int
  /// `tp / (tp + fn)`, in [0, 1].
  public var recall: Double

  /// A class and its recall.
  public init(classID: Int, recall: Double) {
    self.classID = classID
    self.recall = recall
  }

  /// The lowest recall among the classes that occur in the labels of `scores` (the first such
  /// class on a tie); `nil` when no class occurs.
  public init?(lowestOf scores: ClassificationReport) {
    let present = scores.perClass.filter { $0.support > 0 }
    guard let worst = present.min(by: { $0.recall < $1.recall }) else { return nil }
    self.init(classID: worst.classID, recall: worst.recall)
  }
}

/// A numeric field of ``RunResult``; the raw value is its JSON key.
public enum RunMetric: String, Sendable, CaseIterable, Codable, CodingKey {
  /// Test accuracy.
  case accuracy
  /// Test macro-F1.
  case macroF1
  /// Test weighted-F1.
  case weightedF1
  /// Trainable parameters.
  case parameters
  /// Forward FLOPs per window.
  case flops
  /// Model size in bytes.
  case sizeBytes
  /// Epochs trained.
  case epochs
  /// Training time in seconds.
  case trainSeconds
}

/// A value for each ``RunMetric``: the `"mean"` or `"std"` object of a summary entry.
public struct MetricValues: Sendable, Equatable, Codable {
  /// The values by metric; every ``RunMetric`` has one.
  public private(set) var values: [RunMetric: Double]

  /// Values from `value(metric)` for every metric.
  public init(_ value: (RunMetric) -> Double) {
    values = Dictionary(uniqueKeysWithValues: RunMetric.allCases.map { ($0, value($0)) })
  }

  /// The value of `metric`.
  public subscript(metric: RunMetric) -> Double { values[metric] ?? 0 }

  /// Decodes an object with one number per ``RunMetric`` key.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: RunMetric.self)
    var values: [RunMetric: Double] = [:]
    for metric in RunMetric.allCases {
      values[metric] = try container.decode(Double.self, forKey: metric)
    }
    self.values = values
  }

  /// Encodes one number per ``RunMetric``, in declaration order.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: RunMetric.self)
    for metric in RunMetric.allCases { try container.encode(self[metric], forKey: metric) }
  }
}

/// The mean and sample standard deviation of every metric of one configuration over its seeds:
/// an entry of `summary` in `results.json`. Under cross-validation, over its folds: each fold's
/// mean over its seeds, then the mean and standard deviation of those.
public struct ConfigurationSummary: Sendable, Equatable, Codable {
  /// The configuration's name.
  public var configuration: String
  /// Means over the configuration's runs.
  public var mean: MetricValues
  /// Sample standard deviations over the runs (0 for a single run; see ``Summary``).
  public var std: MetricValues

  /// Summarizes `runs`, which must all belong to `configuration`.
  ///
  /// - Throws: ``MetricsError/empty(what:)`` for no runs.
  public init(configuration: String, runs: [RunResult]) throws(MetricsError) {
    guard !runs.isEmpty else { throw .empty(what: "runs of \(configuration)") }
    var summaries: [RunMetric: Summary] = [:]
    let folds = Array(Set(runs.compactMap(\.fold))).sorted()
    for metric in RunMetric.allCases {
      if folds.isEmpty {
        summaries[metric] = try Summary(runs.map { $0.value(of: metric) })
      } else {
        var means: [Double] = []
        for fold in folds {
          means.append(
            try Summary(runs.filter { $0.fold == fold }.map { $0.value(of: metric) }).mean)
        }
        summaries[metric] = try Summary(means)
      }
    }
    self.configuration = configuration
    mean = MetricValues { summaries[$0]?.mean ?? 0 }
    std = MetricValues { summaries[$0]?.standardDeviation ?? 0 }
  }
}

/// The contents of `results.json`: every run of a study and a summary per
/// configuration.
///
/// ```json
/// { "dataset": "uci-hapt", "family": "cnn", "created": "2026-11-25T16:00:00Z",
///   "settings": { "epochs": 30, "seeds": [0, 1, 2] },
///   "runs": [ { "configuration": "LM", "seed": 0, "accuracy": 0.91, "macroF1": 0.9, … } ],
///   "summary": [ { "configuration": "LM", "mean": { "accuracy": 0.91, … },
///                  "std": { "accuracy": 0.004, … } } ] }
/// ```
public struct StudyResults: Sendable, Equatable, Codable {
  /// The data set id, e.g. `"uci-hapt"`.
  public var dataset: String
  /// The model family, e.g. `"cnn"` or `"deepconvlstm"`.
  public var family: String
  /// When the study finished; ISO 8601 in the JSON.
  public var created: Date
  /// Free-form settings of the study (epochs, seeds, temperature, …).
  public var settings: [String: SettingValue]
  /// Every run, in the order the study ran them.
  public var runs: [RunResult]
  /// One entry per configuration, in order of first appearance in ``runs``.
  public var summary: [ConfigurationSummary]
  /// The study's claims with their tests (see ``ClaimCheck``); `nil`, and absent from the JSON,
  /// unless a study set them.
  public var claims: [ClaimCheck]?
  /// How the runs were made (see ``StudyProtocol``), stored under `"protocol"`; `nil`, and absent
  /// from the JSON, unless a study set it.
  public var studyProtocol: StudyProtocol?

  /// Results of `runs`, with ``summary`` computed from them.
  ///
  /// - Throws: ``MetricsError/empty(what:)`` for no runs,
  ///   ``MetricsError/invalidNumber(what:value:)`` for a NaN or infinite metric, and
  ///   ``MetricsError/inconsistentReport(_:)`` for two runs of the same configuration and seed.
  public init(
    dataset: String, family: String, created: Date = Date(),
    settings: [String: SettingValue] = [:], runs: [RunResult]
  ) throws(MetricsError) {
    guard !runs.isEmpty else { throw .empty(what: "runs") }
    var seen = Set<String>()
    for run in runs {
      guard seen.insert("\(run.configuration)\u{0}\(run.pairing)").inserted else {
        throw .inconsistentReport("two runs of \(run.configuration) with \(run.replicate)")
      }
      for metric in RunMetric.allCases where !run.value(of: metric).isFinite {
        throw .invalidNumber(
          what: "\(run.configuration) \(run.replicate) \(metric.rawValue)",
          value: "\(run.value(of: metric))")
      }
      if let recall = run.lowestRecall?.recall, !(0...1).contains(recall) {
        throw .invalidNumber(
          what: "\(run.configuration) \(run.replicate) lowest recall", value: "\(recall)")
      }
    }
    self.dataset = dataset
    self.family = family
    // Whole seconds: what ISO 8601 in the JSON keeps, so results survive a round trip unchanged.
    self.created = Date(timeIntervalSince1970: created.timeIntervalSince1970.rounded(.down))
    self.settings = settings
    self.runs = runs
    var summary: [ConfigurationSummary] = []
    for name in Self.configurations(of: runs) {
      summary.append(
        try ConfigurationSummary(
          configuration: name, runs: runs.filter { $0.configuration == name }))
    }
    self.summary = summary
  }

  /// Configuration names in order of first appearance in ``runs``.
  public var configurations: [String] { Self.configurations(of: runs) }

  /// The runs of `configuration`, in order.
  public func runs(of configuration: String) -> [RunResult] {
    runs.filter { $0.configuration == configuration }
  }

  /// The summary entry of `configuration`, if it has runs.
  public func summary(of configuration: String) -> ConfigurationSummary? {
    summary.first { $0.configuration == configuration }
  }

  private static func configurations(of runs: [RunResult]) -> [String] {
    var seen = Set<String>()
    return runs.map(\.configuration).filter { seen.insert($0).inserted }
  }

  private enum CodingKeys: String, CodingKey {
    case dataset, family, created, settings, runs, summary, claims
    case studyProtocol = "protocol"
  }

  /// Decodes `results.json`; `created` must be an ISO 8601 date-time.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    dataset = try container.decode(String.self, forKey: .dataset)
    family = try container.decode(String.self, forKey: .family)
    let text = try container.decode(String.self, forKey: .created)
    guard let date = ISO8601DateFormatter().date(from: text) else {
      throw DecodingError.dataCorruptedError(
        forKey: .created, in: container, debugDescription: "not an ISO 8601 date: \(text)")
    }
    created = date
    settings = try container.decode([String: SettingValue].self, forKey: .settings)
    runs = try container.decode([RunResult].self, forKey: .runs)
    summary = try container.decode([ConfigurationSummary].self, forKey: .summary)
    claims = try container.decodeIfPresent([ClaimCheck].self, forKey: .claims)
    studyProtocol = try container.decodeIfPresent(StudyProtocol.self, forKey: .studyProtocol)
  }

  /// Encodes the `results.json` object; `created` as an ISO 8601 date-time in UTC.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(dataset, forKey: .dataset)
    try container.encode(family, forKey: .family)
    try container.encode(ISO8601DateFormatter().string(from: created), forKey: .created)
    try container.encode(settings, forKey: .settings)
    try container.encode(runs, forKey: .runs)
    try container.encode(summary, forKey: .summary)
    try container.encodeIfPresent(claims, forKey: .claims)
    try container.encodeIfPresent(studyProtocol, forKey: .studyProtocol)
  }

  /// `results.json`: pretty-printed, keys sorted, so reruns diff cleanly.
  public func jsonData() throws(MetricsError) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    do { return try encoder.encode(self) } catch {
      throw .inconsistentReport("cannot encode results: \(error)")
    }
  }

  /// Reads results from the contents of a `results.json`.
  ///
  /// - Throws: ``MetricsError/inconsistentReport(_:)`` naming what did not decode.
  public init(jsonData data: Data) throws(MetricsError) {
    do { self = try JSONDecoder().decode(StudyResults.self, from: data) } catch {
      throw .inconsistentReport("cannot decode results.json: \(error)")
    }
  }
}
