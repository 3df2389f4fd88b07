import Datasets
import Foundation
import Tensor

/// Settings that say how many threads the process may use.
public protocol ThreadBound {
  /// The most threads the process uses; all cores when `nil`.
  var threads: Int? { get }
}

extension RunOptions: ThreadBound {}

/// The entry point shared by every executable: parses options, runs `body` with the thread
/// bound in force, and turns errors into exit statuses — 0 for success and `--help`, 64 for bad
/// command-line input (one line on standard error), 1 for any other failure.
public enum CommandLineTool {
  /// Runs `body` with the parsed options, then exits.
  public static func main<Settings: ThreadBound>(
    _ parser: OptionParser<Settings>,
    arguments: [String] = Array(CommandLine.arguments.dropFirst()),
    _ body: (Settings) throws -> Void
  ) -> Never {
    do {
      let options = try parser.parse(arguments)
      let threads = options.threads ?? KernelConfiguration.current.threadCount
      try KernelConfiguration.with(threadCount: threads) { try body(options) }
      exit(0)
    } catch let error as UsageError where error.message == nil {
      print(parser.usage)
      exit(0)
    } catch let error as UsageError {
      let named = error.program.isEmpty ? UsageError(error.message, program: parser.program) : error
      FileHandle.standardError.write(Data("\(named)\n".utf8))
      exit(64)
    } catch let error as DatasetError where error.isUsageProblem {
      // A data folder that is not there, or holds no data, is bad input too.
      FileHandle.standardError.write(
        Data("\(parser.program): error: \(error) (see '\(parser.program) --help')\n".utf8))
      exit(64)
    } catch {
      FileHandle.standardError.write(Data("\(parser.program): error: \(oneLine(error))\n".utf8))
      exit(1)
    }
  }
}

/// An error as one line: Foundation's file errors as `path: cause` (the system's words for the
/// underlying failure) instead of their dictionary dump; others as they describe themselves.
public func oneLine(_ error: any Error) -> String {
  let nsError = error as NSError
  guard nsError.domain == NSCocoaErrorDomain else { return "\(error)" }
  let path =
    (nsError.userInfo[NSFilePathErrorKey] as? String)
    ?? (nsError.userInfo[NSURLErrorKey] as? URL)?.path ?? "file"
  if let underlying = (nsError.userInfo[NSUnderlyingErrorKey] as? any Error).map({ $0 as NSError }),
    underlying.domain == NSPOSIXErrorDomain
  {
    return "\(path): \(String(cString: strerror(Int32(underlying.code))))"
  }
  return "\(path): \(nsError.localizedDescription)"
}

extension DatasetError {
  /// Whether the error means the user pointed at the wrong place or an empty data set, rather
  /// than at a damaged file.
  var isUsageProblem: Bool {
    switch self {
    case .missing, .empty, .noWindows, .invalidOption: true
    default: false
    }
  }
}
