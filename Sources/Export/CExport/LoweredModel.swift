import Foundation
import Layers
import Tensor

/// An ``InferenceGraph`` of the CNN family lowered to the kernels the C exporters write: one
/// window at a time, activations channels-last (`[time][channels]`), batch normalization folded
/// into the convolution or dense layer before it, a ReLU fused into the layer before it.
struct LoweredModel {
  /// One kernel; sizes are for one window.
  enum Op {
    /// A convolution (or, with `length == 1` and `kernel == 1`, a dense layer).
    case conv(Conv)
    /// Max pooling over time (padded steps are skipped).
    case maxPool(length: Int, channels: Int, kernel: Int, stride: Int, pad: Int, outLength: Int)
    /// The mean over time.
    case globalAvgPool(length: Int, channels: Int)
    /// The maximum over time.
    case globalMaxPool(length: Int, channels: Int)
    /// `max(0, x)`, in place.
    case relu(count: Int)
    /// CBAM channel attention, in place: `hidden` `[channels][h]`, `output` `[h][channels]`.
    case channelAttention(length: Int, channels: Int, hidden: [Float], output: [Float], h: Int)
    /// CBAM spatial attention, in place: `filter` `[kernel][2]`.
    case spatialAttention(length: Int, channels: Int, kernel: Int, filter: [Float])
  }

  /// A convolution over time: filter `[kernel][in][out]`, bias `[out]`.
  struct Conv {
    var length: Int
    var inChannels: Int
    var outLength: Int
    var outChannels: Int
    var kernel: Int
    var stride: Int
    var dilation: Int
    var pad: Int
    var filter: [Float]
    var bias: [Float]
    var relu: Bool
    var name: String

    var multiplyAccumulates: Int { outLength * outChannels * kernel * inChannels }
  }

  var timeSteps: Int
  var channels: Int
  var mean: [Float]
  var standardDeviation: [Float]
  var ops: [Op]
  /// The scalars of the output (the number of classes).
  var outputCount: Int

  /// Lowers `graph`.
  ///
  /// - Throws: ``ExportError/unsupported(_:)`` naming the first step that has no C kernel, and
  ///   for a graph without a normalization or a window length.
  init(_ graph: InferenceGraph) throws(ExportError) {
    guard let normalization = graph.normalization else {
      throw .unsupported(
        "the model card has no input normalization, so the C model could not take raw windows")
    }
    guard let window = graph.windowLength else {
      throw .unsupported("the model card has no window length: the C arena is sized for one")
    }
    timeSteps = window
    channels = graph.inputChannels
    mean = normalization.mean
    standardDeviation = normalization.standardDeviation
    var ops: [Op] = []
    for step in graph.steps {
      let input = step.inputShape
      let output = step.outputShape
      func unsupported(_ what: String) -> ExportError {
        .unsupported("step \(step.name) (\(what)): the C exporter has no kernel for it")
      }
      switch step.operation {
      case .conv1D(let filter, let bias, let stride, let dilation, let padding):
        guard input.count == 3 else { throw unsupported("Conv1D of rank \(input.count)") }
        let kernel = filter.shape[0]
        let outLength = output[1]
        var pad = 0
        if padding == .same {
          let total = Swift.max(
            0, (outLength - 1) * stride + (kernel - 1) * dilation + 1 - input[1])
          pad = total / 2
        }
        ops.append(
          .conv(
            Conv(
              length: input[1], inChannels: input[2], outLength: outLength,
              outChannels: output[2], kernel: kernel, stride: stride, dilation: dilation, pad: pad,
              filter: filter.scalars,
              bias: bias?.scalars ?? [Float](repeating: 0, count: output[2]), relu: false,
              name: step.name)))
      case .dense(let weight, let bias):
        guard input.count == 2 else { throw unsupported("Dense on rank \(input.count)") }
        ops.append(
          .conv(
            Conv(
              length: 1, inChannels: input[1], outLength: 1, outChannels: output[1], kernel: 1,
              stride: 1, dilation: 1, pad: 0, filter: weight.scalars,
              bias: bias?.scalars ?? [Float](repeating: 0, count: output[1]), relu: false,
              name: step.name)))
      case .batchNorm(let scale, let offset, let mean, let variance, let epsilon):
        guard case .conv(var conv) = ops.last, !conv.relu else {
          throw unsupported("BatchNorm not right after a convolution or dense layer")
        }
        let (s, o, m, v) = (scale.scalars, offset.scalars, mean.scalars, variance.scalars)
        for channel in 0..<conv.outChannels {
          let factor = s[channel] / (v[channel] + epsilon).squareRoot()
          for row in 0..<(conv.kernel * conv.inChannels) {
            conv.filter[row * conv.outChannels + channel] *= factor
          }
          conv.bias[channel] = (conv.bias[channel] - m[channel]) * factor + o[channel]
        }
        ops[ops.count - 1] = .conv(conv)
      case .relu:
        if case .conv(var conv) = ops.last, !conv.relu {
          conv.relu = true
          ops[ops.count - 1] = .conv(conv)
        } else {
          ops.append(.relu(count: input.dropFirst().reduce(1, *)))
        }
      case .maxPool1D(let kernel, let stride, let padding):
        guard input.count == 3 else { throw unsupported("MaxPool1D of rank \(input.count)") }
        var pad = 0
        if padding == .same {
          pad = Swift.max(0, (output[1] - 1) * stride + kernel - input[1]) / 2
        }
        ops.append(
          .maxPool(
            length: input[1], channels: input[2], kernel: kernel, stride: stride, pad: pad,
            outLength: output[1]))
      case .globalAvgPool1D:
        ops.append(.globalAvgPool(length: input[1], channels: input[2]))
      case .globalMaxPool1D:
        ops.append(.globalMaxPool(length: input[1], channels: input[2]))
      case .channelAttention(let hidden, let out):
        guard input.count == 3 else {
          throw unsupported("channel attention of rank \(input.count)")
        }
        ops.append(
          .channelAttention(
            length: input[1], channels: input[2], hidden: hidden.scalars, output: out.scalars,
            h: hidden.shape[1]))
      case .spatialAttention(let filter):
        ops.append(
          .spatialAttention(
            length: input[1], channels: input[2], kernel: filter.shape[0], filter: filter.scalars))
      case .conv2D: throw unsupported("Conv2D")
      case .lstm: throw unsupported("LSTM")
      case .avgPool1D: throw unsupported("AvgPool1D")
      case .sigmoid: throw unsupported("Sigmoid")
      case .tanh: throw unsupported("Tanh")
      case .softmax: throw unsupported("Softmax")
      case .flatten: throw unsupported("Flatten")
      case .reshape: throw unsupported("Reshape")
      case .spatialAttention2D: throw unsupported("SpatialAttention2D")
      }
    }
    guard let last = graph.steps.last, last.outputShape.count == 2 else {
      throw .unsupported("the model does not end in one vector per window (e.g. Dense logits)")
    }
    self.ops = ops
    outputCount = last.outputShape[1]
  }

  /// The scalars an op reads and writes (`nil` when it works in place), and the scratch scalars
  /// it needs beside its data.
  static func sizes(_ op: Op) -> (input: Int, output: Int?, scratch: Int) {
    switch op {
    case .conv(let c): (c.length * c.inChannels, c.outLength * c.outChannels, 0)
    case .maxPool(_, let channels, _, _, _, let outLength):
      (sizesIn(op), outLength * channels, 0)
    case .globalAvgPool(let length, let channels), .globalMaxPool(let length, let channels):
      (length * channels, channels, 0)
    case .relu(let count): (count, nil, 0)
    case .channelAttention(let length, let channels, _, _, let h):
      (length * channels, nil, 3 * channels + 2 * h)
    case .spatialAttention(let length, let channels, _, _): (length * channels, nil, 3 * length)
    }
  }

  private static func sizesIn(_ op: Op) -> Int {
    if case .maxPool(let length, let channels, _, _, _, _) = op { return length * channels }
    return 0
  }

  /// Where each op's input, output and scratch sit in one arena of ``Plan/size`` scalars: each
  /// new activation goes to the end of the arena opposite its input, so the arena holds the
  /// largest input-plus-output (or data-plus-scratch) pair, not every activation.
  struct Plan {
    /// The arena's size in scalars.
    var size: Int
    /// The standardized input's offset (always 0).
    var inputOffset = 0
    /// Per op: its input's offset, its output's offset, its scratch's offset.
    var offsets: [(input: Int, output: Int, scratch: Int)]
    /// The final output's offset.
    var outputOffset: Int
  }

  var plan: Plan {
    var size = timeSteps * channels
    for op in ops {
      let (input, output, scratch) = Self.sizes(op)
      size = Swift.max(size, input + (output ?? 0), input + scratch)
    }
    var offsets: [(input: Int, output: Int, scratch: Int)] = []
    var atStart = true
    var current = 0
    for op in ops {
      let (input, output, scratch) = Self.sizes(op)
      let other = { (count: Int) in atStart ? size - count : 0 }
      if let output {
        let out = other(output)
        offsets.append((current, out, 0))
        current = out
        atStart.toggle()
      } else {
        offsets.append((current, current, other(scratch)))
      }
      _ = input
    }
    return Plan(size: size, offsets: offsets, outputOffset: current)
  }

  /// Multiply-accumulates per window.
  var multiplyAccumulates: Int {
    ops.reduce(0) { total, op in
      switch op {
      case .conv(let c): total + c.multiplyAccumulates
      case .channelAttention(let length, let channels, _, _, let h):
        total + 4 * channels * h + length * channels
      case .spatialAttention(let length, let channels, let kernel, _):
        total + 2 * length * kernel + length * channels
      default: total
      }
    }
  }

  /// The float parameters' count (filters, biases, attention weights, normalization).
  var parameterCount: Int {
    ops.reduce(2 * channels) { total, op in
      switch op {
      case .conv(let c): total + c.filter.count + c.bias.count
      case .channelAttention(_, _, let hidden, let output, _): total + hidden.count + output.count
      case .spatialAttention(_, _, _, let filter): total + filter.count
      default: total
      }
    }
  }
}

// MARK: - The float reference, one window at a time

extension LoweredModel {
  /// The standardized window: `(x − mean) / standardDeviation`, channels-last.
  func standardize(_ window: ArraySlice<Float>) -> [Float] {
    var result = [Float](repeating: 0, count: timeSteps * channels)
    for t in 0..<timeSteps {
      for c in 0..<channels {
        let i = t * channels + c
        result[i] = (window[window.startIndex + i] - mean[c]) / standardDeviation[c]
      }
    }
    return result
  }

  /// Runs the model on one raw window, calling `observe(point, values)` with every value that
  /// the int8 model quantizes (numbered as ``QuantizedModel`` numbers its scales).
  func run(_ window: ArraySlice<Float>, observe: (Int, [Float]) -> Void = { _, _ in }) -> [Float] {
    var x = standardize(window)
    var point = 0
    func note(_ values: [Float]) {
      observe(point, values)
      point += 1
    }
    note(x)
    for op in ops {
      switch op {
      case .conv(let c):
        x = Self.convolve(x, c)
        note(x)
      case .maxPool(let length, let channels, let kernel, let stride, let pad, let outLength):
        var y = [Float](repeating: 0, count: outLength * channels)
        for t in 0..<outLength {
          for ch in 0..<channels {
            var best = -Float.infinity
            for j in 0..<kernel {
              let s = t * stride + j - pad
              if s >= 0 && s < length { best = Swift.max(best, x[s * channels + ch]) }
            }
            y[t * channels + ch] = best
          }
        }
        x = y
      case .globalAvgPool(let length, let channels):
        var y = [Float](repeating: 0, count: channels)
        for t in 0..<length { for ch in 0..<channels { y[ch] += x[t * channels + ch] } }
        x = y.map { $0 / Float(length) }
        note(x)
      case .globalMaxPool(let length, let channels):
        var y = [Float](repeating: -.infinity, count: channels)
        for t in 0..<length {
          for ch in 0..<channels { y[ch] = Swift.max(y[ch], x[t * channels + ch]) }
        }
        x = y
      case .relu:
        x = x.map { Swift.max(0, $0) }
      case .channelAttention(let length, let channels, let hidden, let output, let h):
        var average = [Float](repeating: 0, count: channels)
        var maximum = [Float](repeating: -.infinity, count: channels)
        for t in 0..<length {
          for ch in 0..<channels {
            average[ch] += x[t * channels + ch]
            maximum[ch] = Swift.max(maximum[ch], x[t * channels + ch])
          }
        }
        average = average.map { $0 / Float(length) }
        var hiddenValues: [Float] = []
        var logits = [Float](repeating: 0, count: channels)
        for pooled in [average, maximum] {
          var v = [Float](repeating: 0, count: h)
          for j in 0..<h {
            for ch in 0..<channels { v[j] += pooled[ch] * hidden[ch * h + j] }
            v[j] = Swift.max(0, v[j])
          }
          hiddenValues += v
          for ch in 0..<channels {
            for j in 0..<h { logits[ch] += v[j] * output[j * channels + ch] }
          }
        }
        note(hiddenValues)
        note(logits)
        for t in 0..<length {
          for ch in 0..<channels { x[t * channels + ch] *= Self.sigmoid(logits[ch]) }
        }
        note(x)
      case .spatialAttention(let length, let channels, let kernel, let filter):
        var maps = [Float](repeating: 0, count: 2 * length)
        for t in 0..<length {
          var sum: Float = 0
          var best = -Float.infinity
          for ch in 0..<channels {
            sum += x[t * channels + ch]
            best = Swift.max(best, x[t * channels + ch])
          }
          maps[2 * t] = sum / Float(channels)
          maps[2 * t + 1] = best
        }
        let pad = (kernel - 1) / 2
        var logits = [Float](repeating: 0, count: length)
        for t in 0..<length {
          var acc: Float = 0
          for j in 0..<kernel {
            let s = t + j - pad
            if s >= 0 && s < length {
              acc += maps[2 * s] * filter[2 * j] + maps[2 * s + 1] * filter[2 * j + 1]
            }
          }
          logits[t] = acc
        }
        note(logits)
        for t in 0..<length {
          let gate = Self.sigmoid(logits[t])
          for ch in 0..<channels { x[t * channels + ch] *= gate }
        }
        note(x)
      }
    }
    return x
  }

  static func sigmoid(_ x: Float) -> Float { 1 / (1 + Float(exp(Double(-x)))) }

  static func convolve(_ x: [Float], _ c: Conv) -> [Float] {
    var y = [Float](repeating: 0, count: c.outLength * c.outChannels)
    for t in 0..<c.outLength {
      for o in 0..<c.outChannels {
        var acc = c.bias[o]
        for j in 0..<c.kernel {
          let s = t * c.stride + j * c.dilation - c.pad
          guard s >= 0 && s < c.length else { continue }
          for i in 0..<c.inChannels {
            acc += x[s * c.inChannels + i] * c.filter[(j * c.inChannels + i) * c.outChannels + o]
          }
        }
        y[t * c.outChannels + o] = c.relu ? Swift.max(0, acc) : acc
      }
    }
    return y
  }
}
