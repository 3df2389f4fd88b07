import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// POSIX `read(2)`, named apart from ``Files/read(_:expected:)``.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int
{
  #if canImport(Glibc)
    Glibc.read(descriptor, buffer, count)
  #elseif canImport(Musl)
    Musl.read(descriptor, buffer, count)
  #else
    Darwin.read(descriptor, buffer, count)
  #endif
}

/// Limits the loaders apply to the files they read.
public enum DatasetLimits {
  /// The largest data file a loader reads, in bytes; 1 GiB (2^30 bytes) by default.
  ///
  /// Every loader checks each file's size before reading it and refuses a larger one with
  /// ``DatasetError/fileTooLarge(path:bytes:limit:)``; 1 GiB is far above any single file of the
  /// supported data sets. The value is task-local: raise (or lower) it for the loads inside one
  /// closure, without affecting loads elsewhere in the program:
  ///
  /// ```swift
  /// let windows = try DatasetLimits.$maximumFileSize.withValue(4 << 30) {
  ///   try CSV.load(path, layout: layout, windowing: windowing)
  /// }
  /// ```
  ///
  /// A negative value counts as 0 (only empty files are read).
  @TaskLocal public static var maximumFileSize = 1 << 30
}

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

  /// The names of the entries of the folder at `path`, sorted, without `.` and `..`.
  ///
  /// - Throws: ``DatasetError/missing(path:expected:)`` if `path` is not a folder,
  ///   ``DatasetError/unreadable(path:reason:)`` with the system's one-line reason (e.g.
  ///   "permission denied") if it cannot be listed.
  static func contents(of path: String, expected: String) throws(DatasetError) -> [String] {
    try requireDirectory(path, expected: expected)
    guard let directory = opendir(path) else {
      throw .unreadable(path: path, reason: reason(errno))
    }
    defer { closedir(directory) }
    var names: [String] = []
    while true {
      errno = 0
      guard let entry = readdir(directory) else {
        if errno != 0 { throw .unreadable(path: path, reason: reason(errno)) }
        break
      }
      let name = withUnsafePointer(to: entry.pointee.d_name) { tuple in
        tuple.withMemoryRebound(
          to: CChar.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)
        ) { String(cString: $0) }
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
  }

  /// The system's description of `code` (an `errno` value) as one lowercase-initial line, e.g.
  /// "permission denied".
  static func reason(_ code: Int32) -> String {
    let text = String(cString: strerror(code))
    return text.prefix(1).lowercased() + text.dropFirst()
  }

  /// What the file-type bits of `mode` say the file is, for a message: "a regular file",
  /// "a folder", "a character device", …
  static func kind(_ mode: Int) -> String {
    switch mode & Int(S_IFMT) {
    case Int(S_IFREG): "a regular file"
    case Int(S_IFDIR): "a folder"
    case Int(S_IFCHR): "a character device"
    case Int(S_IFBLK): "a block device"
    case Int(S_IFIFO): "a FIFO"
    case Int(S_IFSOCK): "a socket"
    default: "a file of unknown type"
    }
  }

  /// Refuses, from its `stat` information, a file a loader must not read: a folder (reported as
  /// missing, as the layout expects a file there), anything else that is not a regular file, and
  /// a file larger than `limit` bytes.
  private static func check(
    _ info: stat, path: String, expected: String, limit: Int
  ) throws(DatasetError) {
    let mode = Int(info.st_mode)
    if mode & Int(S_IFMT) == Int(S_IFDIR) { throw .missing(path: path, expected: expected) }
    guard mode & Int(S_IFMT) == Int(S_IFREG) else {
      throw .notARegularFile(path: path, kind: kind(mode))
    }
    guard Int(info.st_size) <= limit else {
      throw .fileTooLarge(path: path, bytes: Int(info.st_size), limit: limit)
    }
  }

  /// The bytes of the file at `path`.
  ///
  /// Before reading, symbolic links are followed and the target must be a regular file of at
  /// most ``DatasetLimits/maximumFileSize`` bytes: a device such as `/dev/zero`, a FIFO or a
  /// socket is refused (opening a FIFO would block, reading `/dev/zero` would never end), and so
  /// is a file over the limit, whatever its blocks on disk (a sparse file). The read itself stops
  /// one byte past the limit, so a file that grows after the check is refused too.
  ///
  /// Read with POSIX calls, so that every failure is one line naming the cause (`strerror`), and
  /// because `FileManager.contents(atPath:)` and `Data(contentsOf:)` leak a 4 KiB buffer for every
  /// empty file (swift-foundation in Swift 6.3.1; found by AddressSanitizer's leak check).
  /// - Throws: ``DatasetError/missing(path:expected:)`` if there is no file (or a folder) at
  ///   `path`, ``DatasetError/notARegularFile(path:kind:)``,
  ///   ``DatasetError/fileTooLarge(path:bytes:limit:)``, or
  ///   ``DatasetError/unreadable(path:reason:)`` naming the system's reason.
  static func read(_ path: String, expected: String) throws(DatasetError) -> [UInt8] {
    // Clamped so that `limit + 1` below cannot overflow.
    let limit = Swift.min(Swift.max(0, DatasetLimits.maximumFileSize), Int.max - 1)
    var info = stat()
    guard stat(path, &info) == 0 else {
      let code = errno
      if code == ENOENT || code == ENOTDIR { throw .missing(path: path, expected: expected) }
      throw .unreadable(path: path, reason: reason(code))
    }
    try check(info, path: path, expected: expected, limit: limit)
    // Non-blocking, in case the path was replaced by a FIFO since `stat`.
    let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard descriptor >= 0 else { throw .unreadable(path: path, reason: reason(errno)) }
    defer { close(descriptor) }
    // Check what was actually opened, too.
    guard fstat(descriptor, &info) == 0 else {
      throw .unreadable(path: path, reason: reason(errno))
    }
    try check(info, path: path, expected: expected, limit: limit)
    // One byte more than the size, to see the end of the file in the same read.
    var bytes = [UInt8](repeating: 0, count: Swift.min(Int(info.st_size), limit) + 1)
    var count = 0
    while true {
      if count == bytes.count {
        guard count <= limit else {
          throw .fileTooLarge(path: path, bytes: count, limit: limit)
        }
        bytes += repeatElement(0, count: Swift.min(bytes.count, limit + 1 - bytes.count))
      }
      let read = bytes.withUnsafeMutableBytes { buffer in
        systemRead(descriptor, buffer.baseAddress! + count, buffer.count - count)
      }
      if read < 0 {
        let code = errno
        if code == EINTR { continue }
        throw .unreadable(path: path, reason: reason(code))
      }
      if read == 0 { break }
      count += read
    }
    bytes.removeLast(bytes.count - count)
    return bytes
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
