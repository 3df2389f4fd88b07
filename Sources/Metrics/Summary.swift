import Foundation

/// The mean and sample standard deviation of one metric over seeds.
public struct Summary: Sendable, Equatable, Codable {
  /// The number of values summarized.
  public var count: Int
  /// The arithmetic mean.
  public var mean: Double
  /// The sample standard deviation (divisor `count − 1`, NumPy's `ddof=1`); 0 for one value.
  public var standardDeviation: Double

  /// Summarizes `values`, e.g. one configuration's macro-F1 over its seeds.
  ///
  /// A single value has standard deviation 0 here (NumPy gives NaN), so reports stay valid
  /// JSON; ``count`` tells the two cases apart, and the Markdown report omits "± 0" for it.
  ///
  /// - Throws: ``MetricsError/empty(what:)`` for no values, and
  ///   ``MetricsError/invalidNumber(what:value:)`` for a NaN or infinite value.
  public init(_ values: [Double]) throws(MetricsError) {
    guard !values.isEmpty else { throw .empty(what: "values to summarize") }
    if let bad = values.first(where: { !$0.isFinite }) {
      throw .invalidNumber(what: "summarized value", value: "\(bad)")
    }
    count = values.count
    mean = values.reduce(0, +) / Double(values.count)
    // Two passes: subtracting the mean first avoids the cancellation of Σx² − n·mean².
    let m = mean
    let squares = values.reduce(0) { $0 + ($1 - m) * ($1 - m) }
    standardDeviation = values.count > 1 ? (squares / Double(values.count - 1)).squareRoot() : 0
  }

  /// Summarizes integer values such as parameter counts.
  public init(_ values: [Int]) throws(MetricsError) {
    try self.init(values.map(Double.init))
  }
}
