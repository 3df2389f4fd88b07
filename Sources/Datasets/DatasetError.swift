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
  /// Subjects found in two parts that must be subject-disjoint, e.g. a volunteer listed in both
  /// `subject_train.txt` and `subject_test.txt`; `source` and `otherSource` name the two parts
  /// (file paths where the subjects come from files), `subjects` the shared ids, ascending.
  case subjectOverlap(source: String, otherSource: String, subjects: [Int])
  /// Two files that claim the same experiment (UCI HAPT: `acc_exp01_user01.txt` beside
  /// `acc_exp01_user09.txt`); `path` is the later in name order.
  case duplicateExperiment(path: String, otherPath: String, experiment: Int)
  /// A header that names the column `name` twice, at byte columns `column` and `firstColumn`.
  case duplicateColumn(path: String, line: Int, column: Int, name: String, firstColumn: Int)
  /// A labelled interval on `line` that overlaps the interval of the same recording on
  /// `otherLine`.
  case overlappingInterval(
    path: String, line: Int, start: Int, end: Int, otherLine: Int, otherStart: Int, otherEnd: Int)
  /// A file whose name breaks the layout's naming scheme, e.g. `acc_exp01_user-1.txt`.
  case badFileName(path: String, expected: String)
  /// A file larger than ``DatasetLimits/maximumFileSize``, refused before reading.
  case fileTooLarge(path: String, bytes: Int, limit: Int)
  /// A path that is not a regular file (after following symbolic links): a device such as
  /// `/dev/zero`, a FIFO or a socket; `kind` says which.
  case notARegularFile(path: String, kind: String)
  /// Classes of the data that a split left without any window in `part`; `source` names the
  /// split.
  case missingClasses(source: String, part: String, classes: [String])
  /// A `part` of a split with windows of only one class, `className`.
  case singleClass(source: String, part: String, className: String)

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
    case .subjectOverlap(let source, let otherSource, let subjects):
      "\(source): expected subjects disjoint from those of \(otherSource), found "
        + "\(subjects.count == 1 ? "subject" : "subjects") "
        + "\(subjects.map(String.init).joined(separator: ", ")) in both"
    case .duplicateExperiment(let path, let otherPath, let experiment):
      "\(path): expected each experiment id in one file only, found experiment \(experiment) "
        + "also in \(otherPath)"
    case .duplicateColumn(let path, let line, let column, let name, let firstColumn):
      "\(path):\(line):\(column): expected each column name once, found \"\(name)\" again "
        + "(first at column \(firstColumn))"
    case .overlappingInterval(
      let path, let line, let start, let end, let otherLine, let otherStart, let otherEnd):
      "\(path):\(line): expected an interval that does not overlap \(otherStart)...\(otherEnd) "
        + "of the same recording on line \(otherLine), found \"\(start) \(end)\""
    case .badFileName(let path, let expected):
      "\(path): expected \(expected), found \"\(path.split(separator: "/").last ?? "")\""
    case .fileTooLarge(let path, let bytes, let limit):
      "\(path): expected a file of at most \(limit) bytes (DatasetLimits.maximumFileSize), "
        + "found \(bytes) bytes"
    case .notARegularFile(let path, let kind):
      "\(path): expected a regular file, found \(kind)"
    case .missingClasses(let source, let part, let classes):
      "\(source): expected a window of every class in the \(part) part, found none of "
        + classes.joined(separator: ", ")
    case .singleClass(let source, let part, let className):
      "\(source): expected at least two classes in the \(part) part, found only \(className)"
    }
  }

  /// At most ``quoteLimit`` characters of `text`, as a message quotes it.
  static func quote(_ text: some StringProtocol) -> String {
    String(text.prefix(quoteLimit))
  }
}
