import Datasets
import Foundation
import Testing

/// A value that prints exactly in UCI HAR's `%.7e` style: a multiple of 1/8.
private func value(channel: Int, window: Int, time: Int) -> Float {
  Float(channel * 1000 + window * 200 + time) / 8
}

/// `v` as UCI HAR writes it: two leading blanks, 8 significant digits, a three-digit exponent.
private func uciText(_ v: Float) -> String {
  let text = String(format: "%.7e", Double(v))  // 1.2500000e-01
  let parts = text.split(separator: "e")
  let exponent = Int(parts[1])!
  let sign = exponent < 0 ? "-" : "+"
  let digits = String(abs(exponent))
  return "  \(parts[0])e\(sign)\(String(repeating: "0", count: 3 - digits.count))\(digits)"
}

/// A `UCI HAR Dataset` folder with 2 training windows (subjects 1, 3) and 1 test window
/// (subject 2); the test part uses CRLF line ends.
private func makeUCIHAR(_ folder: FixtureFolder) {
  for (part, windows, newline) in [("train", [0, 1], "\n"), ("test", [2], "\r\n")] {
    for (c, channel) in UCIHAR.channelNames.enumerated() {
      let rows = windows.map { w in
        (0..<128).map { uciText(value(channel: c, window: w, time: $0)) }.joined()
      }
      folder.write(
        "UCI HAR Dataset/\(part)/Inertial Signals/\(channel)_\(part).txt",
        rows.joined(separator: newline) + newline)
    }
  }
  folder.write("UCI HAR Dataset/train/y_train.txt", "5\n1\n")
  folder.write("UCI HAR Dataset/train/subject_train.txt", "1\n3\n")
  folder.write("UCI HAR Dataset/test/y_test.txt", "6\r\n")
  folder.write("UCI HAR Dataset/test/subject_test.txt", "2\r\n")
}

@Suite("UCI HAR")
struct UCIHARTests {
  @Test func readsTheOfficialSplitExactly() throws {
    let folder = FixtureFolder()
    makeUCIHAR(folder)
    #expect(uciText(0.125) == "  1.2500000e-001")
    let split = try UCIHAR.load(from: folder.path)
    #expect(split.train.shape == [2, 128, 9])
    #expect(split.train.labels == [4, 0])
    #expect(split.train.subjects == [1, 3])
    #expect(split.test.shape == [1, 128, 9])
    #expect(split.test.labels == [5])
    #expect(split.test.subjects == [2])
    #expect(split.train.classNames == UCIHAR.activityNames)
    var expected: [Float] = []
    for w in [0, 1] {
      for t in 0..<128 { for c in 0..<9 { expected.append(value(channel: c, window: w, time: t)) } }
    }
    #expect(split.train.values == expected)
    // Window 2, time 0: channel c is (c * 1000 + 400) / 8; time 1 starts with 401 / 8.
    #expect(
      Array(split.test.window(0).prefix(10))
        == [50, 175, 300, 425, 550, 675, 800, 925, 1050, 50.125])
  }

  @Test func acceptsTheInnerFolder() throws {
    let folder = FixtureFolder()
    makeUCIHAR(folder)
    let split = try UCIHAR.load(from: folder.path + "/UCI HAR Dataset")
    #expect(split.train.count == 2)
  }

  @Test func missingSignalFileNamesPathAndLayout() {
    let folder = FixtureFolder()
    makeUCIHAR(folder)
    let relative = "UCI HAR Dataset/test/Inertial Signals/body_gyro_y_test.txt"
    folder.remove(relative)
    #expect(
      throws: DatasetError.missing(path: folder.path + "/" + relative, expected: UCIHAR.layout)
    ) { try UCIHAR.load(from: folder.path) }
  }

  @Test func missingFolderNamesTheLayout() {
    let folder = FixtureFolder()
    #expect(
      throws: DatasetError.missing(
        path: folder.path + "/UCI HAR Dataset/train", expected: UCIHAR.layout)
    ) { try UCIHAR.load(from: folder.path) }
  }

  @Test func shortRowIsMalformed() {
    let folder = FixtureFolder()
    makeUCIHAR(folder)
    let row = (0..<127).map { _ in uciText(0.5) }.joined()
    let path = folder.write(
      "UCI HAR Dataset/train/Inertial Signals/body_acc_x_train.txt", row + "\n")
    #expect(
      throws: DatasetError.malformedLine(
        path: path, line: 1, column: 1, expected: "128 numbers",
        found: String(row.prefix(60)))
    ) { try UCIHAR.load(from: folder.path) }
  }

  @Test func nonFiniteValueIsLocated() {
    let folder = FixtureFolder()
    makeUCIHAR(folder)
    let row = uciText(0.5) + "  inf" + (0..<126).map { _ in uciText(0.5) }.joined()
    let path = folder.write(
      "UCI HAR Dataset/train/Inertial Signals/total_acc_z_train.txt", row + "\n" + row + "\n")
    #expect(throws: DatasetError.nonFiniteValue(path: path, line: 1, column: 19, found: "inf")) {
      try UCIHAR.load(from: folder.path)
    }
  }

  @Test func emptySignalFileIsReported() {
    let folder = FixtureFolder()
    makeUCIHAR(folder)
    let path = folder.write("UCI HAR Dataset/train/Inertial Signals/body_acc_y_train.txt", "")
    #expect(throws: DatasetError.empty(path: path)) { try UCIHAR.load(from: folder.path) }
  }

  @Test func rowCountMismatchIsReported() {
    let folder = FixtureFolder()
    makeUCIHAR(folder)
    let path = folder.write("UCI HAR Dataset/train/subject_train.txt", "1\n3\n3\n")
    let signal = folder.path + "/UCI HAR Dataset/train/Inertial Signals/body_acc_x_train.txt"
    #expect(
      throws: DatasetError.lengthMismatch(path: path, rows: 3, otherPath: signal, otherRows: 2)
    ) { try UCIHAR.load(from: folder.path) }
  }

  @Test func activityOutsideOneToSixIsReported() {
    let folder = FixtureFolder()
    makeUCIHAR(folder)
    let path = folder.write("UCI HAR Dataset/train/y_train.txt", "5\n 7\n")
    #expect(
      throws: DatasetError.unknownActivity(
        path: path, line: 2, column: 2, found: "7", known: ["1", "2", "3", "4", "5", "6"])
    ) { try UCIHAR.load(from: folder.path) }
  }

  @Test func labelThatIsNotAnIntegerIsMalformed() {
    let folder = FixtureFolder()
    makeUCIHAR(folder)
    let path = folder.write("UCI HAR Dataset/train/y_train.txt", "5\nWALKING\n")
    #expect(
      throws: DatasetError.malformedLine(
        path: path, line: 2, column: 1, expected: "an integer", found: "WALKING")
    ) { try UCIHAR.load(from: folder.path) }
  }
}
