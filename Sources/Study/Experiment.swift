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
  private var teachers: [TeacherKey: (model: Sequential, cache: TeacherCache)] = [:]
  /// The digests of the teachers' weights, computed once each (every distilling run's
  /// fingerprint names its teacher).
  private var teacherDigests: [TeacherKey: String] = [:]
  /// A digest of the prepared windows, labels and subjects of every part.
  private let dataDigest: String

  /// Loads the data and prepares the output folder.
  public init(options: StudyOptions) throws {
    self.options = options
    data = try PreparedData(options.run.loadSplit(), validation: options.run.validation)
    output = try OutputFolder(path: options.run.out)
    var digest = Digest()
    for part in [data.train, data.validation, data.test] {
      digest.add(part.inputs)
      digest.add(part.labels)
    }
    digest.add(data.subjects.train + [-1] + data.subjects.validation + [-1] + data.subjects.test)
    dataDigest = digest.hex
  }

  /// The seeds a configuration runs with: teachers with ``StudyOptions/teacherSeeds`` (the first
  /// seed alone unless `--teachers N`); students with all.
  public func seeds(for configuration: Configuration, inStudy: Bool) -> [UInt64] {
    inStudy && configuration.isTeacher ? options.teacherSeeds : options.run.seeds
  }

  /// The trainer options of one run (seeded, logging and checkpointing into the output folder).
  public func trainerOptions(for configuration: Configuration, seed: UInt64) -> TrainerOptions {
    let stem = RunRecord.stem(configuration: configuration.name, seed: seed, fold: options.fold)
    var trainer = options.run.trainerOptions(
      seed: seed, label: "\(configuration.name) seed \(seed)")
    trainer.logURL = output.log(stem)
    trainer.checkpointURL = output.trainingState(stem)
    trainer.resume = options.resume
    return trainer
  }

  /// What determines a run of `configuration` with `seed`: the data, the split, the model
  /// family, the training and (for a distilling configuration) the distillation settings, the
  /// teacher's weights, and the package version. The thread count is left out: it changes no bit.
  /// The initialization is named only when it is not the default (Glorot), so runs stored before
  /// `--initialization` existed keep their fingerprint.
  public func fingerprint(_ configuration: Configuration, seed: UInt64) throws -> RunFingerprint {
    var settings = RunFingerprint.optionSettings(options.run, configuration: configuration)
    settings["data"] = dataDigest
    settings["validationSubjects"] = data.subjects.validation.map(String.init)
      .joined(separator: ",")
    settings["testSubjects"] = data.subjects.test.map(String.init).joined(separator: ",")
    settings["configuration"] = configuration.name
    settings["seed"] = "\(seed)"
    settings["version"] = RunFingerprint.packageVersion
    if let fold = options.fold {
      settings["fold"] = "\(fold)"
      settings["folds"] = options.folds.map { "\($0)" } ?? "loso"
    }
    if let kind = configuration.teacher {
      settings["teacher"] = try teacherDigest(kind, seed: options.teacherSeed(forStudent: seed))
    }
    return RunFingerprint(settings: settings)
  }

  /// A digest of the weights of the teacher of `kind` trained with `seed`.
  private func teacherDigest(_ kind: ReferenceModel, seed: UInt64) throws -> String {
    let key = TeacherKey(kind: kind, seed: seed)
    if let known = teacherDigests[key] { return known }
    var digest = Digest()
    let tensors = Checkpoint(model: try teacher(kind, seed: seed).model).tensors
    for name in tensors.keys.sorted() {
      digest.add(Array(name.utf8).map(Int.init))
      digest.add(tensors[name]!)
    }
    teacherDigests[key] = digest.hex
    return digest.hex
  }

  /// Whether a stored run of `stem` with fingerprint `stored` may stand for the run `current`
  /// describes: yes when they are equal; when they differ, an error naming the differences, or,
  /// with `--retrain-changed`, no (the stored files are removed and the run is trained again).
  private func accept(
    stored: RunFingerprint?, current: RunFingerprint, stem: String, what: String
  ) throws -> Bool {
    if let stored, stored == current { return true }
    let differences =
      stored.map { current.differences(from: $0) }
      ?? ["the stored \(what) has no fingerprint (an older version wrote it)"]
    guard options.retrainChanged else {
      throw ExperimentError.changedSettings(stem: stem, what: what, differences: differences)
    }
    print("\(stem): the stored \(what) was made with other settings; training it again:")
    for line in differences { print("  \(line)") }
    for url in [
      output.record(stem), output.checkpoint(stem), output.trainingState(stem), output.log(stem),
    ] {
      try? FileManager.default.removeItem(at: url)
    }
    return false
  }

  /// A fresh model of `kind` for this data set, initialized from `seed`'s initialization stream
  /// the way `--initialization` says.
  public func makeModel(_ kind: ReferenceModel, seed: UInt64) -> Sequential {
    var generator = SplitMix64(seed: seed, stream: .initialization)
    return options.run.modelFamily.make(
      kind, channels: data.channelCount, classes: data.classNames.count,
      initialization: options.run.initialization, generator: &generator)
  }

  /// The frozen teacher of `kind` trained with `seed` (the first seed when `nil`) and its cache
  /// on the training set: from memory, from `--teacher-checkpoint` (when it holds this kind),
  /// from this output folder, or trained now.
  public func teacher(_ kind: ReferenceModel, seed: UInt64? = nil) throws -> (
    model: Sequential, cache: TeacherCache
  ) {
    let seed = seed ?? options.run.seed
    let key = TeacherKey(kind: kind, seed: seed)
    if let known = teachers[key] { return known }
    let configuration = kind == .teacherAtt ? Configuration.teacherAtt : Configuration.teacher
    let stem = RunRecord.stem(configuration: configuration.name, seed: seed, fold: options.fold)
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
      if !explicit {
        // A teacher found in the folder must have been trained as this run would train it.
        let stored = RunFingerprint(json: checkpoint.metadata[RunFingerprint.metadataKey])
        let current = try fingerprint(configuration, seed: seed)
        guard try accept(stored: stored, current: current, stem: stem, what: "teacher") else {
          continue
        }
      }
      var model = makeModel(kind, seed: seed)
      do {
        try model.load(from: checkpoint)
      } catch {
        throw ExperimentError.teacherCheckpoint(path: url.path, reason: error.description)
      }
      if let bad = checkpoint.tensors.sorted(by: { $0.key < $1.key }).first(where: {
        !$0.value.withUnsafeBufferPointer { $0.allSatisfy(\.isFinite) }
      }) {
        throw ExperimentError.teacherCheckpoint(
          path: url.path, reason: "tensor '\(bad.key)' holds NaN or infinite values")
      }
      print("\(configuration.name): loaded from \(url.path)")
      return remember(key, model)
    }
    let (model, _) = try train(configuration, seed: seed)
    return teachers[key] ?? remember(key, model)
  }

  private func remember(_ key: TeacherKey, _ model: Sequential) -> (
    model: Sequential, cache: TeacherCache
  ) {
    let kind = key.kind
    let started = Date()
    let cache = TeacherCache(teacher: model, inputs: data.train.inputs)
    print(
      "\(kind.rawValue) seed \(key.seed): cached logits and attention maps of \(data.train.count) windows in "
        + String(format: "%.2f s", Date().timeIntervalSince(started)))
    teachers[key] = (model, cache)
    return (model, cache)
  }

  /// Whether `--resume` is on and the run's record and checkpoint are already in the output
  /// folder, made with the settings of this run (see ``fingerprint(_:seed:)``).
  ///
  /// - Throws: ``ExperimentError/changedSettings(stem:what:differences:)`` when the stored run was
  ///   made with other settings (unless `--retrain-changed`).
  public func isDone(_ configuration: Configuration, seed: UInt64) throws -> Bool {
    let stem = RunRecord.stem(configuration: configuration.name, seed: seed, fold: options.fold)
    guard options.resume else { return false }
    if FileManager.default.fileExists(atPath: output.record(stem).path),
      FileManager.default.fileExists(atPath: output.checkpoint(stem).path)
    {
      let record = try JSONDecoder.iso8601.decode(
        RunRecord.self, from: Data(contentsOf: output.record(stem)))
      let current = try fingerprint(configuration, seed: seed)
      if try accept(stored: record.fingerprint, current: current, stem: stem, what: "run") {
        print("\(stem): done already, skipped (--resume)")
        return true
      }
    } else if FileManager.default.fileExists(atPath: output.trainingState(stem).path) {
      // A run cut off mid-training resumes only with the settings it started with.
      let state = try Checkpoint.read(from: output.trainingState(stem))
      let stored = RunFingerprint(json: state.metadata[RunFingerprint.metadataKey])
      let current = try fingerprint(configuration, seed: seed)
      _ = try accept(stored: stored, current: current, stem: stem, what: "cut-off run")
    }
    return false
  }

  /// Writes `results.json`, `report.md` and the figures of every run in the output folder, and
  /// prints the comparison table.
  public func writeReport() throws {
    try StudyCommand.report(folder: output, options: options)
  }

  /// The split, threads, shards and package version of this process's runs.
  public var studyProtocol: StudyProtocol {
    StudyProtocol(
      subjects: SplitParts(
        train: data.subjects.train, validation: data.subjects.validation, test: data.subjects.test),
      windows: SplitParts(
        train: data.train.count, validation: data.validation.count, test: data.test.count),
      threads: [options.run.threads ?? KernelConfiguration.current.threadCount],
      shards: options.run.shards, fold: options.fold)
  }

  /// Trains `configuration` with `seed` (or reads its record when resuming) and records the run.
  @discardableResult
  public func run(_ configuration: Configuration, seed: UInt64) throws -> RunRecord {
    let stem = RunRecord.stem(configuration: configuration.name, seed: seed, fold: options.fold)
    if try isDone(configuration, seed: seed) {
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
        teacher: try teacher(kind, seed: options.teacherSeed(forStudent: seed)).cache,
        weights: options.run.lossWeights,
        attention: configuration.transfersAttention
          ? [AttentionPair.named(ReferenceModel.attentionName)] : [],
        channelAlignment: options.run.channelAlignment)
    }
    var trainer = trainerOptions(for: configuration, seed: seed)
    trainer.checkpointMetadata[RunFingerprint.metadataKey] =
      try fingerprint(configuration, seed: seed).json
    let history = try Trainer(options: trainer)
      .fit(&model, on: data.train, validation: data.validation, distillation: setup)
    let record = try self.record(model, configuration: configuration, seed: seed, history: history)
    let key = TeacherKey(kind: configuration.student, seed: seed)
    if configuration.isTeacher && options.teacherSeeds.contains(seed) && teachers[key] == nil {
      _ = remember(key, model)
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
        teacher: try teacher(kind, seed: options.teacherSeed(forStudent: seed)).cache,
        weights: weights,
        attention: configuration.transfersAttention
          ? [AttentionPair.named(ReferenceModel.attentionName)] : [],
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
    let stem = RunRecord.stem(configuration: configuration.name, seed: seed, fold: options.fold)
    let predictions = model.predict(data.test.inputs).argmaxAlongLastAxis()
    let scores = data.test.report(predictions: predictions)
    let checkpointURL = output.checkpoint(stem)
    let fingerprint = try fingerprint(configuration, seed: seed)
    var metadata: [String: String] = [:]
    metadata["model"] = configuration.student.rawValue
    metadata["family"] = options.run.family.name
    metadata["configuration"] = configuration.name
    metadata["seed"] = "\(seed)"
    metadata[RunFingerprint.metadataKey] = fingerprint.json
    try Checkpoint(model: model, card: data.modelCard(for: model), metadata: metadata)
      .write(to: checkpointURL)
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
    try writeReplacing(Data(csv.utf8), to: output.predictions(stem))
    let record = RunRecord(
      result: RunResult(
        configuration: configuration.name, seed: Int(seed), scores: scores, cost: cost,
        epochs: history.epochs.count, trainSeconds: history.trainSeconds, fold: options.fold),
      curve: try TrainingCurve(
        configuration: configuration.name, trainingLoss: history.epochs.map(\.loss),
        validationMacroF1: history.epochs.compactMap(\.validationMacroF1),
        bestEpoch: history.bestEpoch > 0 ? history.bestEpoch : nil),
      confusion: scores.confusionMatrix, classNames: data.classNames,
      checkpointBytes: cost.checkpointBytes ?? 0, fingerprint: fingerprint,
      studyProtocol: studyProtocol)
    try writeReplacing(JSONEncoder.readable.encode(record), to: output.record(stem))
    // A recall near 0 means the run never learned a class, which the accuracy alone hides.
    let worst = record.result.lowestRecall.map { worst in
      let name =
        data.classNames.indices.contains(worst.classID)
        ? data.classNames[worst.classID] : "class \(worst.classID)"
      return String(format: ", lowest class recall %.1f%% ", 100 * worst.recall) + "(\(name))"
    }
    print(
      "\(stem): test accuracy \(String(format: "%.2f", 100 * scores.accuracy))%, "
        + "macro-F1 \(String(format: "%.4f", scores.macroF1)), \(history.epochs.count) epochs, "
        + String(format: "%.1f s", history.trainSeconds) + (worst ?? ""))
    return record
  }
}

/// A trained teacher: its model and the seed it was trained with.
private struct TeacherKey: Hashable {
  var kind: ReferenceModel
  var seed: UInt64
}
