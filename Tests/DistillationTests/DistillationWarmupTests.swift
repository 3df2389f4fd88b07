import Distillation
import Layers
import Tensor
import TestSupport
import Testing

/// `TrainerOptions.distillationWarmupEpochs` (the executables' `--kd-warmup`): the first epochs
/// train on the labels alone (α = 1), the later ones distil with the set-up's α.
@Suite("Cross-entropy warm-up before distillation")
struct DistillationWarmupTests {
  /// LM's parameters and history after `epochs` epochs distilled from a fixed random teacher
  /// with `alpha` and `warmup` warm-up epochs.
  func train(alpha: Float, warmup: Int, epochs: Int) throws -> ([[Float]], TrainingHistory) {
    let (inputs, labels) = sineWindows(count: 32, length: 32, channels: 3, classes: 4, seed: 40)
    let train = try TrainingData(inputs: inputs, labels: labels, classes: 4)
    var teacherGenerator = SplitMix64(seed: 41)
    let teacher = ReferenceModel.mm.make(channels: 3, classes: 4, generator: &teacherGenerator)
    let setup = DistillationSetup(
      teacher: TeacherCache(teacher: teacher, inputs: train.inputs),
      weights: LossWeights(alpha: alpha, temperature: 4))
    var generator = SplitMix64(seed: 42)
    var model = ReferenceModel.lm.make(channels: 3, classes: 4, generator: &generator)
    var options = TrainerOptions()
    options.epochs = epochs
    options.batchSize = 16
    options.progress = .silent
    options.distillationWarmupEpochs = warmup
    let history = try Trainer(options: options).fit(&model, on: train, distillation: setup)
    return (model.parameters.map(\.value.scalars), history)
  }

  @Test func warmUpEpochsTrainOnCrossEntropyAlone() throws {
    // Two warm-up epochs of two: the same weights as training with α = 1, bit for bit.
    let (warm, warmHistory) = try train(alpha: 0.1, warmup: 2, epochs: 2)
    let (ce, _) = try train(alpha: 1, warmup: 0, epochs: 2)
    #expect(warm == ce)
    // The loss of a warm-up epoch is its cross-entropy; the KD part is still measured.
    for record in warmHistory.epochs {
      #expect(abs(record.loss - record.crossEntropy) < 1e-6)
      #expect(record.distillation > 0)
    }
    // Without the warm-up, α = 0.1 trains other weights.
    let (distilled, _) = try train(alpha: 0.1, warmup: 0, epochs: 2)
    #expect(distilled != ce)
  }

  @Test func distillationStartsAfterTheWarmUp() throws {
    // One warm-up epoch of three: epoch 1 as with α = 1, epochs 2 and 3 with α = 0.1.
    let (_, history) = try train(alpha: 0.1, warmup: 1, epochs: 3)
    let epochs = history.epochs
    try #require(epochs.count == 3)
    #expect(abs(epochs[0].loss - epochs[0].crossEntropy) < 1e-6)
    for record in epochs.dropFirst() {
      let combined = 0.1 * record.crossEntropy + 0.9 * record.distillation
      #expect(abs(record.loss - combined) < 1e-4 * max(1, abs(combined)))
    }
    let (_, plain) = try train(alpha: 0.1, warmup: 0, epochs: 1)
    #expect(abs(plain.epochs[0].loss - plain.epochs[0].crossEntropy) > 1e-3)
  }

  @Test func aNegativeWarmUpIsRejected() {
    var options = TrainerOptions()
    options.distillationWarmupEpochs = -1
    var generator = SplitMix64(seed: 43)
    var model = ReferenceModel.lm.make(channels: 3, classes: 4, generator: &generator)
    let (inputs, labels) = sineWindows(count: 8, length: 16, channels: 3, classes: 4, seed: 44)
    #expect(throws: TrainingError.self) {
      try Trainer(options: options).fit(
        &model, on: try TrainingData(inputs: inputs, labels: labels, classes: 4))
    }
  }
}
