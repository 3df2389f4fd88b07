import CommandLineOptions
import Distillation

/// The options of `study`: a run's options (data, family, training, distillation, output) plus
/// what only the study does — the configurations to run, resuming, the cluster plan, the
/// aggregation and the τ × α grid. A run's options read through, e.g. `options.epochs`.
@dynamicMemberLookup
public struct StudyOptions: Sendable, Equatable, ThreadBound {
  /// The options every run of the study shares.
  public var run = RunOptions()
  /// Skip runs whose results are already in the output folder.
  public var resume = false
  /// Train again, instead of stopping, a stored run or teacher made with other settings.
  public var retrainChanged = false
  /// Other runs of the same plan write into the output folder at the same time: lock each run,
  /// not the folder, and leave the report to `--aggregate`.
  public var sharedOut = false
  /// Teachers per teacher configuration: seeds `seed`, `seed + 1`, …, `seed + teacherCount − 1`.
  public var teacherCount = 1
  /// The configurations to run (all eight by default).
  public var configurations: [Configuration] = Configuration.all
  /// Print one command per run instead of running.
  public var plan = false
  /// Write a Slurm job-array script to this file instead of running.
  public var emitSlurm: String?
  /// Merge the run files in this folder into a report instead of running.
  public var aggregate: String?
  /// Search τ × α for the distilling configurations by validation macro-F1.
  public var grid = false
  /// The temperatures the grid tries.
  public var gridTemperatures: [Float] = [1, 2, 4, 6, 8, 10, 15]
  /// The α values the grid tries.
  public var gridAlphas: [Float] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]

  /// The defaults.
  public init() {}

  /// The run's option at `path`.
  public subscript<Value>(dynamicMember path: WritableKeyPath<RunOptions, Value>) -> Value {
    get { run[keyPath: path] }
    set { run[keyPath: path] = newValue }
  }

  /// The run's read-only property at `path`, e.g. `options.seeds`.
  public subscript<Value>(dynamicMember path: KeyPath<RunOptions, Value>) -> Value {
    run[keyPath: path]
  }

  /// The seeds the teachers are trained with: `seed`, `seed + 1`, …, `seed + teacherCount − 1`.
  public var teacherSeeds: [UInt64] { (0..<UInt64(teacherCount)).map { run.seed + $0 } }

  /// The seed of the teacher a student trained with `studentSeed` distills from:
  /// `seed + (studentSeed mod teacherCount)`, the teacher with index `studentSeed mod N` in
  /// ``teacherSeeds``. With one teacher every student uses it; with `--seed 1 --seeds 3
  /// --teachers 3` students 1, 2 and 3 distill from teachers 2, 3 and 1.
  public func teacherSeed(forStudent studentSeed: UInt64) -> UInt64 {
    run.seed + studentSeed % UInt64(teacherCount)
  }

  /// The thread bound of ``run``.
  public var threads: Int? { run.threads }

  /// The options only the study takes.
  public static var studyOnly: [Option<StudyOptions>] {
    let names = Configuration.all.map(\.name).joined(separator: ",")
    return [
      Option(
        "--resume", help: "skip runs whose results are in the output folder; finish a cut-off run"
      ) { o, _ in o.resume = true },
      Option(
        "--retrain-changed",
        help: "train again a stored run or teacher made with other settings (default: stop and "
          + "name them)"
      ) { o, _ in o.retrainChanged = true },
      Option(
        "--shared-out",
        help:
          "runs of one plan share --out: lock this run only and write no report (--plan adds it)"
      ) { o, _ in o.sharedOut = true },
      Option(
        "--teachers", value: "N",
        help: "teachers per teacher configuration, seeds seed … seed+N−1; student seed s distills "
          + "from teacher seed + (s mod N) (default 1)"
      ) { o, v throws(UsageError) in
        o.teacherCount = try OptionValue.integer("--teachers", v, in: 1...10_000)
      },
      Option("--configurations", value: "LIST", help: "comma-separated subset of: \(names)") {
        o, v throws(UsageError) in
        var chosen: [Configuration] = []
        for name in try OptionValue.names("--configurations", v) {
          guard let configuration = Configuration.named(name) else {
            throw UsageError("--configurations: unknown configuration '\(name)'")
          }
          chosen.append(configuration)
        }
        o.configurations = chosen
      },
      Option(
        "--plan", help: "print one command of this executable per run (a configuration and a seed)"
      ) { o, _ in o.plan = true },
      Option("--emit-slurm", value: "FILE", help: "write a Slurm job array of those commands") {
        o, v in o.emitSlurm = v
      },
      Option(
        "--grid",
        help: "search τ × α for RB-KD, RB-KD-Att and RAB-KD by validation macro-F1 (first seed)"
      ) { o, _ in o.grid = true },
      Option(
        "--grid-temperatures", value: "LIST", help: "τ values for --grid (default 1,2,4,6,8,10,15)"
      ) { o, v throws(UsageError) in
        o.gridTemperatures = try OptionValue.numbers("--grid-temperatures", v, "numbers > 0") {
          $0 > 0
        }
      },
      Option("--grid-alphas", value: "LIST", help: "α values for --grid (default 0.1,0.2,…,0.9)") {
        o, v throws(UsageError) in
        o.gridAlphas = try OptionValue.numbers("--grid-alphas", v, "numbers in [0, 1]") {
          (0...1).contains($0)
        }
      },
      Option("--aggregate", value: "DIR", help: "merge the run files in DIR into one report") {
        o, v in o.aggregate = v
      },
    ]
  }

  /// The parser of `study`.
  public static var parser: OptionParser<StudyOptions> {
    let shared =
      Option.data + Option.family + Option.training + Option.distillation
      + Option.attentionTransfer + Option.output
    return OptionParser(
      program: "study",
      summary: "Trains the study's configurations (teacher, teacher-att, MM, LM, RB-KD, LM-Att, "
        + "RB-KD-Att, RAB-KD) on one data set and compares them.",
      defaults: StudyOptions(), options: shared.map { $0.embedded(in: \.run) } + studyOnly
    ) { o, given throws(UsageError) in
      // Aggregating reads run files only: it needs no data.
      try o.run.finish(given: given, needsData: o.aggregate == nil)
      let modes = [o.plan, o.emitSlurm != nil, o.aggregate != nil, o.grid].filter { $0 }
      if o.teacherCount > 1 && o.run.teacherCheckpoint != nil {
        throw UsageError("--teachers N > 1 trains N teachers: it excludes --teacher-checkpoint")
      }
      if modes.count > 1 {
        throw UsageError("--plan, --emit-slurm, --aggregate and --grid exclude each other")
      }
    }
  }

  /// The arguments of `study` that reproduce one run of these options: the run's options as
  /// given (the study-only ones left out), then `--configurations`, `--seed`, `--seeds 1`,
  /// `--out` and `--resume`.
  public func arguments(configuration: Configuration, seed: UInt64) -> [String] {
    let o = run
    var result = ["--dataset", o.dataset.rawValue]
    if let directory = o.dataDirectory { result += ["--data-dir", directory] }
    if o.skipMalformed { result.append("--skip-malformed") }
    if o.dataset == .csv, let layout = o.csv.layout {
      result += [
        "--csv-subject", layout.subject, "--csv-label", layout.label, "--csv-channels",
        layout.channels.joined(separator: ","), "--window", "\(o.csv.window)", "--step",
        "\(o.csv.step)",
      ]
      if let time = layout.timestamp { result += ["--csv-time", time] }
    }
    func list(_ values: [Int]) -> String { values.map(String.init).joined(separator: ",") }
    if let subjects = o.testSubjects { result += ["--test-subjects", list(subjects)] }
    if let subjects = o.validationSubjects { result += ["--validation-subjects", list(subjects)] }
    if o.smoke { result.append("--smoke") }
    result += ["--family", o.family.name]
    if case .deepConvLSTM = o.family {
      result += [
        "--attention-position", "\(o.attention.position)", "--reduction",
        "\(o.attention.reduction)", "--spatial-kernel", "\(o.attention.spatialKernel)",
      ]
    }
    result += [
      "--epochs", "\(o.epochs)", "--patience", "\(o.patience)", "--batch-size", "\(o.batchSize)",
      "--learning-rate", "\(o.learningRate)", "--shards", "\(o.shards)",
    ]
    if let clip = o.clipNorm { result += ["--clip-norm", "\(clip)"] }
    if let threads = o.threads { result += ["--threads", "\(threads)"] }
    result += ["--temperature", "\(o.temperature)", "--alpha", "\(o.alpha)"]
    if !o.temperatureSquared { result.append("--no-temperature-squared") }
    if let teacher = o.teacherCheckpoint { result += ["--teacher-checkpoint", teacher] }
    result += [
      "--beta", "\(o.beta)", "--channel-alignment", o.channelAlignment.optionValue, "--out",
      o.out, "--configurations", configuration.name, "--seed", "\(seed)", "--seeds", "1",
      "--resume", "--shared-out",
    ]
    return result
  }
}
