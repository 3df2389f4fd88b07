import Datasets
import Foundation
import Testing

// The code of the module overview and the "Loading data sets" article
// (Sources/Datasets/Datasets.docc), compiled and run here on small fixtures;
// `articlesQuoteOnlyCompiledCode` fails when the articles and this code drift apart.

@Suite("Datasets articles")
struct ArticleTests {
  /// A UCI HAPT folder: users 1, 3 and 5 (training) and 2 (test), 300 samples each, walking for
  /// samples 1–150 and sitting for 151–300; each user's values are offset by the user id.
  static func writeHAPT(_ folder: FixtureFolder) {
    var labels = ""
    for (experiment, user) in [1, 2, 3, 5].enumerated() {
      let name = "exp0\(experiment + 1)_user0\(user)"
      let rows = (0..<300).map { t in "\(user * 10 + t % 7) \(t % 3) \(-user)\n" }.joined()
      folder.write("RawData/acc_\(name).txt", rows)
      folder.write("RawData/gyro_\(name).txt", rows)
      labels += "\(experiment + 1) \(user) 1 1 150\n\(experiment + 1) \(user) 4 151 300\n"
    }
    folder.write("RawData/labels.txt", labels)
  }

  @Test func overviewSplitsBeforeItStandardizes() throws {
    let folder = FixtureFolder()
    Self.writeHAPT(folder)
    let path = folder.path

    let split = try HAPT.load(from: path)  // [n, 128, 6], test subjects: the UCI HAR list
    let parts = try split.train.stratifiedValidationSplit(fraction: 0.2, seed: 1)
    let standardizer = ChannelStandardizer(fittedTo: parts.train)  // training part only
    let train = standardizer.standardized(parts.train)
    let validation = standardizer.standardized(parts.validation)
    let test = standardizer.standardized(split.test)
    print(split.summary)

    #expect(parts.validationSubjects.count == 1)
    #expect(Set(parts.validation.labels) == [0, 3] && Set(parts.train.labels) == [0, 3])
    // Fitted on the two training subjects only: their first channel has mean 0 …
    let channels = train.channelCount
    let firstChannel = stride(from: 0, to: train.values.count, by: channels).map {
      train.values[$0]
    }
    #expect(abs(firstChannel.reduce(0, +) / Float(firstChannel.count)) < 1e-4)
    // … and the fit differs from one on the whole training set.
    #expect(standardizer != ChannelStandardizer(fittedTo: split.train))
    #expect(validation.count == parts.validation.count && test.count == split.test.count)
  }

  @Test func validationSubjects() throws {
    // 30 subjects walking and sitting; only subjects 1–10 also lying.
    var pairs: [(subject: Int, label: Int)] = []
    for subject in 1...30 {
      pairs += [(subject, 0), (subject, 1)] + (subject <= 10 ? [(subject, 2)] : [])
    }
    let windows = LabeledWindows(
      values: pairs.indices.map(Float.init), shape: [pairs.count, 1, 1],
      labels: pairs.map(\.label), subjects: pairs.map(\.subject),
      classNames: ["walk", "sit", "lie"])
    let split = windows.split(testSubjects: SubjectLists.uciHARTest)

    let parts = try split.validationSplit(subjects: 25...30, missingClasses: .warn)
    for warning in parts.warnings { print(warning) }  // validation split: expected a window of …

    #expect(
      parts.warnings == [
        "validation split: expected a window of every class in the validation part, found "
          + "none of lie"
      ])
    #expect(throws: DatasetError.self) { try split.validationSplit(subjects: 25...30) }
  }
  /// A WISDM v1.1 file for users 1 (training) and 30 (test), 120 records each at 20 Hz, with the
  /// kinds of damage the real file has on two lines.
  static func dirtyWISDM() -> String {
    var lines: [String] = []
    for user in [1, 30] {
      for i in 0..<120 {
        let time = 1_000_000_000 + i * 50_000_000
        lines.append("\(user),Walking,\(time),\(Float(i % 7) * 0.5),9.8,0.\(i % 10);")
      }
    }
    lines[5] = "1,Walking,1250000000,0.5,9.8;"  // a missing z value
    lines[150] += "30,Walking,0,0,0,0;"  // a second record on the line, with a zero timestamp
    return lines.joined(separator: "\n") + "\n"
  }

  @Test func lenientWISDM() throws {
    let folder = FixtureFolder()
    let path = folder.write("WISDM_ar_v1.1_raw.txt", Self.dirtyWISDM())
    #expect(throws: DatasetError.self) { try WISDM.load(from: path) }

    let split = try WISDM.load(from: path, policy: .skip)
    for record in split.skipped { print(record) }  // path:line:column: expected …, found …

    #expect(split.skipped.count == 2)
    #expect(split.train.shape == [1, 100, 3] && split.test.shape == [1, 100, 3])
  }

  @Test func ownCSV() throws {
    let folder = FixtureFolder()
    var text = "time,subject,activity,ax,ay,az\n"
    for subject in 1...3 {
      for i in 0..<8 {
        text += "\(i * 20),\(subject),\(i < 4 ? "walk" : "sit"),\(i),\(subject),0.5\n"
      }
    }
    let path = folder.write("mine.csv", text)

    let layout = CSV.Layout(
      subject: "subject", label: "activity", channels: ["ax", "ay", "az"], timestamp: "time")
    let windows = try CSV.load(
      path, layout: layout, windowing: WindowingOptions(length: 4, step: 2))
    let (split, standardizer) = windows.split(testSubjects: [3]).standardized()

    #expect(windows.shape == [6, 4, 3])
    #expect(windows.classNames == ["sit", "walk"])
    #expect(split.train.count == 4 && split.test.count == 2)
    _ = standardizer
  }

  @Test func articlesQuoteOnlyCompiledCode() throws {
    let root = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    func normalized(_ text: some StringProtocol) -> String {
      text.split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        .joined(separator: "\n")
    }
    let source = normalized(
      try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8))
    for name in ["Datasets.md", "LoadingData.md"] {
      let article = try String(
        contentsOf: root.appendingPathComponent("Sources/Datasets/Datasets.docc/" + name),
        encoding: .utf8)
      let blocks = article.components(separatedBy: "```swift\n").dropFirst()
        .map { normalized($0.components(separatedBy: "```")[0]) }
      #expect(!blocks.isEmpty, "\(name) has no Swift block")
      for block in blocks {
        #expect(source.contains(block), "\(name): this block is not compiled here:\n\(block)")
      }
    }
  }
}
