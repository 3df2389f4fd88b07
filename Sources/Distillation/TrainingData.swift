import Tensor

/// Labelled windows ready for training: inputs `[examples, time, channels]` and one label each.
public struct TrainingData {
  /// `[examples, time, channels]`.
  public var inputs: Tensor
  /// One class index per example, in `0..<classes`.
  public var labels: [Int]
  /// The number of classes.
  public var classes: Int

  /// Labelled windows; checks that there is one label per example and every label is a class.
  ///
  /// - Throws: ``TrainingError/invalidData(_:)`` saying what does not fit.
  public init(inputs: Tensor, labels: [Int], classes: Int) throws(TrainingError) {
    guard inputs.rank >= 2, inputs.shape[0] == labels.count else {
      throw .invalidData(
        "inputs shaped \(inputs.shape) need one label per example, got \(labels.count)")
    }
    if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
      throw .invalidData("label \(bad) is outside 0..<\(classes)")
    }
    self.inputs = inputs
    self.labels = labels
    self.classes = classes
  }

  /// The number of examples.
  public var count: Int { labels.count }

  /// The inputs and labels of the examples at `indices`.
  public func batch(_ indices: [Int]) -> (inputs: Tensor, labels: [Int]) {
    (inputs.gathering(rows: indices), indices.map { labels[$0] })
  }
}
