import Foundation
import Layers
import Tensor

/// A float model of the CNN family that computes, on the tape, what its ``QuantizedModel``
/// computes with integers: every weight and every activation the int8 executor quantizes is
/// fake-quantized (`Tensor.fakeQuantized(scales:)`) at the same point with the same
/// scale.
///
/// - Weights: per output channel, `scale = max |w| / 127` from the current weights, as
///   ``QuantizedModel`` does (a spatial attention filter: one scale). Biases stay float (the
///   int8 model stores them as int32 at the accumulator's scale, a step far below the
///   activations').
/// - Activations: the scales of ``QuantizedModel``'s calibration (same method, same windows) at
///   the same points: the standardized input, every convolution's or dense layer's output (after
///   its ReLU), global average pooling's output, CBAM's hidden layer, gate logits and gated
///   output. Max pooling, ReLU and maxima keep the grid of their input; CBAM's means over time or
///   channels are rounded to their input's grid, as the executor's sums requantized by `1/n`.
/// - CBAM gates: `σ` rounded to multiples of 1/256, as the executor's sigmoid table (whose
///   entry 0 the fake gate, clipped at 1/256, never reaches).
///
/// Batch normalization is folded into the layer before it and ReLUs are fused, as in the C
/// exporters: the model's trainable tensors are the folded filters and biases and the attention
/// weights. What stays apart from the executor is float rounding against the executor's integer
/// requantization (multiplier and shift, ties toward +∞): the predictions agree on nearly all
/// windows, not bit for bit.
public struct FakeQuantizedModel {
  var model: LoweredModel
  /// The calibrated range of every quantized activation, in ``QuantizedModel``'s order.
  var ranges: [Double]
  /// How the activation ranges were calibrated.
  public let calibration: CalibrationMethod

  /// The fake-quantized form of `graph`, its activation ranges calibrated on
  /// `calibrationWindows` (raw windows `[n, timeSteps, channels]`) as
  /// ``QuantizedModel/init(graph:calibrationWindows:method:)`` calibrates them.
  ///
  /// - Throws: ``ExportError/unsupported(_:)`` as ``QuantizedModel``.
  public init(
    graph: InferenceGraph, calibrationWindows: Tensor, method: CalibrationMethod = .minMax
  ) throws(ExportError) {
    let model = try LoweredModel(graph)
    try Self.checkWindows(calibrationWindows, model, "calibration")
    self.model = model
    calibration = method
    ranges = QuantizedModel.calibrate(model, calibrationWindows, method)
  }

  static func checkWindows(_ windows: Tensor, _ model: LoweredModel, _ what: String)
    throws(ExportError)
  {
    let shape = windows.shape
    guard shape.count == 3, shape[0] > 0, shape[1] == model.timeSteps,
      shape[2] == model.channels
    else {
      throw .unsupported(
        "\(what) windows \(shape), expected [n, \(model.timeSteps), \(model.channels)]")
    }
  }

  /// The trainable tensors, in the order of the lowered ops: a convolution's filter
  /// `[kernel, in, out]` and bias `[out]`, channel attention's `hidden` `[channels, h]` and
  /// `output` `[h, channels]`, spatial attention's filter `[kernel, 2]`.
  var parameters: [Tensor] {
    get {
      var result: [Tensor] = []
      for op in model.ops {
        switch op {
        case .conv(let c):
          result.append(
            try! Tensor(shape: [c.kernel, c.inChannels, c.outChannels], scalars: c.filter))
          result.append(Tensor(c.bias))
        case .channelAttention(_, let channels, let hidden, let output, let h):
          result.append(try! Tensor(shape: [channels, h], scalars: hidden))
          result.append(try! Tensor(shape: [h, channels], scalars: output))
        case .spatialAttention(_, _, let kernel, let filter):
          result.append(try! Tensor(shape: [kernel, 2], scalars: filter))
        default: break
        }
      }
      return result
    }
    set {
      var next = 0
      func take() -> [Float] {
        defer { next += 1 }
        return newValue[next].scalars
      }
      for (index, op) in model.ops.enumerated() {
        switch op {
        case .conv(var c):
          c.filter = take()
          c.bias = take()
          model.ops[index] = .conv(c)
        case .channelAttention(let length, let channels, _, _, let h):
          let (hidden, output) = (take(), take())
          model.ops[index] = .channelAttention(
            length: length, channels: channels, hidden: hidden, output: output, h: h)
        case .spatialAttention(let length, let channels, let kernel, _):
          model.ops[index] = .spatialAttention(
            length: length, channels: channels, kernel: kernel, filter: take())
        default: break
        }
      }
    }
  }

  /// Recalibrates the activation ranges for the current weights.
  mutating func recalibrate(_ windows: Tensor) {
    ranges = QuantizedModel.calibrate(model, windows, calibration)
  }

  /// The fake-quantized logits `[n, classes]` of raw windows `[n, timeSteps, channels]`.
  public func logits(for windows: Tensor) -> Tensor {
    let size = model.timeSteps * model.channels
    let n = windows.scalarCount / size
    precondition(
      windows.scalarCount == n * size && n > 0,
      "FakeQuantizedModel.logits(for:): windows \(windows.shape), expected "
        + "[n, \(model.timeSteps), \(model.channels)]")
    var rows: [Tensor] = []
    for start in stride(from: 0, to: n, by: 256) {
      let chunk = windows.reshaped(to: [n, model.timeSteps, model.channels])
        .sliced(alongAxis: 0, range: start..<Swift.min(n, start + 256))
      rows.append(forward(chunk, parameters))
    }
    return Tensor.concatenating(rows, alongAxis: 0)
  }

  /// The predicted class of each raw window (the first largest fake-quantized logit).
  public func predictions(for windows: Tensor) -> [Int] {
    let logits = logits(for: windows)
    let k = logits.shape[1]
    let scalars = logits.scalars
    return (0..<logits.shape[0]).map { row in
      let slice = scalars[(row * k)..<((row + 1) * k)]
      return slice.firstIndex(of: slice.max()!)! - row * k
    }
  }

  /// Per-column scales `max |w| / 127` (1 for an all-zero column) of `[…, columns]` weights, as
  /// ``QuantizedModel/perChannel(_:outputs:)``.
  static func columnScales(_ weights: Tensor, columns: Int) -> [Float] {
    var largest = [Double](repeating: 0, count: columns)
    for (index, w) in weights.scalars.enumerated() {
      largest[index % columns] = Swift.max(largest[index % columns], Double(abs(w)))
    }
    return largest.map { $0 > 0 ? Float($0 / 127) : 1 }
  }

  /// The fake-quantized forward pass of raw windows `[n, timeSteps, channels]` with the given
  /// trainable tensors (tracked for training), `[n, classes]` out.
  ///
  /// With `quantizing` false, every fake quantizer is the identity: the float model's forward
  /// pass (batch normalization folded).
  func forward(_ windows: Tensor, _ parameters: [Tensor], quantizing: Bool = true) -> Tensor {
    let n = windows.shape[0]
    var point = 0
    func scale() -> Float {
      defer { point += 1 }
      return Float(Swift.max(ranges[point], 1e-6) / 127)
    }
    func weights(_ w: Tensor, perTensor: Bool = false) -> Tensor {
      guard quantizing else { return w }
      let columns = perTensor ? 1 : w.shape.last!
      let scales = Self.columnScales(w.detached(), columns: columns)
      return w.fakeQuantized(scales: scales)
    }
    /// The executor's gate, `round(256 · σ(logit)) / 256`, clipped to 1/256 … 255/256.
    func gate(_ logit: Tensor) -> Tensor {
      guard quantizing else { return logit.sigmoid() }
      return (logit.sigmoid() - 0.5).fakeQuantized(scale: 1 / 256) + 0.5
    }
    func padding(length: Int, kernel: Int, stride: Int, dilation: Int, outLength: Int) -> Padding {
      (length - (kernel - 1) * dilation - 1) / stride + 1 == outLength ? .valid : .same
    }
    var s = scale()
    var x = ((windows - Tensor(model.mean)) / Tensor(model.standardDeviation)).quantized(
      s, quantizing)
    var next = 0
    func parameter() -> Tensor {
      defer { next += 1 }
      return parameters[next]
    }
    for op in model.ops {
      switch op {
      case .conv(let c):
        let (filter, bias) = (parameter(), parameter())
        x = x.reshaped(to: [n, c.length, c.inChannels]).conv1D(
          filter: weights(filter), bias: bias, stride: c.stride, dilation: c.dilation,
          padding: padding(
            length: c.length, kernel: c.kernel, stride: c.stride, dilation: c.dilation,
            outLength: c.outLength),
          activation: c.relu ? .relu : .identity)
        s = scale()
        x = x.quantized(s, quantizing)
      case .maxPool(let length, _, let kernel, let stride, _, let outLength):
        x = x.maxPool1D(
          kernelSize: kernel, stride: stride,
          padding: padding(
            length: length, kernel: kernel, stride: stride, dilation: 1, outLength: outLength))
      case .globalAvgPool:
        s = scale()
        x = x.mean(alongAxis: 1, keepingDimensions: true).quantized(s, quantizing)
      case .globalMaxPool:
        x = x.max(alongAxis: 1, keepingDimensions: true)
      case .relu:
        x = x.relu()
      case .channelAttention:
        let (hidden, output) = (weights(parameter()), weights(parameter()))
        let (hiddenScale, logitScale, out) = (scale(), scale(), scale())
        let average = x.mean(alongAxis: 1, keepingDimensions: true).quantized(s, quantizing)
        let maximum = x.max(alongAxis: 1, keepingDimensions: true)
        let h1 = average.matmul(hidden).relu().quantized(hiddenScale, quantizing)
        let h2 = maximum.matmul(hidden).relu().quantized(hiddenScale, quantizing)
        let logit = (h1 + h2).matmul(output).quantized(logitScale, quantizing)
        x = (x * gate(logit)).quantized(out, quantizing)
        s = out
      case .spatialAttention(_, _, let kernel, _):
        let filter = weights(parameter(), perTensor: true).reshaped(to: [kernel, 2, 1])
        let (logitScale, out) = (scale(), scale())
        let maps = Tensor.concatenating(
          [
            x.mean(alongAxis: 2, keepingDimensions: true).quantized(s, quantizing),
            x.max(alongAxis: 2, keepingDimensions: true),
          ], alongAxis: 2)
        let logit = maps.conv1D(filter: filter, padding: .same).quantized(logitScale, quantizing)
        x = (x * gate(logit)).quantized(out, quantizing)
        s = out
      }
    }
    return x.reshaped(to: [n, model.outputCount])
  }

  /// `graph` with this model's float weights: each convolution and dense layer with its folded
  /// filter and bias, batch normalizations (folded) left out, attention weights replaced.
  func graph(replacing graph: InferenceGraph) -> InferenceGraph {
    var convs: [LoweredModel.Conv] = []
    var channel: [(hidden: [Float], output: [Float])] = []
    var spatial: [[Float]] = []
    for op in model.ops {
      switch op {
      case .conv(let c): convs.append(c)
      case .channelAttention(_, _, let hidden, let output, _): channel.append((hidden, output))
      case .spatialAttention(_, _, _, let filter): spatial.append(filter)
      default: break
      }
    }
    var result = graph
    result.steps = []
    for var step in graph.steps {
      switch step.operation {
      case .conv1D(let filter, _, let stride, let dilation, let padding):
        let c = convs.removeFirst()
        step.operation = .conv1D(
          filter: try! Tensor(shape: filter.shape, scalars: c.filter), bias: Tensor(c.bias),
          stride: stride, dilation: dilation, padding: padding)
      case .dense(let weight, _):
        let c = convs.removeFirst()
        step.operation = .dense(
          weight: try! Tensor(shape: weight.shape, scalars: c.filter), bias: Tensor(c.bias))
      case .batchNorm:
        continue
      case .channelAttention(let hidden, let output):
        let (h, o) = channel.removeFirst()
        step.operation = .channelAttention(
          hidden: try! Tensor(shape: hidden.shape, scalars: h),
          output: try! Tensor(shape: output.shape, scalars: o))
      case .spatialAttention(let filter):
        step.operation = .spatialAttention(
          filter: try! Tensor(shape: filter.shape, scalars: spatial.removeFirst()))
      default: break
      }
      result.steps.append(step)
    }
    return result
  }
}

/// Quantization-aware fine-tuning: a few epochs of training of a float model through its
/// ``FakeQuantizedModel``, so that its weights adapt to int8 rounding, before post-training
/// quantization.
///
/// The gradient flows through the fake quantizers by the clipped straight-through estimator.
/// Each epoch starts by recalibrating the activation ranges on the calibration windows for the
/// current weights (the method of ``calibration``), the ranges ``QuantizedModel`` would give them;
/// weight scales follow the weights at every step. The optimizer is Adam (Keras' defaults
/// but the learning rate) on the folded filters, biases and attention weights, minimizing the
/// softmax cross-entropy over shuffled mini-batches; there is no dropout (the inference graph
/// has none) and batch normalization stays folded with its running statistics.
///
/// ``fineTune(_:windows:labels:calibrationWindows:progress:)`` returns the fine-tuned float graph; its
/// int8 model is the post-training one, `QuantizedModel(graph: tuned, calibrationWindows:
/// calibrationWindows, method: calibration)`, which recalibrates once more for the final weights.
/// So the C export and its bit-exactness with the Swift int8 executor hold as for any graph.
public struct QuantizationAwareTraining: Sendable {
  /// Passes over the training windows (default 3).
  public var epochs: Int
  /// Adam's step size (default 1e-4, a tenth of the students' training rate).
  public var learningRate: Float
  /// Windows per step (default 64).
  public var batchSize: Int
  /// The seed of the shuffling.
  public var seed: UInt64
  /// How the activation ranges are calibrated (as for the final ``QuantizedModel``).
  public var calibration: CalibrationMethod
  /// What the fine-tuning fits.
  public var target: Target
  /// Whether the forward pass is fake-quantized (the default); `false` fine-tunes the float
  /// model with the same data, optimizer and target: a control for what the extra epochs do
  /// without the rounding.
  public var fakeQuantization: Bool

  /// What quantization-aware fine-tuning fits.
  public enum Target: Sendable, Equatable, CustomStringConvertible {
    /// The training labels: the softmax cross-entropy.
    case labels
    /// The float model's own predictions (self-distillation): the cross-entropy against the
    /// softmax of the float model's logits at `temperature`, times `temperature²`, so that the
    /// fine-tuned int8 model is pulled toward the float model it replaces rather than further
    /// toward the training labels.
    case floatModel(temperature: Float)

    /// `labels` or `float model (T = …)`.
    public var description: String {
      switch self {
      case .labels: "labels"
      case .floatModel(let t): "float model (T = \(t))"
      }
    }
  }

  /// Fine-tuning settings.
  public init(
    epochs: Int = 3, learningRate: Float = 1e-4, batchSize: Int = 64, seed: UInt64 = 1,
    calibration: CalibrationMethod = .minMax, target: Target = .labels,
    fakeQuantization: Bool = true
  ) {
    self.epochs = epochs
    self.learningRate = learningRate
    self.batchSize = batchSize
    self.seed = seed
    self.calibration = calibration
    self.target = target
    self.fakeQuantization = fakeQuantization
  }

  /// Fine-tunes `graph` through its fake-quantized form on raw training `windows`
  /// `[n, timeSteps, channels]` with their `labels`, calibrating on `calibrationWindows`; returns
  /// the graph with the fine-tuned float weights (batch normalization folded).
  ///
  /// - Parameters:
  ///   - graph: The trained float model.
  ///   - windows: Raw training windows `[n, timeSteps, channels]`.
  ///   - labels: The class of each window.
  ///   - calibrationWindows: Raw windows the activation ranges are calibrated on.
  ///   - progress: Called after each epoch with its number (from 1) and mean loss.
  /// - Throws: ``ExportError/unsupported(_:)`` for a graph ``QuantizedModel`` cannot quantize,
  ///   windows of the wrong shape, labels that do not match the windows or the classes, or
  ///   settings out of range (epochs < 0, batch size < 1, a learning rate that is not positive).
  public func fineTune(
    _ graph: InferenceGraph, windows: Tensor, labels: [Int], calibrationWindows: Tensor,
    progress: (Int, Float) -> Void = { _, _ in }
  ) throws(ExportError) -> InferenceGraph {
    var temperature: Float = 1
    if case .floatModel(let t) = target { temperature = t }
    guard epochs >= 0, batchSize >= 1, learningRate > 0, learningRate.isFinite, temperature > 0,
      temperature.isFinite
    else {
      throw .unsupported(
        "quantization-aware training needs epochs ≥ 0, a batch size ≥ 1, a positive learning "
          + "rate and temperature, got \(epochs), \(batchSize), \(learningRate), \(temperature)")
    }
    var model = try FakeQuantizedModel(
      graph: graph, calibrationWindows: calibrationWindows, method: calibration)
    try FakeQuantizedModel.checkWindows(windows, model.model, "training")
    let n = windows.shape[0]
    guard labels.count == n else {
      throw .unsupported("\(labels.count) labels for \(n) training windows")
    }
    let classes = model.model.outputCount
    if let bad = labels.first(where: { !(0..<classes).contains($0) }) {
      throw .unsupported("label \(bad) is not one of the model's \(classes) classes")
    }
    var parameters = model.parameters
    let floatParameters = parameters
    var first = parameters.map { Tensor(zeros: $0.shape) }
    var second = first
    var rng = SplitMix64(seed: seed)
    var step = 0
    let (beta1, beta2, epsilon): (Float, Float, Float) = (0.9, 0.999, 1e-7)
    for epoch in 0..<epochs {
      if epoch > 0 { model.recalibrate(calibrationWindows) }
      var order = Array(0..<n)
      order.shuffle(using: &rng)
      var total: Float = 0
      for start in stride(from: 0, to: n, by: batchSize) {
        let batch = Array(order[start..<Swift.min(n, start + batchSize)])
        let tape = Tape()
        let tracked = parameters.map(tape.variable)
        let inputs = windows.gathering(rows: batch)
        let logits = model.forward(inputs, tracked, quantizing: fakeQuantization)
        let loss: Tensor
        switch target {
        case .labels:
          loss = softmaxCrossEntropy(logits: logits, labels: batch.map { labels[$0] })
        case .floatModel(let t):
          let teacher = model.forward(inputs, floatParameters, quantizing: false) / t
          let soft = teacher.softmax(alongAxis: -1)
          loss =
            -(soft * (logits / t).logSoftmax(alongAxis: -1)).sum() * (t * t / Float(batch.count))
        }
        total += loss.scalars[0] * Float(batch.count)
        let gradients = tape.gradients(of: loss, wrt: tracked)
        // Adam as Layers' (Keras' form: ε outside the bias correction).
        step += 1
        let t = Double(step)
        let alpha =
          learningRate
          * Float(
            (1 - Foundation.pow(Double(beta2), t)).squareRoot()
              / (1 - Foundation.pow(Double(beta1), t)))
        for k in parameters.indices {
          let g = gradients[k].scalars
          var (p, m, v) = (parameters[k].scalars, first[k].scalars, second[k].scalars)
          for i in p.indices {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            p[i] -= alpha * m[i] / (v[i].squareRoot() + epsilon)
          }
          let shape = parameters[k].shape
          parameters[k] = try! Tensor(shape: shape, scalars: p)
          first[k] = try! Tensor(shape: shape, scalars: m)
          second[k] = try! Tensor(shape: shape, scalars: v)
        }
        model.parameters = parameters
      }
      progress(epoch + 1, total / Float(n))
    }
    return model.graph(replacing: graph)
  }
}

extension Tensor {
  /// `fakeQuantized(scale:)` when `quantizing`, else the tensor itself.
  fileprivate func quantized(_ scale: Float, _ quantizing: Bool) -> Tensor {
    quantizing ? fakeQuantized(scale: scale) : self
  }
}
