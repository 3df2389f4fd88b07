import Foundation
import Layers
import Metrics
import Tensor

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
    var state = ResumeState(
      order: SplitMix64(seed: options.seed, stream: .dataOrder),
      dropout: SplitMix64(seed: options.seed, stream: .dropout))
    var best: [String: Tensor] = [:]
    if options.resume, let url = options.checkpointURL,
      FileManager.default.fileExists(atPath: url.path)
    {
      state = try resume(from: url, student: &student, optimizer: &optimizer, best: &best)
    }
    var order = state.order
    var dropout = state.dropout
    let progress = ProgressPrinter(style: options.progress, label: options.label)
    let steps = (training.count + options.batchSize - 1) / options.batchSize

    var epoch = state.history.epochs.count
    func patienceLeft() -> Bool {
      validation == nil || epoch < options.minimumEpochs || state.wait < options.patience
    }
    while epoch < options.epochs && patienceLeft() {
      epoch += 1
      let started = Date()
      optimizer.learningRate = options.schedule?.rate(at: epoch - 1) ?? options.learningRate
      var indices = Array(0..<training.count)
      indices.shuffle(using: &order)
      var sums = LossSums()
      for step in 0..<steps {
        let batch = Array(
          indices[
            (step * options.batchSize)..<Swift.min(
              (step + 1) * options.batchSize, training.count)])
        let (parts, gradients, correct) = try trainingStep(
          student, indices: batch, training: training, distillation: distillation,
          generator: &dropout, epoch: epoch, step: step + 1)
        sums.add(parts, correct: correct, count: batch.count)
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
        let (report, loss) = evaluation(student.model, on: validation)
        record.validationAccuracy = report.accuracy
        record.validationMacroF1 = report.macroF1
        record.validationLoss = loss
        if isBetter(macroF1: report.macroF1, loss: loss, than: state.history) {
          state.history.bestValidationMacroF1 = report.macroF1
          state.history.bestValidationLoss = loss
          state.history.bestEpoch = epoch
          best = Dictionary(
            uniqueKeysWithValues: (student.parameters + student.states).map {
              ($0.name, $0.value)
            })
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
      state.order = order
      state.dropout = dropout
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

  /// Whether an epoch's validation scores beat the best so far: a macro-F1 higher by more than
  /// `minimumImprovement`, or at least as high with a lower validation loss.
  func isBetter(macroF1: Double, loss: Double, than history: TrainingHistory) -> Bool {
    guard let bestF1 = history.bestValidationMacroF1 else { return true }
    if macroF1 > bestF1 + options.minimumImprovement { return true }
    return macroF1 >= bestF1 && loss < (history.bestValidationLoss ?? .infinity)
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
    let shards = student.states.isEmpty ? options.shards : 1
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
        distillation: distillation, epoch: epoch)
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
    teacher: (logits: Tensor, maps: [String: AttentionMaps])?, distillation: DistillationSetup?,
    epoch: Int
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
    var weights = distillation.weights
    // The cross-entropy warm-up: α = 1 (KD weighted 0) for the first epochs.
    if epoch <= options.distillationWarmupEpochs { weights.alpha = 1 }
    return combinedLoss(
      logits: logits, labels: labels, teacherLogits: teacher.logits, weights: weights,
      channelMaps: channel, spatialMaps: spatial)
  }

  // MARK: - Set-up

  private func validate(_ options: TrainerOptions) throws(TrainingError) {
    guard options.shards >= 1, options.minimumEpochs >= 1, options.minimumImprovement >= 0 else {
      throw .invalidData(
        "shards \(options.shards) and minimum epochs \(options.minimumEpochs) must be ≥ 1 and "
          + "the minimum improvement \(options.minimumImprovement) ≥ 0")
    }
    guard options.distillationWarmupEpochs >= 0 else {
      throw .invalidData(
        "distillation warm-up epochs \(options.distillationWarmupEpochs) must be ≥ 0")
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

  /// The classification report and mean cross-entropy of `model` on `data`, in inference mode.
  private func evaluation<Model: Layer>(
    _ model: Model, on data: TrainingData
  ) -> (report: ClassificationReport, loss: Double) {
    let logits = model.predict(data.inputs)
    let loss = Double(crossEntropy(logits: logits, labels: data.labels).scalar)
    return (data.report(predictions: logits.argmaxAlongLastAxis()), loss)
  }
}
