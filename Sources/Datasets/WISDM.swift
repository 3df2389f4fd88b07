/// What a loader does with a record that breaks the format.
public enum MalformedLinePolicy: Sendable, Equatable {
  /// Throw at the first bad record, naming its `path:line:column`.
  case strict
  /// Skip every bad record and list it in ``TrainTestSplit/skipped``.
  case skip
}

/// The WISDM activity prediction data set v1.1 (Kwapisz, Weiss and Moore, 2010): phone
/// accelerometer at 20 Hz from 36 users, one raw file of records.
///
/// Layout read: `WISDM_ar_v1.1_raw.txt`, records `user,activity,timestamp,x,y,z;` with the
/// timestamp in nanoseconds. The file is known to be dirty: several records on one line (read as
/// separate records), trailing commas, missing fields and zero timestamps (bad records: thrown
/// under ``MalformedLinePolicy/strict``, skipped and reported under ``MalformedLinePolicy/skip``).
public enum WISDM {
  /// The layout a missing file is reported against.
  public static let layout =
    "WISDM v1.1 layout: WISDM_ar_v1.1_raw.txt with records "
    + "user,activity,timestamp,x,y,z;"

  /// The 6 activities, as the file spells them; class `i` is `activityNames[i]`.
  public static let activityNames = [
    "Walking", "Jogging", "Upstairs", "Downstairs", "Sitting", "Standing",
  ]

  /// 5 s windows at 20 Hz every 2.5 s, inside sessions without a gap over 1 s.
  public static let defaultWindowing = WindowingOptions(
    length: 100, step: 50, maxGap: 1_000_000_000)

  /// Reads the raw file as one stream per run of consecutive records of one user.
  ///
  /// - Parameters:
  ///   - root: The raw file itself, or a folder holding it (directly or in `WISDM_ar_v1.1/`).
  ///   - policy: Whether a bad record throws or is skipped.
  /// - Returns: Streams of 3 channels (x, y, z in m/s²) with nanosecond timestamps, and the
  ///   skipped records (each a ``DatasetError`` naming `path:line:column`).
  public static func loadRecordings(
    from root: String, policy: MalformedLinePolicy = .strict
  ) throws(DatasetError) -> (streams: [LabeledStream], skipped: [DatasetError]) {
    let path = try rawFile(root)
    let records = try RecordFile.read(
      path, expected: layout, activities: activityNames, policy: policy)
    return (records.streams(splittingOnActivity: false), records.skipped)
  }

  /// Loads WISDM as windows, with users 27–36 as the test split (``SubjectLists/wisdmTest``).
  ///
  /// - Returns: `train` and `test` shaped `[windows, 100, 3]` by default, and in `skipped` every
  ///   record a lenient load left out.
  public static func load(
    from root: String, policy: MalformedLinePolicy = .strict,
    windowing: WindowingOptions = defaultWindowing
  ) throws(DatasetError) -> TrainTestSplit {
    let (streams, skipped) = try loadRecordings(from: root, policy: policy)
    let windows = try LabeledWindows(
      windowing: streams, options: windowing, classNames: activityNames)
    var split = windows.split(testSubjects: SubjectLists.wisdmTest)
    split.skipped = skipped
    try split.validate(source: try rawFile(root))
    return split
  }

  static func rawFile(_ root: String) throws(DatasetError) -> String {
    let name = "WISDM_ar_v1.1_raw.txt"
    if Files.exists(root), !Files.isDirectory(root) { return root }
    for candidate in [Files.join(root, name), Files.join(root, "WISDM_ar_v1.1", name)]
    where Files.exists(candidate) {
      return candidate
    }
    throw .missing(path: Files.join(root, name), expected: layout)
  }
}

/// The records of a WISDM-style file, `user,activity,timestamp,x,y,z;`, as parallel arrays.
struct RecordFile {
  var users: [Int] = []
  var activities: [Int] = []
  var timestamps: [Int64] = []
  /// x, y, z of each record.
  var values: [Float] = []
  var skipped: [DatasetError] = []

  /// Parses `path`; activity fields must spell one of `activities` exactly.
  static func read(
    _ path: String, expected: String, activities: [String], policy: MalformedLinePolicy
  ) throws(DatasetError) -> RecordFile {
    let names = activities.map { Array($0.utf8) }
    return try Files.scan(path, expected: expected) { scanner throws(DatasetError) in
      var file = RecordFile()
      file.values.reserveCapacity(scanner.bytes.count / 12)
      while !scanner.isAtEnd {
        scanner.skipBlanks()
        if scanner.isAtLineEnd {
          scanner.skipLineEnd()
          continue
        }
        if scanner.consume(.semicolon) { continue }
        let start = scanner.position
        do throws(DatasetError) {
          try file.parseRecord(&scanner, names: names, activityNames: activities)
        } catch {
          guard policy == .skip else { throw error }
          file.skipped.append(error)
          // Resume after the bad record: at its `;` or the end of its line.
          scanner.rewind(to: start)
          scanner.skipRecord()
        }
      }
      guard !file.users.isEmpty else { throw DatasetError.empty(path: path) }
      return file
    }
  }

  /// Parses one record at the scanner and appends it, or throws without appending.
  private mutating func parseRecord(
    _ scanner: inout ByteScanner, names: [[UInt8]], activityNames: [String]
  ) throws(DatasetError) {
    let start = scanner.position
    let shape = "6 fields user,activity,timestamp,x,y,z"
    func separator(_ scanner: inout ByteScanner) throws(DatasetError) {
      scanner.skipBlanks()
      guard scanner.consume(.comma) else { throw scanner.malformed(at: start, expected: shape) }
      scanner.skipBlanks()
    }
    let user = try scanner.requireInteger("a user id")
    guard user >= 0 else { throw scanner.malformed(at: start, expected: "a user id of 0 or more") }
    try separator(&scanner)
    let activityColumn = scanner.column
    let activityField = scanner.textField()
    guard let activity = names.firstIndex(where: { $0.elementsEqual(activityField) }) else {
      throw .unknownActivity(
        path: scanner.path, line: scanner.line, column: activityColumn,
        found: DatasetError.quote(String(decoding: activityField, as: UTF8.self)),
        known: activityNames)
    }
    try separator(&scanner)
    let timestampStart = scanner.position
    let timestamp = try scanner.requireInteger("a timestamp")
    guard timestamp != 0 else {
      throw scanner.malformed(at: timestampStart, expected: "a nonzero timestamp")
    }
    try separator(&scanner)
    let x = try scanner.finiteNumber("a number for x")
    try separator(&scanner)
    let y = try scanner.finiteNumber("a number for y")
    try separator(&scanner)
    let z = try scanner.finiteNumber("a number for z")
    scanner.skipBlanks()
    if scanner.current == .comma {
      throw scanner.malformed(at: scanner.position, expected: "';' after 6 fields")
    }
    guard scanner.consume(.semicolon) || scanner.isAtLineEnd else {
      throw scanner.malformed(at: scanner.position, expected: "';' after 6 fields")
    }
    users.append(user)
    activities.append(activity)
    timestamps.append(Int64(timestamp))
    values += [x, y, z]
  }

  /// One stream per run of consecutive records of one user (and of one activity, if asked).
  func streams(splittingOnActivity: Bool) -> [LabeledStream] {
    var result: [LabeledStream] = []
    var start = 0
    for i in 0...users.count {
      let boundary =
        i == users.count || users[i] != users[start]
        || (splittingOnActivity && activities[i] != activities[start])
      guard boundary, i > start else { continue }
      result.append(
        LabeledStream(
          values: Array(values[start * 3..<i * 3]), channelCount: 3,
          labels: Array(activities[start..<i]), subject: users[start],
          timestamps: Array(timestamps[start..<i])))
      start = i
    }
    return result
  }
}
