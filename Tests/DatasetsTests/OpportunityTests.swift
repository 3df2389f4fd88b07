import Datasets
import Foundation
import Testing

/// Sensor column `k` (1-based) at row `r`: exactly representable, distinct everywhere.
private func sensor(_ k: Int, _ r: Int) -> Float { Float(k) + Float(r) / 4 }

/// A `.dat` line of 250 columns; `nan` lists 1-based columns written as `NaN`.
private func datLine(
  row r: Int, locomotion: Int, gesture: Int, nan: Set<Int> = []
) -> String {
  var fields = ["\(r * 33)"]
  for k in 2...243 { fields.append(nan.contains(k) ? "NaN" : "\(sensor(k, r))") }
  fields += ["\(locomotion)", "101", "0", "0", "0", "0", "\(gesture)"]
  return fields.joined(separator: " ")
}

/// The 18 files the challenge split reads, 4 rows each.
private func makeOpportunity(_ folder: FixtureFolder) {
  for name in Opportunity.trainRecordings + Opportunity.testRecordings {
    let lines = (0..<4).map { r in
      datLine(row: r, locomotion: r < 2 ? 1 : 2, gesture: r == 3 ? 406516 : 0)
    }
    folder.write("OpportunityUCIDataset/dataset/\(name).dat", lines.joined(separator: "\n") + "\n")
  }
}

@Suite("OPPORTUNITY")
struct OpportunityTests {
  @Test func selectsChannelsAndInterpolatesMissingValues() throws {
    let folder = FixtureFolder()
    let lines = [
      datLine(row: 0, locomotion: 1, gesture: 0, nan: [65]),
      datLine(row: 1, locomotion: 1, gesture: 0, nan: [64]),
      datLine(row: 2, locomotion: 4, gesture: 0, nan: [64, 90]),
      datLine(row: 3, locomotion: 5, gesture: 407521, nan: [90]),
    ]
    let path = folder.write("S1-ADL1.dat", lines.joined(separator: "\r\n") + "\r\n")
    let stream = try Opportunity.loadRecording(
      path, subject: 1, channels: .lowerArms, labels: .locomotion)
    #expect(
      Opportunity.Channels.lowerArms.columns == [64, 65, 66, 67, 68, 69, 90, 91, 92, 93, 94, 95])
    #expect(Opportunity.Channels.challenge.columns.count == 113)
    #expect(stream.channelCount == 12)
    #expect(stream.labels == [1, 1, 3, 4])
    #expect(stream.timestamps == [0, 33, 66, 99])
    func at(_ t: Int, _ c: Int) -> Float { stream.values[t * 12 + c] }
    // Column 64: NaN at rows 1 and 2 between 64.0 and 64.75, filled on the line.
    #expect([at(0, 0), at(1, 0), at(2, 0), at(3, 0)] == [64, 64.25, 64.5, 64.75])
    // Column 65: NaN at row 0 with nothing before it becomes 0.
    #expect([at(0, 1), at(1, 1)] == [0, 65.25])
    // Column 90: NaN at the last two rows, nothing after them: 0.
    #expect([at(0, 6), at(1, 6), at(2, 6), at(3, 6)] == [90, 90.25, 0, 0])
    #expect(at(3, 11) == sensor(95, 3))

    let gestures = try Opportunity.loadRecording(path, subject: 1)
    #expect(gestures.channelCount == 113)
    #expect(gestures.labels == [0, 0, 0, 16])
    #expect(gestures.values[113 + 0] == sensor(2, 1))
    #expect(gestures.values[113 + 112] == sensor(134, 1))
  }

  @Test func loadsTheChallengeSplit() throws {
    let folder = FixtureFolder()
    makeOpportunity(folder)
    let split = try Opportunity.load(
      from: folder.path, channels: .lowerArms,
      windowing: WindowingOptions(length: 2, step: 2, labelRule: .lastSample, boundaries: .keep))
    // 2 windows per file: rows 0–1 (Null), rows 2–3 (Open Door 1, the last sample's label).
    #expect(split.train.shape == [28, 2, 12])
    #expect(split.test.shape == [8, 2, 12])
    #expect(split.train.classCounts()[0] == 14)
    #expect(split.train.classCounts()[1] == 14)
    #expect(split.train.subjects.prefix(12) == [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    #expect(Set(split.test.subjects) == [2, 3])
    #expect(Array(split.test.window(1).prefix(2)) == [sensor(64, 2), sensor(65, 2)])
  }

  @Test func shortLineIsMalformed() {
    let folder = FixtureFolder()
    let line = (1...249).map { "\($0)" }.joined(separator: " ")
    let path = folder.write(
      "S1-ADL1.dat", datLine(row: 0, locomotion: 1, gesture: 0) + "\n" + line + "\n")
    #expect(
      throws: DatasetError.malformedLine(
        path: path, line: 2, column: 1, expected: "250 numbers", found: String(line.prefix(60)))
    ) { try Opportunity.loadRecording(path, subject: 1) }
  }

  @Test func unknownGestureIsLocated() throws {
    let folder = FixtureFolder()
    let line = datLine(row: 0, locomotion: 1, gesture: 123)
    let path = folder.write("S1-ADL1.dat", line + "\n")
    let column = line.count - 3 + 1
    #expect(
      throws: DatasetError.unknownActivity(
        path: path, line: 1, column: column, found: "123",
        known: Opportunity.Labels.gestures.codes.map { "\($0)" })
    ) { try Opportunity.loadRecording(path, subject: 1) }
  }

  @Test func infiniteValueIsLocated() {
    let folder = FixtureFolder()
    let path = folder.write("S1-ADL1.dat", "0 -inf" + String(repeating: " 1", count: 248) + "\n")
    #expect(throws: DatasetError.nonFiniteValue(path: path, line: 1, column: 3, found: "-inf")) {
      try Opportunity.loadRecording(path, subject: 1)
    }
  }

  @Test func missingRecordingIsNamed() {
    let folder = FixtureFolder()
    makeOpportunity(folder)
    folder.remove("OpportunityUCIDataset/dataset/S3-ADL5.dat")
    #expect(
      throws: DatasetError.missing(
        path: folder.path + "/OpportunityUCIDataset/dataset/S3-ADL5.dat",
        expected: Opportunity.layout)
    ) { try Opportunity.load(from: folder.path) }
  }

  @Test func missingFolderNamesTheLayout() {
    let folder = FixtureFolder()
    #expect(
      throws: DatasetError.missing(
        path: folder.path + "/OpportunityUCIDataset/dataset/S1-ADL1.dat",
        expected: Opportunity.layout)
    ) { try Opportunity.load(from: folder.path) }
  }

  @Test func emptyFileIsReported() {
    let folder = FixtureFolder()
    let path = folder.write("S1-ADL1.dat", "")
    #expect(throws: DatasetError.empty(path: path)) {
      try Opportunity.loadRecording(path, subject: 1)
    }
  }
}
