import Foundation
import Layers
import Tensor

/// A failed check or a bad command line; the message says which case and by how much.
struct BenchmarkError: Error, CustomStringConvertible {
  let description: String
}

/// Whether this binary was built without optimization (assert bodies run only in debug builds).
var isDebugBuild: Bool {
  var debug = false
  assert(
    {
      debug = true
      return true
    }())
  return debug
}

/// Seconds on the monotonic clock.
func now() -> Double {
  var t = timespec()
  clock_gettime(CLOCK_MONOTONIC, &t)
  return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// The median of `values` (the mean of the middle two for an even count).
func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  guard !sorted.isEmpty else { return .nan }
  let mid = sorted.count / 2
  return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/// CPU seconds used by the whole machine (all processes) and by this process, from `/proc`, to
/// tell how much of a sample other jobs took on this shared machine.
func cpuSeconds() -> (machine: Double, own: Double) {
  let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
  var machine = 0.0
  if let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
    let line = stat.split(separator: "\n").first
  {
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    if fields.count >= 8 {
      machine = (fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]) / ticks
    }
  }
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  let own =
    Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6
    + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
  return (machine, own)
}

/// One timed sample: seconds per call, and the cores other processes used meanwhile.
struct Sample {
  let seconds: Double
  let foreignCores: Double
}

/// Times `body` (which does `work` units per call) for at least `minimumSeconds`, returning
/// seconds per call.
func sample(minimumSeconds: Double, _ body: () -> Void) -> Sample {
  let start = now()
  let cpu0 = cpuSeconds()
  var calls = 0
  var elapsed = 0.0
  repeat {
    body()
    calls += 1
    elapsed = now() - start
  } while elapsed < minimumSeconds
  let cpu1 = cpuSeconds()
  let foreign = Swift.max(0, (cpu1.machine - cpu0.machine) - (cpu1.own - cpu0.own)) / elapsed
  return Sample(seconds: elapsed / Double(calls), foreignCores: foreign)
}

/// Interleaved samples of several candidates (A B C A B C …), so that a burst of load from
/// other jobs on this shared machine hits all of them alike. Returns the median seconds per call
/// of each, and the largest share of a core other processes used during any kept sample.
func interleaved(
  rounds: Int, minimumSeconds: Double, _ candidates: [() -> Void]
) -> (medians: [Double], foreignCores: Double) {
  for candidate in candidates { candidate() }  // warm-up: caches, scratch buffers, page faults
  var samples = Array(repeating: [Sample](), count: candidates.count)
  for _ in 0..<rounds {
    for (index, candidate) in candidates.enumerated() {
      samples[index].append(sample(minimumSeconds: minimumSeconds, candidate))
    }
  }
  let foreign = samples.flatMap { $0 }.map(\.foreignCores).max() ?? 0
  return (samples.map { median($0.map(\.seconds)) }, foreign)
}

/// The largest absolute difference between `expected` and `actual`, relative to the largest
/// magnitude in `expected` (at least 1).
func relativeDifference(_ expected: [Float], _ actual: [Float]) -> Float {
  precondition(expected.count == actual.count, "compared arrays differ in length")
  var scale: Float = 1
  var worst: Float = 0
  for (e, a) in zip(expected, actual) {
    scale = Swift.max(scale, abs(e))
    worst = Swift.max(worst, abs(e - a))
  }
  return worst / scale
}

/// Fails unless `actual` matches `expected` within `tolerance` (relative): a fast wrong kernel is
/// not a result.
func check(_ name: String, _ expected: [Float], _ actual: [Float], tolerance: Float) throws {
  let difference = relativeDifference(expected, actual)
  guard difference <= tolerance, difference.isFinite else {
    throw BenchmarkError(
      description: "\(name): candidate differs from the reference by \(difference) (relative), "
        + "more than \(tolerance)")
  }
}

/// The peak resident set size of this process in bytes (Linux `VmHWM`), or 0 if unknown.
func peakResidentBytes() -> Int {
  guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
    return 0
  }
  for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
    let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
    return kilobytes * 1024
  }
  return 0
}

/// Where results go: a table on stdout, or one JSON object per line with `--json`.
struct Report {
  let json: Bool
  var rows: [[String]] = []

  /// Records one measured value; `parameters` is the trained model's parameter count, printed
  /// so that a comparison can check it against the other framework's model.
  mutating func add(
    _ caseName: String, metric: String, value: Double,
    baseline: (name: String, value: Double)? = nil,
    note: String = "", parameters: Int? = nil
  ) {
    let variant = KernelConfiguration.current.variant.rawValue
    let threads = KernelConfiguration.current.threadCount
    if json {
      var fields = [
        "\"case\": \"\(caseName)\"", "\"metric\": \"\(metric)\"",
        "\"value\": \(String(format: "%.6g", value))", "\"variant\": \"\(variant)\"",
        "\"threads\": \(threads)",
      ]
      if let baseline {
        fields.append("\"baseline\": \"\(baseline.name)\"")
        fields.append("\"baseline_value\": \(String(format: "%.6g", baseline.value))")
      }
      if let parameters { fields.append("\"params\": \(parameters)") }
      if !note.isEmpty { fields.append("\"note\": \"\(note)\"") }
      emit("{" + fields.joined(separator: ", ") + "}")
    } else {
      let ratio = baseline.map { b -> String in
        let r = ["ms", "median_us", "seconds"].contains(metric) ? b.value / value : value / b.value
        return String(format: "%.2f× %@", r, b.name)
      }
      let row = [
        caseName, metric, String(format: value >= 100 ? "%.0f" : "%.2f", value), ratio ?? "",
        parameters.map { "\($0) parameters; " + note } ?? note,
      ]
      emit(row.joined(separator: "  |  "))
      rows.append(row)
    }
  }
}

/// Writes one line to standard output at once (unbuffered, so progress shows while cases run).
func emit(_ line: String) {
  FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Checks one training step's loss and gradients on the fast kernels against the reference
/// kernels' (loss to 1e-4, every gradient to 1e-3 relative).
func checkStep(
  _ name: String, fast: (value: Float, gradients: Gradients),
  reference: (value: Float, gradients: Gradients)
) throws {
  try check("\(name) loss", [reference.value], [fast.value], tolerance: 1e-4)
  for (parameter, expected) in reference.gradients.byName {
    try check(
      "\(name) gradient \(parameter)", expected.scalars, fast.gradients[parameter]!.scalars,
      tolerance: 1e-3)
  }
}

/// Training steps run so far by the timing loops (the only writers, on the main thread), so that
/// ``reportTraining`` can state buffer-pool traffic per step.
nonisolated(unsafe) var stepsRun = 0

/// Times a training case: for each timed epoch, `baseline(epoch)` (a few steps on the reference
/// kernels, skipped with `--skip-baseline`) then `candidate(epoch)` (a whole epoch), interleaved so
/// that load bursts hit both; reports the median samples/s, each epoch's rate and the cores other
/// processes used meanwhile.
func reportTraining(
  _ name: String, _ options: Options, _ report: inout Report, notePrefix: String = "",
  parameters: Int? = nil, baseline: (_ epoch: Int) -> Double, candidate: (_ epoch: Int) -> Double
) {
  var rates: [Double] = []
  var baselineRates: [Double] = []
  var (steps, reused, allocated) = (0, 0, 0)
  let cpu0 = cpuSeconds()
  let start = now()
  for epoch in 0..<(options.quick ? 1 : options.epochs) {
    if !options.skipBaseline {
      baselineRates.append(KernelConfiguration.with(variant: .reference) { baseline(epoch) })
    }
    let (pool, stepsBefore) = (BufferPool.statistics, stepsRun)
    rates.append(candidate(epoch))
    steps += stepsRun - stepsBefore
    reused += BufferPool.statistics.reused - pool.reused
    allocated += BufferPool.statistics.allocated - pool.allocated
  }
  let cpu1 = cpuSeconds()
  let foreign =
    Swift.max(0, (cpu1.machine - cpu0.machine) - (cpu1.own - cpu0.own)) / (now() - start)
  report.add(
    name, metric: "samples_per_sec", value: median(rates),
    baseline: baselineRates.isEmpty ? nil : ("reference", median(baselineRates)),
    note: notePrefix
      + String(
        format:
          "epochs %@; other jobs used %.2f cores; buffer pool per step: %.1f arrays reused, "
          + "%.2f new, %.0f MiB held after",
        rates.map { String(format: "%.0f", $0) }.joined(separator: "/"), foreign,
        Double(reused) / Double(Swift.max(steps, 1)),
        Double(allocated) / Double(Swift.max(steps, 1)),
        Double(BufferPool.statistics.heldBytes) / 1_048_576),
    parameters: parameters)
}
