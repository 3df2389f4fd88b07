import Foundation
import Metrics

/// Everything one training run leaves for the report: its result row, its training curve and its
/// test confusion matrix. Stored as `runs/<configuration>-seed<N>.json` in the output folder, so
/// runs made by separate processes (or cluster jobs) aggregate into one report.
public struct RunRecord: Codable, Sendable, Equatable {
  /// The row of `results.json`.
  public var result: RunResult
  /// Training loss and validation macro-F1 per epoch.
  public var curve: TrainingCurve
  /// The test set's confusion matrix.
  public var confusion: ConfusionMatrix
  /// Class names by index.
  public var classNames: [String]
  /// The size of the run's checkpoint file.
  public var checkpointBytes: Int

  /// The file stem of a run: `<configuration>-seed<N>`.
  public static func stem(configuration: String, seed: UInt64) -> String {
    "\(configuration)-seed\(seed)"
  }
}

/// The files of an output folder.
public struct OutputFolder: Sendable {
  /// The folder itself.
  public let root: URL

  /// The output folder at `path`, created if needed.
  public init(path: String) throws {
    root = URL(fileURLWithPath: path, isDirectory: true)
    for folder in [root, runs, checkpoints, logs] {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }
  }

  /// Where run records go.
  public var runs: URL { root.appendingPathComponent("runs", isDirectory: true) }
  /// Where checkpoints go.
  public var checkpoints: URL { root.appendingPathComponent("checkpoints", isDirectory: true) }
  /// Where training logs go.
  public var logs: URL { root.appendingPathComponent("logs", isDirectory: true) }

  /// The record file of a run.
  public func record(_ stem: String) -> URL { runs.appendingPathComponent(stem + ".json") }
  /// The final checkpoint of a run.
  public func checkpoint(_ stem: String) -> URL {
    checkpoints.appendingPathComponent(stem + ".safetensors")
  }
  /// The resumable mid-training checkpoint of a run.
  public func trainingState(_ stem: String) -> URL {
    checkpoints.appendingPathComponent(stem + ".training.safetensors")
  }
  /// The JSON-lines training log of a run.
  public func log(_ stem: String) -> URL { logs.appendingPathComponent(stem + ".jsonl") }
  /// The test predictions of a run, `predictions-<configuration>-seed<N>.csv`.
  public func predictions(_ stem: String) -> URL {
    root.appendingPathComponent("predictions-\(stem).csv")
  }

  /// Every run record in the folder, sorted by file name.
  ///
  /// - Throws: An error naming the file that cannot be read or decoded.
  public func records() throws -> [RunRecord] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: runs.path)) ?? []
    return try names.filter { $0.hasSuffix(".json") }.sorted().map { name in
      let url = runs.appendingPathComponent(name)
      do {
        return try JSONDecoder.iso8601.decode(RunRecord.self, from: Data(contentsOf: url))
      } catch {
        throw ExperimentError.unreadableRun(path: url.path, reason: "\(error)")
      }
    }
  }
}

/// Why an experiment could not run or report.
public enum ExperimentError: Error, CustomStringConvertible {
  /// A run file that cannot be read.
  case unreadableRun(path: String, reason: String)
  /// Nothing to report.
  case noRuns(path: String)
  /// A teacher checkpoint that does not fit the teacher model.
  case teacherCheckpoint(path: String, reason: String)

  /// The message, naming the file or run concerned.
  public var description: String {
    switch self {
    case .unreadableRun(let path, let reason): "\(path): cannot read run record: \(reason)"
    case .noRuns(let path): "\(path): no run records to report"
    case .teacherCheckpoint(let path, let reason): "\(path): cannot use as teacher: \(reason)"
    }
  }
}

extension JSONDecoder {
  static var iso8601: JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return decoder
  }
}

extension JSONEncoder {
  static var readable: JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    return encoder
  }
}
