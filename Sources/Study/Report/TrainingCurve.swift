import Metrics

/// Per-epoch training progress of one run: what the training-curves figure draws.
///
/// Plain numbers, so the trainer's own record converts in one line, e.g. from Distillation's
/// `TrainingHistory`:
///
/// ```swift
/// let curve = try TrainingCurve(
///   configuration: "RAB-KD", trainingLoss: history.epochs.map(\.loss),
///   validationMacroF1: history.epochs.map { $0.validationMacroF1 ?? .nan },
///   bestEpoch: history.bestEpoch)
/// ```
public struct TrainingCurve: Sendable, Equatable, Codable {
  /// The configuration the run belongs to, e.g. `"RAB-KD"`.
  public var configuration: String
  /// Mean training loss of each epoch; entry `i` is epoch `i + 1`.
  public var trainingLoss: [Double]
  /// Validation macro-F1 (in [0, 1]) after each epoch; empty without a validation set, NaN for
  /// an epoch that was not validated. Such points are left out of the figure.
  public var validationMacroF1: [Double]
  /// The 1-based epoch whose weights were kept (early stopping), if any.
  public var bestEpoch: Int?

  /// A curve of `trainingLoss.count` epochs.
  ///
  /// - Throws: ``MetricsError/inconsistentReport(_:)`` if `validationMacroF1` is neither empty
  ///   nor as long as `trainingLoss`, or `bestEpoch` is outside the epochs;
  ///   ``MetricsError/empty(what:)`` for no epochs.
  public init(
    configuration: String, trainingLoss: [Double], validationMacroF1: [Double] = [],
    bestEpoch: Int? = nil
  ) throws(MetricsError) {
    guard !trainingLoss.isEmpty else {
      throw .empty(what: "epochs in \(configuration)'s training curve")
    }
    guard validationMacroF1.isEmpty || trainingLoss.count == validationMacroF1.count else {
      throw .inconsistentReport(
        "\(configuration): \(trainingLoss.count) training losses but "
          + "\(validationMacroF1.count) validation scores")
    }
    if let bestEpoch, !(1...trainingLoss.count).contains(bestEpoch) {
      throw .inconsistentReport(
        "\(configuration): best epoch \(bestEpoch) outside 1...\(trainingLoss.count)")
    }
    self.configuration = configuration
    self.trainingLoss = trainingLoss
    self.validationMacroF1 = validationMacroF1
    self.bestEpoch = bestEpoch
  }

  /// The number of epochs recorded.
  public var epochs: Int { trainingLoss.count }
}
