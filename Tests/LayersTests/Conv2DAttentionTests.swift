import Layers
import Tensor
import TestSupport
import Testing

@Suite("Conv2D and CBAM-2D")
struct Conv2DAttentionTests {
  @Test func conv2DLayerShapesParametersFLOPsAndGradients() throws {
    var rng = SplitMix64(seed: 1)
    let conv = Conv2D(
      inputChannels: 2, outputChannels: 3, kernelHeight: 5, kernelWidth: 1, generator: &rng)
    #expect(try conv.outputShape(for: [4, 30, 113, 2]) == [4, 26, 113, 3])
    // 5·1·2·3 + 3 = 33; FLOPs 2·26·113·(5·1·2·3) = 176,280.
    #expect(conv.parameterCount == 33)
    #expect(conv.forwardFLOPs(for: [4, 30, 113, 2]) == 176_280)
    #expect(conv.parameters.map(\.name) == ["filter", "bias"])
    let report = layerGradientReport(conv, input: signedInput([2, 6, 2, 2]))
    #expect(report.passed, "\(report)")
    let same = Conv2D(
      inputChannels: 2, outputChannels: 1, kernelHeight: 3, kernelWidth: 3, padding: .same,
      useBias: false, generator: &rng)
    #expect(try same.outputShape(for: [1, 4, 3, 2]) == [1, 4, 3, 1])
    #expect(same.parameterCount == 18)
  }

  /// CBAM-2D with a single sensor and a 3×3 spatial kernel whose middle column holds the 1-D
  /// kernel of `AttentionTests.handCBAM` reduces to that CBAM-1D (the outer columns only ever
  /// meet `same` padding): same maps, same output, the values worked out there with NumPy.
  @Test func oneSensorReducesToCBAM1D() throws {
    var rng = SplitMix64(seed: 0)
    var cbam = CBAM2D(filters: 2, reduction: 2, spatialKernel: 3, name: "block", generator: &rng)
    cbam.channel.hidden = try Tensor(shape: [2, 1], scalars: [1, 0.5])
    cbam.channel.output = try Tensor(shape: [1, 2], scalars: [0.2, -0.1])
    // [kh = 3, kw = 3, in = 2, out = 1]; column 1 = the 1-D kernel, columns 0 and 2 = 7.
    let middle: [[Float]] = [[0.5, -0.25], [1, 0.5], [-0.5, 0.25]]
    var filter: [Float] = []
    for i in 0..<3 { for j in 0..<3 { filter += j == 1 ? middle[i] : [7, 7] } }
    cbam.spatial.filter = try Tensor(shape: [3, 3, 2, 1], scalars: filter)
    let x = try Tensor(shape: [1, 3, 1, 2], scalars: [1, 2, 3, 0, -1, 4])
    var context = ForwardContext.inference
    let y = cbam.forward(x, context: &context)
    let maps = try #require(context.attentionMaps["block"])
    #expect(
      isClose(
        try #require(maps.channel), [0.80218389, 0.33181223], shape: [1, 2], tolerance: 1e-6))
    #expect(
      isClose(
        try #require(maps.spatial), [0.75657561, 0.94119944, 0.71629497], shape: [1, 3, 1],
        tolerance: 1e-6))
    #expect(
      isClose(
        y, [0.60691277, 0.50208208, 2.26504509, 0, -0.57460028, 0.95070172], shape: [1, 3, 1, 2],
        tolerance: 1e-6))
  }

  /// The channel descriptors pool over time *and* sensors: moving a value to another sensor at
  /// the same time step, or to another step, changes no channel weight.
  @Test func channelMapPoolsOverTimeAndSensors() throws {
    var rng = SplitMix64(seed: 2)
    let cbam = CBAM2D(filters: 2, reduction: 1, spatialKernel: 3, generator: &rng)
    let a = try Tensor(shape: [1, 2, 2, 2], scalars: [1, 5, 2, 6, 3, 7, 4, 8])
    let b = try Tensor(shape: [1, 2, 2, 2], scalars: [4, 8, 3, 7, 2, 6, 1, 5])
    #expect(cbam.attend(a).maps.channel!.isClose(to: cbam.attend(b).maps.channel!, tolerance: 1e-6))
    #expect(cbam.attend(a).maps.spatial!.shape == [1, 2, 2])
  }

  @Test func cbam2DShapesParametersAndFLOPs() throws {
    var rng = SplitMix64(seed: 3)
    let cbam = CBAM2D(filters: 64, reduction: 8, spatialKernel: 7, name: "cbam", generator: &rng)
    // Channel MLP 64·8 + 8·64 = 1024; spatial 7·7·2 = 98.
    #expect(cbam.parameterCount == 1122)
    // MLP twice: 2·2·(64·8 + 8·64) = 4096; spatial 2·14·113·98 = 310,072.
    #expect(cbam.forwardFLOPs(for: [1, 14, 113, 64]) == 4096 + 310_072)
    #expect(try cbam.outputShape(for: [2, 14, 113, 64]) == [2, 14, 113, 64])
    #expect(
      throws: ShapeError.invalid(
        operation: "CBAM2D", shape: [2, 14, 64], rule: "[batch, time, sensors, 64]")
    ) {
      try cbam.outputShape(for: [2, 14, 64])
    }
    #expect(
      cbam.parameters.map(\.name) == ["channel.hidden", "channel.output", "spatial.filter"])
    let tiny = CBAM2D(filters: 4, reduction: 8, spatialKernel: 3, generator: &rng)
    #expect(tiny.channel.hidden.shape == [4, 1])  // max(1, 4/8)
  }

  @Test func cbam2DGradientsOfOutputAndMaps() {
    var rng = SplitMix64(seed: 4)
    let cbam = CBAM2D(filters: 3, reduction: 1, spatialKernel: 3, name: "a", generator: &rng)
    let x = spacedInput([2, 3, 2, 3])
    #expect(layerGradientReport(cbam, input: x).passed)
    let channel = layerGradientReport(cbam, input: x) { _, context in
      context.attentionMaps["a"]!.channel!
    }
    let spatial = layerGradientReport(cbam, input: x) { _, context in
      context.attentionMaps["a"]!.spatial!
    }
    #expect(channel.passed, "\(channel)")
    #expect(spatial.passed, "\(spatial)")
  }
}
