/// Counts of (true class, predicted class) pairs, laid out as scikit-learn's `confusion_matrix`.
///
/// `counts[i][j]` is the number of samples whose label is `classes[i]` and whose prediction is
/// `classes[j]`: rows are true classes, columns are predictions.
public struct ConfusionMatrix: Sendable, Equatable, Codable {
  /// The class ids in row (and column) order, sorted ascending unless given explicitly.
  public let classes: [Int]
  /// `[classes.count][classes.count]` counts; rows are true classes, columns predictions.
  public let counts: [[Int]]

  /// Counts `labels` against `predictions`.
  ///
  /// - Parameters:
  ///   - labels: The true class of each sample.
  ///   - predictions: The predicted class of each sample, in the same order.
  ///   - classes: The classes to report, in order. `nil` (the default) takes the sorted union of
  ///     the values in `labels` and `predictions`, as scikit-learn does; pass e.g. `Array(0..<6)`
  ///     to keep rows for classes that occur in neither.
  /// - Throws: ``MetricsError/lengthMismatch(labels:predictions:)``,
  ///   ``MetricsError/empty(what:)`` for no samples, ``MetricsError/duplicateClass(_:)``, and
  ///   ``MetricsError/unknownClass(role:index:value:classes:)`` for a value outside `classes`.
  public init(labels: [Int], predictions: [Int], classes: [Int]? = nil) throws(MetricsError) {
    guard labels.count == predictions.count else {
      throw .lengthMismatch(labels: labels.count, predictions: predictions.count)
    }
    guard !labels.isEmpty else { throw .empty(what: "labels") }
    let classList = classes ?? Set(labels).union(predictions).sorted()
    var position: [Int: Int] = [:]
    for (index, value) in classList.enumerated() {
      guard position.updateValue(index, forKey: value) == nil else {
        throw .duplicateClass(value)
      }
    }
    var counts = Array(
      repeating: Array(repeating: 0, count: classList.count), count: classList.count)
    for index in labels.indices {
      guard let row = position[labels[index]] else {
        throw .unknownClass(role: "label", index: index, value: labels[index], classes: classList)
      }
      guard let column = position[predictions[index]] else {
        throw .unknownClass(
          role: "prediction", index: index, value: predictions[index], classes: classList)
      }
      counts[row][column] += 1
    }
    self.classes = classList
    self.counts = counts
  }

  /// A matrix from existing counts, e.g. the sum of several runs' matrices.
  ///
  /// - Throws: ``MetricsError/malformedMatrix(classes:rowLengths:)`` unless `counts` is square
  ///   with one row per class, ``MetricsError/invalidNumber(what:value:)`` for a negative count,
  ///   ``MetricsError/duplicateClass(_:)``, and ``MetricsError/empty(what:)`` for no classes.
  public init(classes: [Int], counts: [[Int]]) throws(MetricsError) {
    guard !classes.isEmpty else { throw .empty(what: "classes") }
    guard counts.count == classes.count, counts.allSatisfy({ $0.count == classes.count }) else {
      throw .malformedMatrix(classes: classes.count, rowLengths: counts.map(\.count))
    }
    guard Set(classes).count == classes.count else {
      throw .duplicateClass(classes.first { c in classes.filter { $0 == c }.count > 1 } ?? 0)
    }
    if let negative = counts.joined().first(where: { $0 < 0 }) {
      throw .invalidNumber(what: "confusion matrix count", value: "\(negative)")
    }
    self.classes = classes
    self.counts = counts
  }

  /// The element-wise sum of `matrices`, e.g. one configuration's matrices over its seeds.
  ///
  /// - Throws: ``MetricsError/empty(what:)`` for no matrices, and
  ///   ``MetricsError/inconsistentReport(_:)`` if their class lists differ.
  public init(summing matrices: [ConfusionMatrix]) throws(MetricsError) {
    guard var sum = matrices.first else { throw .empty(what: "confusion matrices to sum") }
    for matrix in matrices.dropFirst() { sum = try sum.adding(matrix) }
    self = sum
  }

  private enum CodingKeys: String, CodingKey { case classes, counts }

  /// Decodes `{"classes": […], "counts": [[…]]}`, checked as ``init(classes:counts:)`` checks.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    try self.init(
      classes: container.decode([Int].self, forKey: .classes),
      counts: container.decode([[Int]].self, forKey: .counts))
  }

  /// The number of samples counted.
  public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }

  /// The number of correctly classified samples (the diagonal).
  public var correct: Int { counts.indices.reduce(0) { $0 + counts[$1][$1] } }

  /// Samples of each true class (row sums), in `classes` order: scikit-learn's `support`.
  public var support: [Int] { counts.map { $0.reduce(0, +) } }

  /// Predictions of each class (column sums), in `classes` order.
  public var predicted: [Int] {
    classes.indices.map { column in counts.reduce(0) { $0 + $1[column] } }
  }

  /// Each row divided by its sum (recall per cell); rows of absent classes stay all zero.
  public var rowNormalized: [[Double]] {
    counts.map { row in
      let sum = row.reduce(0, +)
      return row.map { sum == 0 ? 0 : Double($0) / Double(sum) }
    }
  }

  /// The element-wise sum of `self` and `other`, which must list the same classes.
  ///
  /// - Throws: ``MetricsError/inconsistentReport(_:)`` if the class lists differ.
  public func adding(_ other: ConfusionMatrix) throws(MetricsError) -> ConfusionMatrix {
    guard classes == other.classes else {
      throw .inconsistentReport(
        "cannot add confusion matrices over classes \(classes) and \(other.classes)")
    }
    let sum = zip(counts, other.counts).map { zip($0, $1).map(+) }
    return try ConfusionMatrix(classes: classes, counts: sum)
  }
}
