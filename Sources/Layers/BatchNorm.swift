import Tensor

/// Batch normalization over the last (channel) axis.
///
/// Training: each channel is normalized with the batch's mean and (biased) variance over every
/// other axis, and the running statistics move toward them:
/// `running = momentum · running + (1 − momentum) · batch`. Inference: the running statistics
/// are used. Output: `scale · x̂ + offset`.
///
/// Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing Internal
/// Covariate Shift", ICML 2015 (https://arxiv.org/abs/1502.03167). Defaults (momentum 0.99, ε 1e-3) are Keras'.
public struct BatchNorm: Layer {
  /// `[channels]`, ones at creation (γ).
  public var scale: Tensor
  /// `[channels]`, zeros at creation (β).
  public var offset: Tensor
  /// `[channels]`, the running mean; state, not trained.
  public var runningMean: Tensor
  /// `[channels]`, the running variance; state, not trained.
  public var runningVariance: Tensor
  /// The weight of the old running statistics in each update.
  public let momentum: Float
  /// Added to the variance before the square root.
  public let epsilon: Float

  /// A batch normalization over `channels`.
  public init(channels: Int, momentum: Float = 0.99, epsilon: Float = 1e-3) {
    precondition(channels > 0, "BatchNorm(channels: \(channels)): channels must be > 0")
    scale = Tensor(ones: [channels])
    offset = Tensor(zeros: [channels])
    runningMean = Tensor(zeros: [channels])
    runningVariance = Tensor(ones: [channels])
    self.momentum = momentum
    self.epsilon = epsilon
  }

  /// `scale · x̂ + offset` over `[..., channels]`; in training, also leaves the new running
  /// statistics in ``ForwardContext/stateUpdates``.
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    let normalized: Tensor
    if context.isTraining {
      let axes = Array(0..<(input.rank - 1))
      let mean = input.mean(alongAxes: axes)
      let centered = input - mean
      let variance = centered.squared().mean(alongAxes: axes)
      normalized = centered / (variance + epsilon).sqrt()
      let keep = momentum
      context.stateUpdates[context.qualified("runningMean")] =
        keep * runningMean + (1 - keep) * mean.detached()
      context.stateUpdates[context.qualified("runningVariance")] =
        keep * runningVariance + (1 - keep) * variance.detached()
    } else {
      normalized = (input - runningMean) / (runningVariance + epsilon).sqrt()
    }
    return normalized * scale + offset
  }

  /// `inputShape`, unchanged.
  ///
  /// - Throws: `ShapeError.incompatible` when the last axis is not `channels`.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    guard inputShape.count >= 2, inputShape.last == scale.shape[0] else {
      throw .incompatible(
        operation: "BatchNorm", lhs: inputShape, rhs: scale.shape, rule: "[..., channels]")
    }
    return inputShape
  }

  /// 0: normalization is element-wise work, not counted.
  public func forwardFLOPs(for inputShape: [Int]) -> Int { 0 }

  /// Visits `"scale"` (γ), then `"offset"` (β).
  public mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {
    try body("scale", &scale)
    try body("offset", &offset)
  }

  /// Visits `"runningMean"`, then `"runningVariance"`.
  public mutating func forEachState(_ body: (String, inout Tensor) throws -> Void) rethrows {
    try body("runningMean", &runningMean)
    try body("runningVariance", &runningVariance)
  }
}
