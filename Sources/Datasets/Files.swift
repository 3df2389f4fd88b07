import Foundation

/// File access shared by the loaders: existence checks that name the expected layout, and
/// whole-file reads handed to a ``ByteScanner``.
enum Files {
  /// `base` and `component` joined by one `/`.
  static func join(_ base: String, _ components: String...) -> String {
    var result = base
    for component in components {
      if result.isEmpty || result.hasSuffix("/") {
        result += component
      } else {
        result += "/" + component
      }
    }
    return result
  }

  static func isDirectory(_ path: String) -> Bool {
    var directory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &directory)
      && directory.boolValue
  }

  static func exists(_ path: String) -> Bool {
    FileManager.default.fileExists(atPath: path)
  }

  /// Throws ``DatasetError/missing(path:expected:)`` unless `path` is a folder.
  static func requireDirectory(_ path: String, expected: String) throws(DatasetError) {
    guard isDirectory(path) else { throw .missing(path: path, expected: expected) }
  }

  /// The names of the entries of the folder at `path`, sorted.
  static func contents(of path: String, expected: String) throws(DatasetError) -> [String] {
    try requireDirectory(path, expected: expected)
    do {
      return try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    } catch {
      throw .unreadable(path: path, reason: "\(error.localizedDescription)")
    }
  }

  /// The bytes of the file at `path`.
  ///
  /// Read through `FileHandle`: `FileManager.contents(atPath:)` and `Data(contentsOf:)` leak a
  /// 4 KiB buffer for every empty file (swift-foundation in Swift 6.3.1; found by
  /// AddressSanitizer's leak check, see `Documentation/Reliability.md`).
  static func read(_ path: String, expected: String) throws(DatasetError) -> [UInt8] {
    guard exists(path), !isDirectory(path) else {
      throw .missing(path: path, expected: expected)
    }
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw .unreadable(path: path, reason: "permission denied or I/O error")
    }
    defer { try? handle.close() }
    do {
      return [UInt8](try handle.readToEnd() ?? Data())
    } catch {
      throw .unreadable(path: path, reason: "\(error.localizedDescription)")
    }
  }

  /// Runs `body` on a scanner over the file at `path`.
  static func scan<Result>(
    _ path: String, expected: String,
    _ body: (inout ByteScanner) throws(DatasetError) -> Result
  ) throws(DatasetError) -> Result {
    let bytes = try read(path, expected: expected)
    return try bytes.withUnsafeBufferPointer { buffer throws(DatasetError) in
      var scanner = ByteScanner(buffer, path: path)
      return try body(&scanner)
    }
  }

  /// Reads a table of blank-separated numbers, `columns` per line, into row-major order.
  ///
  /// Blank lines are skipped; leading blanks, tabs and CRLF line ends are accepted.
  /// - Parameter allowNaN: Whether `NaN` fields are kept (Opportunity) or rejected.
  /// - Returns: The values, `rows × columns` of them.
  /// - Throws: ``DatasetError/malformedLine(path:line:column:expected:found:)`` for a short or
  ///   long line or a field that is not a number,
  ///   ``DatasetError/nonFiniteValue(path:line:column:found:)`` for an infinite (or disallowed
  ///   NaN) value, ``DatasetError/empty(path:)`` for no rows.
  static func numberTable(
    _ path: String, columns: Int, expected: String, allowNaN: Bool = false
  ) throws(DatasetError) -> [Float] {
    try scan(path, expected: expected) { scanner throws(DatasetError) in
      var values: [Float] = []
      values.reserveCapacity(scanner.bytes.count / 8)
      while scanner.skipBlankLines() {
        let lineStart = scanner.position
        for _ in 0..<columns {
          scanner.skipBlanks()
          if scanner.isAtLineEnd {
            throw scanner.malformed(at: lineStart, expected: "\(columns) numbers")
          }
          let start = scanner.position
          guard let value = scanner.number() else {
            throw scanner.malformed(at: start, expected: "a number")
          }
          if !value.isFinite && !(allowNaN && value.isNaN) {
            throw DatasetError.nonFiniteValue(
              path: path, line: scanner.line, column: scanner.column(of: start),
              found: scanner.field(from: start, separators: [.space, .tab]))
          }
          values.append(value)
        }
        try scanner.expectLineEnd("end of line after \(columns) numbers")
      }
      guard !values.isEmpty else { throw DatasetError.empty(path: path) }
      return values
    }
  }

  /// The line, byte column and text of field `field` (0-based) in non-blank row `row` (0-based)
  /// of a blank-separated table; used to name the place of a value found invalid after parsing.
  static func locate(
    _ path: String, row: Int, field: Int, expected: String
  ) throws(DatasetError) -> (line: Int, column: Int, text: String) {
    try scan(path, expected: expected) { scanner throws(DatasetError) in
      var current = 0
      while scanner.skipBlankLines() {
        if current == row {
          for _ in 0..<field {
            scanner.skipBlanks()
            while !scanner.isAtLineEnd, scanner.current != .space, scanner.current != .tab {
              scanner.rewind(to: scanner.position + 1)
            }
          }
          scanner.skipBlanks()
          return (
            scanner.line, scanner.column,
            scanner.field(from: scanner.position, separators: [.space, .tab])
          )
        }
        scanner.skipLine()
        current += 1
      }
      return (scanner.line, 1, "")
    }
  }
}
