import Datasets
import Foundation
import Testing

/// Inputs that crashed a loader before it was fixed (see `Documentation/Reliability.md`); each now
/// gives a value or a ``DatasetError`` naming the place.
@Suite("Fuzz findings")
struct FuzzFindingsTests {
  /// One OPPORTUNITY line whose time column is `time`, with valid sensors and Null labels.
  func opportunityLine(time: String) -> String {
    ([time] + Array(repeating: "1", count: 242) + Array(repeating: "0", count: 7))
      .joined(separator: " ") + "\n"
  }

  @Test(arguments: ["NaN", "1e30", "-inf"])
  func opportunityTimeThatIsNotAnInt64IsLocated(time: String) {
    let folder = FixtureFolder()
    let path = folder.write(
      "S1-ADL1.dat", opportunityLine(time: "0") + opportunityLine(time: time))
    // Before the fix: a trap converting NaN or 1e30 to Int64.
    let expected: DatasetError =
      time == "-inf"
      ? .nonFiniteValue(path: path, line: 2, column: 1, found: time)
      : .malformedLine(
        path: path, line: 2, column: 1, expected: "a time in milliseconds", found: time)
    #expect(throws: expected) { try Opportunity.loadRecording(path, subject: 1) }
  }

  @Test func wisdmWatchTimestampsAtTheEndsOfInt64DoNotOverflow() throws {
    let folder = FixtureFolder()
    folder.write("raw/watch/accel/data_1600_accel_watch.txt", "1600,A,9223372036854775807,1,2,3;\n")
    folder.write("raw/watch/gyro/data_1600_gyro_watch.txt", "1600,A,-9223372036854775807,4,5,6;\n")
    // Before the fix: a trap computing the 2^64 − 2 ns between the two samples.
    let far = try WISDMWatch.loadRecordings(from: folder.path)
    #expect(far.streams.isEmpty)

    folder.write("raw/watch/gyro/data_1600_gyro_watch.txt", "1600,A,9223372036854775000,4,5,6;\n")
    let near = try WISDMWatch.loadRecordings(from: folder.path)
    #expect(near.streams.map(\.values) == [[1, 2, 3, 4, 5, 6]])
  }
}
