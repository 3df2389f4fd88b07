import Foundation

/// The WISDM 2019 smartphone and smartwatch data set (Weiss, 2019), watch part: accelerometer and
/// gyroscope at 20 Hz from 51 subjects (ids 1600–1650) doing 18 activities.
///
/// Layout read, under the folder given to ``load(from:policy:windowing:tolerance:)``:
/// ```
/// raw/watch/accel/data_<id>_accel_watch.txt   <id>,<code>,<timestamp ns>,x,y,z;
/// raw/watch/gyro/data_<id>_gyro_watch.txt     the same for the gyroscope
/// ```
/// The two sensors tick independently; each accelerometer sample is paired with the gyroscope
/// sample of the same activity nearest in time, and dropped if none is within the tolerance.
public enum WISDMWatch {
  /// The layout a missing file or folder is reported against.
  public static let layout =
    "WISDM 2019 layout: raw/watch/accel/data_<id>_accel_watch.txt and "
    + "raw/watch/gyro/data_<id>_gyro_watch.txt"

  /// The activity codes as the files write them; class `i` is `activityCodes[i]`.
  public static let activityCodes = [
    "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "O", "P", "Q", "R", "S",
  ]

  /// The 18 activities, by class index.
  public static let activityNames = [
    "walking", "jogging", "stairs", "sitting", "standing", "typing", "brushing teeth",
    "eating soup", "eating chips", "eating pasta", "drinking from cup", "eating sandwich",
    "kicking soccer ball", "playing catch", "dribbling basketball", "writing", "clapping",
    "folding clothes",
  ]

  /// 5 s windows at 20 Hz every 2.5 s, inside sessions without a gap over 1 s.
  public static let defaultWindowing = WISDM.defaultWindowing

  /// Reads and aligns the watch recordings of every subject.
  ///
  /// - Parameters:
  ///   - root: The folder holding `raw/` (e.g. `wisdm-dataset`), or its parent.
  ///   - policy: Whether a bad record throws or is skipped.
  ///   - tolerance: The largest time difference of a paired acc and gyro sample, in nanoseconds.
  /// - Returns: One stream per subject with 6 channels (acc x, y, z in m/s², gyro x, y, z in
  ///   rad/s) and the accelerometer's timestamps, and the skipped records.
  public static func loadRecordings(
    from root: String, policy: MalformedLinePolicy = .strict, tolerance: Int64 = 25_000_000
  ) throws(DatasetError) -> (streams: [LabeledStream], skipped: [DatasetError]) {
    let folder = try watchFolder(root)
    let accelFolder = Files.join(folder, "accel")
    let gyroFolder = Files.join(folder, "gyro")
    var streams: [LabeledStream] = []
    var skipped: [DatasetError] = []
    let names = try Files.contents(of: accelFolder, expected: layout).filter {
      $0.hasPrefix("data_") && $0.hasSuffix("_accel_watch.txt")
    }
    guard !names.isEmpty else {
      throw .missing(path: Files.join(accelFolder, "data_1600_accel_watch.txt"), expected: layout)
    }
    for name in names {
      let accelPath = Files.join(accelFolder, name)
      let gyroName = name.replacingOccurrences(of: "_accel_watch", with: "_gyro_watch")
      let gyroPath = Files.join(gyroFolder, gyroName)
      let accel = try RecordFile.read(
        accelPath, expected: layout, activities: activityCodes, policy: policy)
      let gyro = try RecordFile.read(
        gyroPath, expected: layout, activities: activityCodes, policy: policy)
      skipped += accel.skipped + gyro.skipped
      if let stream = aligned(accel, gyro, tolerance: tolerance) { streams.append(stream) }
    }
    return (streams, skipped)
  }

  /// Loads the watch data as windows; the 10 highest subject ids are the test split.
  ///
  /// - Returns: `train` and `test` shaped `[windows, 100, 6]` by default.
  public static func load(
    from root: String, policy: MalformedLinePolicy = .strict,
    windowing: WindowingOptions = defaultWindowing, tolerance: Int64 = 25_000_000
  ) throws(DatasetError) -> TrainTestSplit {
    let (streams, skipped) = try loadRecordings(from: root, policy: policy, tolerance: tolerance)
    let windows = try LabeledWindows(
      windowing: streams, options: windowing, classNames: activityNames)
    var split = windows.split(testSubjects: windows.subjectIDs.suffix(10))
    split.skipped = skipped
    try split.validate(source: try watchFolder(root))
    return split
  }

  static func watchFolder(_ root: String) throws(DatasetError) -> String {
    for candidate in [
      Files.join(root, "raw", "watch"), Files.join(root, "wisdm-dataset", "raw", "watch"),
    ] where Files.isDirectory(candidate) {
      return candidate
    }
    throw .missing(path: Files.join(root, "raw", "watch"), expected: layout)
  }

  /// `|a - b|`, exact for any two timestamps (the difference of two `Int64`s can overflow one).
  static func distance(_ a: Int64, _ b: Int64) -> UInt64 {
    a >= b ? UInt64(bitPattern: a &- b) : UInt64(bitPattern: b &- a)
  }

  /// Pairs each accelerometer record with the nearest gyroscope record of the same activity.
  static func aligned(_ accel: RecordFile, _ gyro: RecordFile, tolerance: Int64) -> LabeledStream? {
    // Sort both by (activity, time) once; then one merge pass pairs them.
    func order(_ file: RecordFile) -> [Int] {
      file.timestamps.indices.sorted {
        (file.activities[$0], file.timestamps[$0]) < (file.activities[$1], file.timestamps[$1])
      }
    }
    let a = order(accel)
    let g = order(gyro)
    var values: [Float] = []
    var labels: [Int] = []
    var timestamps: [Int64] = []
    var j = 0
    for i in a {
      let activity = accel.activities[i]
      let time = accel.timestamps[i]
      func key(_ k: Int) -> (Int, Int64) { (gyro.activities[g[k]], gyro.timestamps[g[k]]) }
      while j + 1 < g.count, key(j + 1) <= (activity, time) { j += 1 }
      var best: Int?
      for k in [j, j + 1] where k < g.count && gyro.activities[g[k]] == activity {
        let distance = Self.distance(gyro.timestamps[g[k]], time)
        if tolerance >= 0, distance <= UInt64(tolerance),
          best.map({ distance < Self.distance(gyro.timestamps[g[$0]], time) }) ?? true
        {
          best = k
        }
      }
      guard let best else { continue }
      values += accel.values[i * 3..<i * 3 + 3]
      values += gyro.values[g[best] * 3..<g[best] * 3 + 3]
      labels.append(activity)
      timestamps.append(time)
    }
    guard let subject = accel.users.first, !labels.isEmpty else { return nil }
    return LabeledStream(
      values: values, channelCount: 6, labels: labels, subject: subject, timestamps: timestamps)
  }
}
