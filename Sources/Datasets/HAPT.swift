/// The UCI HAPT data set (Reyes-Ortiz et al., 2016): smartphone accelerometer and gyroscope at
/// 50 Hz from 30 volunteers, read from its `RawData` folder.
///
/// Layout read, under the folder given to ``load(from:includeTransitions:windowing:)``:
/// ```
/// RawData/acc_expEE_userUU.txt    x y z per line, in g
/// RawData/gyro_expEE_userUU.txt   x y z per line, in rad/s, same rows as acc
/// RawData/labels.txt              experiment user activity start end (1-based, inclusive)
/// ```
/// Each sample has 6 channels: acc x, y, z, then gyro x, y, z.
public enum HAPT {
  /// The layout a missing file or folder is reported against.
  public static let layout =
    "UCI HAPT layout: RawData/acc_expEE_userUU.txt, RawData/gyro_expEE_userUU.txt and "
    + "RawData/labels.txt"

  /// The 12 activity names, for activity ids 1–12; ids 7–12 are postural transitions.
  public static let activityNames = [
    "WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING",
    "STAND_TO_SIT", "SIT_TO_STAND", "SIT_TO_LIE", "LIE_TO_SIT", "STAND_TO_LIE", "LIE_TO_STAND",
  ]

  /// One experiment: its ids and file paths.
  struct Experiment {
    var id: Int
    var user: Int
    var accPath: String
    var gyroPath: String
  }

  /// The `RawData` folder under `root`, or `root` itself if it is that folder.
  static func rawData(_ root: String) throws(DatasetError) -> String {
    let nested = Files.join(root, "RawData")
    if Files.isDirectory(nested) { return nested }
    if Files.exists(Files.join(root, "labels.txt")) { return root }
    throw .missing(path: nested, expected: layout)
  }

  /// The experiments in `rawData`, by ascending experiment id.
  ///
  /// - Throws: ``DatasetError/badFileName(path:expected:)`` for an `acc_exp…txt` file whose
  ///   experiment or user is not a number of decimal digits (so not negative either),
  ///   ``DatasetError/duplicateExperiment(path:otherPath:experiment:)`` for two files of one
  ///   experiment id.
  static func experiments(in rawData: String) throws(DatasetError) -> [Experiment] {
    var byID: [Int: Experiment] = [:]
    for name in try Files.contents(of: rawData, expected: layout) {
      guard name.hasPrefix("acc_exp"), name.hasSuffix(".txt") else { continue }
      let path = Files.join(rawData, name)
      let parts = name.dropFirst("acc_exp".count).dropLast(".txt".count)
        .split(separator: "_user", omittingEmptySubsequences: false)
      func number(_ text: Substring) -> Int? {
        text.allSatisfy { $0.isASCII && $0.isNumber } ? Int(text) : nil
      }
      guard parts.count == 2, let id = number(parts[0]), let user = number(parts[1]) else {
        throw .badFileName(
          path: path,
          expected: "a name acc_expEE_userUU.txt, EE and UU numbers of decimal digits")
      }
      if let other = byID[id] {
        throw .duplicateExperiment(path: path, otherPath: other.accPath, experiment: id)
      }
      let gyro = "gyro" + name.dropFirst("acc".count)
      byID[id] = Experiment(
        id: id, user: user, accPath: path, gyroPath: Files.join(rawData, gyro))
    }
    guard !byID.isEmpty else {
      throw .missing(path: Files.join(rawData, "acc_exp01_user01.txt"), expected: layout)
    }
    return byID.values.sorted { $0.id < $1.id }
  }

  /// Reads every experiment as one continuous recording with a label per sample.
  ///
  /// Samples outside every interval of `labels.txt`, and transitions unless
  /// `includeTransitions`, are ``LabeledStream/unlabeled``.
  ///
  /// - Parameters:
  ///   - root: The HAPT folder that holds `RawData`, or `RawData` itself.
  ///   - includeTransitions: Whether activities 7–12 get classes 6–11.
  /// - Returns: One stream per experiment, 6 channels, in experiment order, with the class names.
  /// - Throws: ``DatasetError`` naming the file, and the line where there is one, for a missing
  ///   file, a malformed line, a negative experiment or user id, unequal acc and gyro lengths,
  ///   two files of one experiment id, an interval outside its recording, or an interval that
  ///   overlaps another of the same recording
  ///   (``DatasetError/overlappingInterval(path:line:start:end:otherLine:otherStart:otherEnd:)``).
  public static func loadRecordings(
    from root: String, includeTransitions: Bool = false
  ) throws(DatasetError) -> (streams: [LabeledStream], classNames: [String]) {
    let folder = try rawData(root)
    let experiments = try experiments(in: folder)
    let labelsPath = Files.join(folder, "labels.txt")
    guard Files.exists(labelsPath) else { throw .missing(path: labelsPath, expected: layout) }
    let classCount = includeTransitions ? 12 : 6
    var streams: [LabeledStream] = []
    for experiment in experiments {
      let acc = try Files.numberTable(experiment.accPath, columns: 3, expected: layout)
      let gyro = try Files.numberTable(experiment.gyroPath, columns: 3, expected: layout)
      guard acc.count == gyro.count else {
        throw .lengthMismatch(
          path: experiment.gyroPath, rows: gyro.count / 3, otherPath: experiment.accPath,
          otherRows: acc.count / 3)
      }
      let samples = acc.count / 3
      var values = [Float](repeating: 0, count: samples * 6)
      for t in 0..<samples {
        for c in 0..<3 {
          values[t * 6 + c] = acc[t * 3 + c]
          values[t * 6 + 3 + c] = gyro[t * 3 + c]
        }
      }
      streams.append(
        LabeledStream(
          values: values, channelCount: 6,
          labels: [Int](repeating: LabeledStream.unlabeled, count: samples),
          subject: experiment.user))
    }
    // `experiments` has one entry per id, so the keys are unique.
    let index = Dictionary(uniqueKeysWithValues: experiments.enumerated().map { ($1.id, $0) })
    // The intervals read so far, per experiment: (start, end, line).
    var intervals = [[(start: Int, end: Int, line: Int)]](repeating: [], count: experiments.count)
    try Files.scan(labelsPath, expected: layout) { scanner throws(DatasetError) in
      var rows = 0
      while scanner.skipBlankLines() {
        var fields: [Int] = []
        var columns: [Int] = []
        let lineStart = scanner.position
        for _ in 0..<5 {
          scanner.skipBlanks()
          if scanner.isAtLineEnd {
            throw scanner.malformed(at: lineStart, expected: "5 integers")
          }
          columns.append(scanner.column)
          fields.append(try scanner.requireInteger("an integer"))
        }
        let line = scanner.line
        try scanner.expectLineEnd("end of line after 5 integers")
        let (experimentID, user, activity, start, end) =
          (fields[0], fields[1], fields[2], fields[3], fields[4])
        for (field, name) in [(0, "experiment"), (1, "user")] where fields[field] < 0 {
          throw DatasetError.malformedLine(
            path: labelsPath, line: line, column: columns[field],
            expected: "a \(name) id of 0 or more", found: "\(fields[field])")
        }
        guard (1...12).contains(activity) else {
          throw DatasetError.unknownActivity(
            path: labelsPath, line: line, column: columns[2], found: "\(activity)",
            known: (1...12).map { "\($0)" })
        }
        guard let position = index[experimentID], experiments[position].user == user else {
          let name = "acc_exp\(twoDigits(experimentID))_user\(twoDigits(user)).txt"
          throw DatasetError.missing(path: Files.join(folder, name), expected: layout)
        }
        let samples = streams[position].sampleCount
        guard start >= 1, start <= end, end <= samples else {
          throw DatasetError.intervalOutOfRange(
            path: labelsPath, line: line, start: start, end: end,
            recording: experiments[position].accPath, samples: samples)
        }
        if let other = intervals[position].first(where: { start <= $0.end && $0.start <= end }) {
          throw DatasetError.overlappingInterval(
            path: labelsPath, line: line, start: start, end: end, otherLine: other.line,
            otherStart: other.start, otherEnd: other.end)
        }
        intervals[position].append((start, end, line))
        rows += 1
        guard activity <= classCount else { continue }
        for t in start - 1..<end { streams[position].labels[t] = activity - 1 }
      }
      if rows == 0 { throw DatasetError.empty(path: labelsPath) }
    }
    return (streams, Array(activityNames.prefix(classCount)))
  }

  /// Loads HAPT as windows, split by the UCI HAR subject lists (``SubjectLists/uciHARTest``).
  ///
  /// By default windows of 128 samples (2.56 s) every 64 samples lie inside labelled segments.
  ///
  /// - Returns: `train` and `test`, each shaped `[windows, 128, 6]`.
  /// - Throws: What ``loadRecordings(from:includeTransitions:)`` throws, and
  ///   ``DatasetError/noWindows(source:reason:)`` if a part has no window.
  public static func load(
    from root: String, includeTransitions: Bool = false,
    windowing: WindowingOptions = WindowingOptions(length: 128, step: 64)
  ) throws(DatasetError) -> TrainTestSplit {
    let (streams, classNames) = try loadRecordings(
      from: root, includeTransitions: includeTransitions)
    let windows = try LabeledWindows(
      windowing: streams, options: windowing, classNames: classNames)
    let split = windows.split(testSubjects: SubjectLists.uciHARTest)
    try split.validate(source: root)
    return split
  }

  private static func twoDigits(_ value: Int) -> String {
    value < 10 && value >= 0 ? "0\(value)" : "\(value)"
  }
}

extension TrainTestSplit {
  /// What every loader checks before it returns a split: windows in both parts and, unless
  /// `sharedSubjects` (OPPORTUNITY's split by session), no subject in both.
  ///
  /// - Throws: ``DatasetError/noWindows(source:reason:)`` if `train` or `test` is empty,
  ///   ``DatasetError/subjectOverlap(source:otherSource:subjects:)`` naming `testSource` and
  ///   `trainSource` (by default the parts of `source`).
  func validate(
    source: String, trainSource: String? = nil, testSource: String? = nil,
    sharedSubjects: Bool = false
  ) throws(DatasetError) {
    if train.isEmpty {
      throw .noWindows(source: source, reason: "no training window of \(train.length) samples")
    }
    if test.isEmpty {
      throw .noWindows(source: source, reason: "no test window of \(test.length) samples")
    }
    if !sharedSubjects {
      try requireDisjointSubjects(
        trainSource: trainSource ?? "the training part of \(source)",
        testSource: testSource ?? "the test part of \(source)")
    }
  }
}
