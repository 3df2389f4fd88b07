/// The OPPORTUNITY activity recognition data set (Roggen et al., 2010; Chavarriaga et al., 2013):
/// body-worn and ambient sensors at 30 Hz from 4 subjects, 250 columns per line.
///
/// Layout read, under the folder given to ``load(from:channels:labels:windowing:)``:
/// `OpportunityUCIDataset/dataset/S<1-4>-{ADL1,…,ADL5,Drill}.dat`, blank-separated numbers
/// where column 1 is the time in ms, 2–243 are sensors (`NaN` where a reading was lost) and
/// 244–250 are labels. Missing readings are interpolated linearly per column and file; a gap at
/// the start or end of a file, with nothing to interpolate from, becomes 0.
public enum Opportunity {
  /// The layout a missing file or folder is reported against.
  public static let layout =
    "OPPORTUNITY layout: OpportunityUCIDataset/dataset/S<1-4>-{ADL1..ADL5,Drill}.dat, "
    + "250 columns"

  /// The number of columns on every line.
  public static let columnCount = 250

  /// Which sensor columns become channels.
  public enum Channels: Sendable, Equatable {
    /// The 113 channels of the OPPORTUNITY challenge (as in DeepConvLSTM): the body-worn
    /// accelerometers and IMUs without quaternions, and both shoes.
    case challenge
    /// The 12 lower-arm IMU channels: right then left lower arm (RLA, LLA), accelerometer x, y,
    /// z then gyroscope x, y, z each.
    case lowerArms

    /// The 1-based file columns, in channel order.
    public var columns: [Int] {
      switch self {
      case .challenge:
        Array(2...46) + Array(51...59) + Array(64...72) + Array(77...85) + Array(90...98)
          + Array(103...134)
      case .lowerArms:
        Array(64...69) + Array(90...95)
      }
    }
  }

  /// Which label column becomes the class.
  public enum Labels: Sendable, Equatable {
    /// Column 250, mid-level gestures: Null and 17 gestures (18 classes).
    case gestures
    /// Column 244, locomotion: Null, Stand, Walk, Sit, Lie (5 classes).
    case locomotion

    /// The 1-based label column.
    public var column: Int { self == .gestures ? 250 : 244 }

    /// The label values the file uses, by class index; 0 is Null.
    public var codes: [Int] {
      switch self {
      case .gestures:
        [
          0, 406516, 406517, 404516, 404517, 406520, 404520, 406505, 404505, 406519, 404519,
          406511, 404511, 406508, 404508, 408512, 407521, 405506,
        ]
      case .locomotion: [0, 1, 2, 4, 5]
      }
    }

    /// The class names, by class index.
    public var classNames: [String] {
      switch self {
      case .gestures:
        [
          "Null", "Open Door 1", "Open Door 2", "Close Door 1", "Close Door 2", "Open Fridge",
          "Close Fridge", "Open Dishwasher", "Close Dishwasher", "Open Drawer 1",
          "Close Drawer 1", "Open Drawer 2", "Close Drawer 2", "Open Drawer 3", "Close Drawer 3",
          "Clean Table", "Drink from Cup", "Toggle Switch",
        ]
      case .locomotion: ["Null", "Stand", "Walk", "Sit", "Lie"]
      }
    }
  }

  /// The recordings of the challenge's training split.
  public static let trainRecordings =
    ["S1-ADL1", "S1-ADL2", "S1-ADL3", "S1-ADL4", "S1-ADL5", "S1-Drill"]
    + ["S2-ADL1", "S2-ADL2", "S2-ADL3", "S2-Drill", "S3-ADL1", "S3-ADL2", "S3-ADL3", "S3-Drill"]
  /// The recordings of the challenge's test split.
  public static let testRecordings = ["S2-ADL4", "S2-ADL5", "S3-ADL4", "S3-ADL5"]

  /// 1 s windows at 30 Hz every 0.5 s, labelled by their last sample, Null included.
  public static let defaultWindowing = WindowingOptions(
    length: 30, step: 15, labelRule: .lastSample, boundaries: .keep)

  /// Reads one `.dat` file as a stream.
  ///
  /// - Parameters:
  ///   - path: The `.dat` file.
  ///   - subject: The subject number to record (1–4).
  ///   - channels: Which sensor columns become channels.
  ///   - labels: Which label column becomes the class.
  /// - Returns: A stream with `channels.columns.count` channels, NaNs filled.
  /// - Throws: ``DatasetError`` for a missing file, a line without 250 numbers, an infinite value,
  ///   a time that is NaN or out of range, or a label value not among `labels.codes`.
  public static func loadRecording(
    _ path: String, subject: Int, channels: Channels = .challenge, labels: Labels = .gestures
  ) throws(DatasetError) -> LabeledStream {
    let table = try Files.numberTable(
      path, columns: columnCount, expected: layout, allowNaN: true)
    let rows = table.count / columnCount
    let columns = channels.columns.map { $0 - 1 }
    let width = columns.count
    var values = [Float](repeating: 0, count: rows * width)
    for (c, column) in columns.enumerated() {
      var last: Int?
      for t in 0..<rows {
        let value = table[t * columnCount + column]
        guard !value.isNaN else { continue }
        values[t * width + c] = value
        if let last, last + 1 < t {
          // Linear interpolation across the gap (last, t).
          let from = values[last * width + c]
          let span = Float(t - last)
          for u in last + 1..<t {
            values[u * width + c] = from + (value - from) * Float(u - last) / span
          }
        }
        last = t
      }
    }
    let codes = Dictionary(uniqueKeysWithValues: labels.codes.enumerated().map { ($1, $0) })
    var classes = [Int](repeating: 0, count: rows)
    for t in 0..<rows {
      let value = table[t * columnCount + labels.column - 1]
      guard let code = Int(exactly: value), let label = codes[code] else {
        let (line, column, text) = try Files.locate(
          path, row: t, field: labels.column - 1, expected: layout)
        throw .unknownActivity(
          path: path, line: line, column: column, found: text,
          known: labels.codes.map { "\($0)" })
      }
      classes[t] = label
    }
    var timestamps = [Int64](repeating: 0, count: rows)
    for t in 0..<rows {
      let time = table[t * columnCount]
      // NaN is kept in the table for the sensor columns, but a time must be a finite Int64.
      guard time.isFinite, abs(time) < 0x1p63 else {
        let (line, column, text) = try Files.locate(path, row: t, field: 0, expected: layout)
        throw .malformedLine(
          path: path, line: line, column: column, expected: "a time in milliseconds", found: text)
      }
      timestamps[t] = Int64(time)
    }
    return LabeledStream(
      values: values, channelCount: width, labels: classes, subject: subject,
      timestamps: timestamps)
  }

  /// Loads the challenge split: train on S1 (all), S2 and S3 (ADL1–3, Drill); test on S2 and S3
  /// (ADL4–5).
  ///
  /// The challenge splits by recording session, not by subject: subjects 2 and 3 have windows in
  /// both parts, so this is the one loader whose split is not subject-disjoint. For a
  /// subject-disjoint evaluation, load the recordings with
  /// ``loadRecording(_:subject:channels:labels:)`` and split them with
  /// ``LabeledWindows/split(testSubjects:)`` or ``LabeledWindows/leaveOneSubjectOutFolds()``.
  ///
  /// - Returns: `train` and `test` shaped `[windows, 30, channels.columns.count]` by default.
  public static func load(
    from root: String, channels: Channels = .challenge, labels: Labels = .gestures,
    windowing: WindowingOptions = defaultWindowing
  ) throws(DatasetError) -> TrainTestSplit {
    let folder = try datasetFolder(root)
    func windows(_ names: [String]) throws(DatasetError) -> LabeledWindows {
      var streams: [LabeledStream] = []
      for name in names {
        let subject = Int(name.dropFirst().prefix(1)) ?? 0
        streams.append(
          try loadRecording(
            Files.join(folder, name + ".dat"), subject: subject, channels: channels,
            labels: labels))
      }
      return try LabeledWindows(
        windowing: streams, options: windowing, classNames: labels.classNames)
    }
    let split = TrainTestSplit(
      train: try windows(trainRecordings), test: try windows(testRecordings))
    try split.validate(source: folder, sharedSubjects: true)
    return split
  }

  static func datasetFolder(_ root: String) throws(DatasetError) -> String {
    let candidates = [
      Files.join(root, "OpportunityUCIDataset", "dataset"), Files.join(root, "dataset"), root,
    ]
    for candidate in candidates where Files.exists(Files.join(candidate, "S1-ADL1.dat")) {
      return candidate
    }
    throw .missing(
      path: Files.join(root, "OpportunityUCIDataset", "dataset", "S1-ADL1.dat"), expected: layout)
  }
}
