import Tensor

/// Updates a model's parameters from their gradients; state is kept per parameter name.
public protocol Optimizer {
  /// The step size used by the next ``update(_:along:)``; schedules set it between steps.
  var learningRate: Float { get set }

  /// One step: moves every parameter of `model` against its gradient.
  ///
  /// A parameter with no gradient stops the program with the parameter's name: it means the
  /// gradients came from another model.
  mutating func update<Model: Layer>(_ model: inout Model, along gradients: Gradients)

  /// The optimizer's state (moments, step count) by dotted name, for checkpoints.
  var state: [String: Tensor] { get }

  /// Restores state saved from ``state``.
  ///
  /// - Throws: ``CheckpointError`` naming the first tensor whose shape is wrong.
  mutating func restore(state: [String: Tensor]) throws(CheckpointError)
}

extension Optimizer {
  /// The gradient of parameter `name`, stopping with its name when it is missing or misshapen.
  func gradient(_ name: String, for parameter: Tensor, in gradients: Gradients) -> Tensor {
    guard let gradient = gradients[name] else {
      fatalError("optimizer: no gradient for parameter '\(name)'")
    }
    precondition(
      gradient.shape == parameter.shape,
      "optimizer: gradient of '\(name)' has shape \(gradient.shape), parameter \(parameter.shape)")
    return gradient
  }
}

/// The rate at each step (or epoch) of training.
public enum LearningRateSchedule: Sendable, Equatable {
  /// The same rate throughout.
  case constant(Float)
  /// `initial · factor^⌊step / every⌋`.
  case stepDecay(initial: Float, factor: Float, every: Int)
  /// Cosine annealing from `initial` to `minimum` over `total` steps, then `minimum`
  /// (Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017,
  /// https://arxiv.org/abs/1608.03983, without restarts).
  case cosine(initial: Float, total: Int, minimum: Float)

  /// The rate at `step` (counted from 0).
  public func rate(at step: Int) -> Float {
    switch self {
    case .constant(let rate):
      return rate
    case .stepDecay(let initial, let factor, let every):
      return initial * Float(pow(Double(factor), Double(step / Swift.max(every, 1))))
    case .cosine(let initial, let total, let minimum):
      guard total > 0, step < total else { return minimum }
      let progress = Double(step) / Double(total)
      return minimum + (initial - minimum) * Float(0.5 * (1 + cos(Double.pi * progress)))
    }
  }
}

/// Restores per-parameter tensors named `"<prefix>.<parameter>"` from `state` into `slots`,
/// checking shapes against the existing slots where there are any.
func restoreSlots(
  _ slots: inout [String: Tensor], prefix: String, from state: [String: Tensor]
) throws(CheckpointError) {
  var restored: [String: Tensor] = [:]
  for (key, value) in state where key.hasPrefix(prefix + ".") {
    let name = String(key.dropFirst(prefix.count + 1))
    if let existing = slots[name], existing.shape != value.shape {
      throw .shapeMismatch(name: key, expected: existing.shape, found: value.shape)
    }
    restored[name] = value
  }
  slots = restored
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif
