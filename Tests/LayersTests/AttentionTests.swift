import Layers
import Tensor
import TestSupport
import Testing

@Suite("CBAM attention")
struct AttentionTests {
  /// A CBAM(C = 2, r = 2, k = 3) with weights set by hand.
  func handCBAM() throws -> CBAM {
    var rng = SplitMix64(seed: 0)
    var cbam = CBAM(channels: 2, reduction: 2, spatialKernel: 3, name: "block", generator: &rng)
    cbam.channel.hidden = try Tensor(shape: [2, 1], scalars: [1, 0.5])
    cbam.channel.output = try Tensor(shape: [1, 2], scalars: [0.2, -0.1])
    cbam.spatial.filter = try Tensor(shape: [3, 2, 1], scalars: [0.5, -0.25, 1, 0.5, -0.5, 0.25])
    return cbam
  }

  /// Both maps and the output against a NumPy computation of the CBAM-1D formulas (channel gate
  /// σ(MLP(mean) + MLP(max)) over time, spatial gate σ(conv([mean, max] over channels))):
  ///
  /// ```python
  /// x = np.array([[1., 2.], [3., 0.], [-1., 4.]])            # [T=3, C=2]
  /// W1 = np.array([[1.], [0.5]]); W2 = np.array([[0.2, -0.1]])
  /// sig = lambda z: 1 / (1 + np.exp(-z)); mlp = lambda v: np.maximum(v @ W1, 0) @ W2
  /// Mc = sig(mlp(x.mean(0)) + mlp(x.max(0)))                  # [0.80218389, 0.33181223]
  /// F1 = x * Mc
  /// S = np.stack([F1.mean(1), F1.max(1)], 1)                  # [mean, max]
  /// K = np.array([[0.5, -0.25], [1.0, 0.5], [-0.5, 0.25]])    # [k=3, in=2], out=1
  /// Sp = np.pad(S, ((1, 1), (0, 0)))
  /// Ms = sig(np.array([sum(K[j] @ Sp[t + j] for j in range(3)) for t in range(3)]))
  /// out = F1 * Ms[:, None]
  /// ```
  ///
  /// Untracked, the block runs as one kernel (`cbamForInference`); tracked, as the two gates'
  /// differentiable operations: both must give these values.
  @Test(arguments: [false, true])
  func mapsMatchAHandComputation(tracked: Bool) throws {
    let cbam = try handCBAM()
    let x = try Tensor(shape: [1, 3, 2], scalars: [1, 2, 3, 0, -1, 4])
    var context = ForwardContext.inference
    let tape = Tape()
    let y = cbam.forward(tracked ? tape.variable(x) : x, context: &context)
    #expect(y.isTracked == tracked)
    let maps = try #require(context.attentionMaps["block"])
    let channel = try #require(maps.channel)
    let spatial = try #require(maps.spatial)
    #expect(isClose(channel, [0.80218389, 0.33181223], shape: [1, 2], tolerance: 1e-6))
    #expect(
      isClose(spatial, [0.75657561, 0.94119944, 0.71629497], shape: [1, 3], tolerance: 1e-6))
    #expect(
      isClose(
        y, [0.60691277, 0.50208208, 2.26504509, 0, -0.57460028, 0.95070172], shape: [1, 3, 2],
        tolerance: 1e-6))
  }

  @Test func mapsAreTrackedAndDifferentiable() throws {
    var rng = SplitMix64(seed: 8)
    var cbam = CBAM(channels: 4, reduction: 2, spatialKernel: 3, generator: &rng)
    // Positive inputs and hidden weights ≥ 0.2 keep the MLP's ReLU away from its kink, where
    // finite differences straddle two slopes; distinct inputs avoid ties in the max pools.
    cbam.channel.hidden = Tensor.uniform([4, 2], in: 0.2...0.6, using: &rng)
    let input = spacedInput([2, 5, 4]) + 2.1
    // Gradients of the output, and of each map, with respect to the input and every parameter.
    #expect(layerGradientReport(cbam, input: input).passed)
    let channelReport = layerGradientReport(cbam, input: input) { _, context in
      context.attentionMaps[""]!.channel!
    }
    #expect(channelReport.passed, "\(channelReport)")
    let spatialReport = layerGradientReport(cbam, input: input) { _, context in
      context.attentionMaps[""]!.spatial!
    }
    #expect(spatialReport.passed, "\(spatialReport)")
    let tape = Tape()
    var context = ForwardContext.inference
    _ = cbam.forward(tape.variable(input), context: &context)
    #expect(context.attentionMaps[""]?.channel?.isTracked == true)
  }

  @Test func halvesWorkAlone() throws {
    var rng = SplitMix64(seed: 8)
    let channel = ChannelAttention(channels: 8, reduction: 4, name: "c", generator: &rng)
    let spatial = SpatialAttention(kernelSize: 5, generator: &rng)
    #expect(channel.hidden.shape == [8, 2])
    #expect(channel.parameterCount == 2 * 8 * 2)
    #expect(spatial.parameterCount == 10)
    var context = ForwardContext.inference
    let x = spacedInput([2, 6, 8])
    _ = context.withScope("4") { channel.forward(spatial.forward(x, context: &$0), context: &$0) }
    #expect(context.attentionMaps["c"]?.channel?.shape == [2, 8])
    #expect(context.attentionMaps["4"]?.spatial?.shape == [2, 6])
    #expect(layerGradientReport(channel, input: x).passed)
    #expect(layerGradientReport(spatial, input: x).passed)
    // Hidden size max(1, C / r): a reduction larger than the channel count keeps one unit.
    #expect(ChannelAttention(channels: 4, reduction: 16, generator: &rng).hidden.shape == [4, 1])
    #expect(throws: ShapeError.self) { try channel.outputShape(for: [2, 6, 7]) }
  }
}

@Suite("Reference models")
struct ReferenceModelTests {
  /// Parameter and FLOP counts of the same models in PyTorch and Keras for 128 × 9 windows and
  /// 6 classes.
  @Test(arguments: [
    (ReferenceModel.teacher, 163_910, 21_743_104),
    (.teacherAtt, 168_020, 21_761_280),
    (.mm, 12_166, 1_680_128),
    (.lm, 3_526, 512_384),
    (.lmAtt, 4_052, 516_224),
  ])
  func countsMatchTheAnchors(model: ReferenceModel, parameters: Int, flops: Int) throws {
    var rng = SplitMix64(seed: 0)
    let net = model.make(channels: 9, classes: 6, generator: &rng)
    let summary = try net.summary(inputShape: [1, 128, 9])
    #expect(summary.parameters == parameters)
    #expect(summary.flops == flops)
    #expect(net.forwardFLOPs(for: [1, 128, 9]) == flops)
    #expect(try net.outputShape(for: [32, 128, 9]) == [32, 6])
  }

  @Test func summaryTableReadsLikeKeras() throws {
    var rng = SplitMix64(seed: 0)
    let summary = try ReferenceModel.lmAtt.make(channels: 9, classes: 6, generator: &rng)
      .summary(inputShape: [1, 128, 9])
    let lines = summary.description.split(separator: "\n").map(String.init)
    #expect(lines.first?.hasPrefix("Layer") == true)
    #expect(
      lines.contains {
        $0.hasPrefix("0 Conv1D") && $0.contains("[1, 128, 16]") && $0.contains("736")
          && $0.contains("184,320")
      })
    #expect(lines.contains { $0.hasPrefix("5 CBAM") && $0.contains("526") && $0.contains("3,840") })
    #expect(lines.last?.contains("4,052") == true)
    #expect(lines.last?.contains("516,224") == true)
  }

  @Test func sameSeedSameModel() {
    var a = SplitMix64(seed: 12)
    var b = SplitMix64(seed: 12)
    let first = ReferenceModel.teacherAtt.make(channels: 6, classes: 12, generator: &a)
    let second = ReferenceModel.teacherAtt.make(channels: 6, classes: 12, generator: &b)
    #expect(first.parameters.map(\.value.scalars) == second.parameters.map(\.value.scalars))
    #expect(first.parameters.last?.value.shape == [12])
    #expect(first.parameters.contains { $0.name == "9.channel.hidden" })
  }
}
