/// Input that the metrics, statistics or report functions cannot work with.
///
/// Every case names the offending values, so a message such as
/// `labels and predictions differ in length: 10 labels, 9 predictions` says what to fix.
public enum MetricsError: Error, Equatable, CustomStringConvertible {
  /// Label and prediction arrays of different lengths.
  case lengthMismatch(labels: Int, predictions: Int)
  /// Two samples that should be paired (same seeds, same order) but differ in length.
  case unpairedSamples(baseline: Int, candidate: Int)
  /// An empty input where at least one value is needed, e.g. `"labels"`.
  case empty(what: String)
  /// Fewer values than a statistic needs, e.g. a paired test on one seed.
  case tooFewValues(what: String, needed: Int, found: Int)
  /// A label or prediction (`role`) at `index` that is not one of the declared classes.
  case unknownClass(role: String, index: Int, value: Int, classes: [Int])
  /// A class listed twice in an explicit class list.
  case duplicateClass(Int)
  /// A confusion matrix whose rows are not `classes.count` long each.
  case malformedMatrix(classes: Int, rowLengths: [Int])
  /// A negative count or a NaN / infinite number where a finite one is required.
  case invalidNumber(what: String, value: String)
  /// A report input that refers to something missing, e.g. a class name list of the wrong size.
  case inconsistentReport(String)
  /// A file or folder that could not be read or written.
  case fileError(path: String, reason: String)

  /// A one-line message naming the offending values.
  public var description: String {
    switch self {
    case .lengthMismatch(let labels, let predictions):
      "labels and predictions differ in length: \(labels) labels, \(predictions) predictions"
    case .unpairedSamples(let baseline, let candidate):
      "paired samples differ in length: \(baseline) baseline values, \(candidate) candidate values"
    case .empty(let what): "no \(what)"
    case .tooFewValues(let what, let needed, let found):
      "\(what): needs at least \(needed) values, found \(found)"
    case .unknownClass(let role, let index, let value, let classes):
      "\(role) \(value) at index \(index) is not one of the classes \(classes)"
    case .duplicateClass(let value): "class \(value) is listed more than once"
    case .malformedMatrix(let classes, let rowLengths):
      "confusion matrix for \(classes) classes needs \(classes) rows of \(classes) counts, "
        + "found rows of lengths \(rowLengths)"
    case .invalidNumber(let what, let value): "\(what): invalid value \(value)"
    case .inconsistentReport(let message): "report: \(message)"
    case .fileError(let path, let reason): "\(path): \(reason)"
    }
  }
}
