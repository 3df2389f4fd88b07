import Export
import Foundation
import Layers
import Tensor

/// One model of the study as the export tests use it: a family, a role and a display name.
struct ExportCase: CustomStringConvertible, Sendable {
  var name: String
  var family: ModelFamily
  var role: ReferenceModel
  var timeSteps: Int

  var description: String { name }

  /// The nine models `Scripts/onnx-check.sh` checks: the CNN family's five, and DeepConvLSTM OM
  /// and LM with and without CBAM-2D.
  static let all: [ExportCase] =
    ReferenceModel.allCases.map {
      ExportCase(name: $0.rawValue, family: .cnn, role: $0, timeSteps: 128)
    }
    + [
      ExportCase(name: "dcl-om", family: .deepConvLSTM(), role: .teacher, timeSteps: 64),
      ExportCase(name: "dcl-om-att", family: .deepConvLSTM(), role: .teacherAtt, timeSteps: 64),
      ExportCase(name: "dcl-lm", family: .deepConvLSTM(), role: .lm, timeSteps: 64),
      ExportCase(name: "dcl-lm-att", family: .deepConvLSTM(), role: .lmAtt, timeSteps: 64),
    ]

  static let channels = 9
  static let classes = 6

  /// The model with random weights (biases too), and a card with a random normalization.
  func make(seed: UInt64 = 1) throws -> (model: Sequential, card: ModelCard) {
    var rng = SplitMix64(seed: seed)
    var model = family.make(
      role, channels: Self.channels, classes: Self.classes, generator: &rng)
    model.forEachParameter { name, value in
      if name.hasSuffix("bias") { value = Tensor.uniform(value.shape, in: -0.1...0.1, using: &rng) }
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
