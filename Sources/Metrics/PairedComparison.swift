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
  /// The paired t statistic; ±∞ when every difference is the same nonzero value (or the same to
  /// rounding: a standard deviation at most 1e-12 of the mean), 0 when all are 0.
  public var tStatistic: Double
  /// The two-sided p-value of the paired t-test with `count − 1` degrees of freedom.
  public var tTestPValue: Double
  /// `min(W+, W−)`, the smaller sum of signed ranks (scipy's reported statistic).
  public var wilcoxonStatistic: Double
  /// The two-sided p-value of the Wilcoxon signed-rank test; 1 when every difference is 0.
  public var wilcoxonPValue: Double
  /// Whether ``wilcoxonPValue`` is exact or approximate.
  public var wilcoxonMethod: WilcoxonMethod
  /// The one-sided Wilcoxon p-value for "the candidate scores higher": `P(W+ ≥ observed W+)`
  /// (scipy's `wilcoxon(candidate, baseline, alternative="greater")`).
  public var wilcoxonGreaterPValue: Double
  /// The one-sided Wilcoxon p-value for "the candidate scores lower": `P(W+ ≤ observed W+)`.
  public var wilcoxonLessPValue: Double
  /// The smallest one-sided Wilcoxon p-value these pairs could give whatever their signs: every
  /// nonzero difference on the same side. Exactly `1 / 2^m` for `m` nonzero differences when
  /// exact (0.125 for three pairs), so with fewer than five pairs the test can never reach 0.05.
  public var wilcoxonSmallestOneSidedPValue: Double

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

    if summary.standardDeviation > Self.roundingSpread * abs(summary.mean) {
      tStatistic = summary.mean / (summary.standardDeviation / Double(count).squareRoot())
      tTestPValue = SpecialFunctions.studentTTwoSidedTail(
        abs(tStatistic), degreesOfFreedom: Double(count - 1))
    } else {
      // Identical differences: no spread, so the limit of t is ±∞ (p = 0) or 0/0 (taken as 0, p = 1).
      tStatistic = summary.mean == 0 ? 0 : (summary.mean > 0 ? .infinity : -.infinity)
      tTestPValue = summary.mean == 0 ? 1 : 0
    }

    let wilcoxon = Self.wilcoxon(differences)
    wilcoxonStatistic = wilcoxon.statistic
    wilcoxonPValue = wilcoxon.p
    wilcoxonMethod = wilcoxon.method
    wilcoxonGreaterPValue = wilcoxon.greater
    wilcoxonLessPValue = wilcoxon.less
    wilcoxonSmallestOneSidedPValue = wilcoxon.smallest
  }

  /// Compares integer metrics (e.g. epochs) of two configurations.
  public init(baseline: [Int], candidate: [Int]) throws(MetricsError) {
    try self.init(baseline: baseline.map(Double.init), candidate: candidate.map(Double.init))
  }

  /// The Wilcoxon signed-rank statistic, two-sided p-value and method for `differences`.
  private static func wilcoxon(
    _ differences: [Double]
  ) -> (
    statistic: Double, p: Double, method: WilcoxonMethod, greater: Double, less: Double,
    smallest: Double
  ) {
    let nonzero = differences.filter { $0 != 0 }
    let m = nonzero.count
    guard m > 0 else { return (0, 1, .exact, 1, 1, 1) }

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
      // Only the all-positive assignment reaches the largest W+: 1 of the 2^m.
      return (
        statistic, min(1, 2 * min(atMost, atLeast)), .exact, atLeast, atMost,
        counts[doubledTotal] / all
      )
    }

    let n = Double(m)
    let mean = n * (n + 1) / 4
    let tieCorrection = tieSizes.reduce(0.0) { $0 + Double($1 * $1 * $1 - $1) }
    let sd = ((n * (n + 1) * (2 * n + 1) - tieCorrection / 2) / 24).squareRoot()
    let z = (plus - mean) / sd
    let p = min(1, 2 * SpecialFunctions.normalCDF(-abs(z)))
    let largest = (Double(doubledTotal) / 2 - mean) / sd
    return (
      statistic, p, .normalApproximation, SpecialFunctions.normalCDF(-z),
      SpecialFunctions.normalCDF(z), SpecialFunctions.normalCDF(-largest)
    )
  }
}

extension PairedComparison {
  /// The alternative hypothesis of a test: which difference it looks for.
  public enum Alternative: String, Sendable, Equatable, Codable, CaseIterable {
    /// Any difference, in either direction.
    case twoSided = "two-sided"
    /// The candidate scores higher than the baseline (a claim "candidate beats baseline").
    case greater
    /// The candidate scores lower than the baseline.
    case less
  }

  /// The paired t-test's p-value against `alternative` (scipy's `ttest_rel(candidate, baseline,
  /// alternative=…)`), with `count − 1` degrees of freedom.
  ///
  /// One-sided p-values are half the two-sided one on the side the mean difference points to,
  /// and one minus that half on the other side. When every difference is the same value the
  /// limits of ``tStatistic`` apply: ±∞ gives 0 or 1, and all-zero differences give 0.5
  /// one-sided (1 two-sided).
  public func tTestPValue(_ alternative: Alternative) -> Double {
    let half: Double
    if tStatistic.isInfinite {
      half = 0
    } else {
      half =
        SpecialFunctions.studentTTwoSidedTail(
          abs(tStatistic), degreesOfFreedom: Double(count - 1)) / 2
    }
    switch alternative {
    case .twoSided: return tTestPValue
    case .greater: return tStatistic >= 0 ? (tStatistic == 0 ? 0.5 : half) : 1 - half
    case .less: return tStatistic <= 0 ? (tStatistic == 0 ? 0.5 : half) : 1 - half
    }
  }

  /// The Wilcoxon signed-rank test's p-value against `alternative`.
  public func wilcoxonPValue(_ alternative: Alternative) -> Double {
    switch alternative {
    case .twoSided: wilcoxonPValue
    case .greater: wilcoxonGreaterPValue
    case .less: wilcoxonLessPValue
    }
  }

  /// The smallest p-value the Wilcoxon test can give with these pairs against `alternative`,
  /// whatever their signs: ``wilcoxonSmallestOneSidedPValue``, doubled for two sides.
  public func smallestWilcoxonPValue(_ alternative: Alternative) -> Double {
    alternative == .twoSided
      ? min(1, 2 * wilcoxonSmallestOneSidedPValue) : wilcoxonSmallestOneSidedPValue
  }

  /// The `level` (e.g. 0.95) confidence interval of ``meanDifference`` from Student's t:
  /// `mean ± t_{(1 + level) / 2, n − 1} · sd / √n`, two-sided (scipy's
  /// `ttest_rel(candidate, baseline).confidence_interval(level)`). A single point when every
  /// difference is the same.
  public func meanDifferenceConfidenceInterval(level: Double = 0.95) -> ClosedRange<Double> {
    precondition(level > 0 && level < 1, "confidence level \(level) must be in (0, 1)")
    let quantile = SpecialFunctions.studentTQuantile(
      (1 + level) / 2, degreesOfFreedom: Double(count - 1))
    let spread = hasSpread ? differenceStandardDeviation : 0
    let halfWidth = quantile * spread / Double(count).squareRoot()
    return (meanDifference - halfWidth)...(meanDifference + halfWidth)
  }

  /// Cohen's d_z, the standardized mean difference of paired values: ``meanDifference`` divided
  /// by ``differenceStandardDeviation``; `nil` when the differences do not vary (0 / 0 or ±∞),
  /// counting differences that agree to rounding as not varying (see ``tStatistic``).
  public var standardizedEffect: Double? {
    hasSpread ? meanDifference / differenceStandardDeviation : nil
  }

  /// Differences whose standard deviation is at most this fraction of their mean agree to
  /// rounding (0.7 − 0.6 and 0.45 − 0.35 differ in the 17th digit): they count as identical, so
  /// that rounding noise never makes an infinite-looking effect finite and huge.
  static let roundingSpread = 1e-12

  /// Whether the differences vary by more than rounding.
  var hasSpread: Bool { differenceStandardDeviation > Self.roundingSpread * abs(meanDifference) }

  /// The smallest |d_z| (see ``standardizedEffect``) with which a paired t-test on `pairs` pairs
  /// reaches `p < significance` against `alternative`: `t_{1 − a, n − 1} / √n` with `a` the
  /// significance (halved for two sides). Any smaller effect, however consistent its sign, is not
  /// significant with this many pairs. `nil` for fewer than two pairs, which a t-test cannot use.
  ///
  /// With three pairs a one-sided test at 0.05 needs d_z ≥ 1.686, with ten 0.580.
  public static func smallestSignificantEffect(
    pairs: Int, significance: Double = 0.05, alternative: Alternative = .greater
  ) -> Double? {
    guard pairs >= 2 else { return nil }
    precondition(
      significance > 0 && significance < 1, "significance \(significance) must be in (0, 1)")
    let tail = alternative == .twoSided ? significance / 2 : significance
    let quantile = SpecialFunctions.studentTQuantile(
      1 - tail, degreesOfFreedom: Double(pairs - 1))
    return quantile / Double(pairs).squareRoot()
  }
}

/// Corrections of p-values for testing several hypotheses at once.
public enum MultipleComparisons {
  /// Holm's step-down adjusted p-values, in the order given: with the `m` p-values sorted
  /// ascending, the `i`-th (from 1) becomes `min(1, max over j ≤ i of (m − j + 1) · p_(j))`.
  /// Rejecting the hypotheses whose adjusted p-value is below α keeps the family-wise error rate
  /// at α, whatever the dependence between the tests.
  ///
  /// - Precondition: every p-value is in [0, 1].
  public static func holm(_ pValues: [Double]) -> [Double] {
    precondition(
      pValues.allSatisfy { (0...1).contains($0) }, "Holm: p-values must be in [0, 1]: \(pValues)")
    let m = pValues.count
    let order = pValues.indices.sorted { (pValues[$0], $0) < (pValues[$1], $1) }
    var adjusted = Array(repeating: 0.0, count: m)
    var running = 0.0
    for (rank, index) in order.enumerated() {
      running = max(running, min(1, Double(m - rank) * pValues[index]))
      adjusted[index] = running
    }
    return adjusted
  }
}
