import Datasets
import Foundation

/// Loading real UCI HAPT (parse, window, split) from `--hapt PATH`; skipped when absent.
func runParseCases(_ options: Options, _ report: inout Report) throws {
  guard options.selects("parse.uci-hapt") else { return }
  guard FileManager.default.fileExists(atPath: options.haptPath + "/RawData") else {
    emit("parse.uci-hapt: skipped, no RawData under \(options.haptPath) (give --hapt PATH)")
    return
  }
  var seconds: [Double] = []
  var windows = 0
  for _ in 0..<(options.quick ? 1 : 3) {
    let start = now()
    let split = try HAPT.load(from: options.haptPath)
    seconds.append(now() - start)
    windows = split.train.count + split.test.count
  }
  report.add(
    "parse.uci-hapt", metric: "seconds", value: median(seconds),
    note: "\(windows) windows of 128×6, median of \(seconds.count)")
}
