import Foundation

/// Why ``writeReplacing(_:to:)`` could not write a file.
public struct FileWriteError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The file that could not be written.
  public var path: String
  /// What the system said, e.g. `No space left on device`.
  public var reason: String

  /// `<path>: cannot write: <reason>`.
  public var description: String { "\(path): cannot write: \(reason)" }
}

/// Writes `data` to `<file>.partial` beside `url`, then renames it over `url`: a reader never sees
/// half a file, the previous file survives a crash, and a failed write (a full disk) removes its
/// partial file.
///
/// Foundation's `.atomic` option is not used: when the process is killed mid-write (a training
/// run stopped with SIGKILL) it leaves its `.dat.nosync…` temporary file behind under a random
/// name, while the fixed sibling name is overwritten and renamed away by the next write of the
/// same file.
///
/// - Throws: ``FileWriteError`` naming `url`.
public func writeReplacing(_ data: Data, to url: URL) throws(FileWriteError) {
  let partial = url.deletingLastPathComponent()
    .appendingPathComponent(url.lastPathComponent + ".partial")
  do {
    try data.write(to: partial)
  } catch {
    try? FileManager.default.removeItem(at: partial)
    throw FileWriteError(path: url.path, reason: fileErrorReason(error))
  }
  guard rename(partial.path, url.path) == 0 else {
    let reason = String(cString: strerror(errno))
    try? FileManager.default.removeItem(at: partial)
    throw FileWriteError(path: url.path, reason: reason)
  }
}
