/// Bad command-line input: printed on one line with a pointer to `--help`; the process exits with
/// status 64 (`EX_USAGE`). An explicit `--help` is a `UsageError` without a message: the usage is
/// printed on standard output and the process exits with 0.
public struct UsageError: Error, Equatable, CustomStringConvertible {
  /// What is wrong, or `nil` for an explicit `--help`.
  public var message: String?
  /// The program name, for the pointer to `--help`.
  public var program: String

  /// A usage error.
  public init(_ message: String?, program: String) {
    self.message = message
    self.program = program
  }

  /// A usage error whose program the ``OptionParser`` fills in.
  public init(_ message: String) {
    self.init(message, program: "")
  }

  /// The line printed on standard error before exit 64,
  /// `<program>: error: <message> (see '<program> --help')`.
  public var description: String {
    guard let message else { return "\(program) --help" }
    return "\(program): error: \(message) (see '\(program) --help')"
  }
}
