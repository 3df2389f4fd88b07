// har-bench: GEMM, Conv1D, training and inference benchmarks of HARDistill's kernels.
//
// Every case first checks the fast kernels against the Swift reference kernels, then times them,
// interleaved with a baseline measured in the same run; see Benchmarks/README.md.
import Foundation
import Layers
@_spi(Kernels) import Tensor

let usage = """
  usage: har-bench [--filter PREFIX]... [--threads N] [--shards N] [--json] [--quick] [--epochs N]
                   [--skip-baseline] [--no-winograd] [--pool-mb N] [--hapt PATH]

    --filter PREFIX  run only cases whose name starts with PREFIX (repeatable), e.g. gemm, conv,
                     train.lm, infer1; `NAME$` selects exactly NAME (train.lm$ but not train.lm-att)
    --threads N      threads (default: active processors)
    --shards N       training cases: slices of each batch differentiated in parallel, each on
                     threads/N threads per operation (default: one per thread; 1 = no data
                     parallelism, only operations split across threads)
    --json           one JSON object per line: {"case", "metric", "value", "variant", ...}
    --quick          fewer and shorter samples (a smoke run)
    --epochs N       timed training epochs per case (default 2; 20 untimed warm-up steps first)
    --skip-baseline  do not time the reference kernels in training and infer1 cases (profiling)
    --no-winograd    convolutions and their gradients by im2col + GEMM, never Winograd
    --pool-mb N      buffer-pool capacity in MiB (default: BufferPool's own)
    --hapt PATH      UCI HAPT folder for parse.uci-hapt (default ../shared/datasets/uci-hapt)

  Cases: variant, ceiling.fma, gemm.<m>x<k>x<n>[.at|.bt], gemm-variant.<variant>.<m>x<k>x<n>,
  conv.<layer>.forward|backward, region.cold|hot, train.<model>, infer1.<model> (InferencePlan),
  infer1-forward.<model>, infer256.<model> (InferencePlan), infer256-forward.<model>,
  parse.uci-hapt, memory.
  """

struct Options {
  var filters: [String] = []
  var threads = KernelConfiguration.automatic.threadCount
  var shards: Int?
  var json = false
  var quick = false
  var epochs = 2
  var skipBaseline = false
  var winograd = true
  var poolMegabytes: Int?
  var haptPath = "../shared/datasets/uci-hapt"

  init(_ arguments: [String]) throws {
    var rest = arguments[...]
    func value(_ flag: String) throws -> String {
      guard let v = rest.popFirst() else {
        throw BenchmarkError(description: "\(flag) needs a value")
      }
      return v
    }
    while let argument = rest.popFirst() {
      switch argument {
      case "--filter": filters.append(try value(argument))
      case "--threads":
        guard let n = Int(try value(argument)), n >= 1 else {
          throw BenchmarkError(description: "--threads needs a whole number ≥ 1")
        }
        threads = n
      case "--shards":
        guard let n = Int(try value(argument)), n >= 1 else {
          throw BenchmarkError(description: "--shards needs a whole number ≥ 1")
        }
        shards = n
      case "--epochs":
        guard let n = Int(try value(argument)), n >= 1 else {
          throw BenchmarkError(description: "--epochs needs a whole number ≥ 1")
        }
        epochs = n
      case "--json": json = true
      case "--quick": quick = true
      case "--skip-baseline": skipBaseline = true
      case "--no-winograd": winograd = false
      case "--pool-mb":
        guard let n = Int(try value(argument)), n >= 0 else {
          throw BenchmarkError(description: "--pool-mb needs a whole number ≥ 0")
        }
        poolMegabytes = n
      case "--hapt": haptPath = try value(argument)
      case "--help", "-h":
        print(usage)
        exit(0)
      default: throw BenchmarkError(description: "unknown option \(argument)\n\(usage)")
      }
    }
  }

  /// Whether a case runs: its name starts with a filter, or equals a filter written `NAME$`.
  func selects(_ name: String) -> Bool {
    filters.isEmpty
      || filters.contains { $0.hasSuffix("$") ? name == String($0.dropLast()) : name.hasPrefix($0) }
  }
}

let options: Options
do {
  options = try Options(Array(CommandLine.arguments.dropFirst()))
} catch {
  FileHandle.standardError.write(Data("har-bench: \(error)\n".utf8))
  exit(64)
}

guard !isDebugBuild else {
  FileHandle.standardError.write(
    Data("har-bench: refusing to time a debug build; run `swift run -c release har-bench`\n".utf8))
  exit(1)
}

if let megabytes = options.poolMegabytes { BufferPool.capacityBytes = megabytes << 20 }
let configuration = KernelConfiguration(
  variant: KernelConfiguration.automatic.variant, threadCount: options.threads,
  winograd: options.winograd)
var report = Report(json: options.json)

do {
  try KernelConfiguration.with(configuration) {
    if options.selects("variant") {
      let supported = KernelVariant.allCases.filter(\.isSupported).map(\.rawValue)
      if options.json {
        let names = supported.map { "\"\($0)\"" }.joined(separator: ", ")
        emit(
          "{\"case\": \"variant\", \"metric\": \"name\", \"value\": \"\(configuration.variant)\", "
            + "\"threads\": \(configuration.threadCount), "
            + "\"winograd\": \(configuration.winograd), "
            + "\"pool_capacity_mb\": \(BufferPool.capacityBytes >> 20), "
            + "\"supported\": [\(names)]}")
      } else {
        emit(
          "kernel variant: \(configuration.variant) "
            + "(supported: \(supported.joined(separator: ", "))); "
            + "threads: \(configuration.threadCount); "
            + "Winograd F(4,5) convolutions: \(configuration.winograd ? "on" : "off"); "
            + "buffer pool: \(BufferPool.capacityBytes >> 20) MiB")
      }
    }
    runCeilingCase(options, &report)
    try runGEMMCases(options, &report)
    try runConvCases(options, &report)
    runRegionCases(options, &report)
    try runTrainingCases(options, &report)
    try runOpportunityTrainingCases(options, &report)
    try runInferenceCases(options, &report)
    try runParseCases(options, &report)
    try runStreamCases(options, &report)
    if options.selects("memory") {
      report.add("memory", metric: "peak_rss_mb", value: Double(peakResidentBytes()) / 1_048_576)
    }
  }
} catch {
  FileHandle.standardError.write(Data("har-bench: \(error)\n".utf8))
  exit(1)
}
