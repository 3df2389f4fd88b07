import Layers
import Tensor
import TestSupport
import Testing

@Suite("Layers: forward values and gradients")
struct LayerTests {
  @Test func denseByHand() throws {
    var rng = SplitMix64(seed: 1)
    var dense = Dense(inputSize: 2, outputSize: 3, generator: &rng)
    dense.weight = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    dense.bias = Tensor([0.5, -0.5, 1])
    // [1, −1] · W = [1 − 4, 2 − 5, 3 − 6] = [−3, −3, −3]; plus bias.
    let y = dense(try Tensor(shape: [1, 2], scalars: [1, -1]))
    #expect(y.scalars == [-2.5, -3.5, -2])
    #expect(try dense.outputShape(for: [7, 2]) == [7, 3])
    #expect(dense.parameterCount == 9)
    #expect(dense.forwardFLOPs(for: [7, 2]) == 12)
    #expect(dense.parameters.map(\.name) == ["weight", "bias"])
    let report = layerGradientReport(dense, input: signedInput([3, 2]))
    #expect(report.passed, "\(report)")
  }

  @Test func conv1DByHandAndGradients() throws {
    var rng = SplitMix64(seed: 1)
    var conv = Conv1D(inputChannels: 1, outputChannels: 1, kernelSize: 3, generator: &rng)
    conv.filter = try Tensor(shape: [3, 1, 1], scalars: [1, 2, 3])
    conv.bias = Tensor([10])
    // `same`: y[t] = 10 + x[t−1] + 2x[t] + 3x[t+1] on [1, 2, 3, 4] → [18, 24, 30, 21].
    #expect(
      conv(try Tensor(shape: [1, 4, 1], scalars: [1, 2, 3, 4])).scalars == [18, 24, 30, 21])
    let wide = Conv1D(
      inputChannels: 3, outputChannels: 4, kernelSize: 3, stride: 2, dilation: 1, generator: &rng)
    #expect(try wide.outputShape(for: [2, 7, 3]) == [2, 4, 4])
    // 2 · L_out · k · Cin · Cout = 2 · 4 · 3 · 3 · 4.
    #expect(wide.forwardFLOPs(for: [2, 7, 3]) == 288)
    #expect(layerGradientReport(wide, input: signedInput([2, 7, 3])).passed)
    let noBias = Conv1D(
      inputChannels: 2, outputChannels: 2, kernelSize: 2, dilation: 2, padding: .valid,
      useBias: false, generator: &rng)
    #expect(noBias.parameters.map(\.name) == ["filter"])
    #expect(layerGradientReport(noBias, input: signedInput([1, 6, 2])).passed)
  }

  @Test func poolingLayers() throws {
    let x = try Tensor(shape: [1, 4, 2], scalars: [1, 8, 5, 2, 3, 7, 4, 6])
    #expect(MaxPool1D(kernelSize: 2)(x).scalars == [5, 8, 4, 7])
    #expect(AvgPool1D(kernelSize: 2)(x).scalars == [3, 5, 3.5, 6.5])
    #expect(GlobalAvgPool1D()(x).scalars == [3.25, 5.75])
    #expect(GlobalMaxPool1D()(x).scalars == [5, 8])
    #expect(try MaxPool1D(kernelSize: 2).outputShape(for: [3, 128, 16]) == [3, 64, 16])
    #expect(try GlobalAvgPool1D().outputShape(for: [3, 64, 32]) == [3, 32])
    let input = spacedInput([2, 6, 3])
    #expect(layerGradientReport(MaxPool1D(kernelSize: 2), input: input).passed)
    #expect(layerGradientReport(AvgPool1D(kernelSize: 3, stride: 1), input: input).passed)
    #expect(layerGradientReport(GlobalAvgPool1D(), input: input).passed)
    #expect(layerGradientReport(GlobalMaxPool1D(), input: input).passed)
    #expect(throws: ShapeError.self) { try GlobalAvgPool1D().outputShape(for: [3, 64]) }
  }

  @Test func activationsAndReshaping() throws {
    let x = try Tensor(shape: [1, 4], scalars: [-1, 0.5, 2, -3])
    #expect(ReLU()(x).scalars == [0, 0.5, 2, 0])
    #expect(
      isClose(
        Sigmoid()(x), [0.268941, 0.622459, 0.880797, 0.047426], shape: [1, 4], tolerance: 1e-6))
    #expect(
      isClose(
        Tanh()(x), [-0.761594, 0.462117, 0.964028, -0.995055], shape: [1, 4], tolerance: 1e-6))
    #expect(abs(Softmax()(x).sum().scalar - 1) < 1e-6)
    let cube = Tensor(zeros: [2, 3, 4])
    #expect(Flatten()(cube).shape == [2, 12])
    #expect(Reshape([4, 3])(cube).shape == [2, 4, 3])
    #expect(try Reshape([-1, 2]).outputShape(for: [2, 3, 4]) == [2, 6, 2])
    #expect(throws: ShapeError.self) { try Reshape([5]).outputShape(for: [2, 3, 4]) }
    let input = signedInput([2, 3])
    for layer in [ReLU(), Sigmoid(), Tanh(), Softmax(), Flatten()] as [any Layer] {
      #expect(layerGradientReport(layer, input: input).passed, "\(type(of: layer))")
    }
  }

  @Test func dropoutIsInvertedAndSeeded() {
    let x = Tensor(ones: [1000])
    let dropout = Dropout(rate: 0.5)
    #expect(dropout(x).scalars == x.scalars)  // inference: identity
    var context = ForwardContext(isTraining: true, generator: SplitMix64(seed: 9))
    let y = dropout.forward(x, context: &context)
    // Survivors scaled by 1 / (1 − 0.5) = 2; about half survive.
    #expect(y.scalars.allSatisfy { $0 == 0 || $0 == 2 })
    let kept = y.scalars.filter { $0 == 2 }.count
    #expect(kept > 450 && kept < 550)
    var again = ForwardContext(isTraining: true, generator: SplitMix64(seed: 9))
    #expect(dropout.forward(x, context: &again).scalars == y.scalars)
    // The mask is a constant: gradients flow through the kept elements only.
    #expect(layerGradientReport(dropout, input: signedInput([2, 5]), training: true).passed)
  }

  @Test func batchNormTrainsAndInfers() throws {
    var norm = BatchNorm(channels: 2, momentum: 0.9, epsilon: 0)
    // Channel 0: [1, 3] → mean 2, variance 1 → [−1, 1]; channel 1: [2, 6] → mean 4, var 4 → [−1, 1].
    let x = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 6])
    var context = ForwardContext(isTraining: true)
    let y = context.withScope("5") { norm.forward(x, context: &$0) }
    #expect(isClose(y, [-1, -1, 1, 1], shape: [2, 2]))
    // Running statistics move 10 % of the way: mean 0.9·0 + 0.1·[2, 4], variance 0.9·1 + 0.1·[1, 4].
    let mean = try #require(context.stateUpdates["5.runningMean"])
    #expect(isClose(mean, [0.2, 0.4], shape: [2]))
    norm.applyStateUpdates([
      "runningMean": mean, "runningVariance": context.stateUpdates["5.runningVariance"]!,
    ])
    #expect(isClose(norm.runningVariance, [1.0, 1.3], shape: [2]))
    // Inference uses the running statistics: (1 − 0.2) / √1 = 0.8.
    #expect(abs(norm(x)[0, 0] - 0.8) < 1e-6)
    #expect(norm.states.map(\.name) == ["runningMean", "runningVariance"])
    var trainable = BatchNorm(channels: 3)
    trainable.scale = Tensor([1.5, 0.5, 2])
    trainable.offset = Tensor([0.1, -0.2, 0.3])
    #expect(layerGradientReport(trainable, input: signedInput([4, 3]), training: true).passed)
    #expect(layerGradientReport(trainable, input: signedInput([4, 3])).passed)
  }
}

@Suite("Sequential")
struct SequentialTests {
  func model(_ rng: inout SplitMix64) -> Sequential {
    Sequential {
      Conv1D(inputChannels: 3, outputChannels: 4, kernelSize: 3, generator: &rng)
      ReLU()
      Sequential {
        MaxPool1D(kernelSize: 2)
        Dense(inputSize: 4, outputSize: 2, generator: &rng)
      }
      GlobalAvgPool1D()
    }
  }

  @Test func namesNestAndShapesChain() throws {
    var rng = SplitMix64(seed: 3)
    let net = model(&rng)
    #expect(net.parameters.map(\.name) == ["0.filter", "0.bias", "2.1.weight", "2.1.bias"])
    #expect(try net.outputShape(for: [5, 8, 3]) == [5, 2])
    #expect(net.parameterCount == 3 * 3 * 4 + 4 + 4 * 2 + 2)
    #expect(net(Tensor(zeros: [5, 8, 3])).shape == [5, 2])
    #expect(layerGradientReport(net, input: signedInput([2, 8, 3])).passed)
  }

  @Test func shapeErrorNamesTheLayer() {
    var rng = SplitMix64(seed: 3)
    let net = model(&rng)
    #expect(
      throws: ShapeError.inLayer(
        path: "0 (Conv1D)",
        underlying: .incompatible(
          operation: "conv1D", lhs: [5, 8, 9], rhs: [3, 3, 4],
          rule: "[batch, time, c] ⊛ [kernel, c, out] with stride, dilation ≥ 1"))
    ) { try net.outputShape(for: [5, 8, 9]) }
    do {
      _ = try net.outputShape(for: [5, 8, 9])
    } catch {
      #expect(
        error.description
          == "layer 0 (Conv1D): conv1D: shapes [5, 8, 9] and [3, 3, 4] do not fit "
          + "[batch, time, c] ⊛ [kernel, c, out] with stride, dilation ≥ 1")
    }
  }

  @Test func builderHandlesConditionsAndLoops() {
    var rng = SplitMix64(seed: 3)
    let deep = true
    let net = Sequential {
      for _ in 0..<3 { ReLU() }
      if deep { Dense(inputSize: 2, outputSize: 2, generator: &rng) } else { Tanh() }
    }
    #expect(net.layers.count == 4)
  }

  @Test func predictBatchesInInference() {
    var rng = SplitMix64(seed: 4)
    let net = ReferenceModel.lm.make(channels: 3, classes: 4, generator: &rng)
    let x = signedInput([10, 16, 3])
    let whole = net(x)
    let batched = net.predict(x, batchSize: 3)
    #expect(batched.shape == [10, 4])
    #expect(batched.isClose(to: whole, tolerance: 1e-6))
  }
}

@Suite("Initializers")
struct InitializerTests {
  @Test func orthogonalColumnsAreOrthonormal() {
    var rng = SplitMix64(seed: 30)
    // A tall [6, 4] matrix: QᵀQ = I (times gain²).
    let q = Initializer.orthogonal(gain: 2).make([6, 4], using: &rng)
    let gram = q.transposed().matmul(q)
    var identity = Tensor(zeros: [4, 4])
    for i in 0..<4 { identity[i, i] = 4 }
    #expect(gram.isClose(to: identity, tolerance: 1e-5))
    // A wide [3, 5] matrix has orthonormal rows; a filter [2, 3, 4] is flattened to [6, 4].
    let wide = Initializer.orthogonal(gain: 1).make([3, 5], using: &rng)
    var small = Tensor(zeros: [3, 3])
    for i in 0..<3 { small[i, i] = 1 }
    #expect(wide.matmul(wide.transposed()).isClose(to: small, tolerance: 1e-5))
    let filter = Initializer.orthogonal(gain: 1).make([2, 3, 4], using: &rng).reshaped(to: [6, 4])
    var four = Tensor(zeros: [4, 4])
    for i in 0..<4 { four[i, i] = 1 }
    #expect(filter.transposed().matmul(filter).isClose(to: four, tolerance: 1e-5))
  }

  @Test func defaultsAndSeeds() {
    var a = SplitMix64(seed: 31)
    var b = SplitMix64(seed: 31)
    let dense = Dense(inputSize: 8, outputSize: 4, generator: &a)
    #expect(dense.bias?.scalars == Array(repeating: 0, count: 4))
    #expect(dense.weight.scalars == Initializer.glorotUniform.make([8, 4], using: &b).scalars)
    var c = SplitMix64(seed: 32)
    let he = Conv1D(
      inputChannels: 3, outputChannels: 2, kernelSize: 5, filterInitializer: .heUniform,
      generator: &c)
    // He uniform: |w| ≤ √(6 / fanIn), fanIn = 5 · 3.
    #expect(he.filter.scalars.allSatisfy { abs($0) <= (6.0 / 15.0).squareRoot() })
    #expect(Initializer.zeros.make([3], using: &c).scalars == [0, 0, 0])
  }

  /// The mean and the mean square of `values`.
  func moments(_ values: [Float]) -> (mean: Double, meanSquare: Double) {
    let n = Double(values.count)
    return (
      values.reduce(0) { $0 + Double($1) } / n, values.reduce(0) { $0 + Double($1 * $1) } / n
    )
  }

  @Test func pytorchUniformHasTheBoundAndMomentsOfUOverFanIn() {
    var rng = SplitMix64(seed: 33)
    // A Conv1d filter [kernel 5, in 16, out 32]: fanIn = 80, l = 1/√80; 2,560 draws.
    let w = Initializer.pytorchUniform.make([5, 16, 32], using: &rng).scalars
    let l = 1 / Float(80).squareRoot()
    #expect(w.allSatisfy { abs($0) <= l })
    #expect(w.max()! > 0.99 * l && w.min()! < -0.99 * l)
    // U(−l, l): mean 0 (standard error l/√(3n) = 0.0013 here), E[w²] = l²/3 (standard error
    // l²·√(4/(45n)) ≈ 1.8 % of it); each checked within about 4 standard errors.
    let (mean, square) = moments(w)
    #expect(abs(mean) < 0.006)
    #expect(abs(square / Double(l * l / 3) - 1) < 0.075)
    // A dense weight [in 128, out 6]: fanIn = 128.
    let dense = Initializer.pytorchUniform.make([128, 6], using: &rng).scalars
    #expect(dense.allSatisfy { abs($0) <= 1 / Float(128).squareRoot() })
    #expect(dense.contains { abs($0) > 0.9 / Float(128).squareRoot() })
    let bias = Initializer.uniform(limit: 0.25).make([1000], using: &rng).scalars
    #expect(bias.allSatisfy { abs($0) <= 0.25 } && bias.max()! > 0.24 && bias.min()! < -0.24)
  }

  @Test func weightInitializationNamesItsInitializers() {
    #expect(WeightInitialization.glorot.weight == .glorotUniform)
    #expect(WeightInitialization.glorot.bias(fanIn: 80) == .zeros)
    #expect(WeightInitialization.pytorch.weight == .pytorchUniform)
    #expect(WeightInitialization.pytorch.bias(fanIn: 16) == .uniform(limit: 0.25))
    #expect(WeightInitialization(rawValue: "pytorch") == .pytorch)
  }

  /// Every parameter of a PyTorch-initialized CNN within `1/√fanIn` of zero: a weight's own fan-in,
  /// a bias the fan-in of the weight before it.
  @Test(arguments: [ReferenceModel.lm, .lmAtt, .mm, .teacher])
  func referenceModelsTakePyTorchsDefaults(model: ReferenceModel) {
    var rng = SplitMix64(seed: 34)
    let built = model.make(channels: 6, classes: 6, initialization: .pytorch, generator: &rng)
    var fanIn = 0
    var biases = 0
    for (name, value) in built.parameters {
      if value.shape.count >= 2 {
        fanIn = Tensor.fans(of: value.shape).fanIn
      } else {
        biases += 1
        #expect(value.scalars.contains { $0 != 0 }, "\(name) is not drawn")
      }
      let l = 1 / Float(fanIn).squareRoot()
      #expect(value.scalars.allSatisfy { abs($0) <= l }, "\(name) \(value.shape) exceeds \(l)")
      #expect(value.scalars.contains { abs($0) > l / 2 }, "\(name) \(value.shape) is too narrow")
    }
    #expect(biases >= 3)
    // The default is unchanged: Glorot kernels, zero biases, drawn in the same order.
    var a = SplitMix64(seed: 35)
    var b = SplitMix64(seed: 35)
    let byDefault = model.make(channels: 6, classes: 6, generator: &a)
    let glorot = model.make(channels: 6, classes: 6, initialization: .glorot, generator: &b)
    #expect(byDefault.parameters.map(\.value.scalars) == glorot.parameters.map(\.value.scalars))
    #expect(
      byDefault.parameters.filter { $0.value.shape.count == 1 }.allSatisfy {
        $0.value.scalars.allSatisfy { $0 == 0 }
      })
  }

  @Test func pytorchLSTMIsUniformOverUnitsWithTwoBiases() {
    var rng = SplitMix64(seed: 36)
    let units = 128
    let k = 1 / Float(units).squareRoot()
    let lstm = LSTM(
      inputSize: 20, units: units, unitForgetBias: false, initialization: .pytorch,
      generator: &rng)
    for weight in [lstm.kernel, lstm.recurrentKernel] {
      #expect(weight.scalars.allSatisfy { abs($0) <= k })
      let (mean, square) = moments(weight.scalars)
      #expect(abs(mean) < 0.004)  // standard error k/√(3n) ≈ 0.0008 for the recurrent kernel
      #expect(abs(square / Double(k * k / 3) - 1) < 0.06)
    }
    // b_ih + b_hh: triangular on ±2k, E[b²] = 2k²/3 (standard error ≈ 5 % of it for 512
    // values), and a quarter of the values beyond one uniform's bound k.
    let bias = lstm.bias.scalars
    #expect(bias.allSatisfy { abs($0) <= 2 * k })
    #expect(bias.filter { abs($0) > k }.count > 64)
    let (mean, square) = moments(bias)
    #expect(abs(mean) < 0.01)
    #expect(abs(square / Double(2 * k * k / 3) - 1) < 0.2)
    // Keras's unit forget bias, if asked, is added on top.
    var again = SplitMix64(seed: 36)
    let forget = LSTM(inputSize: 20, units: units, initialization: .pytorch, generator: &again)
    for (j, (with, without)) in zip(forget.bias.scalars, bias).enumerated() {
      #expect(with == without + ((units..<(2 * units)).contains(j) ? 1 : 0))
    }
  }

  @Test func deepConvLSTMTakesPyTorchsDefaultsWithoutAForgetBias() {
    var rng = SplitMix64(seed: 37)
    let model = DeepConvLSTM.lm.with(attention: .init()).make(
      sensors: 6, classes: 6, initialization: .pytorch, generator: &rng)
    var fanIn = 0
    for (name, value) in model.parameters {
      if value.shape.count >= 2 { fanIn = Tensor.fans(of: value.shape).fanIn }
      // LSTM weights are U(±1/√8), its bias within ±2/√8 < 1: no forget-gate bias of 1.
      let isLSTM = value.shape.last == 4 * 8
      let l =
        isLSTM
        ? (value.shape.count == 1 ? 2 : 1) / Float(8).squareRoot()
        : 1 / Float(fanIn).squareRoot()
      #expect(value.scalars.allSatisfy { abs($0) <= l }, "\(name) \(value.shape) exceeds \(l)")
      #expect(value.scalars.contains { $0 != 0 }, "\(name) is not drawn")
    }
  }
}
