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
    } catch {
      FileHandle.standardError.write(Data("\(parser.program): error: \(error)\n".utf8))
      exit(1)
    }
  }
}

/// The executable that runs a configuration, e.g. `rab-kd` for RAB-KD.
public func executableName(of configuration: String) -> String { configuration.lowercased() }
