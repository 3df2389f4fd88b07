import Foundation
import Layers
import Tensor

extension InferenceGraph {
  /// The opset the exporter targets.
  public static let onnxOpset = 17

  /// The graph as an ONNX model (opset 17, IR version 8) of standard operators.
  ///
  /// - The input `"input"` is a raw window batch `[batch, time, channels]`, `float32`, with a
  ///   dynamic batch axis (and a dynamic time axis when the card has no window length). When the
  ///   graph has a ``normalization``, its z-score is the graph's first two nodes (`Sub` the means,
  ///   `Div` by the standard deviations), so the model takes raw sensor windows.
  /// - The output `"logits"` is the model's output, `[batch, classes]` for the study's models.
  /// - Convolutions, pooling and CBAM run channels-first as ONNX needs: `Transpose` nodes convert
  ///   where the layout changes. CBAM is expressed in standard operators (`ReduceMean`,
  ///   `ReduceMax`, `MatMul`, `Relu`, `Sigmoid`, `Concat`, `Conv`, `Mul`); `LSTM` becomes the
  ///   `LSTM` operator, its gates reordered from `i, f, c, o` to ONNX's `i, o, f, c` and its bias
  ///   laid out `[Wb, Rb]` with `Rb = 0`.
  /// - Weights are `float32` initializers named after the checkpoint tensors they come from
  ///   (`"3.filter"`), converted to ONNX's layouts (a convolution's `[out, in, kernel…]`; an LSTM
  ///   layer's `"<layer>.W"`, `"<layer>.R"`, `"<layer>.B"`).
  /// - The card's class names, channel names, window length, sampling rate and normalization go
  ///   to `metadata_props` (keys ``ONNXMetadataKey``).
  ///
  /// - Throws: ``ExportError/unsupported(_:)`` for a shape the exporter cannot lay out.
  public func onnxModel() throws(ExportError) -> ONNXModel {
    var builder = ONNXBuilder(rank: 3)
    builder.fixedTime = windowLength != nil
    builder.value = "input"
    if let normalization {
      let mean = builder.constant("normalization.mean", [inputChannels], normalization.mean)
      let std = builder.constant(
        "normalization.standardDeviation", [inputChannels], normalization.standardDeviation)
      builder.apply("Sub", with: [mean], name: "normalization.sub")
      builder.apply("Div", with: [std], name: "normalization.div")
    }
    for step in steps { try builder.add(step) }
    builder.toChannelsLast(name: "output")
    if builder.nodes.isEmpty {
      builder.apply("Identity", name: "output")
    }
    builder.nodes[builder.nodes.count - 1].outputs[0] = "logits"

    let example = outputShape(batch: 1)
    var outputDims: [ONNXValueInfo.Dimension] = [.symbol("batch")]
    for (axis, extent) in example.enumerated().dropFirst() {
      let fixed = windowLength != nil || axis == example.count - 1
      outputDims.append(fixed ? .value(extent) : .symbol("output_\(axis)"))
    }
    let graph = ONNXGraph(
      name: "hardistill", nodes: builder.nodes, initializers: builder.initializers,
      inputs: [
        ONNXValueInfo(
          name: "input",
          shape: [
            .symbol("batch"), windowLength.map { .value($0) } ?? .symbol("time"),
            .value(inputChannels),
          ])
      ],
      outputs: [ONNXValueInfo(name: "logits", shape: outputDims)])
    return ONNXModel(
      opsetImports: [("", Self.onnxOpset)],
      docString:
        "Input: raw windows [batch, time, channels]"
        + (normalization == nil ? "" : " (the graph applies the z-score)") + ". Output: logits.",
      graph: graph, metadata: onnxMetadata())
  }

  private func onnxMetadata() -> [(key: String, value: String)] {
    func json(_ value: some Encodable) -> String {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
    }
    var result: [(key: String, value: String)] = [
      (ONNXMetadataKey.inputLayout, "[batch, time, channels], raw sensor values")
    ]
    if let names = card.classNames { result.append((ONNXMetadataKey.classNames, json(names))) }
    if let names = card.channelNames { result.append((ONNXMetadataKey.channelNames, json(names))) }
    if let length = windowLength { result.append((ONNXMetadataKey.windowLength, String(length))) }
    if let rate = card.samplingRate {
      result.append((ONNXMetadataKey.samplingRate, String(rate)))
    }
    if let normalization {
      result.append((ONNXMetadataKey.normalization, json(normalization)))
    }
    return result
  }
}

/// The `metadata_props` keys of an exported model. List values are JSON arrays; the
/// normalization is a JSON object `{"mean": […], "standardDeviation": […]}`, for information:
/// the graph already applies it.
public enum ONNXMetadataKey {
  /// What the input is: `"[batch, time, channels], raw sensor values"`.
  public static let inputLayout = "hardistill.input_layout"
  /// The class names, in logit order (JSON array).
  public static let classNames = "hardistill.class_names"
  /// The channel names, in input channel order (JSON array).
  public static let channelNames = "hardistill.channel_names"
  /// The window length in time steps (decimal).
  public static let windowLength = "hardistill.window_length"
  /// The sampling rate in hertz (decimal).
  public static let samplingRate = "hardistill.sampling_rate"
  /// The z-score the graph applies to its input (JSON object).
  public static let normalization = "hardistill.normalization"
}

extension ONNXModel {
  /// Writes the model atomically: to `<file>.partial` beside `url`, then renamed over `url`, so
  /// a crash never leaves a half-written `.onnx` file.
  ///
  /// - Throws: ``ExportError/unwritable(path:reason:)``.
  public func write(to url: URL) throws(ExportError) {
    try writeAtomically(Data(serialized()), to: url)
  }

  /// Reads an `.onnx` file written by this package.
  ///
  /// - Throws: ``ExportError/unwritable(path:reason:)`` when the file cannot be read,
  ///   ``ExportError/malformedONNX(reason:)`` when it is not the subset.
  public init(contentsOf url: URL) throws(ExportError) {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw .unwritable(path: url.path, reason: error.localizedDescription)
    }
    try self.init(serialized: [UInt8](data))
  }
}

/// Builds the node list: tracks the current value, its rank and whether it is channels-first.
private struct ONNXBuilder {
  var nodes: [ONNXNode] = []
  var initializers: [ONNXTensor] = []
  var value = ""
  var rank: Int
  var channelsFirst = false
  /// Whether the input's time axis has a fixed length (the card's window length), so that the
  /// steps' example shapes are the real ones.
  var fixedTime = false
  private var counter = 0
  private var constants: Set<String> = []

  init(rank: Int) { self.rank = rank }

  /// Adds a node and returns its (first) output's name.
  @discardableResult
  mutating func node(
    _ op: String, _ inputs: [String], name: String, attributes: [ONNXAttribute] = [],
    outputs: Int = 1
  ) -> [String] {
    counter += 1
    let names = (0..<outputs).map { "\(name)/\(op)_\(counter)" + (outputs > 1 ? ":\($0)" : "") }
    nodes.append(
      ONNXNode(
        op, inputs: inputs, outputs: names, name: "\(name)/\(op)_\(counter)",
        attributes: attributes))
    return names
  }

  /// Applies `op` to the current value (and `with`), making its output the current value.
  mutating func apply(
    _ op: String, with extra: [String] = [], name: String, attributes: [ONNXAttribute] = []
  ) {
    value = node(op, [value] + extra, name: name, attributes: attributes)[0]
  }

  mutating func constant(_ name: String, _ dims: [Int], _ values: [Float]) -> String {
    initializers.append(ONNXTensor(name: name, dims: dims, scalars: .float(values)))
    return name
  }

  mutating func int64s(_ values: [Int]) -> String {
    let name = "const.int64[" + values.map(String.init).joined(separator: ",") + "]"
    if constants.insert(name).inserted {
      initializers.append(ONNXTensor(name: name, dims: [values.count], scalars: .int64(values)))
    }
    return name
  }

  mutating func toChannelsFirst(name: String) {
    guard rank >= 3, !channelsFirst else { return }
    let perm = [0, rank - 1] + Array(1..<(rank - 1))
    apply("Transpose", name: name, attributes: [ONNXAttribute("perm", .ints(perm))])
    channelsFirst = true
  }

  mutating func toChannelsLast(name: String) {
    guard rank >= 3, channelsFirst else {
      channelsFirst = channelsFirst && rank >= 3
      return
    }
    let perm = [0] + Array(2..<rank) + [1]
    apply("Transpose", name: name, attributes: [ONNXAttribute("perm", .ints(perm))])
    channelsFirst = false
  }

  /// Our `[spatial…, in, out]` filter as ONNX's `[out, in, spatial…]`.
  static func convolutionWeight(_ filter: Tensor) -> (dims: [Int], values: [Float]) {
    let shape = filter.shape
    let (input, output) = (shape[shape.count - 2], shape[shape.count - 1])
    let spatial = shape.dropLast(2).reduce(1, *)
    let source = filter.scalars
    var values = [Float](repeating: 0, count: source.count)
    for s in 0..<spatial {
      for i in 0..<input {
        for o in 0..<output {
          values[(o * input + i) * spatial + s] = source[(s * input + i) * output + o]
        }
      }
    }
    return ([output, input] + shape.dropLast(2), values)
  }

  /// `pads` for `same` padding (stride 1): per spatial axis `(k − 1)·d / 2` before, the rest
  /// after; all begins, then all ends.
  static func samePads(_ kernel: [Int], dilation: Int = 1) -> [Int] {
    let totals = kernel.map { ($0 - 1) * dilation }
    return totals.map { $0 / 2 } + totals.map { $0 - $0 / 2 }
  }

  /// A convolution; `inputLength` is the time steps it sees when ``fixedTime``.
  mutating func convolution(
    _ name: String, filter: Tensor, bias: Tensor?, stride: Int, dilation: Int, padding: Padding,
    inputLength: Int? = nil
  ) throws(ExportError) {
    let kernel = Array(filter.shape.dropLast(2))
    let weight = Self.convolutionWeight(filter)
    var inputs = [constant("\(name).filter", weight.dims, weight.values)]
    if let bias { inputs.append(constant("\(name).bias", bias.shape, bias.scalars)) }
    var attributes = [
      ONNXAttribute("kernel_shape", .ints(kernel)),
      ONNXAttribute("strides", .ints(kernel.map { _ in stride })),
      ONNXAttribute("dilations", .ints(kernel.map { _ in dilation })),
    ]
    switch padding {
    case .valid:
      attributes.append(ONNXAttribute("pads", .ints(Array(repeating: 0, count: 2 * kernel.count))))
    case .same where stride == 1:
      attributes.append(ONNXAttribute("pads", .ints(Self.samePads(kernel, dilation: dilation))))
    case .same:
      // Strided `same` (1-D only): the padding depends on the input length.
      if let length = inputLength, fixedTime {
        let output = (length + stride - 1) / stride
        let total = Swift.max(0, (output - 1) * stride + (kernel[0] - 1) * dilation + 1 - length)
        attributes.append(ONNXAttribute("pads", .ints([total / 2, total - total / 2])))
      } else if dilation == 1 {
        attributes.append(ONNXAttribute("auto_pad", .string("SAME_UPPER")))
      } else {
        throw .unsupported(
          "\(name): a strided, dilated `same` convolution needs the card's window length")
      }
    }
    apply("Conv", with: inputs, name: name, attributes: attributes)
  }

  mutating func add(_ step: InferenceStep) throws(ExportError) {
    let name = step.name
    switch step.operation {
    case .conv1D(let filter, let bias, let stride, let dilation, let padding):
      toChannelsFirst(name: name)
      try convolution(
        name, filter: filter, bias: bias, stride: stride, dilation: dilation, padding: padding,
        inputLength: step.inputShape[1])
    case .conv2D(let filter, let bias, let padding):
      toChannelsFirst(name: name)
      try convolution(name, filter: filter, bias: bias, stride: 1, dilation: 1, padding: padding)
    case .dense(let weight, let bias):
      let w = constant("\(name).weight", weight.shape, weight.scalars)
      let b = bias.map { constant("\(name).bias", $0.shape, $0.scalars) }
      if rank == 2 {
        apply("Gemm", with: [w] + (b.map { [$0] } ?? []), name: name)
      } else {
        toChannelsLast(name: name)
        apply("MatMul", with: [w], name: name)
        if let b { apply("Add", with: [b], name: name) }
      }
    case .lstm(let kernel, let recurrent, let bias, let returnSequences):
      try lstm(name, kernel, recurrent, bias, returnSequences)
    case .maxPool1D(let kernel, let stride, let padding),
      .avgPool1D(let kernel, let stride, let padding):
      toChannelsFirst(name: name)
      var attributes = [
        ONNXAttribute("kernel_shape", .ints([kernel])), ONNXAttribute("strides", .ints([stride])),
      ]
      if padding == .same { attributes.append(ONNXAttribute("auto_pad", .string("SAME_UPPER"))) }
      if case .avgPool1D = step.operation {
        attributes.append(ONNXAttribute("count_include_pad", .int(0)))
        apply("AveragePool", name: name, attributes: attributes)
      } else {
        apply("MaxPool", name: name, attributes: attributes)
      }
    case .globalAvgPool1D, .globalMaxPool1D:
      guard rank == 3 else { throw .unsupported("\(name): global pooling of rank \(rank)") }
      let op = if case .globalAvgPool1D = step.operation { "ReduceMean" } else { "ReduceMax" }
      apply(
        op, name: name,
        attributes: [
          ONNXAttribute("axes", .ints([channelsFirst ? 2 : 1])), ONNXAttribute("keepdims", .int(0)),
        ])
      rank = 2
      channelsFirst = false
    case .relu: apply("Relu", name: name)
    case .sigmoid: apply("Sigmoid", name: name)
    case .tanh: apply("Tanh", name: name)
    case .softmax:
      toChannelsLast(name: name)
      apply("Softmax", name: name, attributes: [ONNXAttribute("axis", .int(-1))])
    case .flatten:
      toChannelsLast(name: name)
      apply("Flatten", name: name, attributes: [ONNXAttribute("axis", .int(1))])
      rank = 2
    case .reshape(let shape):
      toChannelsLast(name: name)
      apply("Reshape", with: [int64s([0] + shape)], name: name)
      rank = 1 + shape.count
    case .batchNorm(let scale, let offset, let mean, let variance, let epsilon):
      toChannelsFirst(name: name)
      let inputs = [
        constant("\(name).scale", scale.shape, scale.scalars),
        constant("\(name).offset", offset.shape, offset.scalars),
        constant("\(name).runningMean", mean.shape, mean.scalars),
        constant("\(name).runningVariance", variance.shape, variance.scalars),
      ]
      apply(
        "BatchNormalization", with: inputs, name: name,
        attributes: [ONNXAttribute("epsilon", .float(epsilon))])
    case .channelAttention(let hidden, let output):
      try channelAttention(name, hidden, output)
    case .spatialAttention(let filter), .spatialAttention2D(let filter):
      toChannelsFirst(name: name)
      let x = value
      let keep = [ONNXAttribute("axes", .ints([1])), ONNXAttribute("keepdims", .int(1))]
      let mean = node("ReduceMean", [x], name: name, attributes: keep)[0]
      let max = node("ReduceMax", [x], name: name, attributes: keep)[0]
      value =
        node("Concat", [mean, max], name: name, attributes: [ONNXAttribute("axis", .int(1))])[0]
      try convolution(name, filter: filter, bias: nil, stride: 1, dilation: 1, padding: .same)
      apply("Sigmoid", name: name)
      value = node("Mul", [x, value], name: name)[0]
    }
  }

  /// `x · σ(MLP(mean x) + MLP(max x))`, pooled over every axis but batch and channels.
  mutating func channelAttention(_ name: String, _ hidden: Tensor, _ output: Tensor)
    throws(ExportError)
  {
    guard rank >= 3 else { throw .unsupported("\(name): channel attention on rank \(rank)") }
    toChannelsFirst(name: name)
    let x = value
    let axes = Array(2..<rank)
    let pool = [ONNXAttribute("axes", .ints(axes)), ONNXAttribute("keepdims", .int(0))]
    let w1 = constant("\(name).hidden", hidden.shape, hidden.scalars)
    let w2 = constant("\(name).output", output.shape, output.scalars)
    var branches: [String] = []
    for op in ["ReduceMean", "ReduceMax"] {
      var v = node(op, [x], name: name, attributes: pool)[0]
      v = node("MatMul", [v, w1], name: name)[0]
      v = node("Relu", [v], name: name)[0]
      branches.append(node("MatMul", [v, w2], name: name)[0])
    }
    value = node("Add", branches, name: name)[0]
    apply("Sigmoid", name: name)
    apply("Unsqueeze", with: [int64s(axes)], name: name)
    value = node("Mul", [x, value], name: name)[0]
  }

  /// The ONNX `LSTM` operator on `[batch, time, features]`.
  mutating func lstm(
    _ name: String, _ kernel: Tensor, _ recurrent: Tensor, _ bias: Tensor, _ returnSequences: Bool
  ) throws(ExportError) {
    guard rank == 3 else { throw .unsupported("\(name): an LSTM on rank \(rank)") }
    let units = recurrent.shape[0]
    // ONNX's gate order i, o, f, c in terms of ours (i, f, c, o).
    let order = [0, 3, 1, 2]
    func gates(_ matrix: Tensor) -> [Float] {
      // Ours [rows, 4u] → ONNX [4u, rows], gates reordered.
      let rows = matrix.shape[0]
      let source = matrix.scalars
      var values = [Float](repeating: 0, count: source.count)
      for (position, gate) in order.enumerated() {
        for j in 0..<units {
          for r in 0..<rows {
            values[(position * units + j) * rows + r] = source[r * 4 * units + gate * units + j]
          }
        }
      }
      return values
    }
    let features = kernel.shape[0]
    let w = constant("\(name).W", [1, 4 * units, features], gates(kernel))
    let r = constant("\(name).R", [1, 4 * units, units], gates(recurrent))
    var b = [Float](repeating: 0, count: 8 * units)
    let source = bias.scalars
    for (position, gate) in order.enumerated() {
      for j in 0..<units { b[position * units + j] = source[gate * units + j] }
    }
    let bName = constant("\(name).B", [1, 8 * units], b)
    toChannelsLast(name: name)
    apply("Transpose", name: name, attributes: [ONNXAttribute("perm", .ints([1, 0, 2]))])
    let outputs = node(
      "LSTM", [value, w, r, bName], name: name,
      attributes: [ONNXAttribute("hidden_size", .int(units))], outputs: 2)
    if returnSequences {
      // Y [time, 1, batch, units] → [batch, time, units].
      nodes[nodes.count - 1].outputs = [outputs[0]]
      value = outputs[0]
      apply("Squeeze", with: [int64s([1])], name: name)
      apply("Transpose", name: name, attributes: [ONNXAttribute("perm", .ints([1, 0, 2]))])
    } else {
      // Y_h [1, batch, units] → [batch, units].
      nodes[nodes.count - 1].outputs = ["", outputs[1]]
      value = outputs[1]
      apply("Squeeze", with: [int64s([0])], name: name)
      rank = 2
    }
    channelsFirst = false
  }
}
