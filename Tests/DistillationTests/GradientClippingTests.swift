import Distillation
import Layers
import Tensor
import TestSupport
import Testing

/// `TrainerOptions.gradientClipNorm` (the executables' `--clip-norm`) reaches the optimizer.
@Suite("Gradient clipping in the trainer")
struct GradientClippingTests {
  /// The largest change of any weight of LM after one epoch of training with `clipNorm`.
  func largestChange(clipNorm: Float?) throws -> Float {
    let (inputs, labels) = sineWindows(count: 32, length: 32, channels: 3, classes: 4, seed: 30)
    let train = try TrainingData(inputs: inputs, labels: labels, classes: 4)
    var rng = SplitMix64(seed: 31)
    let initial = ReferenceModel.lm.make(channels: 3, classes: 4, generator: &rng)
    var model = initial
    var options = TrainerOptions()
    options.epochs = 1
    options.batchSize = 16
    options.learningRate = 1e-2
    options.progress = .silent
    options.gradientClipNorm = clipNorm
    try Trainer(options: options).fit(&model, on: train)
    var largest: Float = 0
    for (before, after) in zip(initial.parameters, model.parameters) {
      for (a, b) in zip(before.value.scalars, after.value.scalars) {
        largest = max(largest, abs(a - b))
      }
    }
    return largest
  }

  @Test func aTinyNormAlmostFreezesTheWeights() throws {
    // Adam divides by √v̂ + ε with ε = 1e-7, so gradients clipped to a global norm of 1e-12 move
    // a weight by at most about lr · 1e-12 / 1e-7 = 1e-7 per step (2 steps here).
    #expect(try largestChange(clipNorm: 1e-12) < 1e-6)
    #expect(try largestChange(clipNorm: nil) > 1e-3)
  }
}
