/// Why a data set could not be loaded; every case names the file, and the line where there is one.
///
/// Messages follow the compiler's layout, `path:line:column: expected …, found "…"`, quoting at
/// most 60 characters of the offending text, so an editor can jump to the place.
public enum DatasetError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A file or folder that does not exist; `expected` describes the layout the loader reads.
  case missing(path: String, expected: String)
  /// A file that exists but cannot be read, e.g. for lack of permission.
  case unreadable(path: String, reason: String)
  /// A line that breaks the format at `column` (1-based, in bytes); `found` is the text from there.
  case malformedLine(path: String, line: Int, column: Int, expected: String, found: String)
  /// A NaN or infinite number where the format allows finite numbers only.
  case nonFiniteValue(path: String, line: Int, column: Int, found: String)
  /// An activity name or code that is not one of `known`.
  case unknownActivity(path: String, line: Int, column: Int, found: String, known: [String])
  /// A file whose row count differs from that of a file recorded alongside it.
  case lengthMismatch(path: String, rows: Int, otherPath: String, otherRows: Int)
  /// A labelled interval on `line` of `path` that does not lie inside `recording`.
  case intervalOutOfRange(
    path: String, line: Int, start: Int, end: Int, recording: String, samples: Int)
  /// A file with no samples in it.
  case empty(path: String)
  /// A load or a split that produced no windows; `reason` says what was asked for.
  case noWindows(source: String, reason: String)
  /// An option outside its valid range, e.g. a window length of 0.
  case invalidOption(name: String, value: String, expected: String)

  /// The longest quotation of file text a message carries.
  static let quoteLimit = 60

  /// The message: `path:line:column: expected …, found "…"` for problems inside a file.
  public var description: String {
    switch self {
    case .missing(let path, let expected):
      "\(path): no such file or folder; expected \(expected)"
    case .unreadable(let path, let reason):
      "\(path): cannot read: \(reason)"
    case .malformedLine(let path, let line, let column, let expected, let found):
      "\(path):\(line):\(column): expected \(expected), found \"\(found)\""
    case .nonFiniteValue(let path, let line, let column, let found):
      "\(path):\(line):\(column): expected a finite number, found \"\(found)\""
    case .unknownActivity(let path, let line, let column, let found, let known):
      "\(path):\(line):\(column): expected an activity (\(known.joined(separator: ", "))), "
        + "found \"\(found)\""
    case .lengthMismatch(let path, let rows, let otherPath, let otherRows):
      "\(path): expected \(otherRows) rows as in \(otherPath), found \(rows)"
    case .intervalOutOfRange(let path, let line, let start, let end, let recording, let samples):
      "\(path):\(line): expected an interval inside samples 1...\(samples) of \(recording), "
        + "found \"\(start) \(end)\""
    case .empty(let path):
      "\(path): expected at least one sample, found none"
    case .noWindows(let source, let reason):
      "\(source): expected at least one window, found none (\(reason))"
    case .invalidOption(let name, let value, let expected):
      "\(name): expected \(expected), found \"\(value)\""
    }
  }

  /// At most ``quoteLimit`` characters of `text`, as a message quotes it.
  static func quote(_ text: some StringProtocol) -> String {
    String(text.prefix(quoteLimit))
  }
}
