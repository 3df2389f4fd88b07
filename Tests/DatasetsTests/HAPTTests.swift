import Datasets
import Foundation
import Testing

/// A two-experiment HAPT folder: user 1 (train) and user 2 (test), 6 samples each.
private func makeHAPT(_ folder: FixtureFolder) {
  folder.write(
    "RawData/acc_exp01_user01.txt",
    """
    1 2 3
    4 5 6
    7 8 9
    10 11 12
    13 14 15
    16 17 18

    """)
  folder.write(
    "RawData/gyro_exp01_user01.txt",
    """
    -1 -2 -3
    -4 -5 -6
    -7 -8 -9
    -10 -11 -12
    -13 -14 -15
    -16 -17 -18

    """)
  folder.write(
    "RawData/acc_exp02_user02.txt",
    "0.5 1e-001 -9.16297827e-05\r\n0.5 0.5 0.5\r\n1 1 1\r\n2 2 2\r\n3 3 3\r\n4 4 4\r\n")
  folder.write(
    "RawData/gyro_exp02_user02.txt",
    "0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n0 0 0\n")
  folder.write(
    "RawData/labels.txt",
    """
    1 1 5 1 4
    1 1 7 5 6
    2 2 1 2 6

    """)
}

@Suite("UCI HAPT")
struct HAPTTests {
  @Test func readsRecordingsWithLabelsPerSample() throws {
    let folder = FixtureFolder()
    makeHAPT(folder)
    let (streams, classNames) = try HAPT.loadRecordings(from: folder.path)
    #expect(classNames == Array(HAPT.activityNames.prefix(6)))
    #expect(streams.count == 2)
    #expect(streams[0].subject == 1)
    #expect(streams[0].channelCount == 6)
    #expect(Array(streams[0].values.prefix(12)) == [1, 2, 3, -1, -2, -3, 4, 5, 6, -4, -5, -6])
    // Activity 5 (STANDING) on samples 1–4; the transition 7 is unlabelled with 6 classes.
    #expect(streams[0].labels == [4, 4, 4, 4, -1, -1])
    #expect(streams[1].labels == [-1, 0, 0, 0, 0, 0])
    #expect(Array(streams[1].values.prefix(3)) == [0.5, 0.1, -9.16297827e-05])
  }

  @Test func includesTransitionsOnRequest() throws {
    let folder = FixtureFolder()
    makeHAPT(folder)
    let (streams, classNames) = try HAPT.loadRecordings(
      from: folder.path + "/RawData", includeTransitions: true)
    #expect(classNames.count == 12)
    #expect(streams[0].labels == [4, 4, 4, 4, 6, 6])
  }

  @Test func windowsInsideSegmentsAndSplitsBySubject() throws {
    let folder = FixtureFolder()
    makeHAPT(folder)
    let split = try HAPT.load(
      from: folder.path, windowing: WindowingOptions(length: 3, step: 1))
    #expect(split.train.shape == [2, 3, 6])
    #expect(split.train.labels == [4, 4])
    #expect(split.train.subjects == [1, 1])
    #expect(
      Array(split.train.window(1))
        == [4, 5, 6, -4, -5, -6, 7, 8, 9, -7, -8, -9, 10, 11, 12, -10, -11, -12])
    #expect(split.test.shape == [3, 3, 6])
    #expect(split.test.labels == [0, 0, 0])
    #expect(split.test.subjects == [2, 2, 2])
    #expect(Array(split.test.window(0).prefix(6)) == [0.5, 0.5, 0.5, 0, 0, 0])
    #expect(split.train.classCounts() == [0, 0, 0, 0, 2, 0])
  }

  @Test func missingFolderNamesTheLayout() {
    let folder = FixtureFolder()
    #expect(throws: DatasetError.missing(path: folder.path + "/RawData", expected: HAPT.layout)) {
      try HAPT.loadRecordings(from: folder.path)
    }
  }

  @Test func missingGyroFileIsNamed() {
    let folder = FixtureFolder()
    makeHAPT(folder)
    folder.remove("RawData/gyro_exp02_user02.txt")
    let path = folder.path + "/RawData/gyro_exp02_user02.txt"
    #expect(throws: DatasetError.missing(path: path, expected: HAPT.layout)) {
      try HAPT.loadRecordings(from: folder.path)
    }
  }

  @Test func malformedLineNamesFileLineAndColumn() {
    let folder = FixtureFolder()
    makeHAPT(folder)
    let path = folder.write("RawData/acc_exp01_user01.txt", "1 2 3\n4 x5 6\n")
    let expected = DatasetError.malformedLine(
      path: path, line: 2, column: 3, expected: "a number", found: "x5 6")
    #expect(throws: expected) { try HAPT.loadRecordings(from: folder.path) }
    #expect(expected.description == "\(path):2:3: expected a number, found \"x5 6\"")
  }

  @Test func shortLineIsMalformed() {
    let folder = FixtureFolder()
    makeHAPT(folder)
    let path = folder.write("RawData/acc_exp01_user01.txt", "1 2 3\r\n0.7 0.1\r\n")
    #expect(
      throws: DatasetError.malformedLine(
        path: path, line: 2, column: 1, expected: "3 numbers", found: "0.7 0.1")
    ) { try HAPT.loadRecordings(from: folder.path) }
  }

  @Test func longLineIsMalformed() {
    let folder = FixtureFolder()
    makeHAPT(folder)
    let path = folder.write("RawData/acc_exp01_user01.txt", "1 2 3 4\n")
    #expect(
      throws: DatasetError.malformedLine(
        path: path, line: 1, column: 7, expected: "end of line after 3 numbers", found: "4")
    ) { try HAPT.loadRecordings(from: folder.path) }
  }

  @Test func nonFiniteValueIsLocated() {
    let folder = FixtureFolder()
    makeHAPT(folder)
    let path = folder.write("RawData/gyro_exp01_user01.txt", "1 2 3\n4 5 NaN\n")
    #expect(throws: DatasetError.nonFiniteValue(path: path, line: 2, column: 5, found: "NaN")) {
      try HAPT.loadRecordings(from: folder.path)
    }
  }

  @Test func emptyFileIsReported() {
    let folder = FixtureFolder()
    makeHAPT(folder)
    let path = folder.write("RawData/acc_exp02_user02.txt", "\n\n")
    #expect(throws: DatasetError.empty(path: path)) { try HAPT.loadRecordings(from: folder.path) }
  }

  @Test func unequalAccAndGyroLengthsAreReported() {
    let folder = FixtureFolder()
    makeHAPT(folder)
    let gyro = folder.write("RawData/gyro_exp02_user02.txt", "0 0 0\n")
    #expect(
      throws: DatasetError.lengthMismatch(
        path: gyro, rows: 1, otherPath: folder.path + "/RawData/acc_exp02_user02.txt",
        otherRows: 6)
    ) { try HAPT.loadRecordings(from: folder.path) }
  }

  @Test func intervalOutsideTheRecordingIsReported() {
    let folder = FixtureFolder()
    makeHAPT(folder)
    let labels = folder.write("RawData/labels.txt", "1 1 5 1 4\n2 2 1 3 7\n")
    let error = DatasetError.intervalOutOfRange(
      path: labels, line: 2, start: 3, end: 7,
      recording: folder.path + "/RawData/acc_exp02_user02.txt", samples: 6)
    #expect(throws: error) { try HAPT.loadRecordings(from: folder.path) }
    #expect(
      error.description
        == "\(labels):2: expected an interval inside samples 1...6 of "
        + "\(folder.path)/RawData/acc_exp02_user02.txt, found \"3 7\"")
  }

  @Test func unknownActivityIDIsReported() {
    let folder = FixtureFolder()
    makeHAPT(folder)
    let labels = folder.write("RawData/labels.txt", "1 1 13 1 4\n")
    #expect(
      throws: DatasetError.unknownActivity(
        path: labels, line: 1, column: 5, found: "13", known: (1...12).map { "\($0)" })
    ) { try HAPT.loadRecordings(from: folder.path) }
  }

  @Test func noWindowsIsAnError() {
    let folder = FixtureFolder()
    makeHAPT(folder)
    #expect(
      throws: DatasetError.noWindows(
        source: folder.path, reason: "no training window of 128 samples")
    ) { try HAPT.load(from: folder.path) }
  }
}

/// Runs only where the real recordings are; otherwise the test is reported as skipped with this
/// reason.
private let needsRealHAPT = ConditionTrait.enabled(
  if: RealData.hapt != nil,
  "no RawData/labels.txt under ../shared/datasets/uci-hapt (set HARDISTILL_HAPT to the folder)")

@Suite("UCI HAPT, real recordings")
struct HAPTRealDataTests {
  @Test(needsRealHAPT) func windowAndClassCountsPerSplit() throws {
    let root = try #require(RealData.hapt)
    let clock = ContinuousClock()
    var split: TrainTestSplit?
    let elapsed = try clock.measure { split = try HAPT.load(from: root) }
    let hapt = try #require(split)
    // A timing print only: speed is never asserted in tests.
    print("HAPT: all 61 experiments loaded and windowed in \(elapsed)")
    print(hapt.summary)
    // Cross-checked with labels.txt alone: Σ over intervals of ⌊(length − 128) / 64⌋ + 1.
    #expect(hapt.train.shape == [7415, 128, 6])
    #expect(hapt.test.shape == [2996, 128, 6])
    #expect(hapt.train.classCounts() == [1226, 1073, 987, 1293, 1423, 1413])
    #expect(hapt.test.classCounts() == [496, 471, 420, 508, 556, 545])
    #expect(
      hapt.train.subjectIDs
        == [1, 3, 5, 6, 7, 8, 11, 14, 15, 16, 17, 19, 21, 22, 23, 25, 26, 27, 28, 29, 30])
    #expect(hapt.test.subjectIDs == SubjectLists.uciHARTest)
    // labels.txt row 1 is `1 1 5 250 1232`: the first window starts at sample 250 of exp01.
    let acc = try String(contentsOfFile: root + "/RawData/acc_exp01_user01.txt", encoding: .utf8)
    let row250 = acc.split(separator: "\n")[249].split(separator: " ").map { Float($0)! }
    #expect(Array(hapt.train.window(0).prefix(3)) == row250)
    #expect(hapt.train.labels[0] == 4)
  }

  @Test(needsRealHAPT) func transitionsAddSixClasses() throws {
    let root = try #require(RealData.hapt)
    let hapt = try HAPT.load(from: root, includeTransitions: true)
    // Transitions last 2–5 s, so most give one window of 2.56 s, some none.
    #expect(
      hapt.train.classCounts() == [1226, 1073, 987, 1293, 1423, 1413, 47, 23, 75, 60, 90, 57])
    #expect(hapt.test.classCounts() == [496, 471, 420, 508, 556, 545, 23, 10, 32, 25, 49, 27])
  }

  @Test(needsRealHAPT) func byteParserMatchesFloatParsingOnEveryValue() throws {
    let root = try #require(RealData.hapt)
    let (streams, _) = try HAPT.loadRecordings(from: root, includeTransitions: true)
    for (index, name) in [(0, "acc_exp01_user01"), (60, "gyro_exp61_user30")].map({ $0 }) {
      let text = try String(contentsOfFile: root + "/RawData/\(name).txt", encoding: .utf8)
      let expected = text.split(separator: "\n").flatMap { line in
        line.split(separator: " ").map { Float($0)! }
      }
      let offset = name.hasPrefix("acc") ? 0 : 3
      let stream = streams[index]
      var mismatches = 0
      for t in 0..<stream.sampleCount {
        for c in 0..<3 where stream.values[t * 6 + offset + c] != expected[t * 3 + c] {
          mismatches += 1
        }
      }
      #expect(stream.sampleCount * 3 == expected.count)
      #expect(mismatches == 0, "\(name): \(mismatches) values differ from Float(String)")
    }
  }
}
