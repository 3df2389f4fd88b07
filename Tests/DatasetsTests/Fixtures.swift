import Foundation

/// A temporary folder of fixture files, removed when the value is released.
final class FixtureFolder {
  let path: String

  init() {
    path = NSTemporaryDirectory() + "hardistill-datasets-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  /// Writes `text` to `relativePath`, creating folders; returns the full path.
  @discardableResult
  func write(_ relativePath: String, _ text: String) -> String {
    let full = path + "/" + relativePath
    let folder = (full as NSString).deletingLastPathComponent
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: full, contents: Data(text.utf8))
    return full
  }

  func remove(_ relativePath: String) {
    try? FileManager.default.removeItem(atPath: path + "/" + relativePath)
  }
}

/// Where the real UCI HAPT recordings live, if they are on this machine.
enum RealData {
  static let hapt: String? = {
    // The package sits beside `shared/`: <repo>/Tests/DatasetsTests/Fixtures.swift.
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let sibling = repository.deletingLastPathComponent().appendingPathComponent(
      "shared/datasets/uci-hapt"
    ).path
    let candidates: [String?] = [ProcessInfo.processInfo.environment["HARDISTILL_HAPT"], sibling]
    return candidates.compactMap { $0 }.first {
      FileManager.default.fileExists(atPath: $0 + "/RawData/labels.txt")
    }
  }()
}
