import CommandLineOptions
import Datasets
import Distillation
import Foundation
import Layers
import Metrics
import Tensor

/// Trains configurations on one data set and records each run in an output folder.
///
/// Teachers are trained once (with the first seed) or loaded from a checkpoint, and their
/// outputs on the training set are cached for every distilling run that follows.
public final class Experiment {
  /// The options in force.
  public let options: StudyOptions
  /// The prepared data: training, validation and test windows, standardized on the training part.
  public let data: PreparedData
  /// The output folder.
  public let output: OutputFolder
  private var teachers: [ReferenceModel: (model: Sequential, cache: TeacherCache)] = [:]

  /// Loads the data and prepares the output folder.
  public init(options: StudyOptions) throws {
    self.options = options
    data = try PreparedData(options.run.loadSplit(), validation: options.run.validation)
    output = try OutputFolder(path: options.run.out)
  }

  /// The seeds a configuration runs with: teachers once, with the first seed; students with all.
  public func seeds(for configuration: Configuration, inStudy: Bool) -> [UInt64] {
    inStudy && configuration.isTeacher ? [options.run.seed] : options.run.seeds
  }

  /// The trainer options of one run (seeded, logging and checkpointing into the output folder).
  public func trainerOptions(for configuration: Configuration, seed: UInt64) -> TrainerOptions {
    let stem = RunRecord.stem(configuration: configuration.name, seed: seed)
    var trainer = options.run.trainerOptions(
      seed: seed, label: "\(configuration.name) seed \(seed)")
    trainer.logURL = output.log(stem)
    trainer.checkpointURL = output.trainingState(stem)
    trainer.resume = options.resume
    return trainer
  }

  /// A fresh model of `kind` for this data set, initialized from `seed`'s initialization stream.
  public func makeModel(_ kind: ReferenceModel, seed: UInt64) -> Sequential {
    var generator = SplitMix64(seed: seed, stream: .initialization)
    return options.run.modelFamily.make(
      kind, channels: data.channelCount, classes: data.classNames.count, generator: &generator)
  }

  /// The frozen teacher of `kind` and its cache on the training set: from memory, from
  /// `--teacher-checkpoint` (when it holds this kind), from this output folder, or trained now.
  public func teacher(_ kind: ReferenceModel) throws -> (model: Sequential, cache: TeacherCache) {
    if let known = teachers[kind] { return known }
    let configuration = kind == .teacherAtt ? Configuration.teacherAtt : Configuration.teacher
    let stem = RunRecord.stem(configuration: configuration.name, seed: options.run.seed)
    var candidates: [(url: URL, explicit: Bool)] = []
    if let path = options.run.teacherCheckpoint {
      candidates.append((URL(fileURLWithPath: path), true))
    }
    candidates.append((output.checkpoint(stem), false))
    for (url, explicit) in candidates where FileManager.default.fileExists(atPath: url.path) {
      let checkpoint = try Checkpoint.read(from: url)
      let stored = (checkpoint.metadata["model"], checkpoint.metadata["family"])
      if stored.0 != nil && stored.0 != kind.rawValue
        || stored.1 != nil && stored.1 != options.run.family.name
      {
        // A teacher named on the command line must fit; one found in the folder may be another's.
        guard !explicit else {
          throw ExperimentError.teacherCheckpoint(
            path: url.path,
            reason: "it holds \(stored.0 ?? "?") of the \(stored.1 ?? "?") family, not "
              + "\(kind.rawValue) of the \(options.run.family.name) family")
        }
        continue
      }
      var model = makeModel(kind, seed: options.run.seed)
      do {
        try model.load(from: checkpoint)
      } catch {
        throw ExperimentError.teacherCheckpoint(path: url.path, reason: error.description)
      }
      print("\(configuration.name): loaded from \(url.path)")
      return remember(kind, model)
    }
    let (model, _) = try train(configuration, seed: options.run.seed)
    return teachers[kind] ?? remember(kind, model)
  }

  private func remember(_ kind: ReferenceModel, _ model: Sequential) -> (
    model: Sequential, cache: TeacherCache
  ) {
    let started = Date()
    let cache = TeacherCache(teacher: model, inputs: data.train.inputs)
    print(
      "\(kind.rawValue): cached logits and attention maps of \(data.train.count) windows in "
        + String(format: "%.2f s", Date().timeIntervalSince(started)))
    teachers[kind] = (model, cache)
    return (model, cache)
  }

  /// Whether `--resume` is on and the run's record and checkpoint are already in the output folder.
  public func isDone(_ configuration: Configuration, seed: UInt64) -> Bool {
    let stem = RunRecord.stem(configuration: configuration.name, seed: seed)
    let done =
      options.resume
      && FileManager.default.fileExists(atPath: output.record(stem).path)
      && FileManager.default.fileExists(atPath: output.checkpoint(stem).path)
    if done { print("\(stem): done already, skipped (--resume)") }
    return done
  }

  /// Writes `results.json`, `report.md` and the figures of every run in the output folder, and
  /// prints the comparison table.
  public func writeReport() throws {
    try StudyCommand.report(folder: output, options: options)
  }

  /// Trains `configuration` with `seed` (or reads its record when resuming) and records the run.
  @discardableResult
  public func run(_ configuration: Configuration, seed: UInt64) throws -> RunRecord {
    let stem = RunRecord.stem(configuration: configuration.name, seed: seed)
    if isDone(configuration, seed: seed) {
      return try JSONDecoder.iso8601.decode(
        RunRecord.self, from: Data(contentsOf: output.record(stem)))
    }
    return try train(configuration, seed: seed).record
  }

  /// Trains and records one run.
  private func train(_ configuration: Configuration, seed: UInt64) throws -> (
    model: Sequential, record: RunRecord
  ) {
    var model = makeModel(configuration.student, seed: seed)
    var setup: DistillationSetup?
    if let kind = configuration.teacher {
      setup = DistillationSetup(
        teacher: try teacher(kind).cache, weights: options.run.lossWeights,
        attention: configuration.transfersAttention ? [AttentionPair()] : [],
        channelAlignment: options.run.channelAlignment)
    }
    let history = try Trainer(options: trainerOptions(for: configuration, seed: seed))
      .fit(&model, on: data.train, validation: data.validation, distillation: setup)
    let record = try self.record(model, configuration: configuration, seed: seed, history: history)
    if configuration.isTeacher && seed == options.run.seed && teachers[configuration.student] == nil
    {
      _ = remember(configuration.student, model)
    }
    return (model, record)
  }

  /// Trains `configuration` with `weights` and returns its best validation macro-F1; writes no
  /// file and never looks at the test set (for the τ × α grid).
  public func validationScore(
    _ configuration: Configuration, seed: UInt64, weights: LossWeights
  ) throws -> Double {
    var model = makeModel(configuration.student, seed: seed)
    var setup: DistillationSetup?
    if let kind = configuration.teacher {
      setup = DistillationSetup(
        teacher: try teacher(kind).cache, weights: weights,
        attention: configuration.transfersAttention ? [AttentionPair()] : [],
        channelAlignment: options.run.channelAlignment)
    }
    var trainer = trainerOptions(for: configuration, seed: seed)
    trainer.logURL = nil
    trainer.checkpointURL = nil
    trainer.resume = false
    trainer.progress = .silent
    let history = try Trainer(options: trainer)
      .fit(&model, on: data.train, validation: data.validation, distillation: setup)
    return history.bestValidationMacroF1 ?? 0
  }

  /// Evaluates a trained model on the test set and writes its checkpoint, predictions and record.
  @discardableResult
  public func record(
    _ model: Sequential, configuration: Configuration, seed: UInt64, history: TrainingHistory
  ) throws -> RunRecord {
    let stem = RunRecord.stem(configuration: configuration.name, seed: seed)
    let predictions = model.predict(data.test.inputs).argmaxAlongLastAxis()
    let scores = data.test.report(predictions: predictions)
    let checkpointURL = output.checkpoint(stem)
    try Checkpoint(
      model: model,
      metadata: [
        "model": configuration.student.rawValue, "family": options.run.family.name,
        "configuration": configuration.name, "seed": "\(seed)",
      ]
    ).write(to: checkpointURL)
    let summary = try model.summary(inputShape: [1] + Array(data.test.inputs.shape.dropFirst()))
    let cost = try ModelCost(
      layers: summary.rows.map {
        LayerCost(
          name: $0.layer, outputShape: $0.outputShape, parameters: $0.parameters, flops: $0.flops)
      },
      checkpoint: checkpointURL)
    var csv = "index,label,prediction\n"
    for (index, (label, prediction)) in zip(data.test.labels, predictions).enumerated() {
      csv += "\(index),\(label),\(prediction)\n"
    }
    try Data(csv.utf8).write(to: output.predictions(stem), options: .atomic)
    let record = RunRecord(
      result: RunResult(
        configuration: configuration.name, seed: Int(seed), scores: scores, cost: cost,
        epochs: history.epochs.count, trainSeconds: history.trainSeconds),
      curve: try TrainingCurve(
        configuration: configuration.name, trainingLoss: history.epochs.map(\.loss),
        validationMacroF1: history.epochs.compactMap(\.validationMacroF1),
        bestEpoch: history.bestEpoch > 0 ? history.bestEpoch : nil),
      confusion: scores.confusionMatrix, classNames: data.classNames,
      checkpointBytes: cost.checkpointBytes ?? 0)
    try JSONEncoder.readable.encode(record).write(to: output.record(stem), options: .atomic)
    print(
      "\(stem): test accuracy \(String(format: "%.2f", 100 * scores.accuracy))%, "
        + "macro-F1 \(String(format: "%.4f", scores.macroF1)), \(history.epochs.count) epochs, "
        + String(format: "%.1f s", history.trainSeconds))
    return record
  }
}
