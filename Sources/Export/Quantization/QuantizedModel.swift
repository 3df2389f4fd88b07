import Foundation
import Layers
import Tensor

/// How the range of each int8 activation is chosen from the calibration windows.
public enum CalibrationMethod: Sendable, Equatable, CustomStringConvertible {
  /// The largest magnitude seen: nothing clips on the calibration windows.
  case minMax
  /// The given percentile (e.g. 99.99) of the magnitudes seen: rare outliers clip, the rest
  /// get a finer step.
  case percentile(Double)
  /// The range, among 64 fractions of the largest magnitude (1/64 … 1), whose int8 rounding and
  /// clipping give the smallest mean squared error on the values seen.
  case mse

  /// `min-max`, `percentile 99.99` or `mse`.
  public var description: String {
    switch self {
    case .minMax: "min-max"
    case .percentile(let p): "percentile \(p)"
    case .mse: "mse"
    }
  }
}

/// A post-training int8 quantization of an ``InferenceGraph`` of the CNN family, and its
/// integer-only reference executor.
///
/// - Weights: per output channel, symmetric int8 (`scale = max |w| / 127`); a spatial attention
///   filter (one output) per tensor. Biases: int32 at the accumulator's scale.
/// - Activations: symmetric int8 (zero point 0, values in −127 … 127), one scale per tensor,
///   calibrated on raw training windows (``CalibrationMethod``).
/// - The input: `q = round((x − mean) · inputScale[c])` in float32, rounded half away from zero
///   and clamped (a NaN sample becomes 0), where `inputScale[c] = 1 / (standardDeviation[c] ·
///   s_input)`: the z-score and the quantization in one multiply.
/// - Every other step is integer: int32 accumulation, then a ``Requantizer`` (multiplier and
///   shift) to the next int8 scale; a ReLU is the clamp's lower bound. Means over time or
///   channels are sums requantized by `1/n`.
/// - CBAM gates: the gate's logit is requantized to int8 and looked up in a 256-entry table of
///   `round(256 · σ(q · s))` clamped to 0 … 255 (a gate in units of 1/256), and the gated
///   activation `x · gate` is requantized by `s_x / (256 · s_out)`.
/// - The output: int8 logits; ``logits(for:)`` returns them times ``outputScale``.
///
/// The C file of ``cSource(name:)`` computes the same integers: its outputs are bit-identical.
public struct QuantizedModel: Sendable {
  /// The window length.
  public let timeSteps: Int
  /// The input channels.
  public let channels: Int
  /// The number of outputs (classes).
  public let classes: Int
  /// How the activation ranges were calibrated.
  public let calibration: CalibrationMethod
  /// The scale of the int8 logits.
  public let outputScale: Float
  /// The multiply-accumulates of one window.
  public let multiplyAccumulates: Int

  let mean: [Float]
  let inputScale: [Float]
  let ops: [QuantizedOp]
  let plan: LoweredModel.Plan
  let card: ModelCard

  /// The bytes of constant data in the C file: int8 weights, int32 biases and multipliers, shifts,
  /// gate tables, and the float input mean and scale.
  public var weightBytes: Int {
    ops.reduce(8 * channels + 4) { $0 + $1.constantBytes }
  }

  /// The bytes of the activation arena.
  public var arenaBytes: Int { plan.size }

  /// Quantizes `graph`, calibrating the activation ranges on `calibrationWindows`, raw windows
  /// `[n, timeSteps, channels]` (the graph applies its own z-score).
  ///
  /// - Throws: ``ExportError/unsupported(_:)`` as ``InferenceGraph/cSource(name:)``, or for
  ///   calibration windows of the wrong shape.
  public init(
    graph: InferenceGraph, calibrationWindows: Tensor, method: CalibrationMethod = .minMax
  ) throws(ExportError) {
    let model = try LoweredModel(graph)
    let shape = calibrationWindows.shape
    guard shape.count == 3, shape[0] > 0, shape[1] == model.timeSteps, shape[2] == model.channels
    else {
      throw .unsupported(
        "calibration windows \(shape), expected [n, \(model.timeSteps), \(model.channels)]")
    }
    let ranges = Self.calibrate(model, calibrationWindows, method)
    var next = 0
    func scale() -> Double {
      defer { next += 1 }
      return Swift.max(ranges[next], 1e-6) / 127
    }
    var s = scale()
    timeSteps = model.timeSteps
    channels = model.channels
    classes = model.outputCount
    calibration = method
    mean = model.mean
    inputScale = model.standardDeviation.map { Float(1 / (Double($0) * s)) }
    var ops: [QuantizedOp] = []
    for op in model.ops {
      switch op {
      case .conv(let c):
        let out = scale()
        ops.append(.conv(QuantizedConv(c, inputScale: s, outputScale: out)))
        s = out
      case .maxPool(let length, let channels, let kernel, let stride, let pad, let outLength):
        ops.append(
          .maxPool(
            length: length, channels: channels, kernel: kernel, stride: stride, pad: pad,
            outLength: outLength))
      case .globalAvgPool(let length, let channels):
        let out = scale()
        ops.append(
          .globalAvgPool(
            length: length, channels: channels,
            Requantizer(scale: s / (Double(length) * out))))
        s = out
      case .globalMaxPool(let length, let channels):
        ops.append(.globalMaxPool(length: length, channels: channels))
      case .relu(let count):
        ops.append(.relu(count: count))
      case .channelAttention(let length, let channels, let hidden, let output, let h):
        let (hiddenScale, logitScale, out) = (scale(), scale(), scale())
        let (w1, s1) = Self.perChannel(hidden, outputs: h)
        let (w2, s2) = Self.perChannel(output, outputs: channels)
        ops.append(
          .channelAttention(
            QuantizedChannelAttention(
              length: length, channels: channels, h: h,
              average: Requantizer(scale: 1 / Double(length)), hidden: w1,
              hiddenRequantizers: s1.map { Requantizer(scale: s * $0 / hiddenScale) },
              output: w2,
              outputRequantizers: s2.map { Requantizer(scale: hiddenScale * $0 / logitScale) },
              table: Self.sigmoidTable(logitScale),
              gated: Requantizer(scale: s / (256 * out)))))
        s = out
      case .spatialAttention(let length, let channels, let kernel, let filter):
        let (logitScale, out) = (scale(), scale())
        let (f, fs) = Self.perChannel(filter, outputs: 1)
        ops.append(
          .spatialAttention(
            QuantizedSpatialAttention(
              length: length, channels: channels, kernel: kernel,
              mean: Requantizer(scale: 1 / Double(channels)), filter: f,
              logit: Requantizer(scale: s * fs[0] / logitScale),
              table: Self.sigmoidTable(logitScale), gated: Requantizer(scale: s / (256 * out)))))
        s = out
      }
    }
    self.ops = ops
    outputScale = Float(s)
    plan = model.plan
    multiplyAccumulates = model.multiplyAccumulates
    card = graph.card
  }

  /// Symmetric int8 per output channel of a `[rows, outputs]` matrix: the values and the scales.
  static func perChannel(_ weights: [Float], outputs: Int) -> ([Int8], [Double]) {
    var scales = [Double](repeating: 0, count: outputs)
    for (index, w) in weights.enumerated() {
      scales[index % outputs] = Swift.max(scales[index % outputs], Double(abs(w)))
    }
    scales = scales.map { $0 > 0 ? $0 / 127 : 1 }
    let values = weights.enumerated().map { index, w in
      Int8(Swift.max(-127, Swift.min(127, (Double(w) / scales[index % outputs]).rounded())))
    }
    return (values, scales)
  }

  /// `round(256 · σ(q · scale))` clamped to 0 … 255 for q = −128 … 127.
  static func sigmoidTable(_ scale: Double) -> [UInt8] {
    (-128...127).map { q in
      UInt8(Swift.min(255, Swift.max(0, (256 / (1 + exp(-Double(q) * scale))).rounded())))
    }
  }

  /// The range of every quantized value, in the order ``LoweredModel/run(_:observe:)`` notes
  /// them.
  static func calibrate(_ model: LoweredModel, _ windows: Tensor, _ method: CalibrationMethod)
    -> [Double]
  {
    let scalars = windows.scalars
    let size = model.timeSteps * model.channels
    var maxima: [Double] = []
    var samples: [[Float]] = []
    for index in 0..<windows.shape[0] {
      _ = model.run(scalars[(index * size)..<((index + 1) * size)]) { point, values in
        if point == maxima.count {
          maxima.append(0)
          samples.append([])
        }
        var largest: Float = 0
        for v in values { largest = Swift.max(largest, abs(v)) }
        maxima[point] = Swift.max(maxima[point], Double(largest))
        if method != .minMax {
          let step = Swift.max(1, values.count / 512)
          for i in stride(from: 0, to: values.count, by: step) {
            samples[point].append(abs(values[i]))
          }
        }
      }
    }
    switch method {
    case .minMax:
      return maxima
    case .percentile(let p):
      return samples.map { values in
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count - 1)).rounded(.down))
        return Double(sorted[Swift.max(0, Swift.min(sorted.count - 1, rank))])
      }
    case .mse:
      return zip(samples, maxima).map { values, largest in
        var best = (range: largest, error: Double.infinity)
        for step in 1...64 {
          let range = largest * Double(step) / 64
          guard range > 0 else { continue }
          let scale = range / 127
          var error = 0.0
          // At most about 32,768 of the values, evenly spread.
          for v in stride(from: 0, to: values.count, by: Swift.max(1, values.count / 32_768))
            .lazy.map({ values[$0] })
          {
            let q = Swift.min(127, (Double(v) / scale).rounded())
            error += (Double(v) - q * scale) * (Double(v) - q * scale)
          }
          if error < best.error { best = (range, error) }
        }
        return best.range
      }
    }
  }
}

// MARK: - The integer executor

extension QuantizedModel {
  /// The input as int8: `(x − mean) · inputScale` in float32, rounded half away from zero and
  /// clamped to −127 … 127; a NaN sample becomes 0 (the channel's mean).
  static func quantize(_ v: Float) -> Int8 {
    if v.isNaN { return 0 }
    if v >= 127 { return 127 }
    if v <= -127 { return -127 }
    return Int8(v >= 0 ? Int32(v + 0.5) : -Int32(0.5 - v))
  }

  /// The int8 logits of one raw window (`timeSteps · channels` scalars, channels-last), computed
  /// with integers only after the input is quantized.
  public func quantizedLogits(_ window: ArraySlice<Float>) -> [Int8] {
    precondition(window.count == timeSteps * channels, "a window of \(window.count) scalars")
    var x = [Int8](repeating: 0, count: timeSteps * channels)
    for t in 0..<timeSteps {
      for c in 0..<channels {
        let i = t * channels + c
        x[i] = Self.quantize((window[window.startIndex + i] - mean[c]) * inputScale[c])
      }
    }
    for op in ops { x = op.run(x) }
    return x
  }

  /// The dequantized logits `[n, classes]` of raw windows `[n, timeSteps, channels]`.
  public func logits(for windows: Tensor) -> Tensor {
    let size = timeSteps * channels
    let n = windows.scalarCount / size
    let scalars = windows.scalars
    var result: [Float] = []
    result.reserveCapacity(n * classes)
    for index in 0..<n {
      let q = quantizedLogits(scalars[(index * size)..<((index + 1) * size)])
      result += q.map { Float($0) * outputScale }
    }
    return try! Tensor(shape: [n, classes], scalars: result)
  }

  /// The predicted class of each raw window (the first largest int8 logit).
  public func predictions(for windows: Tensor) -> [Int] {
    let size = timeSteps * channels
    let scalars = windows.scalars
    return (0..<(windows.scalarCount / size)).map { index in
      let q = quantizedLogits(scalars[(index * size)..<((index + 1) * size)])
      return q.firstIndex(of: q.max()!)!
    }
  }
}

/// A convolution (or dense layer) in int8.
struct QuantizedConv: Sendable {
  var geometry: LoweredModel.Conv
  var filter: [Int8]
  var bias: [Int32]
  var requantizers: [Requantizer]

  init(_ c: LoweredModel.Conv, inputScale: Double, outputScale: Double) {
    var geometry = c
    geometry.filter = []
    geometry.bias = []
    self.geometry = geometry
    let (values, scales) = QuantizedModel.perChannel(c.filter, outputs: c.outChannels)
    filter = values
    bias = c.bias.enumerated().map { o, b in
      Int32(Swift.max(-2e9, Swift.min(2e9, (Double(b) / (inputScale * scales[o])).rounded())))
    }
    requantizers = scales.map { Requantizer(scale: inputScale * $0 / outputScale) }
  }
}

struct QuantizedChannelAttention: Sendable {
  var length: Int
  var channels: Int
  var h: Int
  var average: Requantizer
  var hidden: [Int8]
  var hiddenRequantizers: [Requantizer]
  var output: [Int8]
  var outputRequantizers: [Requantizer]
  var table: [UInt8]
  var gated: Requantizer
}

struct QuantizedSpatialAttention: Sendable {
  var length: Int
  var channels: Int
  var kernel: Int
  var mean: Requantizer
  var filter: [Int8]
  var logit: Requantizer
  var table: [UInt8]
  var gated: Requantizer
}

enum QuantizedOp: Sendable {
  case conv(QuantizedConv)
  case maxPool(length: Int, channels: Int, kernel: Int, stride: Int, pad: Int, outLength: Int)
  case globalAvgPool(length: Int, channels: Int, Requantizer)
  case globalMaxPool(length: Int, channels: Int)
  case relu(count: Int)
  case channelAttention(QuantizedChannelAttention)
  case spatialAttention(QuantizedSpatialAttention)

  var constantBytes: Int {
    switch self {
    case .conv(let c): c.filter.count + 9 * c.bias.count
    case .globalAvgPool: 8
    case .channelAttention(let a):
      a.hidden.count + a.output.count + 9 * (a.h + a.channels) + 256 + 16
    case .spatialAttention(let a): a.filter.count + 256 + 24
    default: 0
    }
  }

  func run(_ x: [Int8]) -> [Int8] {
    switch self {
    case .conv(let q):
      let c = q.geometry
      var y = [Int8](repeating: 0, count: c.outLength * c.outChannels)
      let lower: Int8 = c.relu ? 0 : -127
      for t in 0..<c.outLength {
        for o in 0..<c.outChannels {
          var acc = q.bias[o]
          for j in 0..<c.kernel {
            let s = t * c.stride + j * c.dilation - c.pad
            guard s >= 0 && s < c.length else { continue }
            for i in 0..<c.inChannels {
              acc &+=
                Int32(x[s * c.inChannels + i])
                * Int32(q.filter[(j * c.inChannels + i) * c.outChannels + o])
            }
          }
          y[t * c.outChannels + o] = q.requantizers[o].int8(acc, lowerBound: lower)
        }
      }
      return y
    case .maxPool(let length, let channels, let kernel, let stride, let pad, let outLength):
      var y = [Int8](repeating: 0, count: outLength * channels)
      for t in 0..<outLength {
        for ch in 0..<channels {
          var best = Int8.min
          for j in 0..<kernel {
            let s = t * stride + j - pad
            if s >= 0 && s < length { best = Swift.max(best, x[s * channels + ch]) }
          }
          y[t * channels + ch] = best
        }
      }
      return y
    case .globalAvgPool(let length, let channels, let r):
      return (0..<channels).map { ch in
        var sum: Int32 = 0
        for t in 0..<length { sum += Int32(x[t * channels + ch]) }
        return r.int8(sum)
      }
    case .globalMaxPool(let length, let channels):
      return (0..<channels).map { ch in
        var best = Int8.min
        for t in 0..<length { best = Swift.max(best, x[t * channels + ch]) }
        return best
      }
    case .relu:
      return x.map { Swift.max(0, $0) }
    case .channelAttention(let a):
      let (length, channels, h) = (a.length, a.channels, a.h)
      var average = [Int8](repeating: 0, count: channels)
      var maximum = [Int8](repeating: 0, count: channels)
      for ch in 0..<channels {
        var sum: Int32 = 0
        var best = Int8.min
        for t in 0..<length {
          sum += Int32(x[t * channels + ch])
          best = Swift.max(best, x[t * channels + ch])
        }
        average[ch] = a.average.int8(sum)
        maximum[ch] = best
      }
      var hidden = [Int8](repeating: 0, count: 2 * h)
      for j in 0..<h {
        var sumAverage: Int32 = 0
        var sumMaximum: Int32 = 0
        for ch in 0..<channels {
          sumAverage += Int32(average[ch]) * Int32(a.hidden[ch * h + j])
          sumMaximum += Int32(maximum[ch]) * Int32(a.hidden[ch * h + j])
        }
        hidden[j] = a.hiddenRequantizers[j].int8(sumAverage, lowerBound: 0)
        hidden[h + j] = a.hiddenRequantizers[j].int8(sumMaximum, lowerBound: 0)
      }
      var gate = [Int32](repeating: 0, count: channels)
      for ch in 0..<channels {
        var acc: Int32 = 0
        for j in 0..<h {
          acc += (Int32(hidden[j]) + Int32(hidden[h + j])) * Int32(a.output[j * channels + ch])
        }
        let logit = a.outputRequantizers[ch].int8(acc)
        gate[ch] = Int32(a.table[Int(logit) + 128])
      }
      var y = x
      for t in 0..<length {
        for ch in 0..<channels {
          y[t * channels + ch] = a.gated.int8(Int32(x[t * channels + ch]) * gate[ch])
        }
      }
      return y
    case .spatialAttention(let a):
      let (length, channels, kernel) = (a.length, a.channels, a.kernel)
      var maps = [Int8](repeating: 0, count: 2 * length)
      for t in 0..<length {
        var sum: Int32 = 0
        var best = Int8.min
        for ch in 0..<channels {
          sum += Int32(x[t * channels + ch])
          best = Swift.max(best, x[t * channels + ch])
        }
        maps[2 * t] = a.mean.int8(sum)
        maps[2 * t + 1] = best
      }
      let pad = (kernel - 1) / 2
      var y = x
      for t in 0..<length {
        var acc: Int32 = 0
        for j in 0..<kernel {
          let u = t + j - pad
          guard u >= 0 && u < length else { continue }
          acc += Int32(maps[2 * u]) * Int32(a.filter[2 * j])
          acc += Int32(maps[2 * u + 1]) * Int32(a.filter[2 * j + 1])
        }
        let logit = a.logit.int8(acc)
        let gate = Int32(a.table[Int(logit) + 128])
        for ch in 0..<channels {
          y[t * channels + ch] = a.gated.int8(Int32(x[t * channels + ch]) * gate)
        }
      }
      return y
    }
  }
}
