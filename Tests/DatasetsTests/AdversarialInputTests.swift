import Datasets
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// Hostile files that loaders once accepted, crashed on or read whole; each test fails on the code
// before its fix.

/// A `UCI HAR Dataset` folder whose parts have one all-zero window per subject listed.
private func writeUCIHAR(
  _ folder: FixtureFolder, train: [String], test: [String], bom: Bool = false
) {
  for (part, subjects) in [("train", train), ("test", test)] {
    let row = Array(repeating: "0.0", count: 128).joined(separator: " ")
    let rows = Array(repeating: row, count: subjects.count).joined(separator: "\n") + "\n"
    for channel in UCIHAR.channelNames {
      folder.write(
        "UCI HAR Dataset/\(part)/Inertial Signals/\(channel)_\(part).txt",
        (bom ? "\u{FEFF}" : "") + rows)
    }
    folder.write(
      "UCI HAR Dataset/\(part)/y_\(part).txt",
      Array(repeating: "1", count: subjects.count).joined(separator: "\n") + "\n")
    folder.write(
      "UCI HAR Dataset/\(part)/subject_\(part).txt", subjects.joined(separator: "\n") + "\n")
  }
}

/// A HAPT `RawData` folder with one experiment per entry of `experiments` (file name part
/// `expEE_userUU`), 6 samples each, and `labels` as `labels.txt`.
private func writeHAPT(_ folder: FixtureFolder, experiments: [String], labels: String) {
  let samples = "1 2 3\n4 5 6\n7 8 9\n1 2 3\n4 5 6\n7 8 9\n"
  for experiment in experiments {
    folder.write("RawData/acc_\(experiment).txt", samples)
    folder.write("RawData/gyro_\(experiment).txt", samples)
  }
  folder.write("RawData/labels.txt", labels)
}

private let csvLayout = CSV.Layout(subject: "subject", label: "label", channels: ["x", "y"])
private let csvWindowing = WindowingOptions(length: 2, step: 1)

@Suite("Adversarial inputs: splits")
struct AdversarialSplitTests {
  @Test func uciHARSubjectInBothSplitsIsAnError() {
    let folder = FixtureFolder()
    writeUCIHAR(folder, train: ["1", "3"], test: ["2", "3"])
    let root = folder.path + "/UCI HAR Dataset"
    #expect(
      throws: DatasetError.subjectOverlap(
        source: root + "/test/subject_test.txt", otherSource: root + "/train/subject_train.txt",
        subjects: [3])
    ) { try UCIHAR.load(from: folder.path) }
    #expect(
      DatasetError.subjectOverlap(source: "b.txt", otherSource: "a.txt", subjects: [3, 7])
        .description == "b.txt: expected subjects disjoint from those of a.txt, found subjects "
        + "3, 7 in both")
  }

  @Test func handMadeSplitWithASharedSubjectIsRefused() throws {
    let windows = LabeledWindows(
      values: [1, 2, 3], shape: [3, 1, 1], labels: [0, 0, 0], subjects: [1, 2, 2],
      classNames: ["a"])
    let split = TrainTestSplit(
      train: windows.filtered(subjects: [1, 2]), test: windows.filtered(subjects: [2]))
    #expect(
      throws: DatasetError.subjectOverlap(
        source: "test part", otherSource: "training part", subjects: [2])
    ) { try split.requireDisjointSubjects() }
    try windows.split(testSubjects: [2]).requireDisjointSubjects()
  }

  @Test func haptDuplicateExperimentIDNamesBothFiles() {
    let folder = FixtureFolder()
    writeHAPT(
      folder, experiments: ["exp01_user01", "exp01_user09"], labels: "1 1 1 1 6\n")
    // Before the fix: a trap, "Duplicate values for key" building the experiment index.
    #expect(
      throws: DatasetError.duplicateExperiment(
        path: folder.path + "/RawData/acc_exp01_user09.txt",
        otherPath: folder.path + "/RawData/acc_exp01_user01.txt", experiment: 1)
    ) { try HAPT.loadRecordings(from: folder.path) }
  }

  @Test func haptOverlappingLabelIntervalsAreAnError() {
    let folder = FixtureFolder()
    writeHAPT(folder, experiments: ["exp01_user01"], labels: "1 1 1 1 3\n1 1 4 4 6\n1 1 5 3 4\n")
    #expect(
      throws: DatasetError.overlappingInterval(
        path: folder.path + "/RawData/labels.txt", line: 3, start: 3, end: 4, otherLine: 1,
        otherStart: 1, otherEnd: 3)
    ) { try HAPT.loadRecordings(from: folder.path) }
  }
}

@Suite("Adversarial inputs: negative subjects")
struct NegativeSubjectTests {
  @Test func uciHARNegativeSubjectNamesFileAndLine() {
    let folder = FixtureFolder()
    writeUCIHAR(folder, train: ["1", "-3"], test: ["2"])
    #expect(
      throws: DatasetError.malformedLine(
        path: folder.path + "/UCI HAR Dataset/train/subject_train.txt", line: 2, column: 1,
        expected: "a subject id of 0 or more", found: "-3")
    ) { try UCIHAR.load(from: folder.path) }
  }

  @Test func csvNegativeSubjectNamesFileAndLine() {
    let folder = FixtureFolder()
    let path = folder.write("data.csv", "subject,label,x,y\n1,a,0,0\n-2,a,0,0\n")
    #expect(
      throws: DatasetError.malformedLine(
        path: path, line: 3, column: 1, expected: "a subject id of 0 or more", found: "-2,a,0,0")
    ) { try CSV.load(path, layout: csvLayout, windowing: csvWindowing) }
  }

  @Test func wisdmNegativeUserNamesFileAndLine() {
    let folder = FixtureFolder()
    let path = folder.write(
      "WISDM_ar_v1.1_raw.txt", "1,Walking,1000,0,0,0;\n-7,Walking,2000,0,0,0;\n")
    #expect(
      throws: DatasetError.malformedLine(
        path: path, line: 2, column: 1, expected: "a user id of 0 or more",
        found: "-7,Walking,2000,0,0,0;")
    ) { try WISDM.loadRecordings(from: path) }
  }

  @Test func haptNegativeUserIsAnError() {
    let folder = FixtureFolder()
    writeHAPT(folder, experiments: ["exp01_user-1"], labels: "1 -1 1 1 6\n")
    #expect(
      throws: DatasetError.badFileName(
        path: folder.path + "/RawData/acc_exp01_user-1.txt",
        expected: "a name acc_expEE_userUU.txt, EE and UU numbers of decimal digits")
    ) { try HAPT.loadRecordings(from: folder.path) }
    folder.remove("RawData/acc_exp01_user-1.txt")
    folder.remove("RawData/gyro_exp01_user-1.txt")
    writeHAPT(folder, experiments: ["exp01_user01"], labels: "1 1 1 1 6\n1 -1 1 1 6\n")
    #expect(
      throws: DatasetError.malformedLine(
        path: folder.path + "/RawData/labels.txt", line: 2, column: 3,
        expected: "a user id of 0 or more", found: "-1")
    ) { try HAPT.loadRecordings(from: folder.path) }
  }
}

@Suite("Adversarial inputs: files")
struct AdversarialFileTests {
  @Test func sparseFileAboveTheSizeLimitIsRefusedBeforeReading() throws {
    let folder = FixtureFolder()
    let path = folder.write("data.csv", "subject,label,x,y\n")
    // 30 GiB of holes: nothing is written to disk, but a whole-file read would try to allocate
    // all of it.
    let handle = try #require(FileHandle(forWritingAtPath: path))
    try handle.truncate(atOffset: 30 << 30)
    try handle.close()
    #expect(
      throws: DatasetError.fileTooLarge(path: path, bytes: 30 << 30, limit: 1 << 30)
    ) { try CSV.load(path, layout: csvLayout, windowing: csvWindowing) }
  }

  @Test func sizeLimitIsATaskLocalSetting() throws {
    let folder = FixtureFolder()
    let text = "subject,label,x,y\n1,a,0,0\n1,a,1,1\n"
    let path = folder.write("data.csv", text)
    #expect(DatasetLimits.maximumFileSize == 1 << 30)
    DatasetLimits.$maximumFileSize.withValue(text.utf8.count - 1) {
      #expect(
        throws: DatasetError.fileTooLarge(
          path: path, bytes: text.utf8.count, limit: text.utf8.count - 1)
      ) { try CSV.load(path, layout: csvLayout, windowing: csvWindowing) }
    }
    #expect(try CSV.load(path, layout: csvLayout, windowing: csvWindowing).count == 1)
  }

  @Test func symlinkToDevZeroIsRefused() throws {
    let folder = FixtureFolder()
    let path = folder.path + "/data.csv"
    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
    // Before the fix: an endless read of zeros.
    #expect(throws: DatasetError.notARegularFile(path: path, kind: "a character device")) {
      try CSV.load(path, layout: csvLayout, windowing: csvWindowing)
    }
  }

  @Test func fifoIsRefused() throws {
    let folder = FixtureFolder()
    let path = folder.path + "/RawData/labels.txt"
    writeHAPT(folder, experiments: ["exp01_user01"], labels: "")
    folder.remove("RawData/labels.txt")
    try #require(mkfifo(path, 0o600) == 0)
    // Before the fix: opening the FIFO blocked until a writer appeared.
    #expect(throws: DatasetError.notARegularFile(path: path, kind: "a FIFO")) {
      try HAPT.loadRecordings(from: folder.path)
    }
  }

  @Test func symlinkLoopIsOneLineNamingPathAndCause() throws {
    let folder = FixtureFolder()
    let path = folder.path + "/data.csv"
    try FileManager.default.createSymbolicLink(
      atPath: path, withDestinationPath: folder.path + "/other.csv")
    try FileManager.default.createSymbolicLink(
      atPath: folder.path + "/other.csv", withDestinationPath: path)
    #expect(
      throws: DatasetError.unreadable(path: path, reason: "too many levels of symbolic links")
    ) { try CSV.load(path, layout: csvLayout, windowing: csvWindowing) }
  }

  @Test func readErrorIsOneLineNamingPathAndCause() throws {
    // Reading /proc/self/mem at offset 0 fails with EIO: a real I/O error on any Linux.
    let path = "/proc/self/mem"
    guard FileManager.default.fileExists(atPath: path) else {
      print("skipped: \(path) does not exist on this system")
      return
    }
    do {
      _ = try CSV.load(path, layout: csvLayout, windowing: csvWindowing)
      Issue.record("reading \(path) succeeded")
    } catch {
      // Before the fix: "… The operation could not be completed. (NSCocoaErrorDomain error 256.)"
      #expect(error == .unreadable(path: path, reason: "input/output error"))
      #expect(error.description == "/proc/self/mem: cannot read: input/output error")
    }
  }

  @Test func byteOrderMarkIsSkippedByEveryLoader() throws {
    let folder = FixtureFolder()
    let csv = folder.write("data.csv", "\u{FEFF}subject,label,x,y\n1,a,0,0\n1,a,1,1\n")
    #expect(try CSV.load(csv, layout: csvLayout, windowing: csvWindowing).count == 1)

    writeUCIHAR(folder, train: ["1"], test: ["2"], bom: true)
    folder.write("UCI HAR Dataset/train/y_train.txt", "\u{FEFF}1\n")
    let split = try UCIHAR.load(from: folder.path)
    #expect(split.train.count == 1 && split.test.count == 1)

    writeHAPT(folder, experiments: ["exp01_user01"], labels: "\u{FEFF}1 1 1 1 6\n")
    folder.write(
      "RawData/acc_exp01_user01.txt", "\u{FEFF}1 2 3\n4 5 6\n7 8 9\n1 2 3\n4 5 6\n7 8 9\n")
    let (streams, _) = try HAPT.loadRecordings(from: folder.path)
    #expect(streams.map(\.labels) == [[0, 0, 0, 0, 0, 0]])
    #expect(Array(streams[0].values.prefix(3)) == [1, 2, 3])

    let wisdm = folder.write("WISDM_ar_v1.1_raw.txt", "\u{FEFF}1,Walking,1000,0,0,0;\n")
    #expect(try WISDM.loadRecordings(from: wisdm).streams.count == 1)

    // Columns on the first line count from the character after the mark.
    let bad = folder.write("bad.csv", "\u{FEFF}subject,label,x\n")
    #expect(
      throws: DatasetError.malformedLine(
        path: bad, line: 1, column: 1, expected: "a column named \"y\"", found: "subject,label,x")
    ) { try CSV.load(bad, layout: csvLayout, windowing: csvWindowing) }
  }
}

@Suite("Adversarial inputs: CSV header")
struct CSVHeaderTests {
  @Test func columnTheLayoutReadsTwiceIsAnError() {
    let folder = FixtureFolder()
    let path = folder.write("data.csv", "subject,label,x,y, x\n1,a,0,0,5\n1,a,1,1,5\n")
    // Before the fix: the second "x" column was read, silently.
    #expect(
      throws: DatasetError.duplicateColumn(
        path: path, line: 1, column: 20, name: "x", firstColumn: 15)
    ) { try CSV.load(path, layout: csvLayout, windowing: csvWindowing) }
  }

  @Test func repeatedColumnTheLayoutIgnoresIsAllowed() throws {
    let folder = FixtureFolder()
    let path = folder.write("data.csv", "note,subject,label,x,y,note\n,1,a,0,0,\n,1,a,1,1,\n")
    #expect(try CSV.load(path, layout: csvLayout, windowing: csvWindowing).count == 1)
  }

  @Test func layoutThatNamesAColumnTwiceIsAnError() {
    let folder = FixtureFolder()
    let path = folder.write("data.csv", "subject,label,x\n1,a,0\n")
    let layout = CSV.Layout(subject: "subject", label: "label", channels: ["x", "x"])
    // Before the fix: the second channel stayed 0 in every sample.
    #expect(
      throws: DatasetError.invalidOption(
        name: "CSV layout", value: "x", expected: "each column named once in the layout")
    ) { try CSV.load(path, layout: layout, windowing: csvWindowing) }
  }
}
