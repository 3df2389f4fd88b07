import Foundation

/// Precision, recall, F1 and support of one class.
public struct ClassScores: Sendable, Equatable, Codable {
  /// The class id.
  public var classID: Int
  /// `tp / (tp + fp)`, or 0 when the class is never predicted.
  public var precision: Double
  /// `tp / (tp + fn)`, or 0 when the class never occurs in the labels.
  public var recall: Double
  /// `2·tp / (2·tp + fp + fn)`, or 0 when that denominator is 0.
  public var f1: Double
  /// The number of samples whose label is this class.
  public var support: Int
}

/// Accuracy and per-class, macro and weighted scores, defined exactly as scikit-learn's
/// `accuracy_score` and `precision_recall_fscore_support(..., zero_division=0)`.
///
/// - Per class, with `tp`, `fp`, `fn` read off the ``ConfusionMatrix``: precision
///   `tp / (tp + fp)`, recall `tp / (tp + fn)`, F1 `2·tp / (2·tp + fp + fn)` (equal to the
///   harmonic mean of precision and recall whenever that is defined); a zero denominator gives 0.
/// - Macro averages are unweighted means over ``ClassificationReport/classes``: a class that is
///   only predicted, never a label, takes part with recall and F1 0, and so lowers macro-F1.
/// - Weighted averages weight each class by its support.
public struct ClassificationReport: Sendable, Equatable, Codable {
  /// The confusion matrix the scores are computed from.
  public let confusionMatrix: ConfusionMatrix
  /// Scores of each class, in ``ConfusionMatrix/classes`` order.
  public let perClass: [ClassScores]

  /// Scores `predictions` against `labels`; see
  /// ``ConfusionMatrix/init(labels:predictions:classes:)`` for the arguments and the errors thrown.
  public init(labels: [Int], predictions: [Int], classes: [Int]? = nil) throws(MetricsError) {
    self.init(
      confusionMatrix: try ConfusionMatrix(
        labels: labels, predictions: predictions, classes: classes))
  }

  /// Scores read off an existing confusion matrix.
  public init(confusionMatrix: ConfusionMatrix) {
    self.confusionMatrix = confusionMatrix
    let counts = confusionMatrix.counts
    let (support, predicted) = (confusionMatrix.support, confusionMatrix.predicted)
    perClass = confusionMatrix.classes.indices.map { i in
      let truePositives = counts[i][i]
      let falsePositives = predicted[i] - truePositives
      let falseNegatives = support[i] - truePositives
      return ClassScores(
        classID: confusionMatrix.classes[i],
        precision: ratio(truePositives, truePositives + falsePositives),
        recall: ratio(truePositives, support[i]),
        f1: ratio(2 * truePositives, 2 * truePositives + falsePositives + falseNegatives),
        support: support[i])
    }
  }

  /// The class ids, in the order of ``perClass``.
  public var classes: [Int] { confusionMatrix.classes }

  /// The fraction of samples whose prediction equals the label.
  public var accuracy: Double { ratio(confusionMatrix.correct, confusionMatrix.total) }

  /// The unweighted mean of the per-class precisions.
  public var macroPrecision: Double { mean(perClass.map(\.precision)) }
  /// The unweighted mean of the per-class recalls (balanced accuracy when every class occurs).
  public var macroRecall: Double { mean(perClass.map(\.recall)) }
  /// The unweighted mean of the per-class F1 scores.
  public var macroF1: Double { mean(perClass.map(\.f1)) }

  /// The support-weighted mean of the per-class precisions.
  public var weightedPrecision: Double { weighted(\.precision) }
  /// The support-weighted mean of the per-class recalls (equal to ``accuracy``).
  public var weightedRecall: Double { weighted(\.recall) }
  /// The support-weighted mean of the per-class F1 scores.
  public var weightedF1: Double { weighted(\.f1) }

  /// A Markdown table in the layout of scikit-learn's `classification_report`: precision,
  /// recall, F1 and support per class, then accuracy and the macro and weighted averages.
  ///
  /// - Parameter classNames: Display names by class id; ids without one are shown as numbers.
  public func markdownTable(classNames: [Int: String] = [:]) -> String {
    func row(_ name: String, _ values: [Double], _ support: Int) -> String {
      "| \(name) | " + values.map { Format.fixed($0, 4) }.joined(separator: " | ")
        + " | \(support) |"
    }
    let total = confusionMatrix.total
    var lines = ["| class | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for scores in perClass {
      lines.append(
        row(
          classNames[scores.classID] ?? "\(scores.classID)",
          [scores.precision, scores.recall, scores.f1], scores.support))
    }
    lines.append("| accuracy | | | \(Format.fixed(accuracy, 4)) | \(total) |")
    lines.append(row("macro avg", [macroPrecision, macroRecall, macroF1], total))
    lines.append(row("weighted avg", [weightedPrecision, weightedRecall, weightedF1], total))
    return lines.joined(separator: "\n") + "\n"
  }

  private func weighted(_ score: KeyPath<ClassScores, Double>) -> Double {
    let total = perClass.reduce(0) { $0 + $1.support }
    guard total > 0 else { return 0 }
    return perClass.reduce(0) { $0 + $1[keyPath: score] * Double($1.support) } / Double(total)
  }
}

/// `numerator / denominator`, or 0 when the denominator is 0 (scikit-learn's `zero_division=0`).
private func ratio(_ numerator: Int, _ denominator: Int) -> Double {
  denominator == 0 ? 0 : Double(numerator) / Double(denominator)
}

private func mean(_ values: [Double]) -> Double {
  values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
}

extension ClassificationReport {
  /// One line for a log: accuracy and macro-F1 in percent, e.g.
  /// `"accuracy 93.12 %, macro-F1 93.01 % (2,996 windows)"`.
  public var line: String {
    let absent = absentClasses
    return
      "accuracy \(Format.fixed(100 * accuracy, 2)) %, macro-F1 \(Format.fixed(100 * macroF1, 2)) % "
      + "(\(Format.grouped(confusionMatrix.total)) windows"
      + (absent.isEmpty
        ? ")"
        : "; classes \(absent.map(String.init).joined(separator: ", ")) never occur in the labels, "
          + "and their F1 of 0 counts in macro-F1)")
  }

  /// The classes no label holds (support 0): each counts in the macro averages with F1 0, so a
  /// split without them scores a lower macro-F1 than its accuracy suggests.
  public var absentClasses: [Int] {
    zip(classes, confusionMatrix.support).filter { $0.1 == 0 }.map(\.0)
  }

  /// Writes the report as JSON (what `JSONDecoder` reads back into an equal report), atomically:
  /// the file is either the whole report or not there.
  public func write(to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(self).write(to: url, options: .atomic)
  }
}
