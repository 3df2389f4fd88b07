import Foundation
import Metrics

extension StudyReport {
  /// `report.md`: the study's settings, a table of every configuration (mean ± sample std over
  /// seeds), the change of each configuration relative to ``baseline`` with paired tests, every
  /// run, and the figures.
  ///
  /// Accuracy and F1 are percentages; "± s" is omitted where the standard deviation is 0 (a single
  /// seed, or a count that does not vary). Differences to the baseline are in percentage points
  /// (pp), paired by seed; cost ratios are `configuration / baseline`.
  public func markdown() -> String {
    var out: [String] = []
    out.append("# HARDistill study — \(results.dataset), \(results.family)")
    out.append("")
    let seeds = Set(results.runs.map(\.seed)).sorted()
    out.append(
      "Created \(ISO8601DateFormatter().string(from: results.created)); "
        + "\(results.runs.count) runs, seeds \(seeds.map(String.init).joined(separator: ", ")).")
    if !results.settings.isEmpty {
      out.append("")
      out.append(
        "Settings: "
          + results.settings.keys.sorted().map { key in
            "\(key) = \(results.settings[key]?.description ?? "")"
          }.joined(separator: "; ") + ".")
    }
    if let record = results.studyProtocol {
      func split(_ entry: StudyProtocol) -> String {
        guard let subjects = entry.subjects, let windows = entry.windows else { return "" }
        func part(_ name: String, _ count: Int, _ ids: [Int]) -> String {
          "\(name) \(Format.grouped(count)) windows from subjects "
            + ids.map(String.init).joined(separator: " ")
        }
        return part("train", windows.train, subjects.train) + "; "
          + part("validation", windows.validation, subjects.validation) + "; "
          + part("test", windows.test, subjects.test)
      }
      out.append("")
      out.append(
        "Protocol: package \(record.packageVersion); threads "
          + record.threads.map(String.init).joined(separator: ", ") + "; shards \(record.shards)"
          + (record.subjects == nil ? "." : "; " + split(record) + "."))
      for fold in record.folds ?? [] {
        out.append("")
        out.append("Fold \(fold.fold ?? 0): " + split(fold) + ".")
      }
    }

    out.append("")
    // Cross-validated runs pair by (fold, seed) and summarize over folds.
    let crossValidated = results.runs.contains { $0.fold != nil }
    out.append(
      crossValidated
        ? "## Results (mean ± std over folds of each fold's mean over seeds)"
        : "## Results (mean ± std over seeds)")
    out.append("")
    let showFiles = !checkpointBytes.isEmpty
    out.append(
      "| configuration | seeds | accuracy (%) | macro-F1 (%) | weighted-F1 (%) | parameters | "
        + "FLOPs | size (float32) |" + (showFiles ? " checkpoint file |" : "")
        + " epochs | train time (s) |")
    out.append(
      "|---|---:|---:|---:|---:|---:|---:|---:|" + (showFiles ? "---:|" : "") + "---:|---:|")
    for entry in results.summary {
      let (mean, std) = (entry.mean, entry.std)
      func percent(_ metric: RunMetric) -> String {
        Self.meanStd(100 * mean[metric], 100 * std[metric], digits: 2)
      }
      var cells = [
        entry.configuration, "\(results.runs(of: entry.configuration).count)",
        percent(.accuracy), percent(.macroF1), percent(.weightedF1),
        Self.countCell(mean[.parameters], std[.parameters], format: { Format.grouped(Int($0)) }),
        Self.countCell(mean[.flops], std[.flops], format: Format.si),
        Self.countCell(mean[.sizeBytes], std[.sizeBytes], format: { Format.bytes(Int($0)) }),
      ]
      if showFiles { cells.append(checkpointBytes[entry.configuration].map(Format.bytes) ?? "—") }
      cells += [
        Self.meanStd(mean[.epochs], std[.epochs], digits: 1),
        Self.meanStd(mean[.trainSeconds], std[.trainSeconds], digits: 1),
      ]
      out.append("| " + cells.joined(separator: " | ") + " |")
    }

    out.append("")
    out.append("## Change relative to \(baseline)")
    out.append("")
    if let reference = results.summary(of: baseline) {
      out.append(
        "Differences in percentage points, paired by "
          + (crossValidated ? "(fold, seed)" : "seed") + " (mean of the paired differences); "
          + "p-values of two-sided paired tests on macro-F1 (t-test, Wilcoxon signed-rank), "
          + "over the runs both configurations made. Cost columns are ratios to \(baseline).")
      out.append("")
      out.append(
        "| configuration | Δ accuracy (pp) | Δ macro-F1 (pp) | Δ weighted-F1 (pp) | "
          + "p (t-test) | p (Wilcoxon) | parameters | FLOPs | size |")
      out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
      for entry in results.summary where entry.configuration != baseline {
        var cells = [entry.configuration]
        var comparisons: [RunMetric: PairedComparison] = [:]
        for metric in [RunMetric.accuracy, .macroF1, .weightedF1] {
          comparisons[metric] = pairedComparison(entry.configuration, metric)
        }
        for metric in [RunMetric.accuracy, .macroF1, .weightedF1] {
          let difference =
            comparisons[metric]?.meanDifference ?? (entry.mean[metric] - reference.mean[metric])
          cells.append(Self.signed(100 * difference, digits: 2))
        }
        let f1 = comparisons[.macroF1]
        cells.append(f1.map { Self.pValue($0.tTestPValue) } ?? "—")
        cells.append(f1.map { Self.pValue($0.wilcoxonPValue) } ?? "—")
        for metric in [RunMetric.parameters, .flops, .sizeBytes] {
          let base = reference.mean[metric]
          cells.append(base > 0 ? Self.ratio(entry.mean[metric] / base) : "—")
        }
        out.append("| " + cells.joined(separator: " | ") + " |")
      }
      out.append("")
      out.append(
        "With few seeds these tests have little power: a p-value above 0.05 is not evidence of "
          + "no difference. The smallest two-sided Wilcoxon p-value possible with n seeds is "
          + "2 / 2ⁿ (0.25 for 3 seeds, 0.0625 for 5).")
    } else {
      out.append("No runs of \(baseline), so no change relative to it is shown.")
    }

    if let claims = results.claims, !claims.isEmpty {
      out.append("")
      out.append("## The study's claims")
      out.append("")
      out.append(
        StudySummary.claimsHeader(
          claims, crossValidated: results.runs.contains { $0.fold != nil }))
      out.append("")
      out += claims.map(\.line)
    }

    out += perClassSection()

    out.append("")
    out.append("## Runs")
    out.append("")
    out.append(
      "| configuration | " + (crossValidated ? "fold / seed" : "seed")
        + " | accuracy (%) | macro-F1 (%) | weighted-F1 (%) | lowest class recall (%) | "
        + "parameters | FLOPs | size | epochs | train time (s) |")
    out.append("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for run in results.runs {
      let cells = [
        run.configuration, run.fold.map { "\($0) / \(run.seed)" } ?? "\(run.seed)",
        Format.fixed(100 * run.accuracy, 2),
        Format.fixed(100 * run.macroF1, 2), Format.fixed(100 * run.weightedF1, 2),
        run.lowestRecall.map { "\(Format.fixed(100 * $0.recall, 1)) (\(className($0.classID)))" }
          ?? "—",
        Format.grouped(run.parameters), Format.grouped(run.flops), Format.bytes(run.sizeBytes),
        "\(run.epochs)", Format.fixed(run.trainSeconds, 1),
      ]
      out.append("| " + cells.joined(separator: " | ") + " |")
    }
    if let note = collapsedRunsNote(markdown: true) {
      out.append("")
      out.append(note)
    }

    out.append("")
    out.append("## Figures")
    out.append("")
    out.append("![Test accuracy vs. forward FLOPs](accuracy-vs-flops.svg)")
    out.append("")
    out.append("![Test macro-F1 vs. forward FLOPs](macro-f1-vs-flops.svg)")
    out.append("")
    out.append("![Model size](model-size.svg)")
    if !trainingCurves.isEmpty {
      out.append("")
      out.append("![Training curves](training-curves.svg)")
    }
    for name in results.configurations where confusionMatrices[name] != nil {
      out.append("")
      out.append("![Confusion matrix of \(name)](\(Self.confusionFileName(for: name)))")
    }
    return out.joined(separator: "\n") + "\n"
  }

  /// Per-class F1 of every configuration with a confusion matrix, one column per class.
  private func perClassSection() -> [String] {
    let withMatrices = results.configurations.compactMap { name in
      confusionMatrices[name].map {
        (name: name, scores: ClassificationReport(confusionMatrix: $0))
      }
    }
    guard let first = withMatrices.first else { return [] }
    let classes = first.scores.classes
    var out = ["", "## Per-class F1 (%)", ""]
    out.append(
      "From each configuration's confusion matrix (as passed to the report, e.g. summed over "
        + "seeds).")
    out.append("")
    out.append(
      "| configuration | " + classes.map { classNames[$0] ?? "\($0)" }.joined(separator: " | ")
        + " |")
    out.append("|---|" + String(repeating: "---:|", count: classes.count))
    for entry in withMatrices {
      let byClass = Dictionary(
        entry.scores.perClass.map { ($0.classID, $0.f1) }, uniquingKeysWith: { a, _ in a })
      let cells = classes.map { byClass[$0].map { Format.fixed(100 * $0, 1) } ?? "—" }
      out.append("| \(entry.name) | " + cells.joined(separator: " | ") + " |")
    }
    return out
  }

  /// Below this test recall of its worst class a run is listed, under the runs table, as one
  /// that hardly recognizes a class: 0.05, fewer than 1 in 20 of the class's windows.
  public static let collapsedRecall = 0.05

  private func className(_ id: Int) -> String { classNames[id] ?? "class \(id)" }

  /// The runs whose worst class has a test recall below ``collapsedRecall``, named with that
  /// class in one sentence (its opening in bold with `markdown`); `nil` when there are none.
  public func collapsedRunsNote(markdown: Bool) -> String? {
    let collapsed = results.runs.filter { ($0.lowestRecall?.recall ?? 1) < Self.collapsedRecall }
    guard !collapsed.isEmpty else { return nil }
    let opening = "\(collapsed.count) of \(results.runs.count) runs hardly recognize a class"
    return (markdown ? "**\(opening)**" : opening)
      + " (test recall below \(Format.fixed(100 * Self.collapsedRecall, 0)) %): "
      + collapsed.map { run in
        "\(run.configuration) \(run.replicate) (\(className(run.lowestRecall?.classID ?? 0)))"
      }.joined(separator: ", ")
      + ". Such a run never learned the class; the means include it."
  }

  /// The paired comparison of `configuration` with ``baseline`` on `metric`, over the seeds both
  /// ran; `nil` with fewer than two shared seeds.
  public func pairedComparison(_ configuration: String, _ metric: RunMetric) -> PairedComparison? {
    let base = Dictionary(
      results.runs(of: baseline).map { ($0.pairing, $0.value(of: metric)) },
      uniquingKeysWith: { a, _ in a })
    let pairs = results.runs(of: configuration).compactMap { run in
      base[run.pairing].map { (baseline: $0, candidate: run.value(of: metric)) }
    }
    return try? PairedComparison(
      baseline: pairs.map(\.baseline), candidate: pairs.map(\.candidate))
  }

  static func meanStd(_ mean: Double, _ std: Double, digits: Int) -> String {
    std == 0
      ? Format.fixed(mean, digits) : "\(Format.fixed(mean, digits)) ± \(Format.fixed(std, digits))"
  }

  static func countCell(_ mean: Double, _ std: Double, format: (Double) -> String) -> String {
    std == 0 ? format(mean.rounded()) : "\(format(mean.rounded())) ± \(format(std.rounded()))"
  }

  static func signed(_ value: Double, digits: Int) -> String {
    let text = Format.fixed(value, digits)
    return text.hasPrefix("-") ? "−" + text.dropFirst() : (Double(text) == 0 ? text : "+" + text)
  }

  static func pValue(_ p: Double) -> String {
    p < 0.001 ? "< 0.001" : Format.fixed(p, 3)
  }

  static func ratio(_ value: Double) -> String {
    value >= 10 ? Format.fixed(value, 1) + "×" : Format.fixed(value, 2) + "×"
  }
}
