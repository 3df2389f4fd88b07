import Distillation
import Foundation
import Layers
import Metrics
import Tensor
import TestSupport
import Testing

@Suite("Trainer")
struct TrainerTests {
  let classes = 4
  func data(_ count: Int, seed: UInt64) -> TrainingData {
    let (inputs, labels) = sineWindows(
      count: count, length: 32, channels: 3, classes: classes, seed: seed)
    return try! TrainingData(inputs: inputs, labels: labels, classes: classes)
  }

  func options(epochs: Int, seed: UInt64 = 1) -> TrainerOptions {
    var options = TrainerOptions()
    options.epochs = epochs
    options.batchSize = 16
    options.learningRate = 3e-3
    options.seed = seed
    options.progress = .silent
    return options
  }

  func temporaryURL(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent(
      "hardistill-\(UUID().uuidString)-\(name)")
  }

  @Test func teacherCacheEqualsAFreshForwardPass() {
    var rng = SplitMix64(seed: 2)
    let teacher = ReferenceModel.teacherAtt.make(channels: 3, classes: classes, generator: &rng)
    let train = data(40, seed: 3)
    let cache = TeacherCache(teacher: teacher, inputs: train.inputs, batchSize: 16)
    let indices = [39, 0, 17, 16, 5]
    let (logits, maps) = cache.batch(indices)
    var context = ForwardContext.inference
    let fresh = teacher.forward(train.inputs.gathering(rows: indices), context: &context)
    #expect(logits.scalars == fresh.scalars)
    let name = ReferenceModel.attentionName
    #expect(maps[name]?.channel?.scalars == context.attentionMaps[name]?.channel?.scalars)
    #expect(maps[name]?.spatial?.scalars == context.attentionMaps[name]?.spatial?.scalars)
    #expect(maps[name]?.spatial?.shape == [5, 16])
  }

  @Test func rabKDImprovesTheStudentsTrainingLoss() throws {
    var rng = SplitMix64(seed: 5)
    let train = data(96, seed: 6)
    let teacher = ReferenceModel.teacherAtt.make(channels: 3, classes: classes, generator: &rng)
    var student = ReferenceModel.lmAtt.make(channels: 3, classes: classes, generator: &rng)
    let setup = DistillationSetup(
      teacher: TeacherCache(teacher: teacher, inputs: train.inputs),
      attention: [AttentionPair.named(ReferenceModel.attentionName)])
    let history = try Trainer(options: options(epochs: 6)).fit(
      &student, on: train, distillation: setup)
    let first = try #require(history.epochs.first)
    let last = try #require(history.epochs.last)
    #expect(history.epochs.count == 6)
    #expect(first.channelAttention > 0 && first.spatialAttention > 0 && first.distillation > 0)
    #expect(last.loss < first.loss, "loss \(first.loss) → \(last.loss)")
  }

  @Test func earlyStoppingRestoresTheBestWeights() throws {
    var rng = SplitMix64(seed: 7)
    var model = ReferenceModel.lm.make(channels: 3, classes: classes, generator: &rng)
    let train = data(64, seed: 8)
    let validation = data(48, seed: 9)
    var opts = options(epochs: 30)
    opts.patience = 2
    opts.learningRate = 0.05  // large steps make validation F1 wander, so patience runs out
    let history = try Trainer(options: opts).fit(&model, on: train, validation: validation)
    let best = try #require(history.bestValidationMacroF1)
    #expect(history.epochs.map { $0.validationMacroF1! }.max() == best)
    #expect(history.epochs[history.bestEpoch - 1].validationMacroF1 == best)
    if history.stoppedEarly {
      #expect(history.epochs.count == history.bestEpoch + 2)
    }
    // The returned model is the best epoch's: its validation F1 is the best one.
    let predictions = model.predict(validation.inputs).argmaxAlongLastAxis()
    let report = try ClassificationReportProbe.macroF1(
      validation.labels, predictions, classes: classes)
    #expect(abs(report - best) < 1e-12)
  }

  @Test func resumingGivesTheSameWeightsAsAnUninterruptedRun() throws {
    let train = data(48, seed: 10)
    let validation = data(32, seed: 11)
    func fresh() -> Sequential {
      var rng = SplitMix64(seed: 12)
      // The teacher has dropout.
      return ReferenceModel.teacher.make(channels: 3, classes: classes, generator: &rng)
    }
    var uninterrupted = fresh()
    _ = try Trainer(options: options(epochs: 4)).fit(
      &uninterrupted, on: train, validation: validation)

    let url = temporaryURL("resume.safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    var first = options(epochs: 2)
    first.checkpointURL = url
    var partial = fresh()
    _ = try Trainer(options: first).fit(&partial, on: train, validation: validation)
    var second = options(epochs: 4)
    second.checkpointURL = url
    second.resume = true
    var resumed = fresh()
    let history = try Trainer(options: second).fit(&resumed, on: train, validation: validation)
    #expect(history.epochs.count == 4)
    #expect(
      resumed.parameters.map(\.value.scalars) == uninterrupted.parameters.map(\.value.scalars))
  }

  @Test func nonFiniteLossNamesEpochAndStep() {
    var rng = SplitMix64(seed: 13)
    var model = ReferenceModel.lm.make(channels: 3, classes: classes, generator: &rng)
    var train = data(32, seed: 14)
    // A NaN in every example reaches the loss in the first step (ReLU propagates NaN).
    let width = 32 * 3
    train.inputs.withUnsafeMutableBufferPointer { x in
      for example in 0..<32 { x[example * width + 5] = .nan }
    }
    #expect(throws: TrainingError.nonFiniteLoss(epoch: 1, step: 1, part: "total")) {
      try Trainer(options: options(epochs: 1)).fit(&model, on: train)
    }
  }

  /// `sqrt(z²)` at `z = 0`: the value is 0 (a finite loss) but the backward pass divides by 0.
  struct SquareRootOfSquare: ParameterlessLayer {
    func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
      input.squared().sqrt()
    }
    func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] { inputShape }
  }

  @Test func nonFiniteGradientNamesTheParameter() throws {
    var rng = SplitMix64(seed: 23)
    var dense = Dense(inputSize: 3, outputSize: classes, generator: &rng)
    dense.weight = Tensor(zeros: [3, classes])
    var model = Sequential {
      dense
      SquareRootOfSquare()
    }
    let train = try TrainingData(
      inputs: Tensor(ones: [8, 3]), labels: Array(repeating: 1, count: 8), classes: classes)
    #expect(throws: TrainingError.nonFiniteGradient(epoch: 1, step: 1, parameter: "0.bias")) {
      try Trainer(options: options(epochs: 1)).fit(&model, on: train)
    }
  }

  @Test func missingAttentionMapIsNamed() {
    var rng = SplitMix64(seed: 15)
    let train = data(16, seed: 16)
    let teacher = ReferenceModel.teacherAtt.make(channels: 3, classes: classes, generator: &rng)
    var student = ReferenceModel.lm.make(channels: 3, classes: classes, generator: &rng)  // no CBAM
    let setup = DistillationSetup(
      teacher: TeacherCache(teacher: teacher, inputs: train.inputs),
      attention: [AttentionPair.named(ReferenceModel.attentionName)])
    #expect(
      throws: TrainingError.distillation(
        .missingAttentionMap(model: "student", layer: "cbam", kind: "attention", available: []))
    ) { try Trainer(options: options(epochs: 1)).fit(&student, on: train, distillation: setup) }
  }

  @Test func projectionIsTrainedWithTheStudent() throws {
    var rng = SplitMix64(seed: 17)
    let train = data(32, seed: 18)
    // A teacher CBAM over 128 channels and a student CBAM over 24: 24 does not divide 128.
    let teacher = ReferenceModel.teacherAtt.make(channels: 3, classes: classes, generator: &rng)
    var student = Sequential {
      Conv1D(inputChannels: 3, outputChannels: 24, kernelSize: 5, generator: &rng)
      ReLU()
      MaxPool1D(kernelSize: 2)
      CBAM(channels: 24, reduction: 4, name: "cbam", generator: &rng)
      GlobalAvgPool1D()
      Dense(inputSize: 24, outputSize: classes, generator: &rng)
    }
    let cache = TeacherCache(teacher: teacher, inputs: train.inputs)
    var setup = DistillationSetup(
      teacher: cache, attention: [AttentionPair.named(ReferenceModel.attentionName)])
    #expect(
      throws: TrainingError.distillation(
        .incompatibleMaps(kind: "channel", teacher: [1, 128], student: [1, 24]))
    ) {
      var copy = student
      return try Trainer(options: options(epochs: 1)).fit(&copy, on: train, distillation: setup)
    }
    setup.channelAlignment = .projection
    let history = try Trainer(options: options(epochs: 3)).fit(
      &student, on: train, distillation: setup)
    #expect(history.epochs.last!.channelAttention < history.epochs.first!.channelAttention)
  }

  @Test func logIsJSONLines() throws {
    var rng = SplitMix64(seed: 19)
    var model = ReferenceModel.lm.make(channels: 3, classes: classes, generator: &rng)
    let url = temporaryURL("log.jsonl")
    defer { try? FileManager.default.removeItem(at: url) }
    var opts = options(epochs: 3)
    opts.logURL = url
    let history = try Trainer(options: opts).fit(
      &model, on: data(32, seed: 20), validation: data(16, seed: 21))
    let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 3)
    let records = try lines.map { try JSONDecoder().decode(EpochRecord.self, from: Data($0.utf8)) }
    #expect(records == history.epochs)
  }

  /// Data parallelism changes only the order of float sums: two epochs of RAB-KD with 1, 2 and 3
  /// shards (uneven last batch: 40 = 16 + 16 + 8) end with the same loss curve and weights, to
  /// float rounding amplified by 6 Adam steps.
  @Test func shardsGiveTheSameTraining() throws {
    let train = data(40, seed: 8)
    func run(shards: Int) throws -> (TrainingHistory, Sequential) {
      var rng = SplitMix64(seed: 9)
      let teacher = ReferenceModel.teacherAtt.make(channels: 3, classes: classes, generator: &rng)
      var student = ReferenceModel.lmAtt.make(channels: 3, classes: classes, generator: &rng)
      let setup = DistillationSetup(
        teacher: TeacherCache(teacher: teacher, inputs: train.inputs),
        attention: [AttentionPair.named(ReferenceModel.attentionName)])
      var settings = options(epochs: 2)
      settings.shards = shards
      let history = try Trainer(options: settings).fit(&student, on: train, distillation: setup)
      return (history, student)
    }
    let (oneHistory, one) = try run(shards: 1)
    for shards in [2, 3] {
      let (history, model) = try run(shards: shards)
      for (a, b) in zip(oneHistory.epochs, history.epochs) {
        #expect(
          abs(a.loss - b.loss) <= 1e-5 * abs(a.loss), "\(shards) shards, epoch \(a.epoch) loss")
        #expect(
          abs(a.spatialAttention - b.spatialAttention) <= 1e-5 * abs(a.spatialAttention) + 1e-9)
        #expect(a.trainAccuracy == b.trainAccuracy)
      }
      for ((name, expected), (_, found)) in zip(one.parameters, model.parameters) {
        let error = zip(expected.scalars, found.scalars).map { abs($0 - $1) }.max()!
        #expect(error <= 1e-4, "\(shards) shards, \(name): max |Δ| \(error)")
      }
    }
    var bad = options(epochs: 1)
    bad.shards = 0
    var model = one
    #expect(throws: TrainingError.self) { try Trainer(options: bad).fit(&model, on: train) }
  }

  @Test func badOptionsAndDataThrow() {
    var rng = SplitMix64(seed: 22)
    var model = ReferenceModel.lm.make(channels: 3, classes: classes, generator: &rng)
    #expect(throws: TrainingError.self) {
      try Trainer(options: options(epochs: 0)).fit(&model, on: data(8, seed: 1))
    }
    #expect(throws: TrainingError.invalidData("label 7 is outside 0..<4")) {
      try TrainingData(inputs: Tensor(zeros: [2, 32, 3]), labels: [0, 7], classes: 4)
    }
    let wrongChannels = try! TrainingData(
      inputs: Tensor(zeros: [2, 32, 5]), labels: [0, 1], classes: 4)
    #expect(throws: TrainingError.self) {
      try Trainer(options: options(epochs: 1)).fit(&model, on: wrongChannels)
    }
  }
}

/// Macro-F1 through the Metrics module, as the trainer computes it.
enum ClassificationReportProbe {
  static func macroF1(_ labels: [Int], _ predictions: [Int], classes: Int) throws -> Double {
    try ClassificationReport(labels: labels, predictions: predictions, classes: Array(0..<classes))
      .macroF1
  }
}
