import Foundation
import Metrics

/// One of the study's claims, checked on this run's results.
///
/// A claim is directional — "the candidate beats the baseline" — so it is tested one-sided
/// (alternative: the candidate scores higher), on test accuracy, paired over the seeds both
/// configurations ran. The paired t-test decides, with its p-value Holm-corrected over every claim
/// tested; the Wilcoxon signed-rank test is reported beside it, or, when it cannot reach
/// p < 0.05 with the pairs given (fewer than five), that it cannot.
public struct ClaimCheck: Sendable, Equatable, Codable {
  /// The claim, e.g. "distillation beats LM (RB-KD > LM)".
  public var claim: String
  /// The configuration the claim says is beaten, e.g. `"LM"`.
  public var baseline: String
  /// The configuration the claim says wins, e.g. `"RB-KD"`.
  public var candidate: String
  /// "supported" (better and Holm-corrected p < 0.05), "not significant", "not supported" (not
  /// better), "better, but one seed cannot test it", or "not checked".
  public var verdict: String
  /// The evidence as printed: differences, interval, effect size, p-values, cost ratios.
  public var evidence: String
  /// The numbers behind the evidence; `nil` when the claim could not be checked.
  public var statistics: ClaimStatistics?

  /// A claim with its verdict and evidence.
  public init(
    claim: String, baseline: String, candidate: String, verdict: String, evidence: String,
    statistics: ClaimStatistics? = nil
  ) {
    self.claim = claim
    self.baseline = baseline
    self.candidate = candidate
    self.verdict = verdict
    self.evidence = evidence
    self.statistics = statistics
  }

  /// The line printed for it.
  public var line: String { "- \(claim): \(verdict)\(evidence.isEmpty ? "" : " — \(evidence)")" }
}

/// The numbers behind one claim's verdict, as `results.json` records them. Differences are
/// `candidate − baseline` in [0, 1] units (not percentage points).
public struct ClaimStatistics: Sendable, Equatable, Codable {
  /// The metric tested: `"accuracy"`.
  public var metric: String
  /// The tests' alternative: `"greater"` (one-sided: the candidate scores higher).
  public var alternative: String
  /// The seeds both configurations ran: the pairs.
  public var pairs: Int
  /// The mean paired difference of ``metric``.
  public var meanDifference: Double
  /// The mean paired difference of macro-F1 (not tested; shown beside).
  public var macroF1MeanDifference: Double
  /// The confidence level of ``confidenceInterval``: 0.95.
  public var confidenceLevel: Double
  /// The two-sided t interval of ``meanDifference``, `[lower, upper]`; `nil` for one pair.
  public var confidenceInterval: [Double]?
  /// Cohen's d_z (mean difference / standard deviation of the differences); `nil` for one pair
  /// or differences that do not vary.
  public var standardizedEffect: Double?
  /// The paired t-test, which decides the verdict; `nil` for one pair.
  public var tTest: ClaimTest?
  /// The Wilcoxon signed-rank test; `nil` for one pair.
  public var wilcoxon: ClaimTest?
}

/// One test of a claim.
public struct ClaimTest: Sendable, Equatable, Codable {
  /// The test, e.g. `"paired t-test"` or `"Wilcoxon signed-rank (exact)"`.
  public var name: String
  /// The raw one-sided p-value.
  public var pValue: Double
  /// The p-value Holm-corrected over every claim tested (the t-test only).
  public var holmPValue: Double?
  /// Whether the test can give p < 0.05 at all with these pairs.
  public var canReachSignificance: Bool
  /// The smallest p-value the test can give with these pairs (the Wilcoxon test only: the
  /// t-test can give any).
  public var smallestPossiblePValue: Double?
  /// The smallest d_z with which the test reaches p < 0.05 with these pairs (the t-test only).
  public var smallestSignificantEffect: Double?
}

extension StudySummary {
  /// The significance level of the claims: 0.05, after Holm's correction.
  public static let significance = 0.05

  /// Checks each claim of the study with a one-sided paired comparison over common seeds, on
  /// accuracy, and Holm-corrects the t-tests' p-values over the claims tested (see
  /// ``ClaimCheck``).
  public static func checkClaims(_ results: StudyResults) -> [ClaimCheck] {
    struct Pending {
      var claim: String
      var baseline: String
      var candidate: String
      var extra: String
      var accuracy: [(Double, Double)]
      var macroF1: [(Double, Double)]
      var problem: String?
    }
    func pairs(_ baseline: String, _ candidate: String, _ metric: RunMetric) -> [(Double, Double)] {
      let base = Dictionary(
        results.runs(of: baseline).map { ($0.pairing, $0.value(of: metric)) },
        uniquingKeysWith: { a, _ in a })
      let cand = Dictionary(
        results.runs(of: candidate).map { ($0.pairing, $0.value(of: metric)) },
        uniquingKeysWith: { a, _ in a })
      return Set(base.keys).intersection(cand.keys).sorted { $0.lexicographicallyPrecedes($1) }
        .map { (base[$0]!, cand[$0]!) }
    }
    func pending(_ claim: String, _ baseline: String, _ candidate: String, extra: String = "")
      -> Pending
    {
      let missing = [baseline, candidate].filter { results.runs(of: $0).isEmpty }
      let accuracy = pairs(baseline, candidate, .accuracy)
      var problem: String?
      if !missing.isEmpty {
        problem = "\(missing.joined(separator: ", ")) not run"
      } else if accuracy.isEmpty {
        problem = "\(baseline) and \(candidate) share no seed"
      }
      return Pending(
        claim: claim, baseline: baseline, candidate: candidate, extra: extra,
        accuracy: accuracy, macroF1: pairs(baseline, candidate, .macroF1), problem: problem)
    }
    var claims = [
      pending("distillation beats LM (RB-KD > LM)", "LM", "RB-KD"),
      pending("attention beats LM (LM-Att > LM)", "LM", "LM-Att"),
      pending("RB-KD-Att beats LM-Att", "LM-Att", "RB-KD-Att"),
      pending("RAB-KD beats LM-Att", "LM-Att", "RAB-KD"),
    ]
    let boosted = "the boosted LM beats MM at a fraction of its FLOPs (RAB-KD > MM)"
    if let mm = results.runs(of: "MM").first, let rab = results.runs(of: "RAB-KD").first {
      let ratio = Double(rab.flops) / Double(Swift.max(mm.flops, 1))
      claims.append(
        pending(
          boosted, "MM", "RAB-KD",
          extra: String(format: ", RAB-KD uses %.0f%% of MM's FLOPs", 100 * ratio)))
    } else {
      claims.append(pending(boosted, "MM", "RAB-KD"))
    }

    // The comparisons, then Holm's correction over the claims a t-test can check.
    let comparisons = claims.map { claim -> PairedComparison? in
      guard claim.problem == nil else { return nil }
      return try? PairedComparison(
        baseline: claim.accuracy.map(\.0), candidate: claim.accuracy.map(\.1))
    }
    let tested = comparisons.indices.filter { comparisons[$0] != nil }
    let holm = MultipleComparisons.holm(tested.map { comparisons[$0]!.tTestPValue(.greater) })
    let holmByClaim = Dictionary(uniqueKeysWithValues: zip(tested, holm))
    let crossValidated = results.runs.contains { $0.fold != nil }

    return claims.indices.map { index in
      let claim = claims[index]
      if let problem = claim.problem {
        return ClaimCheck(
          claim: claim.claim, baseline: claim.baseline, candidate: claim.candidate,
          verdict: "not checked", evidence: problem)
      }
      return check(
        claim.claim, baseline: claim.baseline, candidate: claim.candidate,
        accuracy: claim.accuracy, macroF1: claim.macroF1, comparison: comparisons[index],
        holm: holmByClaim[index], extra: claim.extra, crossValidated: crossValidated)
    }
  }

  /// The verdict, evidence and statistics of one claim with at least one pair.
  private static func check(
    _ claim: String, baseline: String, candidate: String, accuracy: [(Double, Double)],
    macroF1: [(Double, Double)], comparison: PairedComparison?, holm: Double?, extra: String,
    crossValidated: Bool
  ) -> ClaimCheck {
    let count = accuracy.count
    let difference = accuracy.map { $1 - $0 }.reduce(0, +) / Double(count)
    let f1Difference =
      macroF1.isEmpty ? 0 : macroF1.map { $1 - $0 }.reduce(0, +) / Double(macroF1.count)
    let seeds =
      crossValidated
      ? "\(count) (fold, seed) pair\(count == 1 ? "" : "s")"
      : "\(count) seed\(count == 1 ? "" : "s")"
    var statistics = ClaimStatistics(
      metric: RunMetric.accuracy.rawValue,
      alternative: PairedComparison.Alternative.greater.rawValue,
      pairs: count, meanDifference: difference, macroF1MeanDifference: f1Difference,
      confidenceLevel: 0.95)
    var evidence = String(format: "accuracy %+.2f pp", 100 * difference)
    guard let comparison, let holm else {
      evidence += String(format: ", macro-F1 %+.2f pp", 100 * f1Difference)
      evidence += "; a paired test needs 2 seeds, \(seeds)" + extra
      return ClaimCheck(
        claim: claim, baseline: baseline, candidate: candidate,
        verdict: difference > 0 ? "better, but one seed cannot test it" : "not supported",
        evidence: evidence, statistics: statistics)
    }
    let interval = comparison.meanDifferenceConfidenceInterval(level: 0.95)
    statistics.confidenceInterval = [interval.lowerBound, interval.upperBound]
    statistics.standardizedEffect = comparison.standardizedEffect
    let p = comparison.tTestPValue(.greater)
    let needed = PairedComparison.smallestSignificantEffect(
      pairs: count, significance: significance, alternative: .greater)
    statistics.tTest = ClaimTest(
      name: "paired t-test", pValue: p, holmPValue: holm, canReachSignificance: true,
      smallestSignificantEffect: needed)
    let smallest = comparison.smallestWilcoxonPValue(.greater)
    let wilcoxonName =
      "Wilcoxon signed-rank (\(comparison.wilcoxonMethod == .exact ? "exact" : "normal approximation"))"
    statistics.wilcoxon = ClaimTest(
      name: wilcoxonName, pValue: comparison.wilcoxonPValue(.greater),
      canReachSignificance: smallest < significance, smallestPossiblePValue: smallest)

    evidence += String(
      format: " (95%% CI %+.2f to %+.2f pp)", 100 * interval.lowerBound, 100 * interval.upperBound)
    if let dz = comparison.standardizedEffect {
      evidence += String(format: ", d_z %+.2f", dz)
    } else {
      evidence += ", d_z undefined (the differences do not vary)"
    }
    evidence += String(format: ", macro-F1 %+.2f pp", 100 * f1Difference)
    evidence += "; one-sided paired t-test p = \(pText(p)), Holm p = \(pText(holm))"
    if let needed {
      evidence += String(format: " (p < 0.05 needs d_z ≥ %.2f with %d pairs)", needed, count)
    }
    if smallest < significance {
      evidence += "; one-sided Wilcoxon p = \(pText(comparison.wilcoxonPValue(.greater)))"
    } else {
      // Tied pairs (equal scores) drop out of the Wilcoxon test and lower what it can reach.
      let tied = accuracy.filter { $0.0 == $0.1 }.count
      let tiedText = tied == 0 ? "" : "\(tied) of them tied; "
      evidence +=
        "; Wilcoxon cannot reach p < 0.05 with \(count) pairs (\(tiedText)smallest one-sided p = "
        + "\(pText(smallest)))"
    }
    evidence += "; \(seeds)" + extra
    let verdict: String
    if difference <= 0 {
      verdict = "not supported"
    } else if holm < significance {
      verdict = "supported"
    } else {
      verdict = "not significant"
    }
    return ClaimCheck(
      claim: claim, baseline: baseline, candidate: candidate, verdict: verdict,
      evidence: evidence, statistics: statistics)
  }

  /// A p-value with three decimals, or `< 0.001`.
  static func pText(_ p: Double) -> String {
    p < 0.001 ? "< 0.001" : String(format: "%.3f", p)
  }

  /// The line above the claims: what is tested and how.
  static func claimsHeader(_ claims: [ClaimCheck], crossValidated: Bool = false) -> String {
    let tested = claims.filter { $0.statistics?.tTest != nil }.count
    let paired = crossValidated ? "(fold, seed) pairs" : "seeds"
    return "The study's claims on this run (paired over \(paired), on accuracy; one-sided tests of "
      + "'candidate > baseline', Holm-corrected over the \(tested) claim\(tested == 1 ? "" : "s") "
      + "tested; supported = better and Holm p < 0.05):"
  }
}
