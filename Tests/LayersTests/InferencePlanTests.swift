import Layers
import Tensor
import Testing

/// `InferencePlan`: the model's inference-mode values from planned buffers.
@Suite("Inference plans")
struct InferencePlanTests {
  /// The largest difference between two tensors of the same shape, relative to the largest
  /// magnitude of `expected` (at least 1).
  func worstDifference(_ expected: Tensor, _ actual: Tensor) -> Float {
    #expect(expected.shape == actual.shape)
    let scale = Swift.max(1, expected.scalars.map(abs).max() ?? 0)
    return zip(expected.scalars, actual.scalars).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
  }

  /// Every reference model, on one window and on a batch: the plan gives the forward pass's
  /// values (sums ordered differently in the dense layers' bias only).
  @Test(arguments: ReferenceModel.allCases, [1, 3])
  func planEqualsTheForwardPass(_ model: ReferenceModel, batch: Int) throws {
    var rng = SplitMix64(seed: 31)
    let network = model.make(channels: 9, classes: 6, generator: &rng)
    let x = Tensor.normal([batch, 128, 9], using: &rng)
    let plan = try InferencePlan(network, inputShape: x.shape)
    #expect(plan.outputShape == [batch, 6])
    let expected = network(x)
    let actual = plan(x)
    #expect(worstDifference(expected, actual) <= 1e-6, "\(model) batch \(batch)")
    // A second call reuses the buffers and gives the same bits.
    #expect(plan(x).scalars == actual.scalars)
  }

  /// Layers the plan has no kernel for (average pooling, flatten, a dense layer on rank 3) run
  /// their own forward pass between planned ones; dropout is the identity; a ReLU not after a
  /// convolution runs alone; a valid, strided convolution keeps its geometry.
  @Test func otherLayersRunTheirOwnForwardPass() throws {
    var rng = SplitMix64(seed: 32)
    let network = Sequential {
      Conv1D(
        inputChannels: 3, outputChannels: 8, kernelSize: 3, stride: 2, padding: .valid,
        generator: &rng)
      Dropout(rate: 0.3)
      ReLU()
      AvgPool1D(kernelSize: 2)
      Dense(inputSize: 8, outputSize: 5, generator: &rng)
      Flatten()
      Dense(inputSize: 15, outputSize: 4, generator: &rng)
      ReLU()
    }
    let x = Tensor.normal([2, 13, 3], using: &rng)
    let plan = try InferencePlan(network, inputShape: x.shape)
    #expect(plan.outputShape == [2, 4])
    #expect(worstDifference(network(x), plan(x)) <= 1e-6)
  }

  @Test func theWeightsAreCopiedWhenThePlanIsMade() throws {
    var rng = SplitMix64(seed: 33)
    var network = ReferenceModel.lm.make(channels: 9, classes: 6, generator: &rng)
    let x = Tensor.normal([1, 128, 9], using: &rng)
    let plan = try InferencePlan(network, inputShape: x.shape)
    let before = plan(x)
    network.forEachParameter { _, value in value = value * 2 }
    #expect(plan(x).scalars == before.scalars)
    #expect(worstDifference(network(x), before) > 1e-3)
  }

  @Test func aShapeTheModelRejectsNamesTheLayer() {
    var rng = SplitMix64(seed: 34)
    let network = ReferenceModel.lm.make(channels: 9, classes: 6, generator: &rng)
    #expect {
      _ = try InferencePlan(network, inputShape: [1, 128, 7])
    } throws: { error in
      "\(error)".contains("layer 0 (Conv1D)") && "\(error)".contains("[1, 128, 7]")
    }
  }
}
