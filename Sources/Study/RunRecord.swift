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
  /// What the run was trained with; `nil` in records of older versions.
  public var fingerprint: RunFingerprint?
  /// The run's split, threads, shards and package version, stored under `"protocol"`; `nil` in
  /// records of older versions.
  public var studyProtocol: StudyProtocol?

  private enum CodingKeys: String, CodingKey {
    case result, curve, confusion, classNames, checkpointBytes, fingerprint
    case studyProtocol = "protocol"
  }

  /// The file stem of a run: `<configuration>-seed<N>`, or `<configuration>-fold<K>-seed<N>`
  /// for a run of cross-validation fold `K`.
  public static func stem(configuration: String, seed: UInt64, fold: Int? = nil) -> String {
    "\(configuration)-" + (fold.map { "fold\($0)-" } ?? "") + "seed\(seed)"
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
  /// A stored run (or teacher) made with other settings than the run asked for now.
  case changedSettings(stem: String, what: String, differences: [String])
  /// Another live process writes into the output folder.
  case locked(path: String, pid: Int32)
  /// The runs of one output folder were made with different shared settings.
  case mixedSettings(path: String, differences: [String])
  /// A run made with other settings than the options given to report it.
  case optionsDiffer(path: String, differences: [String])

  /// The message, naming the file or run concerned.
  public var description: String {
    switch self {
    case .unreadableRun(let path, let reason): "\(path): cannot read run record: \(reason)"
    case .noRuns(let path): "\(path): no run records to report"
    case .teacherCheckpoint(let path, let reason): "\(path): cannot use as teacher: \(reason)"
    case .changedSettings(let stem, let what, let differences):
      "\(stem): the stored \(what) was made with other settings ("
        + differences.joined(separator: "; ")
        + "); use another --out, or --retrain-changed to train it again"
    case .locked(let path, let pid):
      "\(path): another process (pid \(pid)) is writing into this output folder; wait for it or "
        + "use another --out"
    case .mixedSettings(let path, let differences):
      "\(path): the runs here were made with different settings ("
        + differences.joined(separator: "; ") + "); aggregate runs of one study per folder"
    case .optionsDiffer(let path, let differences):
      "\(path): made with other settings than these options ("
        + differences.joined(separator: "; ")
        + "); report it with the options it was trained with"
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

/// A lock file, held while this process writes into an output folder or one run of it, and
/// removed when released (when the lock is freed). A lock whose process no longer runs (killed,
/// say) is stale and is taken over.
public final class OutputLock {
  /// The lock file.
  public let url: URL

  init(url: URL, conflicting others: [URL]) throws {
    self.url = url
    for other in others {
      if let pid = Self.liveOwner(of: other) {
        throw ExperimentError.locked(path: url.deletingLastPathComponent().path, pid: pid)
      }
    }
    for _ in 0..<2 {
      let descriptor = open(url.path, O_CREAT | O_EXCL | O_WRONLY, 0o644)
      if descriptor >= 0 {
        let text = "\(getpid())\n"
        _ = text.withCString { write(descriptor, $0, strlen($0)) }
        close(descriptor)
        return
      }
      guard errno == EEXIST else {
        throw ExperimentError.unreadableRun(
          path: url.path, reason: "cannot create the lock file: \(String(cString: strerror(errno)))"
        )
      }
      if let pid = Self.liveOwner(of: url) {
        throw ExperimentError.locked(path: url.deletingLastPathComponent().path, pid: pid)
      }
      unlink(url.path)  // stale: its process is gone
    }
    throw ExperimentError.unreadableRun(path: url.path, reason: "cannot take the lock file")
  }

  deinit { unlink(url.path) }

  /// The process that holds the lock file at `url`, if it still runs (and is not this one).
  static func liveOwner(of url: URL) -> Int32? {
    guard let text = try? String(contentsOf: url, encoding: .utf8),
      let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
      pid != getpid()
    else { return nil }
    return kill(pid, 0) == 0 || errno == EPERM ? pid : nil
  }
}

extension OutputFolder {
  /// Where the locks of single runs go.
  var locks: URL { root.appendingPathComponent("locks", isDirectory: true) }
  /// The lock of the whole folder.
  var folderLock: URL { root.appendingPathComponent(".lock") }

  /// Takes the whole folder for this process: no other live process may hold it or any of its
  /// runs until the lock is released.
  ///
  /// - Throws: ``ExperimentError/locked(path:pid:)`` naming the process that holds it.
  public func lock() throws -> OutputLock {
    let runs =
      (try? FileManager.default.contentsOfDirectory(at: locks, includingPropertiesForKeys: nil))
      ?? []
    return try OutputLock(url: folderLock, conflicting: runs)
  }

  /// Takes one run of the folder, as the runs of a plan do when they share it.
  ///
  /// - Throws: ``ExperimentError/locked(path:pid:)`` if another live process holds the folder or
  ///   this run.
  public func lock(run stem: String) throws -> OutputLock {
    try FileManager.default.createDirectory(at: locks, withIntermediateDirectories: true)
    return try OutputLock(
      url: locks.appendingPathComponent(stem + ".lock"), conflicting: [folderLock])
  }
}
