import Datasets
import Foundation
import Testing

private let recordings = """
  time,subject,activity,ax,ay,az,note
  10,1,walk,1.5,2,3,x
  20,1,walk,-1,0.25,1e-1,x
  30,1,walk,4,5,6,
  40,1,sit,7,8,9,y
  50,2,sit,0,0,0,z
  60,2,sit,1,1,1,z

  """

@Suite("CSV")
struct CSVTests {
  let layout = CSV.Layout(subject: "subject", label: "activity", channels: ["az", "ax"])

  @Test func readsNamedColumnsInLayoutOrder() throws {
    let folder = FixtureFolder()
    let path = folder.write("mine.csv", recordings)
    let (streams, classNames) = try CSV.loadRecordings(path, layout: layout)
    // Classes in sorted name order.
    #expect(classNames == ["sit", "walk"])
    #expect(
      streams == [
        LabeledStream(
          values: [3, 1.5, 0.1, -1, 6, 4, 9, 7], channelCount: 2, labels: [1, 1, 1, 0], subject: 1),
        LabeledStream(values: [0, 0, 1, 1], channelCount: 2, labels: [0, 0], subject: 2),
      ])
  }

  @Test func windowsWithTimestampsAndGivenClasses() throws {
    let folder = FixtureFolder()
    let path = folder.write("mine.csv", recordings.replacingOccurrences(of: "\n", with: "\r\n"))
    var layout = layout
    layout.timestamp = "time"
    layout.classNames = ["walk", "sit", "run"]
    let windows = try CSV.load(
      path, layout: layout, windowing: WindowingOptions(length: 2, step: 1, maxGap: 10))
    #expect(windows.shape == [3, 2, 2])
    #expect(windows.labels == [0, 0, 1])
    #expect(windows.subjects == [1, 1, 2])
    #expect(Array(windows.window(1)) == [0.1, -1, 6, 4])
    #expect(windows.classCounts() == [2, 1, 0])
  }

  @Test func missingColumnIsReported() {
    let folder = FixtureFolder()
    let path = folder.write("mine.csv", recordings)
    let layout = CSV.Layout(subject: "subject", label: "activity", channels: ["gx"])
    #expect(
      throws: DatasetError.malformedLine(
        path: path, line: 1, column: 1, expected: "a column named \"gx\"",
        found: "time,subject,activity,ax,ay,az,note")
    ) { try CSV.loadRecordings(path, layout: layout) }
  }

  @Test func wrongFieldCountIsReported() {
    let folder = FixtureFolder()
    let path = folder.write("mine.csv", "subject,activity,ax,az\n1,walk,1,2\n1,walk,3\n")
    #expect(
      throws: DatasetError.malformedLine(
        path: path, line: 3, column: 1, expected: "4 comma-separated fields", found: "1,walk,3")
    ) { try CSV.loadRecordings(path, layout: layout) }
  }

  @Test func badNumberIsLocated() {
    let folder = FixtureFolder()
    let path = folder.write("mine.csv", "subject,activity,ax,az\n1,walk,1,2..5\n")
    #expect(
      throws: DatasetError.malformedLine(
        path: path, line: 2, column: 10, expected: "a number", found: "2..5")
    ) { try CSV.loadRecordings(path, layout: layout) }
  }

  @Test func nonFiniteValueIsLocated() {
    let folder = FixtureFolder()
    let path = folder.write("mine.csv", "subject,activity,ax,az\n1,walk,nan,2\n")
    #expect(throws: DatasetError.nonFiniteValue(path: path, line: 2, column: 8, found: "nan")) {
      try CSV.loadRecordings(path, layout: layout)
    }
  }

  @Test func unknownActivityIsReported() {
    let folder = FixtureFolder()
    let path = folder.write("mine.csv", recordings)
    var layout = layout
    layout.classNames = ["walk", "run"]
    #expect(
      throws: DatasetError.unknownActivity(
        path: path, line: 5, column: 6, found: "sit", known: ["walk", "run"])
    ) { try CSV.loadRecordings(path, layout: layout) }
  }

  @Test func emptyFileAndHeaderOnlyFileAreReported() {
    let folder = FixtureFolder()
    let empty = folder.write("empty.csv", "\n")
    #expect(throws: DatasetError.empty(path: empty)) {
      try CSV.loadRecordings(empty, layout: layout)
    }
    let header = folder.write("header.csv", "subject,activity,ax,az\n")
    #expect(throws: DatasetError.empty(path: header)) {
      try CSV.loadRecordings(header, layout: layout)
    }
  }

  @Test func missingFileNamesTheExpectedColumns() {
    let folder = FixtureFolder()
    #expect(
      throws: DatasetError.missing(
        path: folder.path + "/none.csv",
        expected: "a CSV file with a header naming the columns subject, activity and az, ax")
    ) { try CSV.loadRecordings(folder.path + "/none.csv", layout: layout) }
  }

  @Test func noWindowsIsAnError() {
    let folder = FixtureFolder()
    let path = folder.write("mine.csv", recordings)
    #expect(throws: DatasetError.noWindows(source: path, reason: "no window of 5 samples")) {
      try CSV.load(path, layout: layout, windowing: WindowingOptions(length: 5, step: 1))
    }
  }
}
