import Datasets
import Distillation
import Layers

/// The settings of a training run on the command line: the data, the model family, training,
/// distillation and output. Each executable takes the groups of options it uses (see
/// ``Option/data``, ``Option/training`` and the others); every option is declared once, here.
public struct RunOptions: Sendable, Equatable {
  /// The data set.
  public var dataset: DatasetID = .synthetic
  /// Where the real data set lives (a file for `csv`).
  public var dataDirectory: String?
  /// Skip malformed records of the known-dirty WISDM files (and list them) instead of stopping.
  public var skipMalformed = false
  /// How a CSV file's columns, windows and test subjects are read.
  public var csv = CSVOptions()
  /// The test subjects, replacing the data set's own split; required for `csv`.
  public var testSubjects: [Int]?
  /// The validation subjects; `nil`: a fifth of the training subjects, drawn with seed 0.
  public var validationSubjects: [Int]?
  /// A tiny setting that finishes in seconds: small synthetic data, 2 epochs, 2 seeds.
  public var smoke = false

  /// The model family: the 1-D CNNs, or DeepConvLSTM.
  public var family: ModelFamily = .cnn
  /// Where DeepConvLSTM's CBAM sits and how it is shaped (the CNN family ignores it).
  public var attention = AttentionSettings()
  /// How the models' parameters are drawn at creation: the Keras defaults or PyTorch's.
  public var initialization: WeightInitialization = .glorot

  /// The most epochs per training run.
  public var epochs = 20
  /// Early-stopping patience in epochs.
  public var patience = 10
  /// Mini-batch size.
  public var batchSize = 64
  /// Adam's learning rate.
  public var learningRate: Float = 1e-3
  /// The first seed.
  public var seed: UInt64 = 1
  /// How many seeds each run is repeated with (`seed`, `seed + 1`, …).
  public var seedCount = 3
  /// Clip gradients to this global norm, if set.
  public var clipNorm: Float?
  /// The most threads the process uses, kernels and data-parallel shards together; all cores
  /// when `nil`.
  public var threads: Int?
  /// The slices each mini-batch is cut into and differentiated in parallel.
  public var shards = 2

  /// KD temperature τ.
  public var temperature: Float = 4
  /// Weight of cross-entropy in the distillation loss.
  public var alpha: Float = 0.1
  /// Whether KD carries the τ² factor.
  public var temperatureSquared = true
  /// Epochs of cross-entropy alone (α = 1) before distillation starts.
  public var kdWarmup = 0
  /// A trained teacher to distill from instead of training one.
  public var teacherCheckpoint: String?
  /// Weight of the attention-transfer terms.
  public var beta: Float = 1
  /// How a teacher's channel map reaches a student with fewer channels.
  public var channelAlignment: ChannelAlignment = .groupAverage

  /// The output folder.
  public var out = "hardistill-output"

  /// The defaults.
  public init() {}

  /// The seeds each run is repeated with.
  public var seeds: [UInt64] { (0..<UInt64(seedCount)).map { seed + $0 } }

  /// The family with the attention settings applied.
  public var modelFamily: ModelFamily {
    switch family {
    case .cnn: .cnn
    case .deepConvLSTM:
      .deepConvLSTM(
        attentionPosition: attention.position, reduction: attention.reduction,
        spatialKernel: attention.spatialKernel)
    }
  }

  /// The distillation loss weights.
  public var lossWeights: LossWeights {
    LossWeights(
      alpha: alpha, beta: beta, temperature: temperature,
      scaleByTemperatureSquared: temperatureSquared)
  }

  /// The trainer options of one run with `seed`: epochs, patience, batch size, learning rate,
  /// clipping, the KD warm-up and shards from these options; progress as lines under `--smoke`.
  public func trainerOptions(seed: UInt64, label: String) -> TrainerOptions {
    var trainer = TrainerOptions()
    trainer.epochs = epochs
    trainer.patience = patience
    trainer.batchSize = batchSize
    trainer.learningRate = learningRate
    trainer.seed = seed
    trainer.gradientClipNorm = clipNorm
    trainer.distillationWarmupEpochs = kdWarmup
    trainer.shards = shards
    trainer.label = label
    trainer.progress = smoke ? .lines : .automatic
    return trainer
  }

  /// Defaults that depend on other options: `--smoke` shrinks epochs and seeds unless they were
  /// given; a real data set needs `--data-dir` (unless `needsData` is false), a CSV file its
  /// columns and test subjects.
  public mutating func finish(given: Set<String>, needsData: Bool = true) throws(UsageError) {
    if smoke {
      if !given.contains("--epochs") { epochs = 2 }
      if !given.contains("--seeds") { seedCount = 2 }
    }
    guard needsData else { return }
    if dataset != .synthetic && dataDirectory == nil {
      throw UsageError("--dataset \(dataset.rawValue) needs --data-dir")
    }
    if dataset == .csv {
      guard let missing = csv.missingOption else {
        guard testSubjects != nil else { throw UsageError("--dataset csv needs --test-subjects") }
        return
      }
      throw UsageError("--dataset csv needs \(missing)")
    }
  }
}

/// DeepConvLSTM's CBAM placement and shape.
public struct AttentionSettings: Sendable, Equatable {
  /// After which convolution (1–4).
  public var position = 4
  /// The channel-attention reduction ratio r.
  public var reduction = 8
  /// The spatial-attention kernel k (k × k).
  public var spatialKernel = 7

  /// The defaults: position 4, r = 8, k = 7.
  public init() {}
}

/// How a long-format CSV file is read: one row per sample, with subject, label and channel
/// columns named in the header.
public struct CSVOptions: Sendable, Equatable {
  /// The subject column's name.
  public var subject: String?
  /// The activity column's name.
  public var label: String?
  /// The channel columns' names, in channel order.
  public var channels: [String]?
  /// An integer time-stamp column's name, if any: recordings are cut at gaps in it.
  public var time: String?
  /// Samples per window.
  public var window = 128
  /// Samples between window starts.
  public var step = 64

  /// Nothing named yet; windows of 128 samples every 64.
  public init() {}

  /// The first required option not given, if any.
  var missingOption: String? {
    if subject == nil { return "--csv-subject" }
    if label == nil { return "--csv-label" }
    if channels == nil { return "--csv-channels" }
    return nil
  }

  /// The column layout, once the required options are given.
  public var layout: CSV.Layout? {
    guard let subject, let label, let channels else { return nil }
    return CSV.Layout(subject: subject, label: label, channels: channels, timestamp: time)
  }
}

extension ChannelAlignment {
  /// The option value naming the alignment: `average` or `project`.
  public var optionValue: String { self == .projection ? "project" : "average" }
}

extension Option where Settings == RunOptions {
  /// The data: `--dataset`, `--data-dir`, the CSV columns and windows, the split, `--smoke`.
  public static var data: [Option] {
    let ids = DatasetID.allCases.map(\.rawValue).joined(separator: ", ")
    return [
      Option("--dataset", value: "ID", help: "data set: \(ids) (default synthetic)") {
        o, v throws(UsageError) in
        guard let id = DatasetID(rawValue: v) else {
          throw UsageError("--dataset expects one of \(ids), got '\(v)'")
        }
        o.dataset = id
      },
      Option(
        "--data-dir", value: "PATH",
        help: "the real data set's folder, as its authors distribute it (csv: the file)"
      ) { o, v in o.dataDirectory = v },
      Option(
        "--skip-malformed",
        help: "wisdm, wisdm-watch: skip malformed records and list them (default: stop at one)"
      ) { o, _ in o.skipMalformed = true },
      Option("--csv-subject", value: "COLUMN", help: "csv: the integer subject column") { o, v in
        o.csv.subject = v
      },
      Option("--csv-label", value: "COLUMN", help: "csv: the activity column") { o, v in
        o.csv.label = v
      },
      Option(
        "--csv-channels", value: "LIST", help: "csv: the channel columns, comma-separated, in order"
      ) { o, v throws(UsageError) in o.csv.channels = try OptionValue.names("--csv-channels", v) },
      Option(
        "--csv-time", value: "COLUMN",
        help: "csv: an integer time-stamp column; recordings are cut at gaps (default: none)"
      ) { o, v in o.csv.time = v },
      Option("--window", value: "N", help: "csv: samples per window (default 128)") {
        o, v throws(UsageError) in
        o.csv.window = try OptionValue.integer("--window", v, in: 2...1_000_000)
      },
      Option("--step", value: "N", help: "csv: samples between window starts (default 64)") {
        o, v throws(UsageError) in
        o.csv.step = try OptionValue.integer("--step", v, in: 1...1_000_000)
      },
      Option(
        "--test-subjects", value: "LIST",
        help: "the test subjects, e.g. 2,4,9-13 (default: the data set's own split; csv: required)"
      ) { o, v throws(UsageError) in
        o.testSubjects = try OptionValue.integers("--test-subjects", v, in: 0...Int(Int32.max))
      },
      Option(
        "--validation-subjects", value: "LIST",
        help: "the validation subjects, e.g. 25-30 (default: a fifth of the training subjects, "
          + "drawn with seed 0)"
      ) { o, v throws(UsageError) in
        o.validationSubjects = try OptionValue.integers(
          "--validation-subjects", v, in: 0...Int(Int32.max))
      },
      Option("--smoke", help: "tiny synthetic data, 2 epochs, 2 seeds: finishes in seconds") {
        o, _ in o.smoke = true
      },
    ]
  }

  /// The model family: `--family`, DeepConvLSTM's CBAM settings and `--initialization`.
  public static var family: [Option] {
    [
      Option("--family", value: "NAME", help: "model family: cnn or deepconvlstm (default cnn)") {
        o, v throws(UsageError) in
        switch v {
        case "cnn": o.family = .cnn
        case "deepconvlstm": o.family = .deepConvLSTM()
        default: throw UsageError("--family expects cnn or deepconvlstm, got '\(v)'")
        }
      },
      Option(
        "--attention-position", value: "P",
        help: "deepconvlstm: CBAM after convolution P in 1–4 (default 4)"
      ) { o, v throws(UsageError) in
        o.attention.position = try OptionValue.integer("--attention-position", v, in: 1...4)
      },
      Option(
        "--reduction", value: "R", help: "deepconvlstm: CBAM reduction ratio r (default 8)"
      ) { o, v throws(UsageError) in
        o.attention.reduction = try OptionValue.integer("--reduction", v, in: 1...1024)
      },
      Option(
        "--spatial-kernel", value: "K",
        help: "deepconvlstm: CBAM spatial kernel k×k, k in 3, 5, 7 (default 7)"
      ) { o, v throws(UsageError) in
        guard let k = Int(v), [3, 5, 7].contains(k) else {
          throw UsageError("--spatial-kernel expects 3, 5 or 7, got '\(v)'")
        }
        o.attention.spatialKernel = k
      },
      Option(
        "--initialization", value: "WAY",
        help: "how weights are drawn: glorot (Keras: Glorot-uniform, zero biases) or pytorch "
          + "(PyTorch's defaults: U(±1/√fan-in) weights and biases) (default glorot)"
      ) { o, v throws(UsageError) in
        guard let way = WeightInitialization(rawValue: v) else {
          throw UsageError("--initialization expects glorot or pytorch, got '\(v)'")
        }
        o.initialization = way
      },
    ]
  }

  /// Training: epochs, patience, batches, learning rate, seeds, clipping, threads and shards.
  public static var training: [Option] {
    [
      Option("--epochs", value: "N", help: "most epochs per run (default 20; 2 with --smoke)") {
        o, v throws(UsageError) in
        o.epochs = try OptionValue.integer("--epochs", v, in: 1...100_000)
      },
      Option(
        "--patience", value: "N",
        help: "early-stopping patience on validation macro-F1 (default 10)"
      ) { o, v throws(UsageError) in
        o.patience = try OptionValue.integer("--patience", v, in: 1...100_000)
      },
      Option("--batch-size", value: "N", help: "mini-batch size (default 64)") {
        o, v throws(UsageError) in
        o.batchSize = try OptionValue.integer("--batch-size", v, in: 1...1_000_000)
      },
      Option("--learning-rate", value: "X", help: "Adam learning rate (default 0.001)") {
        o, v throws(UsageError) in
        o.learningRate = try OptionValue.number("--learning-rate", v, "a number > 0") { $0 > 0 }
      },
      Option("--seed", value: "N", help: "first seed (default 1)") { o, v throws(UsageError) in
        o.seed = UInt64(try OptionValue.integer("--seed", v, in: 0...Int(Int32.max)))
      },
      Option(
        "--seeds", value: "N", help: "seeds per run: seed, seed+1, … (default 3; 2 with --smoke)"
      ) { o, v throws(UsageError) in
        o.seedCount = try OptionValue.integer("--seeds", v, in: 1...10_000)
      },
      Option(
        "--clip-norm", value: "X", help: "clip gradients to this global norm > 0 (default: none)"
      ) { o, v throws(UsageError) in
        o.clipNorm = try OptionValue.number("--clip-norm", v, "a number > 0") { $0 > 0 }
      },
      Option(
        "--threads", value: "N",
        help: "the most threads this process uses, kernels and shards together (default: all "
          + "cores); the trained weights are the same for every N"
      ) { o, v throws(UsageError) in
        o.threads = try OptionValue.integer("--threads", v, in: 1...1024)
      },
      Option(
        "--shards", value: "N",
        help: "slices of each mini-batch differentiated in parallel (default 2); they decide the "
          + "float sums' order, so the weights depend on N"
      ) { o, v throws(UsageError) in o.shards = try OptionValue.integer("--shards", v, in: 1...1024)
      },
    ]
  }

  /// Response-based distillation: τ, α, the τ² factor, the warm-up, and the teacher to distill
  /// from.
  public static var distillation: [Option] {
    [
      Option("--temperature", value: "T", help: "KD temperature τ > 0 (default 4)") {
        o, v throws(UsageError) in
        o.temperature = try OptionValue.number("--temperature", v, "a number > 0") { $0 > 0 }
      },
      Option("--alpha", value: "A", help: "weight of cross-entropy in [0, 1] (default 0.1)") {
        o, v throws(UsageError) in
        o.alpha = try OptionValue.number("--alpha", v, "a number in [0, 1]") {
          (0...1).contains($0)
        }
      },
      Option("--no-temperature-squared", help: "KD without the τ² factor (the study's formula)") {
        o, _ in o.temperatureSquared = false
      },
      Option(
        "--kd-warmup", value: "E",
        help: "train the first E epochs on cross-entropy alone (α = 1), then distil (default 0)"
      ) { o, v throws(UsageError) in
        o.kdWarmup = try OptionValue.integer("--kd-warmup", v, in: 0...100_000)
      },
      Option(
        "--teacher-checkpoint", value: "FILE",
        help: "a trained teacher to distill from instead of training one"
      ) { o, v in o.teacherCheckpoint = v },
    ]
  }

  /// Attention transfer: β and how channel maps are aligned.
  public static var attentionTransfer: [Option] {
    [
      Option("--beta", value: "B", help: "weight of the attention terms ≥ 0 (default 1)") {
        o, v throws(UsageError) in
        o.beta = try OptionValue.number("--beta", v, "a number ≥ 0") { $0 >= 0 }
      },
      Option(
        "--channel-alignment", value: "WAY",
        help: "teacher → student channel maps: average (groups) or project (a trained linear map) "
          + "(default average)"
      ) { o, v throws(UsageError) in
        switch v {
        case "average": o.channelAlignment = .groupAverage
        case "project": o.channelAlignment = .projection
        default: throw UsageError("--channel-alignment expects average or project, got '\(v)'")
        }
      },
    ]
  }

  /// The output folder.
  public static var output: [Option] {
    [
      Option("--out", value: "DIR", help: "output folder (default hardistill-output)") {
        o, v throws(UsageError) in
        guard !v.isEmpty else { throw UsageError("--out expects a folder, got ''") }
        o.out = v
      }
    ]
  }
}

extension OptionParser where Settings == RunOptions {
  /// A parser of `options`, starting from ``RunOptions``' defaults.
  public init(program: String, summary: String, options: [Option<RunOptions>]) {
    self.init(program: program, summary: summary, defaults: RunOptions(), options: options) {
      settings, given throws(UsageError) in try settings.finish(given: given)
    }
  }
}
