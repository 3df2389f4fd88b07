import Datasets
import Distillation
import Foundation
import Layers

/// The options every HARDistill executable accepts, with their defaults (DESIGN §7).
public struct ExperimentOptions: Sendable, Equatable {
  /// The data set id (DESIGN §8).
  public var dataset: DatasetID = .synthetic
  /// Where the real data set lives.
  public var dataDirectory: String?
  /// The model family: the design card's CNNs, or the study's DeepConvLSTM.
  public var family: ModelFamily = .cnn
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
  /// How many seeds each student configuration runs with (`seed`, `seed + 1`, …).
  public var seedCount = 3
  /// KD temperature τ.
  public var temperature: Float = 4
  /// Weight of cross-entropy in the distillation loss.
  public var alpha: Float = 0.1
  /// Weight of the attention-transfer terms.
  public var beta: Float = 1
  /// Whether KD carries the τ² factor.
  public var temperatureSquared = true
  /// Skip malformed records of the known-dirty WISDM files (and list them) instead of stopping.
  public var skipMalformed = false
  /// How a teacher's channel map reaches a student with fewer channels.
  public var channelAlignment: ChannelAlignment = .groupAverage
  /// Where DeepConvLSTM's CBAM sits and how it is shaped (ignored by the CNN family).
  public var attention = AttentionSettings()
  /// Clip gradients to this global norm, if set.
  public var clipNorm: Float?
  /// A trained teacher to distill from instead of training one.
  public var teacherCheckpoint: String?
  /// The output folder.
  public var out = "hardistill-output"
  /// Threads per kernel; all cores when `nil`.
  public var threads: Int?
  /// Skip runs whose results already exist in `out`.
  public var resume = false
  /// A tiny setting that finishes in seconds (for CI).
  public var smoke = false
  /// The configurations to run (the study runs all eight by default).
  public var configurations: [Configuration] = Configuration.all
  /// Print one command per run instead of running (study only).
  public var plan = false
  /// Write a Slurm job-array script to this file instead of running (study only).
  public var emitSlurm: String?
  /// Merge the run files in this folder into a report instead of running (study only).
  public var aggregate: String?
  /// Search τ × α for the distilling configurations by validation macro-F1 (study only).
  public var grid = false
  /// The temperatures the grid tries.
  public var gridTemperatures: [Float] = [1, 2, 4, 6, 8, 10, 15]
  /// The α values the grid tries.
  public var gridAlphas: [Float] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]

  /// Default options.
  public init() {}

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

  /// The seeds every student configuration runs with.
  public var seeds: [UInt64] { (0..<UInt64(seedCount)).map { seed + $0 } }

  /// The distillation loss weights.
  public var lossWeights: LossWeights {
    LossWeights(
      alpha: alpha, beta: beta, temperature: temperature,
      scaleByTemperatureSquared: temperatureSquared)
  }
}

/// DeepConvLSTM's CBAM placement and shape (DESIGN §5.2).
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

/// One command-line option: its flag, its value's name, its help line and how it is applied.
struct OptionSpec {
  let flag: String
  let value: String?
  let help: String
  let studyOnly: Bool
  let apply: (inout ExperimentOptions, String) throws(UsageError) -> Void
}

/// Parses command lines for one executable: `study`, or one configuration's example.
public struct OptionParser: Sendable {
  /// The executable's name, e.g. `"rab-kd"`.
  public let program: String
  /// A one-line description for `--help`.
  public let summary: String
  /// Whether the study-only options (`--configurations`, `--plan`, …) are accepted.
  public let isStudy: Bool

  /// A parser for `program`.
  public init(program: String, summary: String, isStudy: Bool = false) {
    self.program = program
    self.summary = summary
    self.isStudy = isStudy
  }

  private var specs: [OptionSpec] {
    let program = self.program
    func error(_ message: String) -> UsageError { UsageError(message, program: program) }
    func integer(_ flag: String, _ text: String, atLeast minimum: Int) throws(UsageError) -> Int {
      guard let value = Int(text), value >= minimum else {
        throw error("\(flag) expects an integer ≥ \(minimum), got '\(text)'")
      }
      return value
    }
    func number(_ flag: String, _ text: String, _ valid: (Float) -> Bool, _ expected: String)
      throws(UsageError) -> Float
    {
      guard let value = Float(text), value.isFinite, valid(value) else {
        throw error("\(flag) expects \(expected), got '\(text)'")
      }
      return value
    }
    func numbers(_ flag: String, _ text: String, _ valid: (Float) -> Bool, _ expected: String)
      throws(UsageError) -> [Float]
    {
      var values: [Float] = []
      for part in text.split(separator: ",", omittingEmptySubsequences: false) {
        values.append(try number(flag, String(part), valid, "comma-separated \(expected)"))
      }
      return values
    }
    return [
      OptionSpec(
        flag: "--dataset", value: "ID",
        help:
          "data set: \(DatasetID.allCases.map(\.rawValue).joined(separator: ", ")) (default synthetic)",
        studyOnly: false
      ) { o, v throws(UsageError) in
        guard let id = DatasetID(rawValue: v) else {
          throw error(
            "--dataset expects one of \(DatasetID.allCases.map(\.rawValue).joined(separator: ", ")), got '\(v)'"
          )
        }
        o.dataset = id
      },
      OptionSpec(
        flag: "--data-dir", value: "DIR",
        help: "folder of the real data set (as its authors distribute it)", studyOnly: false
      ) { o, v in o.dataDirectory = v },
      OptionSpec(
        flag: "--skip-malformed", value: nil,
        help:
          "wisdm, wisdm-watch: skip malformed records and list them (default: stop at the first)",
        studyOnly: false
      ) { o, _ in o.skipMalformed = true },
      OptionSpec(
        flag: "--channel-alignment", value: "WAY",
        help:
          "teacher → student channel maps: average (groups) or project (a trained linear map) (default average)",
        studyOnly: false
      ) { o, v throws(UsageError) in
        switch v {
        case "average": o.channelAlignment = .groupAverage
        case "project": o.channelAlignment = .projection
        default: throw error("--channel-alignment expects average or project, got '\(v)'")
        }
      },
      OptionSpec(
        flag: "--family", value: "NAME", help: "model family: cnn or deepconvlstm (default cnn)",
        studyOnly: false
      ) { o, v throws(UsageError) in
        switch v {
        case "cnn": o.family = .cnn
        case "deepconvlstm": o.family = .deepConvLSTM()
        default: throw error("--family expects cnn or deepconvlstm, got '\(v)'")
        }
      },
      OptionSpec(
        flag: "--attention-position", value: "P",
        help: "deepconvlstm: CBAM after convolution P in 1–4 (default 4)", studyOnly: false
      ) { o, v throws(UsageError) in
        let position = try integer("--attention-position", v, atLeast: 1)
        guard position <= 4 else {
          throw error("--attention-position expects 1, 2, 3 or 4, got '\(v)'")
        }
        o.attention.position = position
      },
      OptionSpec(
        flag: "--reduction", value: "R", help: "deepconvlstm: CBAM reduction ratio r (default 8)",
        studyOnly: false
      ) { o, v throws(UsageError) in
        o.attention.reduction = try integer("--reduction", v, atLeast: 1)
      },
      OptionSpec(
        flag: "--spatial-kernel", value: "K",
        help: "deepconvlstm: CBAM spatial kernel k×k, k in 3, 5, 7 (default 7)", studyOnly: false
      ) { o, v throws(UsageError) in
        guard let k = Int(v), [3, 5, 7].contains(k) else {
          throw error("--spatial-kernel expects 3, 5 or 7, got '\(v)'")
        }
        o.attention.spatialKernel = k
      },
      OptionSpec(
        flag: "--epochs", value: "N", help: "most epochs per run (default 20; 2 with --smoke)",
        studyOnly: false
      ) { o, v throws(UsageError) in o.epochs = try integer("--epochs", v, atLeast: 1) },
      OptionSpec(
        flag: "--patience", value: "N",
        help: "early-stopping patience on validation macro-F1 (default 10)", studyOnly: false
      ) { o, v throws(UsageError) in o.patience = try integer("--patience", v, atLeast: 1) },
      OptionSpec(
        flag: "--batch-size", value: "N", help: "mini-batch size (default 64)", studyOnly: false
      ) { o, v throws(UsageError) in o.batchSize = try integer("--batch-size", v, atLeast: 1) },
      OptionSpec(
        flag: "--learning-rate", value: "X", help: "Adam learning rate (default 0.001)",
        studyOnly: false
      ) { o, v throws(UsageError) in
        o.learningRate = try number("--learning-rate", v, { $0 > 0 }, "a number > 0")
      },
      OptionSpec(flag: "--seed", value: "N", help: "first seed (default 1)", studyOnly: false) {
        o, v throws(UsageError) in o.seed = UInt64(try integer("--seed", v, atLeast: 0))
      },
      OptionSpec(
        flag: "--seeds", value: "N", help: "seeds per configuration: seed, seed+1, … (default 3)",
        studyOnly: false
      ) { o, v throws(UsageError) in o.seedCount = try integer("--seeds", v, atLeast: 1) },
      OptionSpec(
        flag: "--temperature", value: "T", help: "KD temperature τ > 0 (default 4)",
        studyOnly: false
      ) { o, v throws(UsageError) in
        o.temperature = try number("--temperature", v, { $0 > 0 }, "a number > 0")
      },
      OptionSpec(
        flag: "--alpha", value: "A", help: "weight of cross-entropy in [0, 1] (default 0.1)",
        studyOnly: false
      ) { o, v throws(UsageError) in
        o.alpha = try number("--alpha", v, { (0...1).contains($0) }, "a number in [0, 1]")
      },
      OptionSpec(
        flag: "--beta", value: "B", help: "weight of the attention terms ≥ 0 (default 1)",
        studyOnly: false
      ) { o, v throws(UsageError) in o.beta = try number("--beta", v, { $0 >= 0 }, "a number ≥ 0")
      },
      OptionSpec(
        flag: "--no-temperature-squared", value: nil,
        help: "KD without the τ² factor (the study's formula)", studyOnly: false
      ) { o, _ in o.temperatureSquared = false },
      OptionSpec(
        flag: "--clip-norm", value: "X",
        help: "clip gradients to this global norm > 0 (default: no clipping)", studyOnly: false
      ) { o, v throws(UsageError) in
        o.clipNorm = try number("--clip-norm", v, { $0 > 0 }, "a number > 0")
      },
      OptionSpec(
        flag: "--teacher-checkpoint", value: "FILE",
        help: "a trained teacher to distill from instead of training one", studyOnly: false
      ) { o, v in o.teacherCheckpoint = v },
      OptionSpec(
        flag: "--out", value: "DIR", help: "output folder (default hardistill-output)",
        studyOnly: false
      ) { o, v in o.out = v },
      OptionSpec(
        flag: "--threads", value: "N", help: "threads per kernel (default: all cores)",
        studyOnly: false
      ) { o, v throws(UsageError) in o.threads = try integer("--threads", v, atLeast: 1) },
      OptionSpec(
        flag: "--resume", value: nil,
        help: "skip runs whose results are already in the output folder", studyOnly: false
      ) { o, _ in o.resume = true },
      OptionSpec(
        flag: "--smoke", value: nil, help: "tiny data, 2 epochs, 2 seeds: finishes in seconds",
        studyOnly: false
      ) { o, _ in o.smoke = true },
      OptionSpec(
        flag: "--configurations", value: "LIST",
        help: "comma-separated subset of: \(Configuration.all.map(\.name).joined(separator: ","))",
        studyOnly: true
      ) { o, v throws(UsageError) in
        var chosen: [Configuration] = []
        for name in v.split(separator: ",").map(String.init) {
          guard let configuration = Configuration.named(name) else {
            throw error("--configurations: unknown configuration '\(name)'")
          }
          chosen.append(configuration)
        }
        guard !chosen.isEmpty else { throw error("--configurations expects at least one name") }
        o.configurations = chosen
      },
      OptionSpec(
        flag: "--plan", value: nil,
        help: "print one self-contained command per run instead of running", studyOnly: true
      ) { o, _ in o.plan = true },
      OptionSpec(
        flag: "--emit-slurm", value: "FILE",
        help: "write a Slurm job-array script of those commands to FILE", studyOnly: true
      ) { o, v in o.emitSlurm = v },
      OptionSpec(
        flag: "--grid", value: nil,
        help: "search τ × α for RB-KD, RB-KD-Att and RAB-KD by validation macro-F1 (first seed)",
        studyOnly: true
      ) { o, _ in o.grid = true },
      OptionSpec(
        flag: "--grid-temperatures", value: "LIST",
        help: "τ values for --grid (default 1,2,4,6,8,10,15)", studyOnly: true
      ) { o, v throws(UsageError) in
        o.gridTemperatures = try numbers("--grid-temperatures", v, { $0 > 0 }, "numbers > 0")
      },
      OptionSpec(
        flag: "--grid-alphas", value: "LIST", help: "α values for --grid (default 0.1,0.2,…,0.9)",
        studyOnly: true
      ) { o, v throws(UsageError) in
        o.gridAlphas = try numbers(
          "--grid-alphas", v, { (0...1).contains($0) }, "numbers in [0, 1]")
      },
      OptionSpec(
        flag: "--aggregate", value: "DIR", help: "merge the run files in DIR into one report",
        studyOnly: true
      ) { o, v in o.aggregate = v },
    ]
  }

  /// The text `--help` prints.
  public var usage: String {
    let visible = specs.filter { isStudy || !$0.studyOnly }
    let left = visible.map { $0.flag + ($0.value.map { " " + $0 } ?? "") }
    let width = (left.map(\.count).max() ?? 0) + 2
    var lines = ["usage: \(program) [options]", "", summary, "", "options:"]
    for (spec, head) in zip(visible, left) {
      lines.append("  " + head.padding(toLength: width, withPad: " ", startingAt: 0) + spec.help)
    }
    lines.append(
      "  " + "-h, --help".padding(toLength: width, withPad: " ", startingAt: 0) + "show this help")
    return lines.joined(separator: "\n")
  }

  /// Parses `arguments` (without the program name).
  ///
  /// - Throws: ``UsageError`` for `--help` (no message) and for unknown options, missing values,
  ///   values of the wrong type or out of range, and conflicting options.
  public func parse(_ arguments: [String]) throws(UsageError) -> ExperimentOptions {
    var options = ExperimentOptions()
    var explicitEpochs = false
    var explicitSeeds = false
    var rest = arguments[...]
    let table = Dictionary(
      uniqueKeysWithValues: specs.filter { isStudy || !$0.studyOnly }.map { ($0.flag, $0) })
    while let argument = rest.popFirst() {
      if argument == "-h" || argument == "--help" { throw UsageError(nil, program: program) }
      let (flag, inline) =
        argument.hasPrefix("--") && argument.contains("=")
        ? (String(argument.prefix { $0 != "=" }), String(argument.drop { $0 != "=" }.dropFirst()))
        : (argument, nil as String?)
      guard let spec = table[flag] else {
        throw UsageError("unknown option '\(argument)'", program: program)
      }
      if spec.value == nil {
        guard inline == nil else { throw UsageError("\(flag) takes no value", program: program) }
        try spec.apply(&options, "")
        continue
      }
      guard let value = inline ?? rest.popFirst(), inline != nil || !value.hasPrefix("--") else {
        throw UsageError("\(flag) expects a value (\(spec.value!))", program: program)
      }
      try spec.apply(&options, value)
      if flag == "--epochs" { explicitEpochs = true }
      if flag == "--seeds" { explicitSeeds = true }
    }
    if options.smoke {
      if !explicitEpochs { options.epochs = 2 }
      if !explicitSeeds { options.seedCount = 2 }
    }
    if options.dataset != .synthetic && options.dataDirectory == nil && options.aggregate == nil {
      throw UsageError("--dataset \(options.dataset.rawValue) needs --data-dir", program: program)
    }
    if options.dataset == .csv {
      throw UsageError(
        "--dataset csv needs a column layout; use the Datasets API (CSV.load) from Swift",
        program: program)
    }
    if [options.plan, options.emitSlurm != nil, options.aggregate != nil, options.grid].filter({
      $0
    }).count > 1 {
      throw UsageError(
        "--plan, --emit-slurm, --aggregate and --grid exclude each other", program: program)
    }
    return options
  }

  /// The arguments that reproduce `options` (all but the study-only ones), for `--plan`.
  public static func arguments(for options: ExperimentOptions) -> [String] {
    var result = ["--dataset", options.dataset.rawValue]
    if let directory = options.dataDirectory { result += ["--data-dir", directory] }
    result += [
      "--family", options.family.name, "--epochs", "\(options.epochs)", "--patience",
      "\(options.patience)",
      "--batch-size", "\(options.batchSize)", "--learning-rate", "\(options.learningRate)",
      "--temperature", "\(options.temperature)", "--alpha", "\(options.alpha)", "--beta",
      "\(options.beta)",
    ]
    if case .deepConvLSTM = options.family {
      result += [
        "--attention-position", "\(options.attention.position)", "--reduction",
        "\(options.attention.reduction)", "--spatial-kernel", "\(options.attention.spatialKernel)",
      ]
    }
    if !options.temperatureSquared { result.append("--no-temperature-squared") }
    if options.skipMalformed { result.append("--skip-malformed") }
    if options.channelAlignment == .projection { result += ["--channel-alignment", "project"] }
    if let clip = options.clipNorm { result += ["--clip-norm", "\(clip)"] }
    if let threads = options.threads { result += ["--threads", "\(threads)"] }
    if options.smoke { result.append("--smoke") }
    return result
  }
}
