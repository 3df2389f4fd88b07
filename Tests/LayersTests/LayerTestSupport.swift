import Layers
import Tensor
import TestSupport

/// The full-Jacobian gradient check of a layer with respect to its input and every parameter.
///
/// `output` picks what is differentiated from the forward pass (the output by default; the
/// attention maps for attention layers).
func layerGradientReport<L: Layer>(
  _ layer: L, input: Tensor, training: Bool = false,
  output: @escaping (Tensor, ForwardContext) -> Tensor = { result, _ in result }
) -> GradientReport {
  let parameters = layer.parameters.map(\.value)
  return checkGradients(
    of: { values in
      var copy = layer
      var index = 1
      copy.forEachParameter { _, value in
        value = values[index]
        index += 1
      }
      var context = ForwardContext(isTraining: training, generator: SplitMix64(seed: 5))
      let result = copy.forward(values[0], context: &context)
      return output(result, context)
    }, at: [input] + parameters)
}

/// `[count]` distinct values 0.1 apart, shuffled: inputs without near-ties for max operations.
func spacedInput(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
  var rng = SplitMix64(seed: seed)
  let count = shape.reduce(1, *)
  let values = (0..<count).map { Float($0) * 0.1 - Float(count) * 0.05 }.shuffled(using: &rng)
  return try! Tensor(shape: shape, scalars: values)
}

/// Uniform values in [0.1, 1] with alternating signs: away from ReLU's kink.
func signedInput(_ shape: [Int], seed: UInt64 = 2) -> Tensor {
  var rng = SplitMix64(seed: seed)
  var x = Tensor.uniform(shape, in: 0.1...1, using: &rng)
  x.withUnsafeMutableBufferPointer { s in for i in s.indices where i % 2 == 1 { s[i].negate() } }
  return x
}
