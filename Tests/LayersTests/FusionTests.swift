import Layers
import Tensor
import Testing

/// `Sequential` runs a `Conv1D` followed by a `ReLU` as one fused operation; values and gradients
/// must be those of the two operations run one after the other.
@Suite("Conv1D + ReLU fusion")
struct FusionTests {
  @Test func fusedEqualsConvolutionThenReLU() {
    var rng = SplitMix64(seed: 4)
    let conv = Conv1D(inputChannels: 3, outputChannels: 5, kernelSize: 3, generator: &rng)
    var model = Sequential {
      conv
      ReLU()
    }
    model.forEachParameter { name, value in
      if name == "0.bias" { value = Tensor([0.3, -0.2, 0.1, -0.4, 0.05]) }
    }
    let x = Tensor.normal([2, 6, 3], using: &rng)
    let bias = model.parameters.first { $0.name == "0.bias" }!.value
    let separate = x.conv1D(filter: conv.filter, bias: bias, padding: .same).relu()
    #expect(model(x).scalars == separate.scalars)
    #expect(
      separate.scalars.contains(0) && separate.scalars.contains { $0 > 0 }, "both sides of the kink"
    )

    let seed = Tensor.normal([2, 6, 5], using: &rng)
    let fused = valueWithGradients(of: model) { m in
      var context = ForwardContext(isTraining: true)
      return (m.forward(x, context: &context) * seed).sum()
    }
    let tape = Tape()
    let (w, b) = (tape.variable(conv.filter), tape.variable(bias))
    let loss = (x.conv1D(filter: w, bias: b, padding: .same).relu() * seed).sum()
    let expected = tape.gradients(of: loss, wrt: [w, b])
    #expect(fused.value == loss.scalar)
    #expect(fused.gradients["0.filter"]!.scalars == expected[0].scalars)
    #expect(fused.gradients["0.bias"]!.scalars == expected[1].scalars)
  }

  @Test func fusionRecordsOneOperation() {
    var rng = SplitMix64(seed: 6)
    let model = Sequential {
      Conv1D(inputChannels: 2, outputChannels: 3, kernelSize: 3, generator: &rng)
      ReLU()
      Conv1D(inputChannels: 3, outputChannels: 2, kernelSize: 3, generator: &rng)
    }
    let tape = Tape()
    var context = ForwardContext(isTraining: true)
    _ = model.forward(tape.variable(Tensor(ones: [1, 4, 2])), context: &context)
    // conv1D + ReLU fused, then the last convolution alone.
    #expect(tape.operationCount == 2)
  }
}
