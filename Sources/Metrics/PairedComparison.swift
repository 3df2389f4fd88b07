import Foundation

/// A comparison of two configurations run on the same seeds: is the candidate better than the
/// baseline by more than seed-to-seed noise?
///
/// Values are paired by position (`baseline[i]` and `candidate[i]` come from seed `i`), and
/// differences are `candidate[i] − baseline[i]`. Two two-sided tests of "no difference" are
/// reported; with the handful of seeds a study runs, neither has much power, so read the
/// p-values together with ``meanDifference`` and the spread of the differences.
///
/// - **Paired t-test** (scipy's `ttest_rel(candidate, baseline)`): `t = mean(d) / (sd(d) / √n)`
///   with `n − 1` degrees of freedom; it assumes roughly normal differences.
/// - **Wilcoxon signed-rank test** (scipy's `wilcoxon(candidate, baseline)` with its defaults):
///   zero differences are dropped, the others ranked by magnitude (ties get their average rank),
///   and the statistic is `min(W+, W−)`. The p-value is exact — all `2^m` sign assignments of the
///   `m` nonzero ranks, counted by dynamic programming — when there are at most 50 differences
///   and no ties or zeros, or at most 13 differences in all; otherwise it is the normal
///   approximation with tie correction and no continuity correction. These are the cases in
///   which scipy 1.17's `method="auto"` is exact (its permutation test for 13 or fewer values
///   enumerates the same sign assignments).
public struct PairedComparison: Sendable, Equatable, Codable {
  /// How the Wilcoxon p-value was computed.
  public enum WilcoxonMethod: String, Sendable, Equatable, Codable {
    /// Exact null distribution over all sign assignments.
    case exact
    /// Normal approximation with tie correction.
    case normalApproximation
  }

  /// The number of pairs.
  public var count: Int
  /// `mean(candidate − baseline)`: positive when the candidate scores higher.
  public var meanDifference: Double
  /// The sample standard deviation of the differences.
  public var differenceStandardDeviation: Double
  /// The paired t statistic; ±∞ when every difference is the same nonzero value, 0 when all are 0.
  public var tStatistic: Double
  /// The two-sided p-value of the paired t-test with `count − 1` degrees of freedom.
  public var tTestPValue: Double
  /// `min(W+, W−)`, the smaller sum of signed ranks (scipy's reported statistic).
  public var wilcoxonStatistic: Double
  /// The two-sided p-value of the Wilcoxon signed-rank test; 1 when every difference is 0.
  public var wilcoxonPValue: Double
  /// Whether ``wilcoxonPValue`` is exact or approximate.
  public var wilcoxonMethod: WilcoxonMethod

  /// Compares `candidate` with `baseline`, paired by position (seed).
  ///
  /// - Throws: ``MetricsError/unpairedSamples(baseline:candidate:)`` for different lengths,
  ///   ``MetricsError/tooFewValues(what:needed:found:)`` for fewer than two pairs, and
  ///   ``MetricsError/invalidNumber(what:value:)`` for a NaN or infinite value.
  public init(baseline: [Double], candidate: [Double]) throws(MetricsError) {
    guard baseline.count == candidate.count else {
      throw .unpairedSamples(baseline: baseline.count, candidate: candidate.count)
    }
    guard baseline.count >= 2 else {
      throw .tooFewValues(what: "paired comparison", needed: 2, found: baseline.count)
    }
    if let bad = (baseline + candidate).first(where: { !$0.isFinite }) {
      throw .invalidNumber(what: "paired value", value: "\(bad)")
    }
    let differences = zip(candidate, baseline).map { $0 - $1 }
    let summary = try Summary(differences)
    count = differences.count
    meanDifference = summary.mean
    differenceStandardDeviation = summary.standardDeviation

    if summary.standardDeviation > 0 {
      tStatistic = summary.mean / (summary.standardDeviation / Double(count).squareRoot())
      tTestPValue = SpecialFunctions.studentTTwoSidedTail(
        abs(tStatistic), degreesOfFreedom: Double(count - 1))
    } else {
      // Identical differences: no spread, so the limit of t is ±∞ (p = 0) or 0/0 (taken as 0, p = 1).
      tStatistic = summary.mean == 0 ? 0 : (summary.mean > 0 ? .infinity : -.infinity)
      tTestPValue = summary.mean == 0 ? 1 : 0
    }

    let wilcoxon = Self.wilcoxon(differences)
    (wilcoxonStatistic, wilcoxonPValue, wilcoxonMethod) = wilcoxon
  }

  /// Compares integer metrics (e.g. epochs) of two configurations.
  public init(baseline: [Int], candidate: [Int]) throws(MetricsError) {
    try self.init(baseline: baseline.map(Double.init), candidate: candidate.map(Double.init))
  }

  /// The Wilcoxon signed-rank statistic, two-sided p-value and method for `differences`.
  private static func wilcoxon(
    _ differences: [Double]
  ) -> (statistic: Double, p: Double, method: WilcoxonMethod) {
    let nonzero = differences.filter { $0 != 0 }
    let m = nonzero.count
    guard m > 0 else { return (0, 1, .exact) }

    // Average ranks of |d|, doubled so that they are integers (a tie's average is k or k + ½).
    let order = nonzero.indices.sorted { abs(nonzero[$0]) < abs(nonzero[$1]) }
    var doubledRank = Array(repeating: 0, count: m)
    var tieSizes: [Int] = []
    var start = 0
    while start < m {
      var end = start + 1
      while end < m, abs(nonzero[order[end]]) == abs(nonzero[order[start]]) { end += 1 }
      // Ranks start + 1 … end share their mean (start + 1 + end) / 2, doubled: start + 1 + end.
      for k in start..<end { doubledRank[order[k]] = start + 1 + end }
      tieSizes.append(end - start)
      start = end
    }
    let doubledPlus = nonzero.indices.reduce(0) { $0 + (nonzero[$1] > 0 ? doubledRank[$1] : 0) }
    let doubledTotal = m * (m + 1)
    let plus = Double(doubledPlus) / 2
    let statistic = min(plus, Double(doubledTotal - doubledPlus) / 2)

    let hasTies = tieSizes.contains { $0 > 1 }
    let exact = (!hasTies && m == differences.count && m <= 50) || differences.count <= 13
    if exact {
      // counts[s] = number of sign assignments whose doubled W+ is s. Counts stay below 2^50,
      // exact in Double.
      var counts = Array(repeating: 0.0, count: doubledTotal + 1)
      counts[0] = 1
      var reach = 0
      for rank in doubledRank {
        for s in stride(from: reach, through: 0, by: -1) where counts[s] != 0 {
          counts[s + rank] += counts[s]
        }
        reach += rank
      }
      let all = counts.reduce(0, +)
      let atMost = counts[0...doubledPlus].reduce(0, +) / all
      let atLeast = counts[doubledPlus...].reduce(0, +) / all
      return (statistic, min(1, 2 * min(atMost, atLeast)), .exact)
    }

    let n = Double(m)
    let mean = n * (n + 1) / 4
    let tieCorrection = tieSizes.reduce(0.0) { $0 + Double($1 * $1 * $1 - $1) }
    let sd = ((n * (n + 1) * (2 * n + 1) - tieCorrection / 2) / 24).squareRoot()
    let z = (plus - mean) / sd
    let p = min(1, 2 * SpecialFunctions.normalCDF(-abs(z)))
    return (statistic, p, .normalApproximation)
  }
}
