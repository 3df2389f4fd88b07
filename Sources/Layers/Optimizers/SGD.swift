import Tensor

/// Stochastic gradient descent with optional momentum and Nesterov momentum, as Keras defines
/// them: `v ← μ·v − lr·g`, then `p ← p + v`, or with Nesterov `p ← p + μ·v − lr·g`.
///
/// Sutskever, Martens, Dahl & Hinton, "On the importance of initialization and momentum in deep
/// learning", ICML 2013 (https://proceedings.mlr.press/v28/sutskever13.html).
public struct SGD: Optimizer {
  /// The step size `lr` (default 0.01, as Keras).
  public var learningRate: Float
  /// Momentum μ in `[0, 1)`; 0 for plain gradient descent.
  public var momentum: Float
  /// Whether to use Nesterov momentum.
  public var nesterov: Bool
  private var velocities: [String: Tensor] = [:]

  /// Gradient descent with step `learningRate`.
  public init(learningRate: Float = 0.01, momentum: Float = 0, nesterov: Bool = false) {
    self.learningRate = learningRate
    self.momentum = momentum
    self.nesterov = nesterov
  }

  /// One step on every parameter of `model`; velocities are created on first use.
  public mutating func update<Model: Layer>(_ model: inout Model, along gradients: Gradients) {
    let (lr, mu, nesterov) = (learningRate, momentum, nesterov)
    model.forEachParameter { name, parameter in
      let gradient = self.gradient(name, for: parameter, in: gradients)
      if mu == 0 {
        parameter.withUnsafeMutableBufferPointer { p in
          gradient.withUnsafeBufferPointer { g in for i in 0..<p.count { p[i] -= lr * g[i] } }
        }
        return
      }
      var v = velocities[name] ?? Tensor(zeros: parameter.shape)
      velocities[name] = nil
      parameter.withUnsafeMutableBufferPointer { p in
        v.withUnsafeMutableBufferPointer { v in
          gradient.withUnsafeBufferPointer { g in
            for i in 0..<p.count {
              v[i] = mu * v[i] - lr * g[i]
              p[i] += nesterov ? mu * v[i] - lr * g[i] : v[i]
            }
          }
        }
      }
      velocities[name] = v
    }
  }

  /// The velocities, `"sgd.velocity.<parameter>"` (empty without momentum).
  public var state: [String: Tensor] {
    Dictionary(uniqueKeysWithValues: velocities.map { ("sgd.velocity.\($0.key)", $0.value) })
  }

  /// Restores the velocities saved by ``state``.
  ///
  /// - Throws: ``CheckpointError/shapeMismatch(name:expected:found:)`` for a velocity of the
  ///   wrong shape.
  public mutating func restore(state: [String: Tensor]) throws(CheckpointError) {
    try restoreSlots(&velocities, prefix: "sgd.velocity", from: state)
  }
}
