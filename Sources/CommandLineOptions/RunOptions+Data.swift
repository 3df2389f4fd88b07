import Datasets
import Distillation

extension RunOptions {
  /// Loads the data set these options name, split into training and test subjects.
  ///
  /// - Throws: ``Datasets/DatasetError`` from the loader; ``UsageError`` for test subjects that
  ///   leave a part empty.
  public func loadSplit() throws -> TrainTestSplit {
    var split: TrainTestSplit
    switch dataset {
    case .synthetic:
      // --smoke: 8 subjects, 8 windows per activity, 64 steps; the default is the generator's.
      let synthetic =
        smoke
        ? Synthetic.Options(subjects: 8, windowsPerActivity: 8, length: 64) : Synthetic.Options()
      split = try Synthetic.load(synthetic, seed: 0)
    case .csv:
      let windowing = WindowingOptions(length: csv.window, step: csv.step)
      let windows = try CSV.load(dataDirectory ?? "", layout: csv.layout!, windowing: windowing)
      split = windows.split(testSubjects: testSubjects ?? [])
    case .wisdm where skipMalformed:
      split = try WISDM.load(from: dataDirectory ?? ".", policy: .skip)
    case .wisdmWatch where skipMalformed:
      split = try WISDMWatch.load(from: dataDirectory ?? ".", policy: .skip)
    default:
      split = try dataset.load(from: dataDirectory ?? ".")
    }
    if let testSubjects, dataset != .csv {
      var all = split.train
      all.append(contentsOf: split.test)
      let skipped = split.skipped
      split = all.split(testSubjects: testSubjects)
      split.skipped = skipped
    }
    for (name, part) in [("training", split.train), ("test", split.test)] where part.isEmpty {
      throw UsageError("the \(name) subjects have no windows (see --test-subjects)")
    }
    if !split.skipped.isEmpty {
      print("skipped \(split.skipped.count) malformed records (--skip-malformed):")
      for problem in split.skipped.prefix(20) { print("  \(problem)") }
      if split.skipped.count > 20 { print("  … and \(split.skipped.count - 20) more") }
    }
    return split
  }

  /// The validation choice these options name.
  public var validation: PreparedData.Validation {
    validationSubjects.map { .subjects($0) } ?? .fraction(0.2, seed: 0)
  }
}
