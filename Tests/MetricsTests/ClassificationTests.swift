import Foundation
import Metrics
import Testing

// Expected values from scikit-learn 1.9.1 (python3):
//
//   from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score,
//                                precision_recall_fscore_support)
//   cases = {
//     "balanced": ([0, 1, 2, 2, 1, 0, 2, 1, 0, 2], [0, 2, 2, 2, 1, 0, 1, 1, 1, 2], None),
//     "predictedOnly": ([0, 0, 1, 1, 1, 2], [0, 3, 1, 1, 0, 2], None),
//     "neverPredicted": ([0, 1, 2, 2, 3, 3, 3], [0, 1, 1, 1, 3, 0, 3], None),
//     "declaredAbsent": ([1, 1, 2, 4], [1, 2, 2, 4], [0, 1, 2, 3, 4, 5]),
//     "negativeIds": ([-1, 5, 5, 7, -1], [5, 5, -1, 7, -1], None),
//   }
//   for name, (y, p, labels) in cases.items():
//       P, R, F, S = precision_recall_fscore_support(y, p, labels=labels, zero_division=0)
//       print(name, accuracy_score(y, p),
//             f1_score(y, p, labels=labels, average="macro", zero_division=0),
//             f1_score(y, p, labels=labels, average="weighted", zero_division=0))
//       print(P, R, F, S, confusion_matrix(y, p, labels=labels).tolist())
//
//   # "generated": 300 samples, the formulas as in `generated` below
//   y = [(i * i + 3 * i) % 7 % 6 for i in range(300)]
//   p = [y[i] if i % 3 else (i * 5 + i // 4) % 6 for i in range(300)]
//   print(accuracy_score(y, p), f1_score(y, p, average="macro", zero_division=0),
//         f1_score(y, p, average="weighted", zero_division=0),
//         precision_recall_fscore_support(y, p, zero_division=0))

/// One scikit-learn reference case.
struct SklearnCase: Sendable, CustomTestStringConvertible {
  let name: String
  let labels: [Int]
  let predictions: [Int]
  let classes: [Int]?
  let accuracy: Double
  let macroF1: Double
  let weightedF1: Double
  let precision: [Double]
  let recall: [Double]
  let f1: [Double]
  let support: [Int]
  let matrix: [[Int]]?
  var testDescription: String { name }

  static let all: [SklearnCase] = [
    .init(
      name: "balanced", labels: [0, 1, 2, 2, 1, 0, 2, 1, 0, 2],
      predictions: [0, 2, 2, 2, 1, 0, 1, 1, 1, 2], classes: nil,
      accuracy: 0.7, macroF1: 0.7071428571428572, weightedF1: 0.7114285714285715,
      precision: [1.0, 0.5, 0.75], recall: [0.6666666666666666, 0.6666666666666666, 0.75],
      f1: [0.8, 0.5714285714285714, 0.75], support: [3, 3, 4],
      matrix: [[2, 1, 0], [0, 2, 1], [0, 1, 3]]),
    .init(
      name: "a class only predicted", labels: [0, 0, 1, 1, 1, 2],
      predictions: [0, 3, 1, 1, 0, 2], classes: nil,
      accuracy: 0.6666666666666666, macroF1: 0.575, weightedF1: 0.7333333333333334,
      precision: [0.5, 1.0, 1.0, 0.0], recall: [0.5, 0.6666666666666666, 1.0, 0.0],
      f1: [0.5, 0.8, 1.0, 0.0], support: [2, 3, 1, 0],
      matrix: [[1, 0, 0, 1], [1, 2, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]),
    .init(
      name: "a class never predicted", labels: [0, 1, 2, 2, 3, 3, 3],
      predictions: [0, 1, 1, 1, 3, 0, 3], classes: nil,
      accuracy: 0.5714285714285714, macroF1: 0.49166666666666664,
      weightedF1: 0.5095238095238096,
      precision: [0.5, 0.3333333333333333, 0.0, 1.0], recall: [1.0, 1.0, 0.0, 0.6666666666666666],
      f1: [0.6666666666666666, 0.5, 0.0, 0.8], support: [1, 1, 2, 3],
      matrix: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 2, 0, 0], [1, 0, 0, 2]]),
    .init(
      name: "declared classes absent from both", labels: [1, 1, 2, 4],
      predictions: [1, 2, 2, 4], classes: [0, 1, 2, 3, 4, 5],
      accuracy: 0.75, macroF1: 0.38888888888888884, weightedF1: 0.75,
      precision: [0, 1, 0.5, 0, 1, 0], recall: [0, 0.5, 1, 0, 1, 0],
      f1: [0, 0.6666666666666666, 0.6666666666666666, 0, 1, 0], support: [0, 2, 1, 0, 1, 0],
      matrix: [
        [0, 0, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0], [0, 0, 1, 0, 0, 0],
        [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0],
      ]),
    .init(
      name: "negative and sparse ids", labels: [-1, 5, 5, 7, -1],
      predictions: [5, 5, -1, 7, -1], classes: nil,
      accuracy: 0.6, macroF1: 0.6666666666666666, weightedF1: 0.6,
      precision: [0.5, 0.5, 1.0], recall: [0.5, 0.5, 1.0], f1: [0.5, 0.5, 1.0],
      support: [2, 2, 1], matrix: [[1, 1, 0], [1, 1, 0], [0, 0, 1]]),
    generated,
  ]

  static var generated: SklearnCase {
    let labels: [Int] = (0..<300).map { (i: Int) -> Int in (i * i + 3 * i) % 7 % 6 }
    let predictions: [Int] = (0..<300).map { (i: Int) -> Int in
      i % 3 != 0 ? labels[i] : (i * 5 + i / 4) % 6
    }
    return .init(
      name: "generated, 300 samples", labels: labels, predictions: predictions, classes: nil,
      accuracy: 0.72, macroF1: 0.49501427885199084, weightedF1: 0.7542734677287387,
      precision: [], recall: [],
      f1: [0.7619047619047619, 0, 0, 0.6597938144329897, 0.7741935483870968, 0.7741935483870968],
      support: [86, 0, 0, 43, 86, 85], matrix: nil)
  }
}

@Suite("Classification metrics match scikit-learn")
struct ClassificationTests {
  @Test(arguments: SklearnCase.all)
  func matchesScikitLearn(_ reference: SklearnCase) throws {
    let report = try ClassificationReport(
      labels: reference.labels, predictions: reference.predictions, classes: reference.classes)
    #expect(close(report.accuracy, reference.accuracy))
    #expect(close(report.macroF1, reference.macroF1))
    #expect(close(report.weightedF1, reference.weightedF1))
    #expect(close(report.weightedRecall, reference.accuracy))
    #expect(report.perClass.map(\.support) == reference.support)
    #expect(allClose(report.perClass.map(\.f1), reference.f1))
    if !reference.precision.isEmpty {
      #expect(allClose(report.perClass.map(\.precision), reference.precision))
      #expect(allClose(report.perClass.map(\.recall), reference.recall))
    }
    if let matrix = reference.matrix {
      #expect(report.confusionMatrix.counts == matrix)
    }
  }

  @Test func classesDefaultToTheSortedUnionOfLabelsAndPredictions() throws {
    let matrix = try ConfusionMatrix(labels: [3, 1, 3], predictions: [9, 1, 3])
    #expect(matrix.classes == [1, 3, 9])
    #expect(matrix.counts == [[1, 0, 0], [0, 1, 1], [0, 0, 0]])
    #expect(matrix.total == 3 && matrix.correct == 2)
    #expect(matrix.support == [1, 2, 0] && matrix.predicted == [1, 1, 1])
    #expect(matrix.rowNormalized == [[1, 0, 0], [0, 0.5, 0.5], [0, 0, 0]])
  }

  @Test func perfectPredictionsScoreOne() throws {
    let report = try ClassificationReport(labels: [2, 0, 1, 1], predictions: [2, 0, 1, 1])
    #expect(report.accuracy == 1 && report.macroF1 == 1 && report.weightedF1 == 1)
    #expect(report.macroPrecision == 1 && report.macroRecall == 1)
  }

  // classification_report([0, 1, 2, 2, 1, 0, 2, 1, 0, 2], [0, 2, 2, 2, 1, 0, 1, 1, 1, 2],
  //                       digits=4) -> "macro avg 0.7500 0.6944 0.7071 10",
  //                                    "weighted avg 0.7500 0.7000 0.7114 10"
  @Test func markdownTableFollowsScikitLearnsClassificationReport() throws {
    let report = try ClassificationReport(
      labels: [0, 1, 2, 2, 1, 0, 2, 1, 0, 2], predictions: [0, 2, 2, 2, 1, 0, 1, 1, 1, 2])
    let table = report.markdownTable(classNames: [0: "walking"])
    #expect(table.contains("| walking | 1.0000 | 0.6667 | 0.8000 | 3 |"))
    #expect(table.contains("| 2 | 0.7500 | 0.7500 | 0.7500 | 4 |"))
    #expect(table.contains("| accuracy | | | 0.7000 | 10 |"))
    #expect(table.contains("| macro avg | 0.7500 | 0.6944 | 0.7071 | 10 |"))
    #expect(table.contains("| weighted avg | 0.7500 | 0.7000 | 0.7114 | 10 |"))
  }

  @Test func matricesAddElementWise() throws {
    let a = try ConfusionMatrix(labels: [0, 1], predictions: [0, 0], classes: [0, 1])
    let b = try ConfusionMatrix(labels: [1, 1], predictions: [1, 0], classes: [0, 1])
    #expect(try a.adding(b).counts == [[1, 0], [2, 1]])
    let c = try ConfusionMatrix(labels: [0], predictions: [0], classes: [0, 2])
    #expect(throws: MetricsError.self) { try a.adding(c) }
    #expect(try ConfusionMatrix(summing: [a, b, a]).counts == [[2, 0], [3, 1]])
    #expect(throws: MetricsError.empty(what: "confusion matrices to sum")) {
      try ConfusionMatrix(summing: [])
    }
  }

  @Test func lengthMismatchNamesBothLengths() {
    #expect(throws: MetricsError.lengthMismatch(labels: 3, predictions: 2)) {
      try ClassificationReport(labels: [0, 1, 1], predictions: [0, 1])
    }
    let error = MetricsError.lengthMismatch(labels: 3, predictions: 2)
    #expect(error.description == "labels and predictions differ in length: 3 labels, 2 predictions")
  }

  @Test func emptyInputThrows() {
    #expect(throws: MetricsError.empty(what: "labels")) {
      try ClassificationReport(labels: [], predictions: [])
    }
  }

  @Test func valueOutsideDeclaredClassesThrows() {
    #expect(
      throws: MetricsError.unknownClass(
        role: "prediction", index: 1, value: 6,
        classes: [0, 1, 2, 3, 4, 5])
    ) {
      try ConfusionMatrix(labels: [0, 1], predictions: [0, 6], classes: Array(0..<6))
    }
    #expect(throws: MetricsError.unknownClass(role: "label", index: 0, value: -1, classes: [0, 1]))
    {
      try ConfusionMatrix(labels: [-1, 1], predictions: [0, 1], classes: [0, 1])
    }
  }

  @Test func duplicateDeclaredClassThrows() {
    #expect(throws: MetricsError.duplicateClass(1)) {
      try ConfusionMatrix(labels: [0], predictions: [0], classes: [0, 1, 1])
    }
  }

  @Test func decodingChecksTheCounts() throws {
    let good = Data(#"{"classes": [0, 1], "counts": [[3, 1], [0, 2]]}"#.utf8)
    #expect(try JSONDecoder().decode(ConfusionMatrix.self, from: good).total == 6)
    let ragged = Data(#"{"classes": [0, 1], "counts": [[3, 1], [0]]}"#.utf8)
    #expect(throws: MetricsError.malformedMatrix(classes: 2, rowLengths: [2, 1])) {
      try JSONDecoder().decode(ConfusionMatrix.self, from: ragged)
    }
  }

  @Test func malformedCountsThrow() {
    #expect(throws: MetricsError.malformedMatrix(classes: 2, rowLengths: [2, 1])) {
      try ConfusionMatrix(classes: [0, 1], counts: [[1, 2], [3]])
    }
    #expect(throws: MetricsError.invalidNumber(what: "confusion matrix count", value: "-1")) {
      try ConfusionMatrix(classes: [0, 1], counts: [[1, 2], [-1, 0]])
    }
  }
}

/// Equal to within a few rounding errors (scikit-learn sums in a different order).
func close(_ a: Double, _ b: Double, tolerance: Double = 1e-12) -> Bool {
  abs(a - b) <= tolerance * max(1, abs(a), abs(b))
}

/// ``close(_:_:tolerance:)`` element-wise, and equal counts.
func allClose(_ a: [Double], _ b: [Double], tolerance: Double = 1e-12) -> Bool {
  a.count == b.count && zip(a, b).allSatisfy { close($0, $1, tolerance: tolerance) }
}

@Suite("Absent classes")
struct AbsentClassTests {
  /// A single-class test set scored over six classes: before, accuracy 100 % and macro-F1 0.167
  /// with nothing said; now the report names the five classes that never occur.
  @Test func aReportNamesTheClassesNoLabelHolds() throws {
    let report = try ClassificationReport(
      labels: [2, 2, 2], predictions: [2, 2, 2], classes: Array(0..<6))
    #expect(report.accuracy == 1)
    #expect(close(report.macroF1, 1.0 / 6))
    #expect(report.absentClasses == [0, 1, 3, 4, 5])
    #expect(report.line.contains("classes 0, 1, 3, 4, 5 never occur in the labels"))
  }
}
