import Datasets
import Distillation
import Foundation
import Tensor

/// The data of one experiment: standardized training, validation and test sets.
///
/// The validation part is a subject-disjoint fifth of the training subjects, chosen once (seed 0)
/// so that every configuration and seed trains on the same windows, and a teacher's cache serves
/// them all. The z-score is fitted on the training part only.
public struct ExperimentData {
  /// The windows models are trained on.
  public var train: TrainingData
  /// The windows early stopping watches.
  public var validation: TrainingData
  /// The held-out test subjects' windows.
  public var test: TrainingData
  /// Class names by index.
  public var classNames: [String]
  /// A line per part: windows and subjects.
  public var summary: String

  /// Channels per time step.
  public var channels: Int { train.inputs.shape[2] }
  /// The number of classes.
  public var classes: Int { train.classes }

  /// Loads and prepares the data set that `options` names.
  ///
  /// - Throws: ``DatasetError`` from the loader, or for a split that leaves a part empty.
  public static func load(_ options: ExperimentOptions) throws -> ExperimentData {
    let split: TrainTestSplit
    if options.dataset == .synthetic {
      // --smoke: 8 subjects, 8 windows per activity, 64 steps; the default is the generator's.
      let synthetic =
        options.smoke
        ? Synthetic.Options(subjects: 8, windowsPerActivity: 8, length: 64)
        : Synthetic.Options()
      split = try Synthetic.load(synthetic, seed: 0)
    } else if options.skipMalformed && options.dataset == .wisdm {
      split = try WISDM.load(from: options.dataDirectory ?? ".", policy: .skip)
    } else if options.skipMalformed && options.dataset == .wisdmWatch {
      split = try WISDMWatch.load(from: options.dataDirectory ?? ".", policy: .skip)
    } else {
      split = try options.dataset.load(from: options.dataDirectory ?? ".")
    }
    if !split.skipped.isEmpty {
      print("skipped \(split.skipped.count) malformed records (--skip-malformed):")
      for problem in split.skipped.prefix(20) { print("  \(problem)") }
      if split.skipped.count > 20 { print("  … and \(split.skipped.count - 20) more") }
    }
    let (train, validation) = try split.train.validationSplit(fraction: 0.2, seed: 0)
    let standardizer = ChannelStandardizer(fittedTo: train)
    let classNames = split.train.classNames
    func prepared(_ windows: LabeledWindows) throws -> TrainingData {
      let standardized = standardizer.standardized(windows)
      return try TrainingData(
        inputs: try Tensor(shape: standardized.shape, scalars: standardized.values),
        labels: standardized.labels, classes: classNames.count)
    }
    func describe(_ name: String, _ windows: LabeledWindows) -> String {
      "\(name) \(windows.count) windows from \(windows.subjectIDs.count) subjects"
    }
    return ExperimentData(
      train: try prepared(train), validation: try prepared(validation),
      test: try prepared(split.test),
      classNames: classNames,
      summary: [
        describe("train", train), describe("validation", validation), describe("test", split.test),
      ]
      .joined(separator: ", "))
  }
}
