import Export
import Foundation
import Layers
import Tensor

/// The system C compiler, and a harness that runs a generated model on windows.
enum SystemC {
  /// The path of `cc` on `PATH`, if any.
  static let compiler: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for folder in path.split(separator: ":") {
      let candidate = "\(folder)/cc"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }()

  /// Reads `count` windows of raw little-endian floats from stdin, calls the model on each and
  /// writes the scores as raw floats and the returned class as an int32 to stdout.
  static func harness(name: String) -> String {
    let upper = name.uppercased()
    return """
      #include <stdio.h>
      #include <stdint.h>
      #include "\(name).h"
      static float window[\(upper)_TIME_STEPS][\(upper)_CHANNELS];
      int main(void) {
        float scores[\(upper)_CLASSES];
        while (fread(window, sizeof window, 1, stdin) == 1) {
          int32_t best = \(name)_predict((const float (*)[\(upper)_CHANNELS])window, scores);
          fwrite(scores, sizeof scores, 1, stdout);
          fwrite(&best, sizeof best, 1, stdout);
        }
        return 0;
      }

      """
  }

  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// Runs `executable` with `arguments`, feeding `input`; returns stdout, throws on a non-zero
  /// status with stderr.
  static func run(_ executable: String, _ arguments: [String], input: Data = Data()) throws
    -> Data
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let folder = FileManager.default.temporaryDirectory
    let inURL = folder.appendingPathComponent("hardistill-in-\(UUID().uuidString)")
    let outURL = folder.appendingPathComponent("hardistill-out-\(UUID().uuidString)")
    let errURL = folder.appendingPathComponent("hardistill-err-\(UUID().uuidString)")
    defer { for url in [inURL, outURL, errURL] { try? FileManager.default.removeItem(at: url) } }
    try input.write(to: inURL)
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    process.standardInput = try FileHandle(forReadingFrom: inURL)
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
    process.waitUntilExit()
    let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
    guard process.terminationStatus == 0 else {
      throw Failure(
        description: "\(executable) \(arguments.joined(separator: " ")): exit "
          + "\(process.terminationStatus)\n\(stderr)")
    }
    return try Data(contentsOf: outURL)
  }

  /// Compiles `source` with a harness (strict C99, every warning an error) and runs it on
  /// `windows` (`[n, time, channels]`): the scores `[n, classes]` and the returned classes.
  static func predict(_ source: CSource, windows: Tensor, classes: Int) throws -> (
    scores: [Float], classes: [Int]
  ) {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("hardistill-c-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try source.write(to: folder)
    let main = folder.appendingPathComponent("main.c")
    try harness(name: source.name).write(to: main, atomically: true, encoding: .utf8)
    let program = folder.appendingPathComponent("model").path
    _ = try run(
      compiler!,
      [
        "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-o", program,
        folder.appendingPathComponent(source.name + ".c").path, main.path, "-lm",
      ])
    let output = try run(program, [], input: rawFloats(windows.scalars))
    let record = 4 * (classes + 1)
    var scores: [Float] = []
    var predicted: [Int] = []
    let bytes = [UInt8](output)
    for start in stride(from: 0, to: bytes.count, by: record) {
      func word(_ index: Int) -> UInt32 {
        let base = start + 4 * index
        return UInt32(bytes[base]) | UInt32(bytes[base + 1]) << 8 | UInt32(bytes[base + 2]) << 16
          | UInt32(bytes[base + 3]) << 24
      }
      for k in 0..<classes { scores.append(Float(bitPattern: word(k))) }
      predicted.append(Int(Int32(bitPattern: word(classes))))
    }
    return (scores, predicted)
  }
}
