import Datasets
import Foundation
import Testing

/// WISDM v1.1 records with every kind of dirt the real file has (lines 3–5).
private let dirtyWISDM = """
  1,Walking,1000000000,1.0,2.0,3.0;
  1,Walking,1050000000,1.5,2.5,3.5;1,Walking,1100000000,2.0,3.0,4.0;
  1,Walking,1150000000,2.5,3.5,4.5,;
  1,Walking,1200000000,3.0,4.0;
  1,Walking,0,0,0,0;
  1,Jogging,1250000000,5.0,6.0,7.0;
  1,Jogging,1300000000,5.5,6.5,7.5;
  1,Jogging,9000000000,1,1,1;
  1,Jogging,9050000000,2,2,2;
  30,Sitting,100,0.1,0.2,0.3;
  30,Sitting,50000100,0.4,0.5,0.6;

  """

/// Windows of 2 samples every sample, sessions broken by gaps over 0.1 s.
private let small = WindowingOptions(length: 2, step: 1, maxGap: 100_000_000)

@Suite("WISDM v1.1")
struct WISDMTests {
  @Test func lenientModeSkipsAndReportsEveryBadRecord() throws {
    let folder = FixtureFolder()
    let path = folder.write("WISDM_ar_v1.1_raw.txt", dirtyWISDM)
    let split = try WISDM.load(from: folder.path, policy: .skip, windowing: small)
    #expect(
      split.skipped == [
        .malformedLine(
          path: path, line: 3, column: 33, expected: "';' after 6 fields", found: ",;"),
        .malformedLine(
          path: path, line: 4, column: 1, expected: "6 fields user,activity,timestamp,x,y,z",
          found: "1,Walking,1200000000,3.0,4.0;"),
        .malformedLine(
          path: path, line: 5, column: 11, expected: "a nonzero timestamp", found: "0,0,0,0;"),
      ])
    // User 1: sessions [W W W] [J J] (gap 0.15 s) [J J] (gap 7.7 s) give 2 + 1 + 1 windows.
    #expect(split.train.shape == [4, 2, 3])
    #expect(split.train.labels == [0, 0, 1, 1])
    #expect(split.train.subjects == [1, 1, 1, 1])
    #expect(Array(split.train.window(0)) == [1, 2, 3, 1.5, 2.5, 3.5])
    #expect(Array(split.train.window(1)) == [1.5, 2.5, 3.5, 2, 3, 4])
    #expect(Array(split.train.window(3)) == [1, 1, 1, 2, 2, 2])
    #expect(split.test.shape == [1, 2, 3])
    #expect(split.test.labels == [4])
    #expect(split.test.subjects == [30])
    #expect(split.test.values == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    #expect(
      split.skipped[0].description == "\(path):3:33: expected ';' after 6 fields, found \",;\"")
  }

  @Test func strictModeThrowsAtTheFirstBadRecord() {
    let folder = FixtureFolder()
    let path = folder.write("WISDM_ar_v1.1_raw.txt", dirtyWISDM)
    #expect(
      throws: DatasetError.malformedLine(
        path: path, line: 3, column: 33, expected: "';' after 6 fields", found: ",;")
    ) { try WISDM.load(from: folder.path, windowing: small) }
  }

  @Test func readsSeveralRecordsOnALineAsSeparateRecords() throws {
    let folder = FixtureFolder()
    folder.write(
      "WISDM_ar_v1.1/WISDM_ar_v1.1_raw.txt", "7,Upstairs,5,1,2,3;7,Upstairs,6,4,5,6;\r\n")
    let (streams, skipped) = try WISDM.loadRecordings(from: folder.path)
    #expect(skipped.isEmpty)
    #expect(
      streams == [
        LabeledStream(
          values: [1, 2, 3, 4, 5, 6], channelCount: 3, labels: [2, 2], subject: 7,
          timestamps: [5, 6])
      ])
  }

  @Test func missingFieldIsMalformed() {
    let folder = FixtureFolder()
    let path = folder.write("WISDM_ar_v1.1_raw.txt", "1,Walking,1200000000,3.0,4.0;\n")
    #expect(
      throws: DatasetError.malformedLine(
        path: path, line: 1, column: 1, expected: "6 fields user,activity,timestamp,x,y,z",
        found: "1,Walking,1200000000,3.0,4.0;")
    ) { try WISDM.loadRecordings(from: path) }
  }

  @Test func emptyFieldIsMalformed() {
    let folder = FixtureFolder()
    let path = folder.write("WISDM_ar_v1.1_raw.txt", "1,Walking,12,3.0,,4.0;\n")
    #expect(
      throws: DatasetError.malformedLine(
        path: path, line: 1, column: 18, expected: "a number for y", found: ",4.0;")
    ) { try WISDM.loadRecordings(from: path) }
  }

  @Test func unknownActivityIsReported() {
    let folder = FixtureFolder()
    let path = folder.write("WISDM_ar_v1.1_raw.txt", "1,Walking,5,1,2,3;\n1,Swimming,6,1,2,3;\n")
    #expect(
      throws: DatasetError.unknownActivity(
        path: path, line: 2, column: 3, found: "Swimming", known: WISDM.activityNames)
    ) { try WISDM.loadRecordings(from: path) }
  }

  @Test func nonFiniteValueIsLocated() {
    let folder = FixtureFolder()
    let path = folder.write("WISDM_ar_v1.1_raw.txt", "1,Walking,1000,NaN,1,1;\n")
    #expect(throws: DatasetError.nonFiniteValue(path: path, line: 1, column: 16, found: "NaN")) {
      try WISDM.loadRecordings(from: path)
    }
  }

  @Test func missingFileNamesTheLayout() {
    let folder = FixtureFolder()
    #expect(
      throws: DatasetError.missing(
        path: folder.path + "/WISDM_ar_v1.1_raw.txt", expected: WISDM.layout)
    ) { try WISDM.load(from: folder.path) }
  }

  @Test func emptyFileIsReported() {
    let folder = FixtureFolder()
    let path = folder.write("WISDM_ar_v1.1_raw.txt", "\n;\n")
    #expect(throws: DatasetError.empty(path: path)) { try WISDM.load(from: folder.path) }
  }

  @Test func noWindowsIsAnError() {
    let folder = FixtureFolder()
    let path = folder.write("WISDM_ar_v1.1_raw.txt", dirtyWISDM)
    #expect(
      throws: DatasetError.noWindows(source: path, reason: "no training window of 100 samples")
    ) { try WISDM.load(from: folder.path, policy: .skip) }
  }
}

@Suite("WISDM 2019 watch")
struct WISDMWatchTests {
  /// Subject `id` with accelerometer and gyroscope records that tick 10 ms apart.
  private func writeSubject(_ folder: FixtureFolder, _ id: Int, accel: String, gyro: String) {
    folder.write("wisdm-dataset/raw/watch/accel/data_\(id)_accel_watch.txt", accel)
    folder.write("wisdm-dataset/raw/watch/gyro/data_\(id)_gyro_watch.txt", gyro)
  }

  @Test func alignsAccelerometerAndGyroscopeByTimestamp() throws {
    let folder = FixtureFolder()
    writeSubject(
      folder, 1600,
      accel: """
        1600,A,100000000,1,2,3;
        1600,A,150000000,4,5,6;
        1600,A,200000000,7,8,9;
        1600,B,300000000,10,11,12;

        """,
      gyro: """
        1600,A,110000000,-1,-2,-3;
        1600,A,190000000,-7,-8,-9;
        1600,B,305000000,-10,-11,-12;

        """)
    let (streams, skipped) = try WISDMWatch.loadRecordings(from: folder.path)
    #expect(skipped.isEmpty)
    // The sample at 150 ms has no gyroscope sample within 25 ms and is dropped.
    #expect(
      streams == [
        LabeledStream(
          values: [1, 2, 3, -1, -2, -3, 7, 8, 9, -7, -8, -9, 10, 11, 12, -10, -11, -12],
          channelCount: 6, labels: [0, 0, 1], subject: 1600,
          timestamps: [100_000_000, 200_000_000, 300_000_000])
      ])
  }

  @Test func holdsOutTheLastTenSubjects() throws {
    let folder = FixtureFolder()
    for id in 1600...1610 {
      let rows = (1...3).map { "\(id),D,\($0 * 50_000_000),\($0),0,0;" }.joined(separator: "\n")
      writeSubject(folder, id, accel: rows, gyro: rows)
    }
    let split = try WISDMWatch.load(
      from: folder.path + "/wisdm-dataset", windowing: WindowingOptions(length: 3, step: 1))
    #expect(split.train.subjects == [1600])
    #expect(split.test.subjects == Array(1601...1610))
    #expect(split.train.shape == [1, 3, 6])
    #expect(split.train.values == [1, 0, 0, 1, 0, 0, 2, 0, 0, 2, 0, 0, 3, 0, 0, 3, 0, 0])
    #expect(split.train.labels == [3])
    #expect(split.train.classNames[3] == "sitting")
  }

  @Test func missingGyroscopeFileIsNamed() {
    let folder = FixtureFolder()
    writeSubject(folder, 1600, accel: "1600,A,1,1,2,3;\n", gyro: "1600,A,1,1,2,3;\n")
    folder.remove("wisdm-dataset/raw/watch/gyro/data_1600_gyro_watch.txt")
    #expect(
      throws: DatasetError.missing(
        path: folder.path + "/wisdm-dataset/raw/watch/gyro/data_1600_gyro_watch.txt",
        expected: WISDMWatch.layout)
    ) { try WISDMWatch.loadRecordings(from: folder.path) }
  }

  @Test func missingFolderNamesTheLayout() {
    let folder = FixtureFolder()
    #expect(
      throws: DatasetError.missing(path: folder.path + "/raw/watch", expected: WISDMWatch.layout)
    ) { try WISDMWatch.loadRecordings(from: folder.path) }
  }

  @Test func unknownActivityCodeIsReported() {
    let folder = FixtureFolder()
    writeSubject(folder, 1600, accel: "1600,N,1,1,2,3;\n", gyro: "1600,A,1,1,2,3;\n")
    #expect(
      throws: DatasetError.unknownActivity(
        path: folder.path + "/wisdm-dataset/raw/watch/accel/data_1600_accel_watch.txt",
        line: 1, column: 6, found: "N", known: WISDMWatch.activityCodes)
    ) { try WISDMWatch.loadRecordings(from: folder.path) }
  }

  @Test func lenientModeReportsMalformedRecords() throws {
    let folder = FixtureFolder()
    writeSubject(
      folder, 1600, accel: "1600,A,1,1,2,3;\n1600,A,2,1,2;\n1600,A,3,4,5,6;\n",
      gyro: "1600,A,1,0,0,0;\n1600,A,3,0,0,0;\n")
    let (streams, skipped) = try WISDMWatch.loadRecordings(from: folder.path, policy: .skip)
    #expect(
      skipped == [
        .malformedLine(
          path: folder.path + "/wisdm-dataset/raw/watch/accel/data_1600_accel_watch.txt",
          line: 2, column: 1, expected: "6 fields user,activity,timestamp,x,y,z",
          found: "1600,A,2,1,2;")
      ])
    #expect(streams.first?.labels == [0, 0])
  }
}
