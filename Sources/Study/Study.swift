import CommandLineOptions
import Distillation
import Foundation
import Layers

/// The study: every chosen configuration over its seeds, then the report; or the plan, the Slurm
/// script, or the aggregation of runs made elsewhere.
public enum StudyCommand {
  /// The parser of `study`.
  public static var parser: OptionParser<StudyOptions> { StudyOptions.parser }

  /// Runs the study as `options` say.
  public static func run(_ options: StudyOptions) throws {
    // Leave-one-subject-out has as many folds as the data set has subjects.
    let foldCount =
      options.leaveOneSubjectOut && (options.plan || options.emitSlurm != nil)
      ? try options.foldSubjects(of: allSubjects(options)).count : options.folds
    if options.plan {
      print(plan(options, foldCount: foldCount).joined(separator: "\n"))
      return
    }
    if let path = options.emitSlurm {
      try writeReplacing(
        Data(slurmScript(options, foldCount: foldCount).utf8), to: URL(fileURLWithPath: path))
      print(
        "wrote \(path): submit it with 'sbatch \(path)'; when every task has finished, report "
          + "the runs with:\n" + aggregateCommand(options))
      return
    }
    if options.grid {
      guard !options.crossValidates else {
        throw UsageError("--grid excludes --folds and --loso", program: parser.program)
      }
      try searchGrid(options)
      return
    }
    if let path = options.aggregate {
      let folder = try OutputFolder(path: path)
      let lock = try folder.lock()
      try report(folder: folder, options: options)
      withExtendedLifetime(lock) {}
      return
    }
    let started = Date()
    // Without cross-validation one pass with the options' split; with it, one per fold, whose
    // test subjects replace the split's.
    var passes: [StudyOptions] = [options]
    if options.crossValidates {
      let folds = try options.foldSubjects(of: allSubjects(options))
      if let fold = options.fold, fold > folds.count {
        throw UsageError(
          "--fold \(fold): there are only \(folds.count) folds", program: parser.program)
      }
      passes = (options.fold.map { [$0] } ?? Array(1...folds.count)).map { fold in
        var pass = options
        pass.fold = fold
        pass.run.testSubjects = folds[fold - 1]
        return pass
      }
    }
    // The data load first: a run that cannot read its data leaves no output folder behind.
    var folderLock: OutputLock?
    var output: OutputFolder?
    for pass in passes {
      let experiment = try Experiment(options: pass)
      if output == nil {
        output = experiment.output
        // One writer per folder; the runs of a plan that share it lock only themselves.
        folderLock = options.sharedOut ? nil : try experiment.output.lock()
      }
      let fold = pass.fold.map { " fold \($0)" } ?? ""
      print("study on \(options.run.dataset.rawValue)\(fold): \(experiment.data.summary)")
      for configuration in options.configurations {
        for seed in experiment.seeds(for: configuration, inStudy: true) {
          let stem = RunRecord.stem(configuration: configuration.name, seed: seed, fold: pass.fold)
          let runLock = options.sharedOut ? try experiment.output.lock(run: stem) : nil
          try experiment.run(configuration, seed: seed)
          withExtendedLifetime(runLock) {}
        }
      }
    }
    if options.sharedOut {
      print(
        "run recorded in \(options.run.out); when the plan is done, report the runs with:\n"
          + aggregateCommand(options))
    } else if let output {
      try report(folder: output, options: options)
    }
    withExtendedLifetime(folderLock) {}
    print(String(format: "study finished in %.0f s", Date().timeIntervalSince(started)))
  }

  /// Trains each distilling configuration once (first seed) for every τ × α of the grid and
  /// reports the pair with the best validation macro-F1; writes `grid.json` into the output folder.
  static func searchGrid(_ options: StudyOptions) throws {
    let experiment = try Experiment(options: options)
    let lock = try experiment.output.lock()
    defer { withExtendedLifetime(lock) {} }
    let distilling = options.configurations.filter { $0.teacher != nil }
    guard !distilling.isEmpty else {
      throw UsageError(
        "--grid needs a distilling configuration (RB-KD, RB-KD-Att or RAB-KD)",
        program: parser.program)
    }
    var entries: [GridEntry] = []
    for configuration in distilling {
      print(
        "grid for \(configuration.name): τ ∈ \(options.gridTemperatures), α ∈ \(options.gridAlphas)"
      )
      for temperature in options.gridTemperatures {
        for alpha in options.gridAlphas {
          var weights = options.run.lossWeights
          weights.temperature = temperature
          weights.alpha = alpha
          let f1 = try experiment.validationScore(
            configuration, seed: options.run.seed, weights: weights)
          entries.append(
            GridEntry(
              configuration: configuration.name, temperature: temperature, alpha: alpha,
              validationMacroF1: f1))
          print(String(format: "  τ %-5g α %-4g validation macro-F1 %.4f", temperature, alpha, f1))
        }
      }
      if let best = entries.filter({ $0.configuration == configuration.name }).max(by: {
        $0.validationMacroF1 < $1.validationMacroF1
      }) {
        print(
          String(
            format: "best for %@: τ = %g, α = %g (validation macro-F1 %.4f)", configuration.name,
            best.temperature, best.alpha, best.validationMacroF1))
      }
    }
    let url = experiment.output.root.appendingPathComponent("grid.json")
    try writeReplacing(JSONEncoder.readable.encode(entries), to: url)
    print("wrote \(url.path)")
  }

  /// Every subject of the data set, training and test parts together.
  static func allSubjects(_ options: StudyOptions) throws -> [Int] {
    let split = try options.run.loadSplit()
    return Array(Set(split.train.subjectIDs + split.test.subjectIDs)).sorted()
  }

  /// Writes and prints the report of the runs in `folder`.
  static func report(folder: OutputFolder, options: StudyOptions) throws {
    let summary = try StudySummary(folder: folder, options: options)
    try summary.write(to: folder)
    print(summary.text)
    print("\nwrote \(folder.root.path)/results.json, report.md and figures")
  }

  /// One command of `study` per (configuration, seed) run, teachers first (one per teacher seed
  /// with `--teachers N`): a cluster runs exactly the code a local run does. Each distilling run
  /// names its teacher's checkpoint, that of ``StudyOptions/teacherSeed(forStudent:)``.
  ///
  /// With `--folds K` (or `--loso` and its `foldCount`), one command per fold, configuration and
  /// seed (or those of `--fold I` alone), fold by fold.
  public static func plan(_ options: StudyOptions, foldCount: Int? = nil) -> [String] {
    var commands: [String] = []
    let ordered =
      options.configurations.filter(\.isTeacher) + options.configurations.filter { !$0.isTeacher }
    let count = foldCount ?? options.folds
    let folds: [Int?] =
      options.crossValidates ? (options.fold.map { [$0] } ?? Array(1...(count ?? 1))) : [nil]
    for fold in folds {
      for configuration in ordered {
        let seeds = configuration.isTeacher ? options.teacherSeeds : options.run.seeds
        for seed in seeds {
          var run = options
          if let teacher = configuration.teacher, options.run.teacherCheckpoint == nil {
            let name = teacher == .teacherAtt ? "teacher-att" : "teacher"
            let stem = RunRecord.stem(
              configuration: name, seed: options.teacherSeed(forStudent: seed), fold: fold)
            run.run.teacherCheckpoint = "\(options.run.out)/checkpoints/\(stem).safetensors"
          }
          let arguments =
            ["swift", "run", "-c", "release", "study"]
            + run.arguments(configuration: configuration, seed: seed, fold: fold)
          commands.append(arguments.map(shellQuoted).joined(separator: " "))
        }
      }
    }
    return commands
  }

  /// A Slurm job-array script running ``plan(_:)``'s commands, one array task each; distilling
  /// tasks wait for their teacher's checkpoint to appear.
  public static func slurmScript(_ options: StudyOptions, foldCount: Int? = nil) -> String {
    let commands = plan(options, foldCount: foldCount)
    var lines = [
      "#!/bin/bash",
      "#SBATCH --job-name=hardistill-study",
      "#SBATCH --array=0-\(commands.count - 1)",
      "#SBATCH --cpus-per-task=2",
      "#SBATCH --output=\(options.run.out)/logs/slurm-%A_%a.out",
      "# Generated by 'study --emit-slurm'. Run from the package folder; when every task has",
      "# finished: " + aggregateCommand(options),
      "set -euo pipefail",
      "mkdir -p \(shellQuoted(options.run.out))/logs",
      "commands=(",
    ]
    lines += commands.map { "  " + shellQuoted($0) }
    lines += [
      ")",
      "command=${commands[$SLURM_ARRAY_TASK_ID]}",
      "# A distilling run needs its teacher: wait until the teacher task has written its checkpoint.",
      "if [[ $command =~ --teacher-checkpoint\\ ([^ ]+) ]]; then",
      "  while [ ! -f \"${BASH_REMATCH[1]}\" ]; do sleep 30; done",
      "fi",
      "eval \"$command\"",
    ]
    return lines.joined(separator: "\n") + "\n"
  }
}

/// One point of the τ × α grid and the validation score it reached.
public struct GridEntry: Codable, Sendable, Equatable {
  /// The configuration trained.
  public var configuration: String
  /// τ.
  public var temperature: Float
  /// α.
  public var alpha: Float
  /// The best validation macro-F1 over the run's epochs.
  public var validationMacroF1: Double
}

/// `text` quoted for a POSIX shell when it needs quoting.
func shellQuoted(_ text: String) -> String {
  let safe = text.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }
  return safe && !text.isEmpty
    ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// The command that reports the runs of `options` once every one is done: `study --aggregate`
/// with the options the runs were trained with, which the report states.
func aggregateCommand(_ options: StudyOptions) -> String {
  (["swift", "run", "-c", "release", "study"] + options.aggregateArguments)
    .map(shellQuoted).joined(separator: " ")
}
