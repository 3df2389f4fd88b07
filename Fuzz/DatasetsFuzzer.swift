import Foundation

// libFuzzer entry point for the dataset loaders, compiled into the Datasets module by
// Fuzz/build.sh together with Tests/DatasetsTests/FuzzTargets.swift. The loader is chosen by
// HARDISTILL_FUZZ_TARGET (uci-har, hapt, wisdm, wisdm-watch, opportunity, csv, csv-layout;
// csv-layout fuzzes the column layout along with the file). The loaders take paths, so each
// input is written to a private folder on tmpfs first.

let target: DatasetFuzzTarget = {
  let name = ProcessInfo.processInfo.environment["HARDISTILL_FUZZ_TARGET"] ?? ""
  guard let target = DatasetFuzzTarget(rawValue: name) else {
    let names = DatasetFuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    FileHandle.standardError.write(Data("set HARDISTILL_FUZZ_TARGET to one of: \(names)\n".utf8))
    exit(64)
  }
  return target
}()

let folder: String = {
  let base =
    FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
  let path = "\(base)/hardistill-fuzz-\(getpid())"
  try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  atexit { try? FileManager.default.removeItem(atPath: "/dev/shm/hardistill-fuzz-\(getpid())") }
  return path
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  _ = try? target.load(bytes, in: folder)
  return 0
}
