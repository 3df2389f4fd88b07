import Foundation
import Layers
import Testing

@Suite("Replacing a file")
struct FileReplacementTests {
  @Test func replacesTheFileAndLeavesNothingElse() throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("replace-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("log.jsonl")
    try writeReplacing(Data("one\n".utf8), to: url)
    // A partial file left by a killed writer is overwritten and renamed away by the next write.
    try Data("half".utf8).write(to: folder.appendingPathComponent("log.jsonl.partial"))
    try writeReplacing(Data("one\ntwo\n".utf8), to: url)
    #expect(try String(contentsOf: url, encoding: .utf8) == "one\ntwo\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["log.jsonl"])
  }

  @Test func aFolderThatIsNotThereIsNamedInTheError() {
    let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/log.jsonl")
    #expect {
      try writeReplacing(Data("x".utf8), to: url)
    } throws: { error in
      (error as? FileWriteError)?.path == url.path
        && "\(error)".hasPrefix(url.path + ": cannot write: ")
    }
  }
}
