import Datasets
import Layers
import Tensor

/// A data set's training, validation and test windows, ready for ``Trainer``: the validation
/// subjects held out of the training subjects, then every part standardized per channel with
/// statistics of the training part alone (the validation and test subjects never inform them).
///
/// ```swift
/// let data = try PreparedData(try HAPT.load(from: folder))
/// var model = ReferenceModel.lm.make(
///   channels: data.channelCount, classes: data.classNames.count, generator: &generator)
/// try Trainer().fit(&model, on: data.train, validation: data.validation)
/// let report = try model.evaluate(on: data.test)
/// ```
public struct PreparedData {
  /// Which training subjects validate (early stopping watches them; they are never trained on).
  public enum Validation: Sendable, Equatable {
    /// About this fraction of the training subjects, drawn with the seed.
    case fraction(Double, seed: UInt64)
    /// Exactly these subjects.
    case subjects([Int])
  }

  /// The windows models are trained on.
  public var train: TrainingData
  /// The windows early stopping watches.
  public var validation: TrainingData
  /// The held-out test subjects' windows.
  public var test: TrainingData
  /// The per-channel z-score fitted on `train`, applied to all three parts; save it with the
  /// model, so that new recordings are standardized the same way.
  public var standardizer: ChannelStandardizer
  /// Class names by index.
  public var classNames: [String]
  /// The subjects of each part, sorted.
  public var subjects: (train: [Int], validation: [Int], test: [Int])

  /// Channels per time step.
  public var channelCount: Int { train.inputs.shape[2] }
  /// Time steps per window.
  public var windowLength: Int { train.inputs.shape[1] }

  /// Problems the validation split could not avoid (a class missing from one part), with
  /// `MissingClassPolicy.warn` (Datasets); empty otherwise.
  public var warnings: [String]

  /// Splits `split.train` into training and validation subjects and standardizes every part.
  ///
  /// A fraction of the subjects is drawn stratified: whole subjects, chosen so that every class
  /// of the training subjects is in both parts whenever the subjects allow it.
  ///
  /// - Parameters:
  ///   - split: Training and test windows, subject-disjoint.
  ///   - validation: Which training subjects validate.
  ///   - missingClasses: What happens when a class is missing from the training or validation
  ///     part, or the training part has a single class: `.warn` (the default) keeps the split and
  ///     says so in ``warnings`` and ``summary``; `.refuse` throws.
  /// - Throws: ``TrainingError/invalidData(_:)`` naming the problem: a part without windows,
  ///   validation subjects that are not training subjects, or (with `.refuse`) a missing class.
  public init(
    _ split: TrainTestSplit, validation: Validation = .fraction(0.2, seed: 0),
    missingClasses: MissingClassPolicy = .warn
  ) throws(TrainingError) {
    let parts: ValidationSplit
    do throws(DatasetError) {
      switch validation {
      case .fraction(let fraction, let seed):
        parts = try split.train.stratifiedValidationSplit(
          fraction: fraction, seed: seed, missingClasses: missingClasses)
      case .subjects(let chosen):
        parts = try split.validationSplit(subjects: chosen, missingClasses: missingClasses)
      }
    } catch {
      throw .invalidData("\(error)")
    }
    let (train, held) = (parts.train, parts.validation)
    for (name, part) in [("training", train), ("validation", held), ("test", split.test)]
    where part.isEmpty {
      throw .invalidData("the \(name) part has no windows")
    }
    standardizer = ChannelStandardizer(fittedTo: train)
    self.train = try TrainingData(standardizer.standardized(train))
    self.validation = try TrainingData(standardizer.standardized(held))
    test = try TrainingData(standardizer.standardized(split.test))
    classNames = split.train.classNames
    subjects = (train.subjectIDs, held.subjectIDs, split.test.subjectIDs)
    warnings = parts.warnings
  }

  /// One line: windows and subjects of each part; then a line per warning.
  public var summary: String {
    [
      ("train", train, subjects.train), ("validation", validation, subjects.validation),
      ("test", test, subjects.test),
    ]
    .map { "\($0.0) \($0.1.count) windows from \($0.2.count) subjects" }
    .joined(separator: ", ")
  }
}

extension PreparedData {
  /// What a checkpoint of `model`, trained on these data, should carry to be used on new
  /// recordings from the file alone: its architecture, the per-channel z-score of the training
  /// windows, the class names and the window length.
  ///
  /// ```swift
  /// try Checkpoint(model: student, card: data.modelCard(for: student)).write(to: url)
  /// let (model, card) = try Checkpoint.loadModel(from: url)   // later, anywhere
  /// ```
  ///
  /// - Throws: `ModelCardError` (Layers) if the standardizer's statistics are not finite.
  public func modelCard(for model: Sequential) throws(ModelCardError) -> ModelCard {
    try ModelCard(
      model: model,
      normalization: InputNormalization(
        mean: standardizer.mean, standardDeviation: standardizer.standardDeviation),
      classNames: classNames, windowLength: windowLength)
  }
}
