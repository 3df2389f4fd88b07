import Datasets
import Foundation
import Testing

// The code of the "Data sets" article (Sources/Datasets/Datasets.docc), compiled and run here on
// small fixtures; `articleQuotesOnlyCompiledCode` fails when the article and this code drift
// apart.

@Suite("Data sets article")
struct DataSetsArticleTests {
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

  @Test func articleQuotesOnlyCompiledCode() throws {
    let root = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    func normalized(_ text: some StringProtocol) -> String {
      text.split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        .joined(separator: "\n")
    }
    let article = try String(
      contentsOf: root.appendingPathComponent("Sources/Datasets/Datasets.docc/DataSets.md"),
      encoding: .utf8)
    let source = normalized(
      try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8))
    let blocks = article.components(separatedBy: "```swift\n").dropFirst()
      .map { normalized($0.components(separatedBy: "```")[0]) }
    #expect(!blocks.isEmpty)
    for block in blocks {
      #expect(source.contains(block), "DataSets.md: this block is not compiled here:\n\(block)")
    }
  }
}
