import Metrics
import Testing

// Expected values from scipy 1.17.1 and NumPy (python3):
//
//   from scipy import special, stats
//   for a, b, x in [(0.5, 0.5, 0.3), (2, 3, 0.4), (5, 0.5, 0.9), (0.5, 5, 0.01),
//                   (50, 60, 0.45), (1, 1, 0.7), (2.5, 0.5, 0.999)]:
//       print(x, a, b, special.betainc(a, b, x))
//   for t, df in [(0.0, 3), (1.0, 1), (-2.5, 4), (2.0, 9), (3.5, 2), (-0.7, 29), (10.0, 5),
//                 (1.96, 1000), (-40.0, 3)]:
//       print(t, df, stats.t.cdf(t, df), 2 * stats.t.sf(abs(t), df))
//   cases = {
//     "five seeds": ([0.81, 0.83, 0.80, 0.845, 0.825], [0.84, 0.85, 0.82, 0.86, 0.83]),
//     "three seeds, mixed": ([0.9, 0.91, 0.89], [0.905, 0.9, 0.897]),
//     "ties and a zero": ([1, 2, 3, 4, 5, 6, 7, 8], [2, 3, 3, 2, 7, 8, 9, 8.5]),
//     "twenty seeds, ties": ([0.80 + 0.01 * ((7 * i) % 11) for i in range(20)],
//                      [0.80 + 0.01 * ((7 * i) % 11) + 0.003 * ((5 * i) % 7 - 2) + 0.0001 * i
//                       for i in range(20)]),
//     "twenty seeds, distinct": ([0.8 + 0.001 * ((13 * i) % 17) for i in range(20)],
//         [0.8 + 0.001 * ((13 * i) % 17) + 0.0007 * (i + 1) * (1 if i % 3 else -1)
//          + 0.00001 * i * i for i in range(20)]),
//     "sixty, ties": ([float(i % 9) for i in range(60)],
//                     [float(i % 9 + (i % 5) - 1.5) for i in range(60)]),
//   }
//   for name, (b, c) in cases.items():
//       t = stats.ttest_rel(c, b); w = stats.wilcoxon(c, b)
//       print(name, t.statistic, t.pvalue, w.statistic, w.pvalue)

@Suite("Special functions match scipy")
struct SpecialFunctionTests {
  static let betaCases: [(x: Double, a: Double, b: Double, expected: Double)] = [
    (0.3, 0.5, 0.5, 0.36901011956554536),
    (0.4, 2, 3, 0.5247999999999999),
    (0.9, 5, 0.5, 0.3166429150200122),
    (0.01, 0.5, 5, 0.24284189089843747),
    (0.45, 50, 60, 0.4642352914306031),
    (0.7, 1, 1, 0.7),
    (0.999, 2.5, 0.5, 0.9463423453081866),
  ]

  static let tCases: [(t: Double, df: Double, cdf: Double, twoSided: Double)] = [
    (0.0, 3, 0.5, 1.0),
    (1.0, 1, 0.75, 0.5000000000000001),
    (-2.5, 4, 0.03338327240599407, 0.06676654481198814),
    (2.0, 9, 0.9617235881146495, 0.07655282377070101),
    (3.5, 2, 0.9635863249727653, 0.07282735005446933),
    (-0.7, 29, 0.24475257430724187, 0.48950514861448374),
    (10.0, 5, 0.9999145262121285, 0.00017094757574296363),
    (1.96, 1000, 0.9748634075221256, 0.050273184955748736),
    (-40.0, 3, 1.7190340394579253e-05, 3.4380680789158506e-05),
  ]

  @Test func incompleteBetaMatchesScipy() {
    for c in Self.betaCases {
      let value = SpecialFunctions.regularizedIncompleteBeta(c.x, a: c.a, b: c.b)
      #expect(close(value, c.expected, tolerance: 1e-12), "I_\(c.x)(\(c.a), \(c.b)) = \(value)")
    }
    #expect(SpecialFunctions.regularizedIncompleteBeta(0, a: 2, b: 3) == 0)
    #expect(SpecialFunctions.regularizedIncompleteBeta(1, a: 2, b: 3) == 1)
  }

  @Test func studentTMatchesScipy() {
    for c in Self.tCases {
      let cdf = SpecialFunctions.studentTCDF(c.t, degreesOfFreedom: c.df)
      let tail = SpecialFunctions.studentTTwoSidedTail(abs(c.t), degreesOfFreedom: c.df)
      // Relative tolerance on the smaller of P and 1 − P keeps small tails honest.
      #expect(close(cdf, c.cdf, tolerance: 1e-11), "t = \(c.t), ν = \(c.df): cdf \(cdf)")
      #expect(close(tail, c.twoSided, tolerance: 1e-11), "t = \(c.t), ν = \(c.df): p \(tail)")
    }
    #expect(SpecialFunctions.studentTCDF(.infinity, degreesOfFreedom: 3) == 1)
    #expect(SpecialFunctions.studentTCDF(-.infinity, degreesOfFreedom: 3) == 0)
  }

  @Test func normalCDFHasKnownValues() {
    #expect(SpecialFunctions.normalCDF(0) == 0.5)
    #expect(close(SpecialFunctions.normalCDF(1.959963984540054), 0.975, tolerance: 1e-14))
  }
}

/// One scipy paired-test reference case.
struct PairedCase: Sendable, CustomTestStringConvertible {
  let name: String
  let baseline: [Double]
  let candidate: [Double]
  let t: Double
  let tPValue: Double
  let w: Double
  let wPValue: Double
  let method: PairedComparison.WilcoxonMethod
  var testDescription: String { name }

  static let all: [PairedCase] = [
    .init(
      name: "five seeds", baseline: [0.81, 0.83, 0.80, 0.845, 0.825],
      candidate: [0.84, 0.85, 0.82, 0.86, 0.83], t: 4.431293675255988,
      tPValue: 0.011410571669866887, w: 0, wPValue: 0.0625, method: .exact),
    .init(
      name: "three seeds, mixed", baseline: [0.9, 0.91, 0.89], candidate: [0.905, 0.9, 0.897],
      t: 0.12427395320024001, tPValue: 0.9124623780935183, w: 3, wPValue: 1, method: .exact),
    .init(
      name: "ties and a zero", baseline: [1, 2, 3, 4, 5, 6, 7, 8],
      candidate: [2, 3, 3, 2, 7, 8, 9, 8.5], t: 1.6883727105229325,
      tPValue: 0.13519374881762417, w: 5.5, wPValue: 0.171875, method: .exact),
    .init(
      name: "twenty seeds, ties",
      baseline: (0..<20).map { 0.80 + 0.01 * Double((7 * $0) % 11) },
      candidate: (0..<20).map { i in
        let base = 0.80 + 0.01 * Double((7 * i) % 11)
        return base + 0.003 * Double((5 * i) % 7 - 2) + 0.0001 * Double(i)
      },
      t: 2.8763311115249803, tPValue: 0.009668198276572398, w: 41,
      wPValue: 0.016861808741509374, method: .normalApproximation),
    .init(
      name: "twenty seeds, distinct",
      baseline: (0..<20).map { 0.8 + 0.001 * Double((13 * $0) % 17) },
      candidate: (0..<20).map { i in
        let base = 0.8 + 0.001 * Double((13 * i) % 17)
        return base + 0.0007 * Double(i + 1) * (i % 3 != 0 ? 1 : -1) + 0.00001 * Double(i * i)
      },
      t: 1.937473334289472, tPValue: 0.06769709206912865, w: 60,
      wPValue: 0.09730720520019531, method: .exact),
    .init(
      name: "sixty, ties", baseline: (0..<60).map { Double($0 % 9) },
      candidate: (0..<60).map { Double($0 % 9 + $0 % 5) - 1.5 }, t: 2.715695122800054,
      tPValue: 0.008662415053100116, w: 588, wPValue: 0.014361207427196722,
      method: .normalApproximation),
  ]
}

@Suite("Statistics over seeds")
struct StatisticsTests {
  @Test(arguments: PairedCase.all)
  func pairedTestsMatchScipy(_ reference: PairedCase) throws {
    let comparison = try PairedComparison(
      baseline: reference.baseline, candidate: reference.candidate)
    #expect(comparison.count == reference.baseline.count)
    #expect(close(comparison.tStatistic, reference.t, tolerance: 1e-9))
    #expect(close(comparison.tTestPValue, reference.tPValue, tolerance: 1e-9))
    #expect(comparison.wilcoxonStatistic == reference.w)
    #expect(close(comparison.wilcoxonPValue, reference.wPValue, tolerance: 1e-9))
    #expect(comparison.wilcoxonMethod == reference.method)
  }

  @Test func meanDifferenceIsCandidateMinusBaseline() throws {
    let comparison = try PairedComparison(baseline: [0.5, 0.6], candidate: [0.7, 0.9])
    #expect(close(comparison.meanDifference, 0.25))
    #expect(close(comparison.differenceStandardDeviation, 0.07071067811865474))
  }

  @Test func identicalDifferencesHaveLimitingPValues() throws {
    let same = try PairedComparison(baseline: [1, 2, 3], candidate: [1, 2, 3])
    #expect(same.tTestPValue == 1 && same.wilcoxonPValue == 1 && same.tStatistic == 0)
    let shifted = try PairedComparison(baseline: [1, 2, 3], candidate: [2, 3, 4])
    #expect(shifted.tStatistic == .infinity && shifted.tTestPValue == 0)
  }

  @Test func pairedInputErrorsNameTheCounts() {
    #expect(throws: MetricsError.unpairedSamples(baseline: 3, candidate: 2)) {
      try PairedComparison(baseline: [1, 2, 3], candidate: [1, 2])
    }
    #expect(throws: MetricsError.tooFewValues(what: "paired comparison", needed: 2, found: 1)) {
      try PairedComparison(baseline: [1], candidate: [2])
    }
    #expect(throws: MetricsError.invalidNumber(what: "paired value", value: "nan")) {
      try PairedComparison(baseline: [1, .nan], candidate: [2, 3])
    }
  }

  // numpy: np.mean(x), np.std(x, ddof=1) for x = [0.91, 0.93, 0.92, 0.95]
  //   -> 0.9275 0.017078251276599298
  @Test func summaryUsesTheSampleStandardDeviation() throws {
    let summary = try Summary([0.91, 0.93, 0.92, 0.95])
    #expect(summary.count == 4)
    #expect(close(summary.mean, 0.9275))
    #expect(close(summary.standardDeviation, 0.017078251276599298, tolerance: 1e-10))
    #expect(try Summary([3526]).standardDeviation == 0)
  }

  @Test func summaryRejectsEmptyAndNonFiniteInput() {
    #expect(throws: MetricsError.empty(what: "values to summarize")) { try Summary([Double]()) }
    #expect(throws: MetricsError.invalidNumber(what: "summarized value", value: "inf")) {
      try Summary([1, .infinity])
    }
  }
}
