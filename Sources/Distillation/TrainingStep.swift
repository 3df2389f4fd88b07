import Layers
import Tensor

/// What one shard of a step reports besides its loss.
struct ShardOutcome {
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
