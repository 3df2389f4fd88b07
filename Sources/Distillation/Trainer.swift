import Foundation
import Layers
import Metrics
import Tensor

/// Which student attention layer learns from which teacher attention layer, by layer name.
public struct AttentionPair: Sendable, Equatable, Codable {
  /// The student layer's name (its key in `ForwardContext.attentionMaps`).
  public var student: String
  /// The teacher layer's name.
  public var teacher: String

  /// A pairing; the reference models name their CBAM block `"cbam"`.
  public init(
    student: String = ReferenceModel.attentionName, teacher: String = ReferenceModel.attentionName
  ) {
    self.student = student
    self.teacher = teacher
  }
}

/// What a distilling student learns from: the cached teacher, the loss weights, and the
/// attention pairs (empty for response-based KD only).
public struct DistillationSetup {
  /// The frozen teacher's outputs on the training inputs, in the same order.
  public var teacher: TeacherCache
  /// α, β, τ and the τ² convention.
  public var weights: LossWeights
  /// Attention layers to align; empty for RB-KD.
  public var attention: [AttentionPair]
  /// How teacher channel maps reach the student's channel count.
  public var channelAlignment: ChannelAlignment

  /// A distillation set-up.
  public init(
    teacher: TeacherCache, weights: LossWeights = LossWeights(), attention: [AttentionPair] = [],
    channelAlignment: ChannelAlignment = .groupAverage
  ) {
    self.teacher = teacher
    self.weights = weights
    self.attention = attention
    self.channelAlignment = channelAlignment
  }
}

/// Where the trainer reports progress.
public enum ProgressOutput: Sendable, Equatable {
  /// A live line redrawn during each epoch on a terminal; one plain line per epoch otherwise.
  case automatic
  /// One plain line per epoch.
  case lines
  /// Nothing.
  case silent
}

/// How to train: epochs, batches, optimizer settings, early stopping, logging and checkpoints.
public struct TrainerOptions: Sendable {
  /// The most epochs to run.
  public var epochs: Int = 100
  /// Examples per mini-batch; the last, partial batch is kept.
  public var batchSize: Int = 64
  /// Adam's learning rate (or the start of `schedule`).
  public var learningRate: Float = 1e-3
  /// Epochs without a better validation macro-F1 before stopping; the best weights are restored.
  public var patience: Int = 10
  /// Seeds the shuffling and dropout streams.
  public var seed: UInt64 = 0
  /// Clip gradients to this global norm, if set.
  public var gradientClipNorm: Float?
  /// The learning rate per epoch, if set (otherwise constant `learningRate`).
  public var schedule: LearningRateSchedule?
  /// Progress lines on standard output.
  public var progress: ProgressOutput = .automatic
  /// A name shown at the start of progress lines, e.g. `"RAB-KD seed 1"`.
  public var label: String = ""
  /// A JSON-lines log of every epoch, rewritten atomically after each epoch.
  public var logURL: URL?
  /// A checkpoint written atomically after every epoch, from which training can resume.
  public var checkpointURL: URL?
  /// Resume from `checkpointURL` if it exists.
  public var resume: Bool = false
  /// Slices of each mini-batch differentiated in parallel (data parallelism, see
  /// `valueWithGradients(of:batchSize:shards:_:)`); `nil`: one per kernel thread
  /// (`KernelConfiguration.current.threadCount`). Models with batch statistics always train in
  /// one piece. The number of shards changes only the order of float sums (tested: gradients
  /// within 1e-5 of the largest), not the dropout masks or the shuffling.
  public var shards: Int?

  /// Options with DESIGN §7's defaults.
  public init() {}
}

/// What happened in one epoch.
public struct EpochRecord: Sendable, Equatable, Codable {
  /// 1-based epoch number.
  public var epoch: Int
  /// Mean total loss over the epoch's batches.
  public var loss: Double
  /// Mean cross-entropy part.
  public var crossEntropy: Double
  /// Mean KD part.
  public var distillation: Double
  /// Mean channel attention-transfer part.
  public var channelAttention: Double
  /// Mean spatial attention-transfer part.
  public var spatialAttention: Double
  /// Accuracy on the training batches, as seen during the epoch (training mode).
  public var trainAccuracy: Double
  /// Validation accuracy after the epoch, if there is a validation set.
  public var validationAccuracy: Double?
  /// Validation macro-F1 after the epoch, if there is a validation set.
  public var validationMacroF1: Double?
  /// The learning rate used.
  public var learningRate: Double
  /// Training examples per second (validation excluded).
  public var samplesPerSecond: Double
  /// Wall-clock seconds of the epoch, validation included.
  public var seconds: Double
}

/// The record of a training run: per-epoch curves and the epoch whose weights were kept.
public struct TrainingHistory: Sendable, Equatable, Codable {
  /// One record per epoch run.
  public var epochs: [EpochRecord] = []
  /// The epoch whose weights the model holds at the end (1-based; the last without validation).
  public var bestEpoch: Int = 0
  /// The best validation macro-F1, if there was a validation set.
  public var bestValidationMacroF1: Double?
  /// Whether early stopping ended the run before `epochs`.
  public var stoppedEarly: Bool = false
  /// Wall-clock seconds spent training, summed over the epochs (across resumptions).
  public var trainSeconds: Double = 0
}

/// Trains a model, optionally distilling a cached teacher into it.
///
/// Each epoch shuffles the training set (seeded), runs Adam over mini-batches in training mode,
/// then evaluates the validation set in inference mode; training stops early when validation
/// macro-F1 has not improved for `patience` epochs, and the best weights are restored.
public struct Trainer {
  /// The training options.
  public var options: TrainerOptions

  /// A trainer with the given options.
  public init(options: TrainerOptions = TrainerOptions()) { self.options = options }

  /// Trains `model` on `training`, validating on `validation` after every epoch.
  ///
  /// - Parameters:
  ///   - model: Trained in place; holds the best weights at the end.
  ///   - training: Inputs `[examples, time, channels]` and labels; shuffled every epoch.
  ///   - validation: Subject-disjoint windows for early stopping on macro-F1, or `nil` to run
  ///     every epoch and keep the last weights.
  ///   - distillation: The teacher cache (computed on `training.inputs`, same order) and loss set-up,
  ///     or `nil` for plain cross-entropy.
  /// - Throws: ``TrainingError`` for data or models that do not fit, a non-finite loss or gradient
  ///   (naming epoch, step and part), or a checkpoint that cannot be written or resumed.
  @discardableResult
  public func fit<Model: Layer>(
    _ model: inout Model, on training: TrainingData, validation: TrainingData? = nil,
    distillation: DistillationSetup? = nil
  ) throws(TrainingError) -> TrainingHistory {
    try validate(options)
    var student = try prepareStudent(
      model, training: training, validation: validation, distillation: distillation)
    var optimizer = Adam(learningRate: options.learningRate)
    var state = ResumeState(generatorState: SplitMix64(seed: options.seed).state)
    var best: [String: Tensor] = [:]
    if options.resume, let url = options.checkpointURL,
      FileManager.default.fileExists(atPath: url.path)
    {
      state = try resume(from: url, student: &student, optimizer: &optimizer, best: &best)
    }
    var generator = SplitMix64(seed: state.generatorState)
    let progress = ProgressPrinter(style: options.progress, label: options.label)
    let steps = (training.count + options.batchSize - 1) / options.batchSize

    func patienceLeft() -> Bool { validation == nil || state.wait < options.patience }
    var epoch = state.history.epochs.count
    while epoch < options.epochs && patienceLeft() {
      epoch += 1
      let started = Date()
      optimizer.learningRate = options.schedule?.rate(at: epoch - 1) ?? options.learningRate
      var order = Array(0..<training.count)
      order.shuffle(using: &generator)
      var sums = LossSums()
      for step in 0..<steps {
        let indices = Array(
          order[
            (step * options.batchSize)..<Swift.min((step + 1) * options.batchSize, training.count)])
        let (parts, gradients, correct) = try trainingStep(
          student, indices: indices, training: training, distillation: distillation,
          generator: &generator, epoch: epoch, step: step + 1)
        sums.add(parts, correct: correct, count: indices.count)
        let clipped =
          options.gradientClipNorm.map { gradients.clippedByGlobalNorm($0) } ?? gradients
        optimizer.update(&student, along: clipped.gradients)
        student.applyStateUpdates(clipped.stateUpdates)
        progress.step(
          epoch: epoch, of: options.epochs, step: step + 1, of: steps, loss: sums.meanLoss)
      }
      let trainSeconds = Date().timeIntervalSince(started)
      var record = sums.record(
        epoch: epoch, learningRate: optimizer.learningRate, trainSeconds: trainSeconds)
      if let validation {
        let report = evaluate(student.model, on: validation)
        record.validationAccuracy = report.accuracy
        record.validationMacroF1 = report.macroF1
        if report.macroF1 > (state.history.bestValidationMacroF1 ?? -1) {
          state.history.bestValidationMacroF1 = report.macroF1
          state.history.bestEpoch = epoch
          best = Dictionary(
            uniqueKeysWithValues: (student.parameters + student.states).map { ($0.name, $0.value) })
          state.wait = 0
        } else {
          state.wait += 1
        }
      } else {
        state.history.bestEpoch = epoch
      }
      record.seconds = Date().timeIntervalSince(started)
      state.history.epochs.append(record)
      state.history.trainSeconds += trainSeconds
      state.generatorState = generator.state
      progress.epoch(record, of: options.epochs, history: state.history)
      try writeLog(state.history)
      if let url = options.checkpointURL {
        try saveCheckpoint(
          to: url, student: student, optimizer: optimizer, best: best, state: state)
      }
    }
    state.history.stoppedEarly = !patienceLeft() && epoch < options.epochs
    if !best.isEmpty {
      student.forEachParameter { name, value in if let kept = best[name] { value = kept } }
      student.forEachState { name, value in if let kept = best[name] { value = kept } }
    }
    model = student.model
    return state.history
  }

  // MARK: - Steps

  /// One forward and backward pass: the loss parts, the gradients (and batch-norm updates), and
  /// how many predictions were right.
  private func trainingStep<Model: Layer>(
    _ student: TrainedStudent<Model>, indices: [Int], training: TrainingData,
    distillation: DistillationSetup?, generator: inout SplitMix64, epoch: Int, step: Int
  ) throws(TrainingError) -> (LossParts, StepGradients, Int) {
    let (inputs, labels) = training.batch(indices)
    let rng = generator
    // Batch statistics would differ per shard: models with state train in one piece.
    let shards =
      student.states.isEmpty ? options.shards ?? KernelConfiguration.current.threadCount : 1
    let result = try valueWithGradients(of: student, batchSize: indices.count, shards: shards) {
      s, shard throws(TrainingError) in
      let whole = shard.range.count == indices.count
      var context = ForwardContext(isTraining: true, generator: rng)
      context.shard = whole ? nil : shard
      let logits = s.forward(
        whole ? inputs : inputs.sliced(alongAxis: 0, range: shard.range), context: &context)
      let shardLabels = Array(labels[shard.range])
      let parts = try lossParts(
        s, logits: logits, labels: shardLabels, maps: context.attentionMaps,
        teacher: distillation.map { $0.teacher.batch(Array(indices[shard.range])) },
        distillation: distillation)
      let correct = zip(logits.argmaxAlongLastAxis(), shardLabels).filter { $0 == $1 }.count
      return (
        parts.total,
        ShardOutcome(
          parts: parts, weight: shard.weight, correct: correct, generator: context.generator,
          stateUpdates: context.stateUpdates)
      )
    }
    // Every shard's stream ends where one pass over the batch would (see `Dropout`).
    generator = result.outputs[0].generator
    var parts = LossParts(total: Tensor(result.value), crossEntropy: 0)
    for outcome in result.outputs {
      parts.crossEntropy += outcome.weight * outcome.parts.crossEntropy
      parts.distillation += outcome.weight * outcome.parts.distillation
      parts.channelAttention += outcome.weight * outcome.parts.channelAttention
      parts.spatialAttention += outcome.weight * outcome.parts.spatialAttention
    }
    for (name, value) in [
      ("total", result.value), ("cross-entropy", parts.crossEntropy), ("KD", parts.distillation),
      ("channel attention", parts.channelAttention), ("spatial attention", parts.spatialAttention),
    ] where !value.isFinite {
      throw .nonFiniteLoss(epoch: epoch, step: step, part: name)
    }
    if let bad = result.gradients.byName.sorted(by: { $0.key < $1.key }).first(where: {
      !$0.value.withUnsafeBufferPointer { $0.allSatisfy(\.isFinite) }
    }) {
      throw .nonFiniteGradient(epoch: epoch, step: step, parameter: bad.key)
    }
    let correct = result.outputs.reduce(0) { $0 + $1.correct }
    // With state there is one shard, whose statistics are the whole batch's.
    return (
      parts,
      StepGradients(gradients: result.gradients, stateUpdates: result.outputs[0].stateUpdates),
      correct
    )
  }

  /// The combined loss of one batch, with the attention pairs aligned.
  private func lossParts<Model: Layer>(
    _ student: TrainedStudent<Model>, logits: Tensor, labels: [Int], maps: [String: AttentionMaps],
    teacher: (logits: Tensor, maps: [String: AttentionMaps])?, distillation: DistillationSetup?
  ) throws(TrainingError) -> LossParts {
    guard let distillation, let teacher else {
      return combinedLoss(
        logits: logits, labels: labels, teacherLogits: nil, weights: LossWeights())
    }
    var channel: [(student: Tensor, teacher: Tensor)] = []
    var spatial: [(student: Tensor, teacher: Tensor)] = []
    do throws(DistillationError) {
      for pair in distillation.attention {
        let (studentMaps, teacherMaps) = try mapsOf(pair, student: maps, teacher: teacher.maps)
        if let s = studentMaps.channel, let t = teacherMaps.channel {
          channel.append(
            (
              s,
              try alignChannelMap(
                teacher: t, student: s, projection: student.projections[pair.student])
            ))
        }
        if let s = studentMaps.spatial, let t = teacherMaps.spatial {
          spatial.append((s, try alignSpatialMap(teacher: t, student: s)))
        }
      }
    } catch {
      throw .distillation(error)
    }
    return combinedLoss(
      logits: logits, labels: labels, teacherLogits: teacher.logits, weights: distillation.weights,
      channelMaps: channel, spatialMaps: spatial)
  }

  // MARK: - Set-up

  private func validate(_ options: TrainerOptions) throws(TrainingError) {
    if let shards = options.shards, shards < 1 {
      throw .invalidData("shards \(shards) must be ≥ 1 (or nil: one per kernel thread)")
    }
    guard options.epochs >= 1, options.batchSize >= 1, options.patience >= 1,
      options.learningRate > 0, options.learningRate.isFinite
    else {
      throw .invalidData(
        "epochs \(options.epochs), batch size \(options.batchSize) and patience \(options.patience) "
          + "must be ≥ 1 and the learning rate \(options.learningRate) > 0")
    }
  }

  /// Checks model, data and distillation against each other with a dry run on one example, and
  /// adds trainable channel projections where the set-up asks for them.
  private func prepareStudent<Model: Layer>(
    _ model: Model, training: TrainingData, validation: TrainingData?,
    distillation: DistillationSetup?
  ) throws(TrainingError) -> TrainedStudent<Model> {
    guard training.count > 0 else { throw .invalidData("the training set is empty") }
    let exampleShape = Array(training.inputs.shape.dropFirst())
    if let validation {
      guard Array(validation.inputs.shape.dropFirst()) == exampleShape,
        validation.classes == training.classes
      else {
        throw .invalidData(
          "validation inputs \(validation.inputs.shape) (\(validation.classes) classes) do not match "
            + "training inputs \(training.inputs.shape) (\(training.classes) classes)")
      }
    }
    do throws(ShapeError) {
      let output = try model.outputShape(for: [1] + exampleShape)
      guard output == [1, training.classes] else {
        throw ShapeError.incompatible(
          operation: "model output", lhs: output, rhs: [1, training.classes],
          rule: "[batch, classes]")
      }
    } catch {
      throw .shape(error)
    }
    var student = TrainedStudent(model: model, projections: [:])
    guard let distillation else { return student }
    guard distillation.teacher.logits.shape == [training.count, training.classes] else {
      throw .invalidData(
        "teacher logits \(distillation.teacher.logits.shape) do not cover the training set "
          + "[\(training.count), \(training.classes)]")
    }
    var context = ForwardContext.inference
    _ = model.forward(training.inputs.sliced(alongAxis: 0, range: 0..<1), context: &context)
    let teacher = distillation.teacher.batch([0])
    var projectionGenerator = SplitMix64(seed: options.seed ^ 0x5EED_0F_A77E)
    do throws(DistillationError) {
      for pair in distillation.attention {
        let (s, t) = try mapsOf(pair, student: context.attentionMaps, teacher: teacher.maps)
        // At least one kind of map must exist on both sides, or the pair teaches nothing.
        guard (s.channel != nil && t.channel != nil) || (s.spatial != nil && t.spatial != nil)
        else {
          throw .missingAttentionMap(
            model: "teacher", layer: pair.teacher, kind: s.channel != nil ? "channel" : "spatial",
            available: Array(teacher.maps.keys))
        }
        if let sc = s.channel, let tc = t.channel {
          if distillation.channelAlignment == .projection && sc.shape != tc.shape {
            student.projections[pair.student] = .glorotUniform(
              [tc.shape[1], sc.shape[1]], using: &projectionGenerator)
          }
          _ = try alignChannelMap(
            teacher: tc, student: sc, projection: student.projections[pair.student])
        }
        if let ss = s.spatial, let ts = t.spatial {
          _ = try alignSpatialMap(teacher: ts, student: ss)
        }
      }
    } catch {
      throw .distillation(error)
    }
    return student
  }

  /// The maps of one pair, or an error naming the missing layer and the layers that have maps.
  private func mapsOf(
    _ pair: AttentionPair, student: [String: AttentionMaps], teacher: [String: AttentionMaps]
  ) throws(DistillationError) -> (AttentionMaps, AttentionMaps) {
    guard let s = student[pair.student] else {
      throw .missingAttentionMap(
        model: "student", layer: pair.student, kind: "attention", available: Array(student.keys))
    }
    guard let t = teacher[pair.teacher] else {
      throw .missingAttentionMap(
        model: "teacher", layer: pair.teacher, kind: "attention", available: Array(teacher.keys))
    }
    return (s, t)
  }

  /// Accuracy and macro-F1 of `model` on `data`, in inference mode.
  private func evaluate<Model: Layer>(_ model: Model, on data: TrainingData) -> ClassificationReport
  {
    let predictions = model.predict(data.inputs).argmaxAlongLastAxis()
    // Labels and predictions both lie in 0..<classes, so the report cannot fail.
    return try! ClassificationReport(
      labels: data.labels, predictions: predictions, classes: Array(0..<data.classes))
  }

  // MARK: - Logs and checkpoints

  private func writeLog(_ history: TrainingHistory) throws(TrainingError) {
    guard let url = options.logURL else { return }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var text = ""
    for record in history.epochs {
      text += String(decoding: (try? encoder.encode(record)) ?? Data(), as: UTF8.self) + "\n"
    }
    do {
      try Data(text.utf8).write(to: url, options: .atomic)
    } catch {
      throw .checkpoint(.unreadable(path: url.path, reason: error.localizedDescription))
    }
  }

  private static let stateKey = "trainer.state"
  private static let bestPrefix = "best."

  private func saveCheckpoint<Model: Layer>(
    to url: URL, student: TrainedStudent<Model>, optimizer: Adam, best: [String: Tensor],
    state: ResumeState
  ) throws(TrainingError) {
    var checkpoint = Checkpoint(model: student, optimizer: optimizer)
    for (name, value) in best { checkpoint.tensors[Self.bestPrefix + name] = value }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    checkpoint.metadata[Self.stateKey] = String(
      decoding: (try? encoder.encode(state)) ?? Data(), as: UTF8.self)
    do {
      try checkpoint.write(to: url)
    } catch {
      throw .checkpoint(error)
    }
  }

  private func resume<Model: Layer>(
    from url: URL, student: inout TrainedStudent<Model>, optimizer: inout Adam,
    best: inout [String: Tensor]
  ) throws(TrainingError) -> ResumeState {
    do {
      var checkpoint = try Checkpoint.read(from: url)
      guard let text = checkpoint.metadata[Self.stateKey],
        let state = try? JSONDecoder().decode(ResumeState.self, from: Data(text.utf8))
      else {
        throw CheckpointError.malformedHeader(
          path: url.path, reason: "no trainer state to resume from")
      }
      best = [:]
      for (name, value) in checkpoint.tensors where name.hasPrefix(Self.bestPrefix) {
        best[String(name.dropFirst(Self.bestPrefix.count))] = value
        checkpoint.tensors[name] = nil
      }
      try student.load(from: checkpoint)
      try optimizer.restore(state: checkpoint.optimizerState)
      return state
    } catch let error as CheckpointError {
      throw .checkpoint(error)
    } catch {
      throw .invalidData("\(error)")
    }
  }
}

/// Where a run stands after an epoch; stored in checkpoints so training can resume exactly.
struct ResumeState: Codable {
  var history = TrainingHistory()
  var wait = 0
  /// The shuffling and dropout stream's state, as a decimal string (JSON numbers lose 64 bits).
  var generatorText: String

  init(generatorState: UInt64) { generatorText = String(generatorState) }

  var generatorState: UInt64 {
    get { UInt64(generatorText) ?? 0 }
    set { generatorText = String(newValue) }
  }
}

/// What one shard of a step reports besides its loss.
private struct ShardOutcome {
  var parts: LossParts
  /// The shard's share of the batch.
  var weight: Float
  var correct: Int
  /// The dropout stream after the shard's forward pass.
  var generator: SplitMix64
  var stateUpdates: [String: Tensor]
}

/// Gradients of one step together with the batch-norm statistics it produced.
struct StepGradients {
  var gradients: Gradients
  var stateUpdates: [String: Tensor]

  func clippedByGlobalNorm(_ norm: Float) -> StepGradients {
    StepGradients(gradients: gradients.clippedByGlobalNorm(norm), stateUpdates: stateUpdates)
  }
}

/// The model being trained plus any trainable attention projections, named
/// `"attentionProjection.<student layer>"`, so one optimizer trains both.
struct TrainedStudent<Model: Layer>: Layer {
  var model: Model
  var projections: [String: Tensor]

  func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    model.forward(input, context: &context)
  }

  func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    try model.outputShape(for: inputShape)
  }

  func forwardFLOPs(for inputShape: [Int]) -> Int { model.forwardFLOPs(for: inputShape) }

  mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {
    try model.forEachParameter(body)
    for key in projections.keys.sorted() {
      try body("attentionProjection.\(key)", &projections[key]!)
    }
  }

  mutating func forEachState(_ body: (String, inout Tensor) throws -> Void) rethrows {
    try model.forEachState(body)
  }
}

/// Running sums of the loss parts and accuracy over an epoch's batches.
struct LossSums {
  var batches = 0
  var total = 0.0, crossEntropy = 0.0, distillation = 0.0, channel = 0.0, spatial = 0.0
  var correct = 0, seen = 0

  mutating func add(_ parts: LossParts, correct: Int, count: Int) {
    batches += 1
    total += Double(parts.total.scalar)
    crossEntropy += Double(parts.crossEntropy)
    distillation += Double(parts.distillation)
    channel += Double(parts.channelAttention)
    spatial += Double(parts.spatialAttention)
    self.correct += correct
    seen += count
  }

  var meanLoss: Double { total / Double(Swift.max(batches, 1)) }

  func record(epoch: Int, learningRate: Float, trainSeconds: Double) -> EpochRecord {
    let n = Double(Swift.max(batches, 1))
    return EpochRecord(
      epoch: epoch, loss: total / n, crossEntropy: crossEntropy / n, distillation: distillation / n,
      channelAttention: channel / n, spatialAttention: spatial / n,
      trainAccuracy: Double(correct) / Double(Swift.max(seen, 1)), validationAccuracy: nil,
      validationMacroF1: nil, learningRate: Double(learningRate),
      samplesPerSecond: Double(seen) / Swift.max(trainSeconds, 1e-9), seconds: trainSeconds)
  }
}
