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
  /// Subject-wise cross-validation with this many subject-disjoint folds (`--folds K`).
  public var folds: Int?
  /// Leave-one-subject-out cross-validation: one fold per subject (`--loso`).
  public var leaveOneSubjectOut = false
  /// Run this fold (from 1) alone, as the commands of a cross-validation plan do (`--fold I`).
  public var fold: Int?
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

  /// Whether the study cross-validates over subjects (`--folds` or `--loso`).
  public var crossValidates: Bool { folds != nil || leaveOneSubjectOut }

  /// The test subjects of each fold: `subjects` sorted and dealt round robin, so fold `i` (from
  /// 1) holds the subjects at sorted positions `i − 1`, `i − 1 + K`, `i − 1 + 2K`, …; one fold per
  /// subject with `--loso`. Each fold's validation subjects are then drawn from its training
  /// subjects as without cross-validation (`PreparedData`'s default, seed 0).
  ///
  /// - Throws: ``UsageError`` when there are more folds than subjects.
  public func foldSubjects(of subjects: [Int]) throws(UsageError) -> [[Int]] {
    let sorted = Array(Set(subjects)).sorted()
    let count = leaveOneSubjectOut ? sorted.count : (folds ?? 1)
    guard count <= sorted.count else {
      throw UsageError("--folds \(count): the data set has only \(sorted.count) subjects")
    }
    return (0..<count).map { fold in
      stride(from: fold, to: sorted.count, by: count).map { sorted[$0] }
    }
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
      Option(
        "--folds", value: "K",
        help: "subject-wise cross-validation: K subject-disjoint folds over all subjects, each "
          + "the test set once"
      ) { o, v throws(UsageError) in o.folds = try OptionValue.integer("--folds", v, in: 2...10_000)
      },
      Option("--loso", help: "leave-one-subject-out cross-validation: one fold per subject") {
        o, _ in o.leaveOneSubjectOut = true
      },
      Option(
        "--fold", value: "I", help: "with --folds or --loso: run fold I alone (--plan uses it)"
      ) { o, v throws(UsageError) in o.fold = try OptionValue.integer("--fold", v, in: 1...10_000)
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
      if o.folds != nil && o.leaveOneSubjectOut {
        throw UsageError("--folds and --loso exclude each other")
      }
      if o.fold != nil && !o.crossValidates {
        throw UsageError("--fold needs --folds or --loso")
      }
      if let folds = o.folds, let fold = o.fold, fold > folds {
        throw UsageError("--fold \(fold): there are only \(folds) folds")
      }
      if o.crossValidates && (o.run.testSubjects != nil || o.run.validationSubjects != nil) {
        throw UsageError(
          "--folds and --loso choose the test and validation subjects: they exclude "
            + "--test-subjects and --validation-subjects")
      }
      if modes.count > 1 {
        throw UsageError("--plan, --emit-slurm, --aggregate and --grid exclude each other")
      }
    }
  }

  /// The arguments of `study` that reproduce one run of these options: the run's options as
  /// given (the study-only ones left out), `--out`, the fold (`--folds K` or `--loso`, and
  /// `--fold I`) when given, then `--configurations`, `--seed`, `--seeds 1`, `--resume` and
  /// `--shared-out`.
  public func arguments(configuration: Configuration, seed: UInt64, fold: Int? = nil)
    -> [String]
  {
    var result = runArguments(teacher: true) + ["--out", run.out]
    if let fold {
      result += (folds.map { ["--folds", "\($0)"] } ?? ["--loso"]) + ["--fold", "\(fold)"]
    }
    result += [
      "--configurations", configuration.name, "--seed", "\(seed)", "--seeds", "1", "--resume",
      "--shared-out",
    ]
    return result
  }

  /// The arguments of `study` that report the runs of these options once they are done:
  /// `--aggregate` with the `--out` folder, then the run options the report states, as in
  /// ``arguments(configuration:seed:fold:)`` but for the teacher checkpoint.
  public var aggregateArguments: [String] {
    ["--aggregate", run.out] + runArguments(teacher: false)
  }

  /// The run's options as given, the study-only ones and `--out` left out; `--teacher-checkpoint`
  /// only with `teacher`.
  private func runArguments(teacher: Bool) -> [String] {
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
    if o.initialization != .glorot { result += ["--initialization", o.initialization.rawValue] }
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
    if o.kdWarmup > 0 { result += ["--kd-warmup", "\(o.kdWarmup)"] }
    if teacher, let checkpoint = o.teacherCheckpoint {
      result += ["--teacher-checkpoint", checkpoint]
    }
    result += ["--beta", "\(o.beta)", "--channel-alignment", o.channelAlignment.optionValue]
    return result
  }
}
