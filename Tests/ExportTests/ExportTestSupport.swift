import Export
import Foundation
import Layers
import Tensor

/// One model the export tests check: a reference model of the study, or a model with every
/// built-in layer type.
struct ExportCase: CustomStringConvertible, Sendable {
  var name: String
  /// The family and role of a reference model; `nil` for ``everyLayer(generator:)``.
  var reference: (family: ModelFamily, role: ReferenceModel)?
  var timeSteps: Int
  var classes = 6

  var description: String { name }

  /// What `Scripts/onnx-check.sh` checks: the CNN family's five models, DeepConvLSTM OM and LM
  /// with and without CBAM-2D, and a model with every built-in layer type.
  static let all: [ExportCase] =
    ReferenceModel.allCases.map {
      ExportCase(name: $0.rawValue, reference: (.cnn, $0), timeSteps: 128)
    } + [
      ExportCase(name: "dcl-om", reference: (.deepConvLSTM(), .teacher), timeSteps: 64),
      ExportCase(name: "dcl-om-att", reference: (.deepConvLSTM(), .teacherAtt), timeSteps: 64),
      ExportCase(name: "dcl-lm", reference: (.deepConvLSTM(), .lm), timeSteps: 64),
      ExportCase(name: "dcl-lm-att", reference: (.deepConvLSTM(), .lmAtt), timeSteps: 64),
      ExportCase(name: "every-layer", reference: nil, timeSteps: 32),
    ]

  static let channels = 9

  /// A model of every built-in layer type for `[batch, 32, 9]` windows, ending in a softmax over
  /// 6 classes: strided, dilated and even-kernel convolutions, `same` pooling, batch
  /// normalization, both attentions on both ranks, reshapes, a nested model, an LSTM and a
  /// per-step dense layer.
  static func everyLayer(generator rng: inout SplitMix64) -> Sequential {
    Sequential {
      Conv1D(
        inputChannels: channels, outputChannels: 8, kernelSize: 3, stride: 2, dilation: 2,
        padding: .same, generator: &rng)  // [16, 8]
      BatchNorm(channels: 8)
      Tanh()
      AvgPool1D(kernelSize: 3, stride: 1, padding: .same)
      Sequential {
        MaxPool1D(kernelSize: 3, stride: 2, padding: .same)  // [8, 8]
        ChannelAttention(channels: 8, reduction: 2, generator: &rng)
      }
      SpatialAttention(kernelSize: 5, generator: &rng)
      Sigmoid()
      Reshape([-1, 4, 2])  // [8, 4, 2]
      Conv2D(
        inputChannels: 2, outputChannels: 3, kernelHeight: 3, kernelWidth: 2, padding: .same,
        generator: &rng)
      CBAM2D(filters: 3, reduction: 1, spatialKernel: 3, generator: &rng)
      SpatialAttention2D(kernelSize: 3, generator: &rng)
      ReLU()
      Flatten()  // [96]
      Reshape([8, 12])
      LSTM(inputSize: 12, units: 6, returnSequences: true, generator: &rng)  // [8, 6]
      Dense(inputSize: 6, outputSize: 5, generator: &rng)
      ReLU()
      Conv1D(inputChannels: 5, outputChannels: 4, kernelSize: 2, padding: .valid, generator: &rng)
      Conv1D(inputChannels: 4, outputChannels: 4, kernelSize: 4, padding: .same, generator: &rng)
      CBAM(channels: 4, reduction: 2, spatialKernel: 3, generator: &rng)  // [7, 4]
      GlobalMaxPool1D()
      Dropout(rate: 0.3)
      Dense(inputSize: 4, outputSize: 6, generator: &rng)
      Softmax()
    }
  }

  /// The model with random weights (biases and batch-norm statistics too), and a card with a
  /// random normalization.
  func make(seed: UInt64 = 1) throws -> (model: Sequential, card: ModelCard) {
    var rng = SplitMix64(seed: seed)
    var model =
      if let (family, role) = reference {
        family.make(role, channels: Self.channels, classes: classes, generator: &rng)
      } else {
        Self.everyLayer(generator: &rng)
      }
    model.forEachParameter { name, value in
      if name.hasSuffix("bias") || name.hasSuffix("offset") || name.hasSuffix("scale") {
        value =
          Tensor.uniform(value.shape, in: -0.1...0.1, using: &rng)
          + (name.hasSuffix("scale") ? 1 : 0)
      }
    }
    model.forEachState { name, value in
      value = Tensor.uniform(value.shape, in: 0.1...0.9, using: &rng)
    }
    let mean = Tensor.uniform([Self.channels], in: -1...1, using: &rng).scalars
    let std = Tensor.uniform([Self.channels], in: 0.5...2, using: &rng).scalars
    let card = try ModelCard(
      model: model, normalization: InputNormalization(mean: mean, standardDeviation: std),
      classNames: ["walking", "upstairs", "downstairs", "sitting", "standing", "lying"],
      channelNames: (0..<Self.channels).map { "channel \($0)" }, windowLength: timeSteps,
      samplingRate: 50)
    return (model, card)
  }
}

/// Checkpoint tensors recovered from an exported model's initializers: each initializer named
/// after a checkpoint tensor is brought back to the package's layout (convolution filters from
/// `[out, in, k…]`, LSTM weights from ONNX's gate order `i, o, f, c`).
func checkpointTensors(from model: ONNXModel) -> [String: (shape: [Int], scalars: [Float])] {
  var result: [String: (shape: [Int], scalars: [Float])] = [:]
  let graph = model.graph
  for node in graph.nodes {
    switch node.opType {
    case "Conv":
      guard let filter = graph.initializer(node.inputs[1]), let values = filter.floats else {
        continue
      }
      let (output, input) = (filter.dims[0], filter.dims[1])
      let spatial = filter.dims.dropFirst(2).reduce(1, *)
      var ours = [Float](repeating: 0, count: values.count)
      for o in 0..<output {
        for i in 0..<input {
          for s in 0..<spatial {
            ours[(s * input + i) * output + o] = values[(o * input + i) * spatial + s]
          }
        }
      }
      result[filter.name] = (Array(filter.dims.dropFirst(2)) + [input, output], ours)
      if node.inputs.count > 2, let bias = graph.initializer(node.inputs[2]) {
        result[bias.name] = (bias.dims, bias.floats!)
      }
    case "LSTM":
      let layer = String(node.inputs[1].dropLast(2))  // "<layer>.W"
      let w = graph.initializer(node.inputs[1])!
      let r = graph.initializer(node.inputs[2])!
      let b = graph.initializer(node.inputs[3])!
      let units = r.dims[2]
      let order = [0, 3, 1, 2]  // ONNX position → our gate
      func ours(_ tensor: ONNXTensor) -> [Float] {
        let rows = tensor.dims[2]
        let values = tensor.floats!
        var result = [Float](repeating: 0, count: values.count)
        for (position, gate) in order.enumerated() {
          for j in 0..<units {
            for row in 0..<rows {
              result[row * 4 * units + gate * units + j] =
                values[(position * units + j) * rows + row]
            }
          }
        }
        return result
      }
      result["\(layer).kernel"] = ([w.dims[2], 4 * units], ours(w))
      result["\(layer).recurrentKernel"] = ([units, 4 * units], ours(r))
      var bias = [Float](repeating: 0, count: 4 * units)
      for (position, gate) in order.enumerated() {
        for j in 0..<units { bias[gate * units + j] = b.floats![position * units + j] }
      }
      result["\(layer).bias"] = ([4 * units], bias)
    default:
      for input in node.inputs {
        if let tensor = graph.initializer(input), let values = tensor.floats {
          result[tensor.name] = (tensor.dims, values)
        }
      }
    }
  }
  return result
}

/// Little-endian `float32` bytes.
func rawFloats(_ values: [Float]) -> Data {
  var data = Data(capacity: 4 * values.count)
  for value in values {
    withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
  }
  return data
}
