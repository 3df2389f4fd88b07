import Metrics
import Testing

// Expected values from scipy 1.17.1 and NumPy (python3), for the cases of PairedCase:
//
//   from scipy import stats
//   import numpy as np
//   for p, df in [(0.975, 1), (0.975, 2), (0.975, 4), (0.975, 9), (0.975, 29), (0.95, 2),
//                 (0.95, 1), (0.05, 3), (0.999, 5), (0.5, 7)]:
//       print(p, df, stats.t.ppf(p, df))
//   for name, (b, c) in cases.items():
//       d = np.array(c) - np.array(b)
//       print(name, stats.ttest_rel(c, b, alternative="greater").pvalue,
//             stats.ttest_rel(c, b, alternative="less").pvalue,
//             stats.ttest_rel(c, b).confidence_interval(0.95), d.mean() / d.std(ddof=1),
//             stats.wilcoxon(c, b, alternative="greater").pvalue,
//             stats.wilcoxon(c, b, alternative="less").pvalue)
//   for n in [2, 3, 5, 10]:
//       print(n, stats.t.ppf(0.95, n - 1) / np.sqrt(n), stats.t.ppf(0.975, n - 1) / np.sqrt(n))

/// One scipy reference case of the directional statistics.
struct DirectionalCase: Sendable, CustomTestStringConvertible {
  let name: String
  let tGreater: Double
  let tLess: Double
  let interval: ClosedRange<Double>
  let dz: Double
  let wGreater: Double
  let wLess: Double
  /// 1 / 2^m for the m nonzero differences (exact cases only).
  let smallestOneSided: Double?
  var testDescription: String { name }

  static let all: [DirectionalCase] = [
    .init(
      name: "five seeds", tGreater: 0.005705285834933444, tLess: 0.9942947141650665,
      interval: 0.006722026668504813...0.02927797333149513, dz: 1.9817347772274534,
      wGreater: 0.03125, wLess: 1, smallestOneSided: 1.0 / 32),
    .init(
      name: "three seeds, mixed", tGreater: 0.45623118904675913, tLess: 0.5437688109532408,
      interval: -0.022414880828201075...0.023748214161534408, dz: 0.07174960033341753,
      wGreater: 0.625, wLess: 0.625, smallestOneSided: 1.0 / 8),
    .init(
      name: "ties and a zero", tGreater: 0.06759687440881208, tLess: 0.9324031255911879,
      interval: -0.32543429166719595...1.950434291667196, dz: 0.5969298963905387,
      wGreater: 0.0859375, wLess: 0.9453125, smallestOneSided: 1.0 / 128),
    .init(
      name: "sixty, ties", tGreater: 0.004331207526550058, tLess: 0.99566879247345,
      interval: 0.13158688888001652...0.8684131111199835, dz: 0.35059473279937714,
      wGreater: 0.007180603713598361, wLess: 0.9928193962864016, smallestOneSided: nil),
  ]
}

@Suite("Directional paired statistics match scipy")
struct DirectionalStatisticsTests {
  @Test func studentTQuantileMatchesScipy() {
    let cases: [(p: Double, df: Double, expected: Double)] = [
      (0.975, 1, 12.706204736174694), (0.975, 2, 4.302652729749462),
      (0.975, 4, 2.7764451051977934), (0.975, 9, 2.262157162798205),
      (0.975, 29, 2.045229642132703), (0.95, 2, 2.9199855803537242),
      (0.95, 1, 6.313751514675037), (0.05, 3, -2.353363434801824),
      (0.999, 5, 5.893429531356009), (0.5, 7, 0),
    ]
    for c in cases {
      let value = SpecialFunctions.studentTQuantile(c.p, degreesOfFreedom: c.df)
      #expect(close(value, c.expected, tolerance: 1e-10), "ppf(\(c.p), \(c.df)) = \(value)")
    }
  }

  @Test(arguments: DirectionalCase.all)
  func oneSidedTestsIntervalAndEffectMatchScipy(_ reference: DirectionalCase) throws {
    let source = try #require(PairedCase.all.first { $0.name == reference.name })
    let comparison = try PairedComparison(baseline: source.baseline, candidate: source.candidate)
    #expect(close(comparison.tTestPValue(.greater), reference.tGreater, tolerance: 1e-9))
    #expect(close(comparison.tTestPValue(.less), reference.tLess, tolerance: 1e-9))
    #expect(comparison.tTestPValue(.twoSided) == comparison.tTestPValue)
    let interval = comparison.meanDifferenceConfidenceInterval(level: 0.95)
    #expect(close(interval.lowerBound, reference.interval.lowerBound, tolerance: 1e-9))
    #expect(close(interval.upperBound, reference.interval.upperBound, tolerance: 1e-9))
    let dz = try #require(comparison.standardizedEffect)
    #expect(close(dz, reference.dz, tolerance: 1e-9))
    #expect(close(comparison.wilcoxonPValue(.greater), reference.wGreater, tolerance: 1e-9))
    #expect(close(comparison.wilcoxonPValue(.less), reference.wLess, tolerance: 1e-9))
    if let smallest = reference.smallestOneSided {
      #expect(comparison.smallestWilcoxonPValue(.greater) == smallest)
      #expect(comparison.smallestWilcoxonPValue(.twoSided) == min(1, 2 * smallest))
    }
  }

  @Test func threePairsCannotReachSignificanceWithWilcoxon() throws {
    // Three pairs, all in favour of the candidate: the most extreme outcome there is.
    let comparison = try PairedComparison(baseline: [1, 2, 3], candidate: [2, 4, 6])
    #expect(comparison.wilcoxonPValue(.greater) == 0.125)
    #expect(comparison.smallestWilcoxonPValue(.greater) == 0.125)
    #expect(comparison.smallestWilcoxonPValue(.twoSided) == 0.25)
  }

  @Test func identicalDifferencesHaveNoStandardizedEffect() throws {
    let shifted = try PairedComparison(baseline: [1, 2, 3], candidate: [2, 3, 4])
    #expect(shifted.standardizedEffect == nil)
    #expect(shifted.tTestPValue(.greater) == 0 && shifted.tTestPValue(.less) == 1)
    #expect(shifted.meanDifferenceConfidenceInterval() == 1...1)
    // 0.8 − 0.7 and 0.45 − 0.35 are 0.10000000000000009 and 0.10000000000000003 in doubles:
    // the same difference but for rounding, not an effect of d_z ≈ 2e15.
    let rounded = try PairedComparison(baseline: [0.7, 0.35], candidate: [0.8, 0.45])
    #expect(rounded.differenceStandardDeviation > 0)
    #expect(rounded.standardizedEffect == nil && rounded.tStatistic == .infinity)
    #expect(rounded.tTestPValue(.greater) == 0)
    let interval = rounded.meanDifferenceConfidenceInterval()
    #expect(interval.lowerBound == interval.upperBound)
    let same = try PairedComparison(baseline: [1, 2, 3], candidate: [1, 2, 3])
    #expect(same.tTestPValue(.greater) == 0.5 && same.tTestPValue(.less) == 0.5)
  }

  @Test func smallestSignificantEffectMatchesScipy() {
    // stats.t.ppf(0.95, n − 1) / √n (one-sided) and stats.t.ppf(0.975, n − 1) / √n.
    let cases: [(n: Int, greater: Double, twoSided: Double)] = [
      (2, 4.464496510753554, 8.984643532093752), (3, 1.6858544608470485, 2.4841377117503303),
      (5, 0.9533908663681714, 1.241663998203764), (10, 0.579681207550456, 0.7153569059706647),
    ]
    for c in cases {
      let greater = PairedComparison.smallestSignificantEffect(pairs: c.n)
      let twoSided = PairedComparison.smallestSignificantEffect(
        pairs: c.n, alternative: .twoSided)
      #expect(close(greater ?? .nan, c.greater, tolerance: 1e-10), "n = \(c.n)")
      #expect(close(twoSided ?? .nan, c.twoSided, tolerance: 1e-10), "n = \(c.n)")
    }
    #expect(PairedComparison.smallestSignificantEffect(pairs: 1) == nil)
  }

  // By hand: sorted 0.01, 0.03, 0.04, 0.2 times 4, 3, 2, 1 are 0.04, 0.09, 0.08, 0.2; the running
  // maximum makes the third 0.09. For [0.5, 0.3]: 2 · 0.3 = 0.6, then max(0.6, 0.5) = 0.6.
  @Test func holmAdjustsStepDown() {
    let adjusted = MultipleComparisons.holm([0.01, 0.04, 0.03, 0.2])
    let expected = [0.04, 0.09, 0.09, 0.2]
    for (value, wanted) in zip(adjusted, expected) { #expect(close(value, wanted)) }
    #expect(MultipleComparisons.holm([0.5, 0.3]) == [0.6, 0.6])
    #expect(MultipleComparisons.holm([0.02]) == [0.02])
    #expect(MultipleComparisons.holm([0.4, 0.6, 0.9]) == [1, 1, 1])
    #expect(MultipleComparisons.holm([]).isEmpty)
  }
}
