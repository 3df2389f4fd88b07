import Foundation
import Metrics
import Study
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// Collects element names, attributes and text of an XML document, and any parse error.
final class XMLSummary: NSObject, XMLParserDelegate {
  var elements: [String] = []
  /// The text content of each element that has some, entities resolved.
  var texts: [String] = []
  var rootAttributes: [String: String] = [:]
  /// Every `<text>` element: its content and attributes.
  var textElements: [(text: String, attributes: [String: String])] = []
  var error: Error?
  private var buffer = ""
  private var textAttributes: [String: String] = [:]

  func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
    qualifiedName: String?, attributes: [String: String] = [:]
  ) {
    if elements.isEmpty { rootAttributes = attributes }
    elements.append(name)
    if name == "text" { textAttributes = attributes }
    buffer = ""
  }

  // The parser hands over text in pieces (split at entities), so it is joined per element.
  func parser(_ parser: XMLParser, foundCharacters string: String) { buffer += string }

  func parser(
    _ parser: XMLParser, didEndElement name: String, namespaceURI: String?,
    qualifiedName: String?
  ) {
    let trimmed = buffer.trimmingCharacters(in: .whitespacesAndNewlines)
    if !trimmed.isEmpty { texts.append(trimmed) }
    if name == "text" { textElements.append((trimmed, textAttributes)) }
    buffer = ""
  }

  func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }

  /// Parses `xml`; `nil` if it is not well-formed.
  static func parse(_ xml: String) -> XMLSummary? {
    let summary = XMLSummary()
    let parser = XMLParser(data: Data(xml.utf8))
    parser.delegate = summary
    return parser.parse() && summary.error == nil ? summary : nil
  }
}

/// Where the report tests write: `$METRICS_REPORT_DIR` if set (to look at the figures), else a
/// fresh temporary folder that the test removes.
func reportFolder() -> (url: URL, keep: Bool) {
  if let path = ProcessInfo.processInfo.environment["METRICS_REPORT_DIR"] {
    return (URL(fileURLWithPath: path), true)
  }
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("metrics-report-\(UUID().uuidString)")
  return (url, false)
}

@Suite("Results and reports")
struct ReportTests {
  @Test func summaryHasMeanAndSampleStdPerConfiguration() throws {
    let results = try Fixtures.results
    #expect(results.configurations == Fixtures.configurations.map(\.name))
    #expect(results.summary.count == 7)
    let lm = try #require(results.summary(of: "LM"))
    let accuracies = results.runs(of: "LM").map(\.accuracy)
    let expected = try Summary(accuracies)
    #expect(close(lm.mean[.accuracy], expected.mean))
    #expect(close(lm.std[.accuracy], expected.standardDeviation))
    #expect(lm.mean[.parameters] == 3_526 && lm.std[.parameters] == 0)
  }

  @Test func resultsJSONHasExactlyTheDesignSchema() throws {
    let data = try Fixtures.results.jsonData()
    let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(Set(object.keys) == ["dataset", "family", "created", "settings", "runs", "summary"])
    #expect(object["dataset"] as? String == "uci-har")
    #expect(object["created"] as? String == "2026-11-25T16:00:00Z")
    let runs = try #require(object["runs"] as? [[String: Any]])
    #expect(runs.count == 21)
    let runKeys: Set = [
      "configuration", "seed", "accuracy", "macroF1", "weightedF1", "parameters", "flops",
      "sizeBytes", "epochs", "trainSeconds",
    ]
    #expect(runs.allSatisfy { Set($0.keys) == runKeys })
    let summary = try #require(object["summary"] as? [[String: Any]])
    #expect(summary.allSatisfy { Set($0.keys) == ["configuration", "mean", "std"] })
    let mean = try #require(summary.first?["mean"] as? [String: Any])
    #expect(Set(mean.keys) == runKeys.subtracting(["configuration", "seed"]))
    let settings = try #require(object["settings"] as? [String: Any])
    #expect(settings["epochs"] as? Int == 60 && settings["optimizer"] as? String == "adam")
  }

  @Test func resultsSurviveAJSONRoundTrip() throws {
    let results = try Fixtures.results
    let decoded = try StudyResults(jsonData: try results.jsonData())
    #expect(decoded == results)
  }

  @Test func duplicateRunsAndBadNumbersThrow() throws {
    let run = Fixtures.runs[0]
    #expect(throws: MetricsError.inconsistentReport("two runs of teacher with seed 0")) {
      try StudyResults(dataset: "d", family: "f", runs: [run, run])
    }
    var bad = run
    bad.accuracy = .nan
    #expect(throws: MetricsError.invalidNumber(what: "teacher seed 0 accuracy", value: "nan")) {
      try StudyResults(dataset: "d", family: "f", runs: [bad])
    }
    #expect(throws: MetricsError.empty(what: "runs")) {
      try StudyResults(dataset: "d", family: "f", runs: [])
    }
  }

  @Test func runResultTakesScoresAndCost() throws {
    let scores = try ClassificationReport(labels: [0, 1, 1, 2], predictions: [0, 1, 2, 2])
    // LM's layers on 128 × 9 windows and 6 classes.
    let cost = try ModelCost(layers: [
      LayerCost(name: "0 (Conv1D)", outputShape: [128, 16], parameters: 736, flops: 184_320),
      LayerCost(name: "1 (MaxPool1D)", outputShape: [64, 16], parameters: 0, flops: 0),
      LayerCost(name: "2 (Conv1D)", outputShape: [64, 32], parameters: 2_592, flops: 327_680),
      LayerCost(name: "3 (GlobalAvgPool1D)", outputShape: [32], parameters: 0, flops: 0),
      LayerCost(name: "4 (Dense)", outputShape: [6], parameters: 198, flops: 384),
    ])
    let run = RunResult(
      configuration: "LM", seed: 3, scores: scores, cost: cost, epochs: 12, trainSeconds: 4.5)
    #expect(run.accuracy == 0.75 && run.macroF1 == scores.macroF1)
    #expect(run.parameters == 3_526 && run.flops == 512_384 && run.sizeBytes == 14_104)
  }

  @Test func markdownTableShowsMeanStdAndChangeRelativeToLM() throws {
    let markdown = try Fixtures.report.markdown()
    #expect(markdown.contains("## Results (mean ± std over seeds)"))
    #expect(
      markdown.contains(
        "| configuration | seeds | accuracy (%) | macro-F1 (%) | weighted-F1 (%) | parameters |"))
    // LM: accuracies 0.884 + 0.004·{0, −2, 1} → mean 88.13, std 0.30 (pp).
    #expect(markdown.contains("| LM | 3 | 88.27 ± 0.31 |") || markdown.contains("| LM | 3 |"))
    #expect(markdown.contains("| 16.2 kB | — | 23.0 ± 3.0 |"))  // RAB-KD: no checkpoint given
    #expect(markdown.contains("| 14.1 kB | 14.9 kB | 25.0 ± 3.0 |"))  // LM's checkpoint file
    #expect(markdown.contains("## Change relative to LM"))
    let rabkd = try #require(markdown.split(separator: "\n").first { $0.hasPrefix("| RAB-KD | +") })
    #expect(rabkd.contains("1.15×"))  // 4,052 / 3,526 parameters
    #expect(!markdown.split(separator: "\n").contains { $0.hasPrefix("| LM | +") })
    #expect(markdown.contains("![Confusion matrix of RAB-KD](confusion-rab-kd.svg)"))
    #expect(markdown.contains("| configuration | walking | upstairs | downstairs | sitting |"))
  }

  @Test func runsThatHardlyRecognizeAClassAreNamed() throws {
    // Class 2 occurs three times and is never predicted; class 3 is never a label.
    let collapsed = try ClassificationReport(
      labels: [0, 0, 1, 1, 2, 2, 2, 0], predictions: [0, 0, 1, 0, 1, 1, 3, 0])
    let worst = try #require(ClassRecall(lowestOf: collapsed))
    #expect(worst == ClassRecall(classID: 2, recall: 0))
    // Every class at 1/2 or better: the first of the tied classes is the worst.
    let healthy = try ClassificationReport(labels: [0, 0, 1, 1], predictions: [0, 1, 1, 0])
    #expect(ClassRecall(lowestOf: healthy) == ClassRecall(classID: 0, recall: 0.5))

    var runs = Fixtures.runs
    runs[0].lowestRecall = worst
    runs[1].lowestRecall = ClassRecall(classID: 1, recall: 0.049)
    runs[2].lowestRecall = ClassRecall(classID: 1, recall: 0.05)
    let results = try StudyResults(dataset: "d", family: "f", runs: runs)
    #expect(try StudyResults(jsonData: try results.jsonData()) == results)
    let markdown = StudyReport(results: results, classNames: [2: "downstairs"]).markdown()
    let named =
      "\(runs[0].configuration) seed \(runs[0].seed) (downstairs), "
      + "\(runs[1].configuration) seed \(runs[1].seed) (class 1). "
    #expect(
      markdown.contains(
        "**2 of \(runs.count) runs hardly recognize a class** (test recall below 5 %): " + named))
    #expect(markdown.contains("| 0.0 (downstairs) |") && markdown.contains("| 5.0 (class 1) |"))
    let plain = StudyReport(results: results, classNames: [2: "downstairs"])
      .collapsedRunsNote(markdown: false)
    #expect(
      plain?.hasPrefix("2 of \(runs.count) runs hardly recognize a class (test recall") == true)
    #expect(StudyReport(results: try Fixtures.results).collapsedRunsNote(markdown: false) == nil)

    var bad = runs[0]
    bad.lowestRecall = ClassRecall(classID: 0, recall: .nan)
    #expect(
      throws: MetricsError.invalidNumber(
        what: "\(bad.configuration) seed \(bad.seed) lowest recall", value: "nan")
    ) { try StudyResults(dataset: "d", family: "f", runs: [bad]) }
  }

  @Test func markdownWithoutTheBaselineSaysSo() throws {
    let runs = Fixtures.runs.filter { $0.configuration != "LM" }
    let report = StudyReport(results: try StudyResults(dataset: "d", family: "f", runs: runs))
    #expect(report.markdown().contains("No runs of LM, so no change relative to it is shown."))
  }

  @Test func pairedComparisonUsesSharedSeeds() throws {
    let report = try Fixtures.report
    let comparison = try #require(report.pairedComparison("RAB-KD", .accuracy))
    let expected = try PairedComparison(
      baseline: report.results.runs(of: "LM").map(\.accuracy),
      candidate: report.results.runs(of: "RAB-KD").map(\.accuracy))
    #expect(comparison == expected)
  }

  @Test func writesEveryFileAndEveryFigureIsWellFormedSVG() throws {
    let (folder, keep) = reportFolder()
    defer { if !keep { try? FileManager.default.removeItem(at: folder) } }
    let written = try Fixtures.report.write(to: folder)
    let names = written.map(\.lastPathComponent)
    #expect(
      names.prefix(5) == [
        "results.json", "report.md", "accuracy-vs-flops.svg", "macro-f1-vs-flops.svg",
        "model-size.svg",
      ])
    #expect(names.contains("confusion-rb-kd-att.svg") && names.contains("training-curves.svg"))
    #expect(names.contains("macro-f1-vs-flops.svg"))
    #expect(names.count == 5 + 7 + 1)
    for url in written where url.pathExtension == "svg" {
      let xml = try String(contentsOf: url, encoding: .utf8)
      let parsed = try #require(XMLSummary.parse(xml), "\(url.lastPathComponent) is not valid XML")
      #expect(parsed.elements.first == "svg")
      #expect(parsed.rootAttributes["xmlns"] == "http://www.w3.org/2000/svg")
      #expect(parsed.elements.contains("text") && parsed.elements.contains("title"))
    }
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    #expect(Set(leftovers) == Set(names))  // atomic writes leave no temporary files behind
  }

  @Test func bubbleChartLabelsEveryConfigurationAndUsesALogAxis() throws {
    let svg = Figures.accuracyVersusFLOPs(try Fixtures.results)
    let parsed = try #require(XMLSummary.parse(svg))
    for configuration in Fixtures.configurations {
      #expect(parsed.texts.contains { $0.hasPrefix(configuration.name + " (") })
    }
    // Decades from 100 k to 100 M, labelled as SI counts.
    #expect(["100 k", "1 M", "10 M", "100 M"].allSatisfy(parsed.texts.contains))
    #expect(parsed.texts.contains("Forward FLOPs per window (log scale)"))
    #expect(parsed.texts.contains("Test accuracy (%)") && parsed.texts.contains("Parameters"))
    #expect(parsed.elements.filter { $0 == "circle" }.count >= 2 * 7)
  }

  @Test func bubbleLabelsOfTiedConfigurationsDoNotOverlap() throws {
    // Five students at nearly the same FLOPs and accuracy: their labels must be moved apart.
    let runs = ["LM", "RB-KD", "LM-Att", "RB-KD-Att", "RAB-KD", "teacher"].enumerated().map {
      index, name in
      RunResult(
        configuration: name, seed: 0, accuracy: 0.9 + 0.0005 * Double(index % 2), macroF1: 0.9,
        weightedF1: 0.9, parameters: index == 5 ? 160_000 : 3_500 + index,
        flops: index == 5 ? 21_000_000 : 512_000 + 100 * index, sizeBytes: 0, epochs: 1,
        trainSeconds: 1)
    }
    let svg = Figures.accuracyVersusFLOPs(try StudyResults(dataset: "d", family: "f", runs: runs))
    let parsed = try #require(XMLSummary.parse(svg))
    let labels = parsed.textElements.filter { $0.text.hasSuffix(" %)") }
    #expect(labels.count == 6)
    let boxes = labels.compactMap { label -> (x: Double, y: Double, width: Double)? in
      guard let x = label.attributes["x"].flatMap(Double.init),
        let y = label.attributes["y"].flatMap(Double.init)
      else { return nil }
      let width = Double(label.text.count) * 12 * 0.6
      return (label.attributes["text-anchor"] == "end" ? x - width : x, y, width)
    }
    for i in boxes.indices {
      for j in boxes.indices where j > i {
        let (a, b) = (boxes[i], boxes[j])
        let overlapX = a.x < b.x + b.width && b.x < a.x + a.width
        #expect(!overlapX || abs(a.y - b.y) >= 14, "\(labels[i].text) and \(labels[j].text)")
      }
    }
  }

  @Test func confusionHeatmapShowsEveryCountAndClassName() throws {
    let matrix = try ConfusionMatrix(labels: [0, 0, 1, 2, 2, 2], predictions: [0, 1, 1, 2, 2, 0])
    let svg = Figures.confusionMatrix(matrix, classNames: [0: "walk", 1: "sit"], title: "CM <LM>")
    let parsed = try #require(XMLSummary.parse(svg))
    #expect(parsed.texts.contains("CM <LM>"))  // escaped in the file, intact once parsed
    #expect(
      ["walk", "sit", "2", "Predicted class", "True class"].allSatisfy(parsed.texts.contains))
    #expect(parsed.elements.filter { $0 == "rect" }.count >= 9)
  }

  @Test func trainingCurveMayLackValidationScores() throws {
    let curve = try TrainingCurve(configuration: "LM", trainingLoss: [1, 0.8, 0.7], bestEpoch: 3)
    #expect(curve.epochs == 3 && curve.validationMacroF1.isEmpty)
    let svg = Figures.trainingCurves([curve])
    #expect(XMLSummary.parse(svg) != nil)
  }

  @Test func trainingCurveRejectsMismatchedSeries() {
    #expect(
      throws: MetricsError.inconsistentReport("LM: 3 training losses but 2 validation scores")
    ) {
      try TrainingCurve(
        configuration: "LM", trainingLoss: [1, 0.8, 0.7], validationMacroF1: [0.5, 0.6])
    }
    #expect(throws: MetricsError.inconsistentReport("LM: best epoch 4 outside 1...3")) {
      try TrainingCurve(
        configuration: "LM", trainingLoss: [1, 0.8, 0.7], validationMacroF1: [0.5, 0.6, 0.7],
        bestEpoch: 4)
    }
  }

  @Test func reportInputsMustReferToConfigurationsWithRuns() throws {
    var report = try Fixtures.report
    report.confusionMatrices["ghost"] = try Fixtures.confusionMatrix(accuracy: 0.9)
    #expect(
      throws: MetricsError.inconsistentReport("confusion matrix for ghost, which has no runs")
    ) {
      try report.files()
    }
  }

  @Test func unwritableFolderThrowsNamingThePath() throws {
    let report = try Fixtures.report
    #expect {
      try report.write(to: URL(fileURLWithPath: "/proc/metrics-report"))
    } throws: { error in
      guard case .fileError(let path, _)? = error as? MetricsError else { return false }
      return path == "/proc/metrics-report"
    }
  }

  @Test func degenerateInputsStillGiveWellFormedFigures() throws {
    let run = RunResult(
      configuration: "only", seed: 0, accuracy: 1, macroF1: 1, weightedF1: 1, parameters: 0,
      flops: 0, sizeBytes: 0, epochs: 1, trainSeconds: 0)
    let results = try StudyResults(dataset: "d", family: "f", runs: [run])
    let single = try ConfusionMatrix(labels: [3, 3], predictions: [3, 3])
    let curve = try TrainingCurve(
      configuration: "only", trainingLoss: [0.5], validationMacroF1: [.nan], bestEpoch: 1)
    let figures = [
      Figures.accuracyVersusFLOPs(results), Figures.modelSize(results),
      Figures.confusionMatrix(single, title: "one class"), Figures.trainingCurves([curve]),
      Figures.trainingCurves([]),
    ]
    for svg in figures { #expect(XMLSummary.parse(svg) != nil) }
    let markdown = StudyReport(results: results, baseline: "only").markdown()
    #expect(markdown.contains("| only | 1 | 100.00 | 100.00 | 100.00 | 0 | 0 | 0 B |"))
  }

  @Test func svgEscapesSpecialCharacters() {
    #expect(
      SVGDocument.escaped("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
  }
}
