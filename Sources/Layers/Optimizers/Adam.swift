import Foundation
import Tensor

/// Adam, with optional decoupled weight decay (AdamW).
///
/// Per parameter: `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`, then
/// `p ← p − α_t · m / (√v + ε)` with `α_t = lr · √(1−β2^t) / (1−β1^t)` — the form Keras uses
/// (ε outside the bias correction, "ε-hat"). With `weightDecay` λ > 0, `p ← p − lr·λ·p` first.
///
/// Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015
/// (https://arxiv.org/abs/1412.6980); Loshchilov & Hutter, "Decoupled Weight Decay
/// Regularization", ICLR 2019 (https://arxiv.org/abs/1711.05101).
public struct Adam: Optimizer {
  /// The step size `lr` (default 1e-3).
  public var learningRate: Float
  /// Decay of the first-moment estimate.
  public var beta1: Float
  /// Decay of the second-moment estimate.
  public var beta2: Float
  /// Added to `√v`; 1e-7 as Keras.
  public var epsilon: Float
  /// Decoupled weight decay λ (AdamW); 0 for plain Adam.
  public var weightDecay: Float
  /// Steps taken so far.
  public private(set) var step = 0
  private var firstMoments: [String: Tensor] = [:]
  private var secondMoments: [String: Tensor] = [:]

  /// Adam with Keras' defaults.
  public init(
    learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7,
    weightDecay: Float = 0
  ) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
  }

  /// AdamW: Adam with decoupled weight decay `weightDecay`.
  public static func adamW(learningRate: Float = 1e-3, weightDecay: Float = 1e-2) -> Adam {
    Adam(learningRate: learningRate, weightDecay: weightDecay)
  }

  /// One Adam step on every parameter of `model`; moments are created on first use.
  public mutating func update<Model: Layer>(_ model: inout Model, along gradients: Gradients) {
    step += 1
    let t = Double(step)
    let correction = Float(
      (1 - Foundation.pow(Double(beta2), t)).squareRoot() / (1 - Foundation.pow(Double(beta1), t)))
    let (alpha, b1, b2, eps, decay) = (
      learningRate * correction, beta1, beta2, epsilon, learningRate * weightDecay
    )
    model.forEachParameter { name, parameter in
      let gradient = self.gradient(name, for: parameter, in: gradients)
      var m = firstMoments[name] ?? Tensor(zeros: parameter.shape)
      var v = secondMoments[name] ?? Tensor(zeros: parameter.shape)
      firstMoments[name] = nil  // unique references: the buffers below are updated in place
      secondMoments[name] = nil
      parameter.withUnsafeMutableBufferPointer { p in
        m.withUnsafeMutableBufferPointer { m in
          v.withUnsafeMutableBufferPointer { v in
            gradient.withUnsafeBufferPointer { g in
              for i in 0..<p.count {
                if decay != 0 { p[i] -= decay * p[i] }
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                p[i] -= alpha * m[i] / (v[i].squareRoot() + eps)
              }
            }
          }
        }
      }
      firstMoments[name] = m
      secondMoments[name] = v
    }
  }

  /// `"adam.step"` and the moments, `"adam.m.<parameter>"` and `"adam.v.<parameter>"`.
  public var state: [String: Tensor] {
    var result = ["adam.step": Tensor(Float(step))]
    for (name, m) in firstMoments { result["adam.m.\(name)"] = m }
    for (name, v) in secondMoments { result["adam.v.\(name)"] = v }
    return result
  }

  /// Restores the step count and moments saved by ``state``.
  ///
  /// - Throws: ``CheckpointError/missingName(_:)`` without `"adam.step"`,
  ///   ``CheckpointError/shapeMismatch(name:expected:found:)`` for a moment of the wrong shape.
  public mutating func restore(state: [String: Tensor]) throws(CheckpointError) {
    guard let saved = state["adam.step"], saved.scalarCount == 1 else {
      throw .missingName("adam.step")
    }
    try restoreSlots(&firstMoments, prefix: "adam.m", from: state)
    try restoreSlots(&secondMoments, prefix: "adam.v", from: state)
    step = Int(saved.scalars[0])
  }
}
