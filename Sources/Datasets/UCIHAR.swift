/// The UCI HAR data set (Anguita et al., 2013): 2.56 s windows of smartphone inertial signals from
/// 30 volunteers, already cut and split by the authors.
///
/// Layout read, under the folder given to ``load(from:)``:
/// ```
/// UCI HAR Dataset/{train,test}/Inertial Signals/<signal>_{train,test}.txt   128 numbers per row
/// UCI HAR Dataset/{train,test}/y_{train,test}.txt                          activity id 1–6
/// UCI HAR Dataset/{train,test}/subject_{train,test}.txt                    volunteer 1–30
/// ```
/// Rows of the 9 signal files, `y` and `subject` are the same windows. Numbers are written like
/// ` 1.8085150e-004` (leading blanks, three-digit exponents); both are read as is.
public enum UCIHAR {
  /// The layout a missing file or folder is reported against.
  public static let layout =
    "UCI HAR layout: UCI HAR Dataset/{train,test}/Inertial Signals/<signal>_<split>.txt, "
    + "y_<split>.txt and subject_<split>.txt"

  /// The 9 channels in order, as the signal files are named.
  public static let channelNames = [
    "body_acc_x", "body_acc_y", "body_acc_z", "body_gyro_x", "body_gyro_y", "body_gyro_z",
    "total_acc_x", "total_acc_y", "total_acc_z",
  ]

  /// The 6 activities, for ids 1–6 of `y_*.txt`.
  public static let activityNames = Array(HAPT.activityNames.prefix(6))

  /// The time steps per window.
  public static let windowLength = 128

  /// Loads the official train and test windows.
  ///
  /// - Parameter root: The `UCI HAR Dataset` folder or the folder that holds it.
  /// - Returns: `train` and `test`, each shaped `[windows, 128, 9]`, channels in
  ///   ``channelNames`` order, labels 0–5.
  /// - Throws: ``DatasetError`` naming the file and line for a missing file, a malformed row, an
  ///   activity id outside 1–6, a negative subject id, or files of one split with different row
  ///   counts; ``DatasetError/subjectOverlap(source:otherSource:subjects:)`` naming
  ///   `subject_test.txt` and `subject_train.txt` if a volunteer is in both.
  public static func load(from root: String) throws(DatasetError) -> TrainTestSplit {
    let nested = Files.join(root, "UCI HAR Dataset")
    let folder = Files.isDirectory(nested) ? nested : root
    guard Files.isDirectory(Files.join(folder, "train")) else {
      throw .missing(path: Files.join(nested, "train"), expected: layout)
    }
    let split = TrainTestSplit(
      train: try part("train", in: folder), test: try part("test", in: folder))
    try split.validate(
      source: folder, trainSource: Files.join(folder, "train", "subject_train.txt"),
      testSource: Files.join(folder, "test", "subject_test.txt"))
    return split
  }

  /// Reads the windows of one official part, `"train"` or `"test"`.
  static func part(_ name: String, in folder: String) throws(DatasetError) -> LabeledWindows {
    let directory = Files.join(folder, name)
    let length = windowLength
    var signals: [[Float]] = []
    var firstPath = ""
    for channel in channelNames {
      let path = Files.join(directory, "Inertial Signals", "\(channel)_\(name).txt")
      let signal = try Files.numberTable(path, columns: length, expected: layout)
      if let first = signals.first, first.count != signal.count {
        throw .lengthMismatch(
          path: path, rows: signal.count / length, otherPath: firstPath,
          otherRows: first.count / length)
      }
      if signals.isEmpty { firstPath = path }
      signals.append(signal)
    }
    let windows = signals[0].count / length
    let labelsPath = Files.join(directory, "y_\(name).txt")
    let labels = try Files.integerColumn(labelsPath, expected: layout) {
      value, line, column throws(DatasetError) in
      guard (1...6).contains(value) else {
        throw .unknownActivity(
          path: labelsPath, line: line, column: column, found: "\(value)",
          known: (1...6).map { "\($0)" })
      }
    }
    let subjectsPath = Files.join(directory, "subject_\(name).txt")
    let subjects = try Files.integerColumn(subjectsPath, expected: layout) {
      value, line, column throws(DatasetError) in
      guard value >= 0 else {
        throw .malformedLine(
          path: subjectsPath, line: line, column: column, expected: "a subject id of 0 or more",
          found: "\(value)")
      }
    }
    for (path, rows) in [(labelsPath, labels.count), (subjectsPath, subjects.count)]
    where rows != windows {
      throw .lengthMismatch(path: path, rows: rows, otherPath: firstPath, otherRows: windows)
    }
    let channels = channelNames.count
    var values = [Float](repeating: 0, count: windows * length * channels)
    for (c, signal) in signals.enumerated() {
      for i in 0..<windows * length { values[i * channels + c] = signal[i] }
    }
    return LabeledWindows(
      values: values, shape: [windows, length, channels], labels: labels.map { $0 - 1 },
      subjects: subjects, classNames: activityNames)
  }
}

extension Files {
  /// Reads one integer per line; `check` may reject a value, given its line and column.
  static func integerColumn(
    _ path: String, expected: String,
    check: (_ value: Int, _ line: Int, _ column: Int) throws(DatasetError) -> Void
  ) throws(DatasetError) -> [Int] {
    try scan(path, expected: expected) { scanner throws(DatasetError) in
      var values: [Int] = []
      while scanner.skipBlankLines() {
        scanner.skipBlanks()
        let column = scanner.column
        let value = try scanner.requireInteger("an integer")
        try check(value, scanner.line, column)
        try scanner.expectLineEnd("end of line after 1 integer")
        values.append(value)
      }
      guard !values.isEmpty else { throw DatasetError.empty(path: path) }
      return values
    }
  }
}
