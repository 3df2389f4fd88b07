import Foundation
import Metrics
import Study
import Testing

/// Three seeds of every student configuration, with accuracies chosen so that two claims hold
/// with significance, two do not, and one is a near tie.
enum ClaimFixture {
  static let accuracy: [String: [Double]] = [
    "LM": [0.880, 0.890, 0.885],
    "RB-KD": [0.900, 0.905, 0.903],
    "LM-Att": [0.884, 0.889, 0.893],
    "RB-KD-Att": [0.890, 0.887, 0.899],
    "RAB-KD": [0.910, 0.915, 0.918],
    "MM": [0.912, 0.917, 0.913],
  ]

  static func results(seeds: Int = 3) throws -> StudyResults {
    let flops = ["MM": 1_680_000, "LM": 512_384, "RB-KD": 512_384]
    var runs: [RunResult] = []
    for name in ["MM", "LM", "RB-KD", "LM-Att", "RB-KD-Att", "RAB-KD"] {
      for seed in 0..<seeds {
        let value = accuracy[name]![seed]
        runs.append(
          RunResult(
            configuration: name, seed: seed, accuracy: value, macroF1: value - 0.005,
            weightedF1: value, parameters: 4_052, flops: flops[name] ?? 516_224,
            sizeBytes: 16_208, epochs: 20, trainSeconds: 1))
      }
    }
    return try StudyResults(dataset: "synthetic", family: "cnn", runs: runs)
  }
}

// Expected values from scipy 1.17.1 and NumPy (python3), for each claim's (baseline, candidate):
//
//   B, C = np.array(accuracy[baseline]), np.array(accuracy[candidate]); d = C - B
//   stats.ttest_rel(C, B, alternative="greater").pvalue
//   stats.ttest_rel(C, B).confidence_interval(0.95)
//   d.mean() / d.std(ddof=1)
//   stats.wilcoxon(C, B, alternative="greater").pvalue
//
// Holm by hand over the five p-values: sorted, RAB-KD > LM-Att 8.43e-5 · 5 = 4.215e-4,
// RB-KD > LM 0.003348 · 4 = 0.01339, LM-Att > LM 0.1472 · 3 = 0.4415, RB-KD-Att > LM-Att
// 0.1689 · 2 = 0.3377 (raised to 0.4415 by the running maximum), RAB-KD > MM 0.4497 · 1.
@Suite("The study's claims")
struct ClaimTests {
  struct Expected {
    let candidate: String
    let baseline: String
    let mean: Double
    let p: Double
    let interval: [Double]
    let dz: Double
    let wilcoxon: Double
    let holm: Double
    let verdict: String
  }

  static let expected: [Expected] = [
    .init(
      candidate: "RB-KD", baseline: "LM", mean: 0.01766666666666668, p: 0.0033480552767353026,
      interval: [0.0114150571872909, 0.02391827614604246], dz: 7.020021492444732,
      wilcoxon: 0.125, holm: 0.01339222110694121, verdict: "supported"),
    .init(
      candidate: "LM-Att", baseline: "LM", mean: 0.00366666666666667, p: 0.1471748354952287,
      interval: [-0.007534930696021546, 0.014868264029354887], dz: 0.8131433980500301,
      wilcoxon: 0.25, holm: 0.4415245064856861, verdict: "not significant"),
    .init(
      candidate: "RB-KD-Att", baseline: "LM-Att", mean: 0.003333333333333336,
      p: 0.16886691073373905, interval: [-0.008140407279331905, 0.014807073945998577],
      dz: 0.7216878364870323, wilcoxon: 0.25, holm: 0.4415245064856861,
      verdict: "not significant"),
    .init(
      candidate: "RAB-KD", baseline: "LM-Att", mean: 0.02566666666666669,
      p: 8.430992387730908e-05, interval: [0.024232449090083534, 0.027100884243249843],
      dz: 44.455970727601176, wilcoxon: 0.125, holm: 0.00042154961938654543,
      verdict: "supported"),
    .init(
      candidate: "RAB-KD", baseline: "MM", mean: 0.00033333333333333365, p: 0.4497481092370394,
      interval: [-0.009706189702748754, 0.01037285636941542], dz: 0.08247860988423227,
      wilcoxon: 0.625, holm: 0.4497481092370394, verdict: "not significant"),
  ]

  @Test func claimsCarryOneSidedTestsIntervalsEffectsAndHolmMatchingScipy() throws {
    let claims = StudySummary.checkClaims(try ClaimFixture.results())
    #expect(claims.count == 5)
    for (claim, wanted) in zip(claims, Self.expected) {
      #expect(claim.candidate == wanted.candidate && claim.baseline == wanted.baseline)
      #expect(claim.verdict == wanted.verdict, "\(claim.line)")
      let statistics = try #require(claim.statistics)
      #expect(statistics.alternative == "greater" && statistics.metric == "accuracy")
      #expect(statistics.pairs == 3)
      #expect(close(statistics.meanDifference, wanted.mean, tolerance: 1e-9))
      #expect(close(statistics.macroF1MeanDifference, wanted.mean, tolerance: 1e-9))
      let interval = try #require(statistics.confidenceInterval)
      #expect(close(interval[0], wanted.interval[0], tolerance: 1e-8))
      #expect(close(interval[1], wanted.interval[1], tolerance: 1e-8))
      // d_z divides two rounding-sensitive numbers: the tie of RAB-KD > LM-Att is 44 ± 1e-8.
      #expect(close(statistics.standardizedEffect ?? .nan, wanted.dz, tolerance: 1e-8))
      let t = try #require(statistics.tTest)
      #expect(close(t.pValue, wanted.p, tolerance: 1e-8), "\(claim.claim): p \(t.pValue)")
      #expect(close(t.holmPValue ?? .nan, wanted.holm, tolerance: 1e-8))
      #expect(t.canReachSignificance)
      // stats.t.ppf(0.95, 2) / √3
      #expect(close(t.smallestSignificantEffect ?? .nan, 1.6858544608470485, tolerance: 1e-10))
      let w = try #require(statistics.wilcoxon)
      #expect(w.pValue == wanted.wilcoxon)
      #expect(w.smallestPossiblePValue == 0.125 && !w.canReachSignificance)
      #expect(w.name == "Wilcoxon signed-rank (exact)")
    }
  }

  @Test func theLineSaysWhatATestCannotReach() throws {
    let claims = StudySummary.checkClaims(try ClaimFixture.results())
    #expect(
      claims[0].line
        == "- distillation beats LM (RB-KD > LM): supported — accuracy +1.77 pp (95% CI +1.14 to "
        + "+2.39 pp), d_z +7.02, macro-F1 +1.77 pp; one-sided paired t-test p = 0.003, Holm p = "
        + "0.013 (p < 0.05 needs d_z ≥ 1.69 with 3 pairs); Wilcoxon cannot reach p < 0.05 with 3 "
        + "pairs (smallest one-sided p = 0.125); 3 seeds")
    #expect(claims[4].line.hasSuffix("3 seeds, RAB-KD uses 31% of MM's FLOPs"))
    #expect(!claims.contains { $0.line.contains("Wilcoxon p =") })
  }

  @Test func oneSeedIsNotTestedAndLeavesTheHolmFamily() throws {
    let one = StudySummary.checkClaims(try ClaimFixture.results(seeds: 1))
    #expect(one.allSatisfy { $0.statistics?.tTest == nil })
    #expect(one[0].verdict == "better, but one seed cannot test it")
    #expect(one[0].evidence.contains("a paired test needs 2 seeds, 1 seed"))
    // RAB-KD 0.910 against MM 0.912 on seed 0: not better.
    #expect(one[4].verdict == "not supported")
  }

  @Test func fiveSeedsLetTheWilcoxonTestSpeak() throws {
    // Five seeds, every one in favour of RB-KD: the exact one-sided p is 1/32.
    var runs: [RunResult] = []
    for seed in 0..<5 {
      for (name, value) in [("LM", 0.88), ("RB-KD", 0.89 + 0.001 * Double(seed))] {
        runs.append(
          RunResult(
            configuration: name, seed: seed, accuracy: value, macroF1: value, weightedF1: value,
            parameters: 3_526, flops: 512_384, sizeBytes: 14_104, epochs: 20, trainSeconds: 1))
      }
    }
    let claims = StudySummary.checkClaims(
      try StudyResults(dataset: "synthetic", family: "cnn", runs: runs))
    let distillation = claims[0]
    let w = try #require(distillation.statistics?.wilcoxon)
    #expect(w.pValue == 0.03125 && w.canReachSignificance && w.smallestPossiblePValue == 0.03125)
    #expect(distillation.line.contains("; one-sided Wilcoxon p = 0.031; 5 seeds"))
    // The only claim tested: Holm leaves its p-value as it is.
    #expect(distillation.statistics?.tTest?.holmPValue == distillation.statistics?.tTest?.pValue)
    #expect(claims[1].verdict == "not checked" && claims[1].evidence == "LM-Att not run")
  }

  @Test func resultsJSONCarriesTheClaimsAndTheProtocol() throws {
    var results = try ClaimFixture.results()
    results.claims = StudySummary.checkClaims(results)
    results.studyProtocol = StudyProtocol(
      subjects: SplitParts(train: [1, 3, 5], validation: [7], test: [2, 4]),
      windows: SplitParts(train: 600, validation: 120, test: 300), threads: [2, 1, 2], shards: 2)
    let data = try results.jsonData()
    #expect(try StudyResults(jsonData: data) == results)
    let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let record = try #require(object["protocol"] as? [String: Any])
    #expect(record["packageVersion"] as? String == RunFingerprint.packageVersion)
    #expect(record["threads"] as? [Int] == [1, 2])
    let subjects = try #require(record["subjects"] as? [String: [Int]])
    #expect(subjects == ["train": [1, 3, 5], "validation": [7], "test": [2, 4]])
    #expect(record["windows"] as? [String: Int] == ["train": 600, "validation": 120, "test": 300])
    let claims = try #require(object["claims"] as? [[String: Any]])
    #expect(claims.count == 5)
    let t = try #require((claims[0]["statistics"] as? [String: Any])?["tTest"] as? [String: Any])
    #expect(Set(t.keys).isSuperset(of: ["pValue", "holmPValue", "canReachSignificance"]))
    // A claim entry names no "configuration": CI counts those keys to check the runs.
    #expect(claims.allSatisfy { $0["configuration"] == nil })
  }
}
