/// A user's own recordings in one CSV file: a header row, then one sample per row with a subject,
/// an activity label and any number of channel columns, chosen by name.
///
/// Fields are separated by `,` (no quoting inside fields; header names may be quoted); LF and
/// CRLF line ends both work, and a UTF-8 byte order mark at the start is skipped. A header that
/// names a column the layout reads twice is an error (which of the two to read would be a
/// guess); repeated names of columns the layout ignores are allowed. Subject ids must be 0 or
/// more. Consecutive rows of one subject form a recording; if a timestamp
/// column is named, recordings are further cut into sessions at gaps (``WindowingOptions/maxGap``).
public enum CSV {
  /// Which columns hold what.
  public struct Layout: Sendable, Equatable {
    /// The header name of the integer subject column.
    public var subject: String
    /// The header name of the activity column (any text).
    public var label: String
    /// The header names of the channel columns, in channel order.
    public var channels: [String]
    /// The header name of an integer timestamp column, if there is one.
    public var timestamp: String?
    /// The classes in index order; nil takes the distinct labels of the file, sorted.
    public var classNames: [String]?

    /// A layout naming the columns to read; other columns are ignored.
    public init(
      subject: String, label: String, channels: [String], timestamp: String? = nil,
      classNames: [String]? = nil
    ) {
      self.subject = subject
      self.label = label
      self.channels = channels
      self.timestamp = timestamp
      self.classNames = classNames
    }
  }

  private enum Role {
    case ignored, subject, label, timestamp
    case channel(Int)
  }

  /// Reads the file as one stream per run of rows of one subject.
  ///
  /// - Returns: The streams (channels in `layout.channels` order) and the class names.
  /// - Throws: ``DatasetError`` for a missing file, a layout that names one column twice, a
  ///   header without a named column or with one the layout reads twice
  ///   (``DatasetError/duplicateColumn(path:line:column:name:firstColumn:)``), a row with the
  ///   wrong number of fields or a bad number, a negative subject id, or a label not in
  ///   `layout.classNames`.
  public static func loadRecordings(
    _ path: String, layout: Layout
  ) throws(DatasetError) -> (streams: [LabeledStream], classNames: [String]) {
    let required =
      [layout.subject, layout.label] + layout.channels + (layout.timestamp.map { [$0] } ?? [])
    var named = Set<String>()
    for name in required where !named.insert(name).inserted {
      throw .invalidOption(
        name: "CSV layout", value: name, expected: "each column named once in the layout")
    }
    let expectedLayout =
      "a CSV file with a header naming the columns \(layout.subject), "
      + "\(layout.label) and \(layout.channels.joined(separator: ", "))"
    return try Files.scan(path, expected: expectedLayout) { scanner throws(DatasetError) in
      guard scanner.skipBlankLines() else { throw DatasetError.empty(path: path) }
      let headerStart = scanner.position
      var roles: [Role] = []
      // The byte column of each header name read so far.
      var found: [String: Int] = [:]
      while true {
        scanner.skipBlanks()
        let column = scanner.column
        var name = String(decoding: scanner.textField(), as: UTF8.self)
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
          name = String(name.dropFirst().dropLast())
        }
        if let first = found[name], named.contains(name) {
          throw DatasetError.duplicateColumn(
            path: path, line: scanner.line, column: column, name: DatasetError.quote(name),
            firstColumn: first)
        }
        found[name] = found[name] ?? column
        if name == layout.subject {
          roles.append(.subject)
        } else if name == layout.label {
          roles.append(.label)
        } else if name == layout.timestamp {
          roles.append(.timestamp)
        } else if let index = layout.channels.firstIndex(of: name) {
          roles.append(.channel(index))
        } else {
          roles.append(.ignored)
        }
        if !scanner.consume(.comma) { break }
      }
      if let missing = required.first(where: { found[$0] == nil }) {
        throw scanner.malformed(at: headerStart, expected: "a column named \"\(missing)\"")
      }
      try scanner.expectLineEnd("end of the header")

      let channelCount = layout.channels.count
      var values: [Float] = []
      var subjects: [Int] = []
      var labels: [Int] = []
      var timestamps: [Int64] = []
      var names = layout.classNames ?? []
      var lookup = Dictionary(uniqueKeysWithValues: names.enumerated().map { (Array($1.utf8), $0) })
      var row = [Float](repeating: 0, count: channelCount)
      while scanner.skipBlankLines() {
        let lineStart = scanner.position
        var subject = 0
        var label = 0
        var timestamp: Int64 = 0
        for (index, role) in roles.enumerated() {
          if index > 0 {
            scanner.skipBlanks()
            guard scanner.consume(.comma) else {
              throw scanner.malformed(
                at: lineStart, expected: "\(roles.count) comma-separated fields")
            }
          }
          scanner.skipBlanks()
          switch role {
          case .ignored:
            _ = scanner.textField()
          case .subject:
            let start = scanner.position
            subject = try scanner.requireInteger("an integer subject")
            guard subject >= 0 else {
              throw scanner.malformed(at: start, expected: "a subject id of 0 or more")
            }
          case .timestamp:
            timestamp = Int64(try scanner.requireInteger("an integer timestamp"))
          case .channel(let c):
            row[c] = try scanner.finiteNumber("a number")
          case .label:
            let column = scanner.column
            let field = scanner.textField()
            let key = Array(field)
            if let known = lookup[key] {
              label = known
            } else if layout.classNames == nil {
              label = names.count
              lookup[key] = label
              names.append(String(decoding: field, as: UTF8.self))
            } else {
              throw DatasetError.unknownActivity(
                path: path, line: scanner.line, column: column,
                found: DatasetError.quote(String(decoding: field, as: UTF8.self)), known: names)
            }
          }
        }
        scanner.skipBlanks()
        if scanner.current == .comma {
          throw scanner.malformed(at: lineStart, expected: "\(roles.count) comma-separated fields")
        }
        try scanner.expectLineEnd("end of line")
        values += row
        subjects.append(subject)
        labels.append(label)
        timestamps.append(timestamp)
      }
      guard !labels.isEmpty else { throw DatasetError.empty(path: path) }
      if layout.classNames == nil {
        // Classes in sorted name order, so the same labels give the same indices in every file.
        let order = names.indices.sorted { names[$0] < names[$1] }
        var remap = [Int](repeating: 0, count: names.count)
        for (new, old) in order.enumerated() { remap[old] = new }
        labels = labels.map { remap[$0] }
        names = order.map { names[$0] }
      }
      var streams: [LabeledStream] = []
      var start = 0
      for i in 1...subjects.count where i == subjects.count || subjects[i] != subjects[start] {
        streams.append(
          LabeledStream(
            values: Array(values[start * channelCount..<i * channelCount]),
            channelCount: channelCount, labels: Array(labels[start..<i]),
            subject: subjects[start],
            timestamps: layout.timestamp == nil ? nil : Array(timestamps[start..<i])))
        start = i
      }
      return (streams, names)
    }
  }

  /// Loads the file as windows of all subjects; split them with
  /// ``LabeledWindows/split(testSubjects:)``.
  ///
  /// - Returns: Windows shaped `[windows, windowing.length, layout.channels.count]`.
  /// - Throws: What ``loadRecordings(_:layout:)`` throws, and
  ///   ``DatasetError/noWindows(source:reason:)`` if no window fits.
  public static func load(
    _ path: String, layout: Layout, windowing: WindowingOptions
  ) throws(DatasetError) -> LabeledWindows {
    let (streams, classNames) = try loadRecordings(path, layout: layout)
    let windows = try LabeledWindows(
      windowing: streams, options: windowing, classNames: classNames)
    guard !windows.isEmpty else {
      throw .noWindows(source: path, reason: "no window of \(windowing.length) samples")
    }
    return windows
  }
}
