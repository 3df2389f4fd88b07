/// A value for each part of a split: training, validation and test.
public struct SplitParts<Value: Sendable & Equatable & Codable>: Sendable, Equatable, Codable {
  /// The training part's value.
  public var train: Value
  /// The validation part's value.
  public var validation: Value
  /// The test part's value.
  public var test: Value

  /// The three values.
  public init(train: Value, validation: Value, test: Value) {
    self.train = train
    self.validation = validation
    self.test = test
  }
}

/// How a study's runs were made, as `results.json` records it under `"protocol"`: the subjects
/// and window counts of every part of the split, the threads and shards, and the package
/// version. Each run record carries its own; the report merges them.
///
/// ```json
/// "protocol": { "packageVersion": "0.2.0", "shards": 2, "threads": [2],
///   "subjects": { "train": [1, 3, …], "validation": [5, …], "test": [2, 4, …] },
///   "windows": { "train": 6026, "validation": 1389, "test": 2996 } }
/// ```
public struct StudyProtocol: Sendable, Equatable, Codable {
  /// ``RunFingerprint/packageVersion`` of the package that trained the runs.
  public var packageVersion: String
  /// The subjects of each part, sorted; `nil` for a cross-validated study, whose ``folds`` hold
  /// them.
  public var subjects: SplitParts<[Int]>?
  /// The windows of each part; `nil` for a cross-validated study.
  public var windows: SplitParts<Int>?
  /// The thread bounds the runs were trained with, sorted, each once (they change no bit).
  public var threads: [Int]
  /// The slices each mini-batch was cut into (they decide the float sums' order).
  public var shards: Int
  /// The cross-validation fold (from 1) of a run; `nil` otherwise.
  public var fold: Int?
  /// A cross-validated study's folds, each with its subjects and windows; `nil` otherwise.
  public var folds: [StudyProtocol]?

  /// A protocol from its parts.
  public init(
    packageVersion: String = RunFingerprint.packageVersion, subjects: SplitParts<[Int]>,
    windows: SplitParts<Int>, threads: [Int], shards: Int, fold: Int? = nil
  ) {
    self.fold = fold
    self.packageVersion = packageVersion
    self.subjects = subjects
    self.windows = windows
    self.threads = Array(Set(threads)).sorted()
    self.shards = shards
  }

  /// The protocol of a study from those of its runs: the first run's, with the thread counts of
  /// all; `nil` when no run recorded one (records of older versions). The runs' split and shards
  /// agree, as ``StudySummary`` checks their fingerprints first.
  ///
  /// Runs of cross-validation folds merge into one entry of ``folds`` per fold, and the study's
  /// own ``subjects`` and ``windows`` are left out.
  public init?(merging runs: [StudyProtocol]) {
    guard var merged = runs.first else { return nil }
    merged.threads = Array(Set(runs.flatMap(\.threads))).sorted()
    let folds = Array(Set(runs.compactMap(\.fold))).sorted()
    if !folds.isEmpty {
      merged.folds = folds.compactMap { fold in
        runs.first { $0.fold == fold }.map {
          var entry = $0
          entry.threads = Array(Set(runs.filter { $0.fold == fold }.flatMap(\.threads))).sorted()
          return entry
        }
      }
      merged.fold = nil
      merged.subjects = nil
      merged.windows = nil
    }
    self = merged
  }
}
