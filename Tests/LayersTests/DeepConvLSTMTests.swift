import Layers
import Tensor
import TestSupport
import Testing

/// Parameter and FLOP counts of the DeepConvLSTM family, derived by hand.
///
/// Notation: window `T × S`, `K` classes, `F` filters, `U` LSTM units; CBAM-2D at position `p`
/// with ratio `r` (hidden `h = max(1, F/r)`) and a `k × k` kernel.
///
/// Parameters:
/// - conv 1: `5·1·1·F + F = 6F`; convs 2–4: `3·(5·F·F + F)`;
/// - LSTM 1 (input `S·F`): `4U·(S·F + U + 1)`; LSTM 2: `4U·(U + U + 1)`; Dense: `U·K + K`;
/// - CBAM-2D: `2·F·h + 2k²`.
///
/// FLOPs (2 per multiply-add; element-wise work not counted):
/// - conv `l` (output time `T − 4l`): `2·(T − 4l)·S·5·in_l·F`, `in_1 = 1`, else `F`;
/// - LSTM 1: `2·T'·4U·(S·F + U)` with `T' = T − 16`; LSTM 2: `2·T'·4U·2U`; Dense: `2·U·K`;
/// - CBAM-2D at `p`: `2·2·2·F·h` (shared MLP on mean and max) + `2·(T − 4p)·S·2k²`.
///
/// Opportunity (T = 30, S = 113, K = 18), T' = 14:
///
/// | model | params | FLOPs |
/// |---|---|---|
/// | OM (64/128) | 384 + 3·20,544 + 512·7,361 + 512·257 + 2,322 = **3,964,754** | 1,880,320 + 101,826,560 + 83,312,640 + 64,798,720 + 105,512,960 + 3,670,016 + 4,608 = **361,005,824** |
/// | OM + CBAM(p 4, r 8, k 7) | + 2·64·8 + 98 = 1,122 → **3,965,876** | + 4,096 + 2·14·113·98 = 310,072 → **361,319,992** |
/// | MM (8/16) | 48 + 3·328 + 64·921 + 64·33 + 306 = **62,394** | 235,040 + 1,590,848 + 1,301,760 + 1,012,480 + 1,648,640 + 57,344 + 576 = **5,846,880** |
/// | LM (4/8) | 24 + 3·84 + 32·461 + 32·17 + 162 = **15,734** | 117,520 + 397,760 + 325,440 + 253,120 + 412,608 + 14,336 + 144 = **1,520,624** |
/// | LM + CBAM(p 4, r 8, k 7) | + 2·4·1 + 98 = 106 → **15,840** | + 32 + 310,072 → **1,830,728** |
///
/// UCI HAPT (T = 128, S = 6, K = 6), T' = 112:
///
/// | model | params | FLOPs |
/// |---|---|---|
/// | OM | 384 + 61,632 + 512·(384 + 129) + 131,584 + 774 = **457,030** | 2·124·6·5·64 + 2·6·5·4,096·(120 + 116 + 112) + 2·112·512·(384 + 128) + 2·112·512·256 + 1,536 = 476,160 + 85,524,480 + 58,720,256 + 29,360,128 + 1,536 = **174,082,560** |
/// | OM + CBAM(p 4) | + 1,122 → **458,152** | + 4,096 + 2·112·6·98 = 131,712 → **174,218,368** |
/// | MM | 48 + 984 + 64·(48 + 17) + 2,112 + 102 = **7,406** | 59,520 + 2·6·5·64·348 + 2·112·64·64 + 2·112·64·32 + 192 = 59,520 + 1,336,320 + 917,504 + 458,752 + 192 = **2,772,288** |
/// | LM | 24 + 252 + 32·(24 + 9) + 544 + 54 = **1,930** | 29,760 + 2·6·5·16·348 + 2·112·32·32 + 2·112·32·16 + 96 = 29,760 + 334,080 + 229,376 + 114,688 + 96 = **708,000** |
/// | LM + CBAM(p 4) | + 106 → **2,036** | + 32 + 131,712 → **839,744** |
@Suite("DeepConvLSTM")
struct DeepConvLSTMTests {
  struct Expected: Sendable, CustomTestStringConvertible {
    let role: ReferenceModel
    let time: Int, sensors: Int, classes: Int
    let parameters: Int, flops: Int
    var testDescription: String { "\(role.rawValue) \(time)×\(sensors)" }
  }

  static let table: [Expected] = [
    .init(
      role: .teacher, time: 30, sensors: 113, classes: 18, parameters: 3_964_754, flops: 361_005_824
    ),
    .init(
      role: .teacherAtt, time: 30, sensors: 113, classes: 18, parameters: 3_965_876,
      flops: 361_319_992),
    .init(role: .mm, time: 30, sensors: 113, classes: 18, parameters: 62_394, flops: 5_846_880),
    .init(role: .lm, time: 30, sensors: 113, classes: 18, parameters: 15_734, flops: 1_520_624),
    .init(role: .lmAtt, time: 30, sensors: 113, classes: 18, parameters: 15_840, flops: 1_830_728),
    .init(
      role: .teacher, time: 128, sensors: 6, classes: 6, parameters: 457_030, flops: 174_082_560),
    .init(
      role: .teacherAtt, time: 128, sensors: 6, classes: 6, parameters: 458_152, flops: 174_218_368),
    .init(role: .mm, time: 128, sensors: 6, classes: 6, parameters: 7_406, flops: 2_772_288),
    .init(role: .lm, time: 128, sensors: 6, classes: 6, parameters: 1_930, flops: 708_000),
    .init(role: .lmAtt, time: 128, sensors: 6, classes: 6, parameters: 2_036, flops: 839_744),
  ]

  @Test(arguments: table)
  func countsMatchTheHandDerivation(_ expected: Expected) throws {
    var rng = SplitMix64(seed: 1)
    let family = ModelFamily.deepConvLSTM(attentionPosition: 4, reduction: 8, spatialKernel: 7)
    let model = family.make(
      expected.role, channels: expected.sensors, classes: expected.classes, generator: &rng)
    let input = [1, expected.time, expected.sensors]
    #expect(try model.outputShape(for: input) == [1, expected.classes])
    #expect(model.parameterCount == expected.parameters)
    #expect(model.forwardFLOPs(for: input) == expected.flops)
  }

  @Test func rolesMapToWidths() {
    let family = ModelFamily.deepConvLSTM()
    #expect(family.architecture(of: .teacher) == .om)
    #expect(family.architecture(of: .mm) == DeepConvLSTM(filters: 8, units: 16))
    #expect(family.architecture(of: .lm) == DeepConvLSTM(filters: 4, units: 8))
    #expect(
      family.architecture(of: .lmAtt)
        == DeepConvLSTM(
          filters: 4, units: 8, attention: .init(position: 4, reduction: 8, spatialKernel: 7)))
    #expect(ModelFamily.cnn.architecture(of: .teacher) == nil)
    #expect(family.name == "deepconvlstm" && ModelFamily.cnn.name == "cnn")
    #expect(family.minimumTimeSteps == 17 && ModelFamily.cnn.minimumTimeSteps == 1)
    var rng = SplitMix64(seed: 2)
    // The CNN family is ReferenceModel.make unchanged: 3,526 parameters for the LM on 128×9.
    #expect(
      ModelFamily.cnn.make(.lm, channels: 9, classes: 6, generator: &rng).parameterCount == 3_526)
  }

  /// The CBAM block sits after the ReLU of the chosen convolution and leaves maps shaped
  /// `[batch, filters]` and `[batch, time at that depth, sensors]` under `"cbam"`.
  @Test(arguments: [1, 2, 3, 4])
  func attentionPositionAndMaps(_ position: Int) throws {
    var rng = SplitMix64(seed: 3)
    let model = DeepConvLSTM(
      filters: 4, units: 3, attention: .init(position: position, reduction: 2, spatialKernel: 3)
    ).make(sensors: 5, classes: 3, generator: &rng)
    let layerNames = model.layers.map { String(describing: type(of: $0)) }
    #expect(layerNames[2 * position + 1] == "CBAM2D")
    #expect(layerNames.count == 1 + 8 + 1 + 4)
    var context = ForwardContext.inference
    let x = Tensor.uniform([2, 20, 5], in: -1...1, using: &rng)
    let y = model.forward(x, context: &context)
    #expect(y.shape == [2, 3])
    let maps = try #require(context.attentionMaps[ReferenceModel.attentionName])
    #expect(maps.channel?.shape == [2, 4])
    #expect(maps.spatial?.shape == [2, 20 - 4 * position, 5])
  }

  /// The summary lists each layer with its shape and cost, and a checkpoint written from one
  /// seed loads into a model made from another (same names and shapes), giving equal outputs.
  @Test func summaryAndCheckpointRoundTrip() throws {
    var rng = SplitMix64(seed: 6)
    let family = ModelFamily.deepConvLSTM(attentionPosition: 4, reduction: 8, spatialKernel: 7)
    let model = family.make(.lmAtt, channels: 6, classes: 6, generator: &rng)
    let summary = try model.summary(inputShape: [1, 128, 6])
    #expect(summary.parameters == 2_036 && summary.flops == 839_744)
    #expect(
      summary.rows.map(\.layer) == [
        "0 Reshape", "1 Conv2D", "2 ReLU", "3 Conv2D", "4 ReLU", "5 Conv2D", "6 ReLU", "7 Conv2D",
        "8 ReLU", "9 CBAM2D", "10 Reshape", "11 LSTM", "12 LSTM", "13 Dense",
      ])
    #expect(summary.rows[9].outputShape == [1, 112, 6, 4])
    #expect(summary.rows[10].outputShape == [1, 112, 24])
    #expect(summary.rows[11].outputShape == [1, 112, 8])
    #expect(model.parameters.map(\.name).contains("11.recurrentKernel"))
    #expect(model.parameters.map(\.name).contains("9.spatial.filter"))
    let data = Checkpoint(model: model).encoded()
    var other = family.make(.lmAtt, channels: 6, classes: 6, generator: &rng)
    try other.load(from: Checkpoint(decoding: data, path: "lm-att.safetensors"))
    let x = Tensor.uniform([2, 20, 6], in: -1...1, using: &rng)
    #expect(other(x).isClose(to: model(x), tolerance: 0))
  }

  @Test func tooShortWindowsAreAShapeError() throws {
    var rng = SplitMix64(seed: 4)
    let model = DeepConvLSTM.lm.make(sensors: 6, classes: 6, generator: &rng)
    #expect(throws: ShapeError.self) { try model.outputShape(for: [1, 16, 6]) }
    #expect(try model.outputShape(for: [1, 17, 6]) == [1, 6])
  }

  /// The whole model is not gradient-checked by finite differences (ReLU kinks and max-pooling
  /// ties in its attention make such a check flaky); its parts are (Conv2D, CBAM2D and LSTM in
  /// their own tests). Here: every parameter, the first convolution's included, receives a
  /// finite non-zero gradient, and Adam fits a tiny batch.
  @Test func everyParameterLearnsAndATinyBatchIsFitted() throws {
    var rng = SplitMix64(seed: 5)
    var model = DeepConvLSTM(
      filters: 3, units: 4, attention: .init(position: 2, reduction: 1, spatialKernel: 3)
    ).make(sensors: 3, classes: 2, generator: &rng)
    let x = Tensor.uniform([8, 20, 3], in: -1...1, using: &rng)
    let labels = [0, 1, 0, 1, 1, 0, 0, 1]
    func step(_ model: Sequential) -> (Float, Gradients) {
      valueWithGradients(of: model) { model in
        var context = ForwardContext(isTraining: true)
        return softmaxCrossEntropy(logits: model.forward(x, context: &context), labels: labels)
      }
    }
    let (first, gradients) = step(model)
    #expect(gradients.isFinite)
    for (name, _) in model.parameters {
      let gradient = try #require(gradients[name])
      #expect(gradient.scalars.contains { $0 != 0 }, "\(name) gets no gradient")
    }
    var optimizer = Adam(learningRate: 1e-2)
    var loss = first
    for _ in 0..<60 {
      let (value, gradients) = step(model)
      loss = value
      optimizer.update(&model, along: gradients)
    }
    #expect(loss < 0.5 * first, "loss \(first) → \(loss)")
  }
}
