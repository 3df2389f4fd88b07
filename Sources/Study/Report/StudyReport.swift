import Foundation
import Layers
import Metrics

/// Everything a study reports, and the writer of its output folder.
///
/// ``write(to:)`` produces, each file written atomically (never half a file):
///
/// - `results.json`: ``results`` (``StudyResults``);
/// - `report.md`: ``markdown()``, the summary table (mean ± std), the change relative to
///   ``baseline`` with paired tests, every run, and links to the figures;
/// - `accuracy-vs-flops.svg` and `macro-f1-vs-flops.svg`:
///   ``Figures/accuracyVersusFLOPs(_:metric:title:)`` for accuracy and for macro-F1;
/// - `model-size.svg`: ``Figures/modelSize(_:checkpointBytes:title:)``;
/// - `confusion-<configuration>.svg`: ``Figures/confusionMatrix(_:classNames:title:)``, one per
///   entry of ``confusionMatrices`` (file name from ``confusionFileName(for:)``);
/// - `training-curves.svg`: ``Figures/trainingCurves(_:colors:title:)``, if there are
///   ``trainingCurves``.
public struct StudyReport: Sendable {
  /// The runs and their summary.
  public var results: StudyResults
  /// The configuration the others are compared with; `"LM"`, the plain student, by default.
  public var baseline: String
  /// A confusion matrix per configuration, e.g. summed over its seeds.
  public var confusionMatrices: [String: ConfusionMatrix]
  /// Training curves to draw, e.g. one run per configuration.
  public var trainingCurves: [TrainingCurve]
  /// Display names by class id, e.g. `[0: "walking"]`.
  public var classNames: [Int: String]
  /// Checkpoint file sizes by configuration, drawn beside the float32 sizes.
  public var checkpointBytes: [String: Int]

  /// A report of `results`; the other inputs are optional.
  public init(
    results: StudyResults, baseline: String = "LM",
    confusionMatrices: [String: ConfusionMatrix] = [:], trainingCurves: [TrainingCurve] = [],
    classNames: [Int: String] = [:], checkpointBytes: [String: Int] = [:]
  ) {
    self.results = results
    self.baseline = baseline
    self.confusionMatrices = confusionMatrices
    self.trainingCurves = trainingCurves
    self.classNames = classNames
    self.checkpointBytes = checkpointBytes
  }

  /// The file name of a configuration's confusion-matrix figure, e.g. `confusion-rab-kd.svg`.
  public static func confusionFileName(for configuration: String) -> String {
    let slug = configuration.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
    return "confusion-" + String(slug) + ".svg"
  }

  /// Every file of the report: name and contents, in writing order.
  ///
  /// - Throws: ``MetricsError/inconsistentReport(_:)`` if a confusion matrix or a training curve names a
  ///   configuration without runs, or the results cannot be encoded.
  public func files() throws(MetricsError) -> [(name: String, contents: Data)] {
    let known = Set(results.configurations)
    for name in confusionMatrices.keys.sorted() where !known.contains(name) {
      throw .inconsistentReport("confusion matrix for \(name), which has no runs")
    }
    for curve in trainingCurves where !known.contains(curve.configuration) {
      throw .inconsistentReport("training curve for \(curve.configuration), which has no runs")
    }
    var files: [(name: String, contents: Data)] = [
      ("results.json", try results.jsonData()),
      ("report.md", Data(markdown().utf8)),
      ("accuracy-vs-flops.svg", Data(Figures.accuracyVersusFLOPs(results).utf8)),
      (
        "macro-f1-vs-flops.svg",
        Data(Figures.accuracyVersusFLOPs(results, metric: .macroF1).utf8)
      ),
      ("model-size.svg", Data(Figures.modelSize(results, checkpointBytes: checkpointBytes).utf8)),
    ]
    for name in results.configurations {
      guard let matrix = confusionMatrices[name] else { continue }
      let svg = Figures.confusionMatrix(
        matrix, classNames: classNames, title: "Confusion matrix — \(name) (\(results.dataset))")
      files.append((Self.confusionFileName(for: name), Data(svg.utf8)))
    }
    if !trainingCurves.isEmpty {
      let order = results.configurations
      let colors = trainingCurves.map { curve in
        Figures.color(index: order.firstIndex(of: curve.configuration) ?? 0)
      }
      let svg = Figures.trainingCurves(
        trainingCurves, colors: colors, title: "Training curves — \(results.dataset)")
      files.append(("training-curves.svg", Data(svg.utf8)))
    }
    return files
  }

  /// Writes every file of the report into `folder`, creating it if needed; each file is written
  /// atomically (to a temporary file, then renamed), so a reader never sees half a file.
  ///
  /// - Returns: The URLs written, in order.
  /// - Throws: ``MetricsError/fileError(path:reason:)`` naming the file that failed, or the
  ///   errors of ``files()``.
  @discardableResult
  public func write(to folder: URL) throws(MetricsError) -> [URL] {
    let files = try files()
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
      throw .fileError(
        path: folder.path, reason: "cannot create folder: \(error.localizedDescription)")
    }
    var written: [URL] = []
    for file in files {
      let url = folder.appendingPathComponent(file.name)
      do { try writeReplacing(file.contents, to: url) } catch {
        throw .fileError(path: url.path, reason: "cannot write: \(error.reason)")
      }
      written.append(url)
    }
    return written
  }
}
