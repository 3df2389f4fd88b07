import Tensor

/// Gradients of a loss with respect to a model's parameters, keyed by dotted parameter name.
public struct Gradients {
  /// The gradient of each parameter, by name.
  public var byName: [String: Tensor]

  /// Gradients from a dictionary.
  public init(byName: [String: Tensor]) { self.byName = byName }

  /// The gradient of the parameter `name`, if any.
  public subscript(name: String) -> Tensor? { byName[name] }

  /// `√(Σ g²)` over every gradient element, accumulated in `Double`.
  public var globalNorm: Float {
    var total = 0.0
    for gradient in byName.values {
      gradient.withUnsafeBufferPointer { g in for x in g { total += Double(x) * Double(x) } }
    }
    return Float(total.squareRoot())
  }

  /// Whether every gradient element is finite.
  public var isFinite: Bool {
    byName.values.allSatisfy { $0.withUnsafeBufferPointer { $0.allSatisfy(\.isFinite) } }
  }

  /// The gradients scaled down so that their ``globalNorm`` is at most `maxNorm`; unchanged if it
  /// already is.
  ///
  /// Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent neural networks", ICML
  /// 2013 (https://arxiv.org/abs/1211.5063).
  public func clippedByGlobalNorm(_ maxNorm: Float) -> Gradients {
    let norm = globalNorm
    guard norm > maxNorm, norm > 0 else { return self }
    let scale = maxNorm / norm
    return Gradients(byName: byName.mapValues { ($0 * scale).detached() })
  }
}

/// The value of `loss(model)` and its gradient with respect to every parameter of `model`.
///
/// Every parameter is tracked on a fresh tape, `loss` runs once, and one backward pass gives the
/// gradients, keyed by the parameters' dotted names.
public func valueWithGradients<Model: Layer>(
  of model: Model, _ loss: (Model) throws -> Tensor
) rethrows -> (value: Float, gradients: Gradients) {
  let tape = Tape()
  var tracked = model
  var parameters: [(name: String, value: Tensor)] = []
  tracked.forEachParameter { name, value in
    value = tape.variable(value)
    parameters.append((name, value))
  }
  let value = try loss(tracked)
  let grads = tape.gradients(of: value, wrt: parameters.map(\.value))
  let byName = Dictionary(uniqueKeysWithValues: zip(parameters.map(\.name), grads))
  return (value.scalar, Gradients(byName: byName))
}

extension Layer {
  /// The model's outputs for `input` in inference mode, computed `batchSize` examples at a time.
  ///
  /// - Parameters:
  ///   - input: `[examples, …]`, e.g. `[examples, time, channels]`.
  ///   - batchSize: Examples per forward pass; bounds the memory used.
  /// - Returns: `[examples, …]`, e.g. logits `[examples, classes]`.
  public func predict(_ input: Tensor, batchSize: Int = 256) -> Tensor {
    precondition(batchSize > 0, "predict(batchSize: \(batchSize)): must be > 0")
    let count = input.shape.first ?? 0
    var parts: [Tensor] = []
    var start = 0
    while start < count {
      let end = Swift.min(start + batchSize, count)
      var context = ForwardContext.inference
      parts.append(forward(input.sliced(alongAxis: 0, range: start..<end), context: &context))
      start = end
    }
    return parts.count == 1 ? parts[0] : Tensor.concatenating(parts, alongAxis: 0)
  }
}
