import Datasets
import Foundation
import Tensor

/// The entry point shared by every executable: parses options, runs `body` with the kernel
/// thread count in force, and turns errors into exit statuses — 0 for success and `--help`, 64 for
/// bad command-line input (one line on standard error), 1 for any other failure.
public enum CommandLineTool {
  /// Runs `body` with the parsed options, then exits.
  public static func main(
    _ parser: OptionParser, arguments: [String] = Array(CommandLine.arguments.dropFirst()),
    _ body: (ExperimentOptions) throws -> Void
  ) -> Never {
    do {
      let options = try parser.parse(arguments)
      if let threads = options.threads {
        try KernelConfiguration.with(threadCount: threads) { try body(options) }
      } else {
        try body(options)
      }
      exit(0)
    } catch let error as UsageError where error.message == nil {
      print(parser.usage)
      exit(0)
    } catch let error as UsageError {
      FileHandle.standardError.write(Data("\(error)\n".utf8))
      exit(64)
    } catch let error as DatasetError where error.isUsageProblem {
      // A data folder that is not there, or holds no data, is bad input too.
      FileHandle.standardError.write(
        Data("\(parser.program): error: \(error) (see '\(parser.program) --help')\n".utf8))
      exit(64)
    } catch {
      FileHandle.standardError.write(Data("\(parser.program): error: \(error)\n".utf8))
      exit(1)
    }
  }
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

/// The executable that runs a configuration, e.g. `rab-kd` for RAB-KD.
public func executableName(of configuration: String) -> String { configuration.lowercased() }
