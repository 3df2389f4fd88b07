/// Per-epoch training progress of one run: what the training-curves figure draws.
public struct TrainingHistory: Sendable, Equatable, Codable {
  /// The configuration the run belongs to, e.g. `"RAB-KD"`.
  public var configuration: String
  /// Mean training loss of each epoch; entry `i` is epoch `i + 1`.
  public var trainingLoss: [Double]
  /// Validation macro-F1 (in [0, 1]) after each epoch.
  public var validationMacroF1: [Double]
  /// The 1-based epoch whose weights were kept (early stopping), if any.
  public var bestEpoch: Int?

  /// A history of `trainingLoss.count` epochs.
  ///
  /// - Throws: ``MetricsError/inconsistentReport(_:)`` if the two series differ in length or
  ///   `bestEpoch` is outside them; ``MetricsError/empty(what:)`` for no epochs.
  public init(
    configuration: String, trainingLoss: [Double], validationMacroF1: [Double],
    bestEpoch: Int? = nil
  ) throws(MetricsError) {
    guard !trainingLoss.isEmpty else { throw .empty(what: "epochs in \(configuration)'s history") }
    guard trainingLoss.count == validationMacroF1.count else {
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
