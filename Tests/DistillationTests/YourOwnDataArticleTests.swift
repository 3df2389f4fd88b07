import Datasets
import Distillation
import Foundation
import Layers
import Tensor
import TestSupport
import Testing

// The code of the "Your own data" article (Sources/Distillation/Distillation.docc), compiled and
// run here on a CSV file the test writes; `articleQuotesOnlyCompiledCode` fails when the article
// and this file drift apart.

/// A long-format CSV like a smartwatch export: 8 subjects, 4 activities of 300 samples each, 6
/// channels; activity `a` is a sine of `a + 1` cycles per 100 samples in Gaussian noise.
private func writeRecordings(to url: URL) throws {
  let activities = ["walk", "run", "sit", "stairs"]
  var generator = SplitMix64(seed: 11)
  let noise = Tensor.normal([8 * 4 * 300 * 6], using: &generator).scalars
  var lines = ["user,activity,ax,ay,az,gx,gy,gz"]
  var k = 0
  for subject in 1...8 {
    for (a, activity) in activities.enumerated() {
      for t in 0..<300 {
        var fields = ["\(subject)", activity]
        for c in 0..<6 {
          let phase = 2 * Double.pi * Double(a + 1) * Double(t) / 100 + 0.5 * Double(c)
          fields.append("\(Float(sin(phase)) + 0.8 * noise[k])")
          k += 1
        }
        lines.append(fields.joined(separator: ","))
      }
    }
  }
  try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
}

@Suite("Your own data article")
struct YourOwnDataArticleTests {
  @Test func fromCSVToCheckpoint() throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("your-own-data-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("recordings.csv").path
    try writeRecordings(to: URL(fileURLWithPath: path))
    let studentURL = folder.appendingPathComponent("student.safetensors")

    // One row per sample: who, what, and the six channels, by their header names.
    let layout = CSV.Layout(
      subject: "user", label: "activity", channels: ["ax", "ay", "az", "gx", "gy", "gz"])
    let windows = try CSV.load(
      path, layout: layout, windowing: WindowingOptions(length: 100, step: 50))
    let data = try PreparedData(windows.split(testSubjects: [7, 8]))
    print(data.summary)

    var generator = SplitMix64(seed: 1, stream: .initialization)
    let (channels, classes) = (data.channelCount, data.classNames.count)
    let teacher = ReferenceModel.teacherAtt.make(
      channels: channels, classes: classes, generator: &generator)
    let student = ReferenceModel.lmAtt.make(
      channels: channels, classes: classes, generator: &generator)

    var settings = DistillerSettings()
    settings.teacherTraining = .toTheEnd(epochs: 100)  // an untrained teacher: train it fully
    let distiller = Distiller(teacher: teacher, student: student, settings: settings)
    let result = try distiller.distill(on: data)

    print(result.check.line)  // the teacher's validation scores and confidence at τ
    print("distilled: \(result.report.line)")
    if let plain = result.plainReport { print("plain:     \(plain.line)") }
    for warning in result.warnings { print(warning) }

    try Checkpoint(model: result.student, card: data.modelCard(for: result.student))
      .write(to: studentURL)

    #expect(data.classNames == ["run", "sit", "stairs", "walk"])
    #expect(data.subjects.test == [7, 8])
    #expect(data.channelCount == 6 && data.windowLength == 100)
    #expect(result.teacherHistory?.epochs.count == 100)
    #expect(result.plainReport != nil)
    #expect(result.report.confusionMatrix.total == data.test.count)
    // The file alone rebuilds the student, with what new recordings need.
    let (reloaded, card) = try Checkpoint.loadModel(from: studentURL)
    #expect(card.windowLength == 100 && card.classNames == data.classNames)
    #expect(try reloaded.evaluate(on: data.test) == result.report)
  }

  @Test func packageDeclarations() throws {
    let manifest = """
      dependencies: [
        .package(url: "https://github.com/you/HARDistill.git", from: "1.0.0"),
      ],
      """
    let local = """
      dependencies: [
        .package(path: "../HARDistill"),
      ],
      targets: [
        .executableTarget(
          name: "MyWatchModel",
          dependencies: [.product(name: "HARDistill", package: "HARDistill")]),
      ]
      """
    // The product the declarations name is the package's library product of that name.
    let root = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let package = try String(
      contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
    #expect(package.contains("name: \"HARDistill\""))
    #expect(manifest.contains(".package(url:") && local.contains(".package(path:"))
  }

  @Test func articleQuotesOnlyCompiledCode() throws {
    let drifted = try unquotedArticleBlocks(
      "Sources/Distillation/Distillation.docc/YourOwnData.md",
      quotesOnly: ["Tests/DistillationTests/YourOwnDataArticleTests.swift"])
    #expect(drifted.isEmpty, "\(drifted.joined(separator: "\n\n"))")
  }
}
