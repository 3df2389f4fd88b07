import Layers
import Tensor

/// A trained model as a flat list of inference operations with their weights: what an exporter
/// (ONNX today, a C source file tomorrow) walks to write the model in another form.
///
/// The graph is built from a model's `ModelArchitecture` and its tensors (a checkpoint, or a
/// `Sequential` in memory): nested `Sequential`s are flattened, `Dropout` (the identity in
/// inference) is left out, `CBAM` and `CBAM2D` become their channel and spatial halves.
/// Weights keep this package's layouts (`[kernel, in, out]` for `Conv1D`, `[in, out]` for
/// `Dense`, gates `i, f, c, o` for `LSTM`, …): each exporter converts them to its target's.
///
/// The graph takes raw windows `[batch, time, channels]`: when the card has an
/// `InputNormalization`, the z-score is the graph's ``normalization``, applied before the first
/// step.
public struct InferenceGraph {
  /// The number of input channels.
  public var inputChannels: Int
  /// The window length the model was trained on, if the card says.
  public var windowLength: Int?
  /// The z-score applied to raw input windows before the first step, if any.
  public var normalization: InputNormalization?
  /// The operations, in order; each consumes the previous one's output.
  public var steps: [InferenceStep]
  /// The card the graph was made from (class and channel names, sampling rate, …).
  public var card: ModelCard

  /// The graph of the model a checkpoint holds, from its card's architecture and its tensors.
  ///
  /// - Throws: ``ExportError/missingArchitecture(_:)`` for a checkpoint without an architecture,
  ///   ``ExportError/checkpoint(_:)`` when its tensors do not fit the architecture, and the
  ///   errors of ``init(model:card:)``.
  public init(checkpoint: Checkpoint) throws(ExportError) {
    let card: ModelCard?
    let model: Sequential
    do {
      card = try checkpoint.modelCard()
      model = try checkpoint.model().model
    } catch {
      if case .missingArchitecture = error {
        throw .missingArchitecture("the checkpoint's card has no architecture")
      }
      throw .checkpoint(error)
    }
    guard let card else { throw .missingArchitecture("the checkpoint has no model card") }
    try self.init(model: model, card: card)
  }

  /// The graph of `model`, described by `card` (whose own architecture, if any, is ignored: the
  /// model's is used).
  ///
  /// - Throws: ``ExportError/missingArchitecture(_:)`` for a model with a custom layer,
  ///   ``ExportError/unknownInputChannels`` when neither the card nor the first layer says how
  ///   many channels the input has, ``ExportError/shape(_:)`` when a layer rejects the shape it
  ///   would receive (for a window of ``windowLength`` steps, or of 128 when the card has
  ///   none).
  public init(model: Sequential, card: ModelCard = ModelCard()) throws(ExportError) {
    let architecture: ModelArchitecture
    do {
      architecture = try ModelArchitecture(describing: model)
    } catch {
      throw .missingArchitecture(error.description)
    }
    var card = card
    card.architecture = architecture
    let channels =
      card.normalization?.channels ?? card.channelNames?.count
      ?? Self.inputChannels(of: architecture.layers)
    guard let channels else { throw .unknownInputChannels }
    self.inputChannels = channels
    self.windowLength = card.windowLength
    self.normalization = card.normalization
    self.card = card
    // Tensors by dotted name, and shapes for an example window.
    var tensors: [String: Tensor] = [:]
    for (name, value) in model.parameters + model.states { tensors[name] = value }
    var steps: [InferenceStep] = []
    var shape = [1, card.windowLength ?? 128, channels]
    try Self.walk(
      architecture.layers, layers: model.layers, prefix: "", tensors: tensors, shape: &shape,
      into: &steps)
    self.steps = steps
  }

  /// The graph's output shape for `batch` windows of ``windowLength`` steps (128 when the card
  /// has none), e.g. `[batch, classes]`.
  public func outputShape(batch: Int) -> [Int] {
    guard let last = steps.last else { return [batch, windowLength ?? 128, inputChannels] }
    return [batch] + last.outputShape.dropFirst()
  }

  /// The channel count the first layer expects, when it fixes one.
  private static func inputChannels(of layers: [LayerArchitecture]) -> Int? {
    switch layers.first {
    case .conv1D(let input, _, _, _, _, _, _): input
    case .lstm(let input, _, _): input
    case .dense(let input, _, _): input
    case .batchNorm(let channels, _, _): channels
    case .channelAttention(let channels, _, _): channels
    case .cbam(let channels, _, _, _): channels
    case .reshape(let shape) where shape.count == 3 && shape[0] == -1 && shape[2] == 1: shape[1]
    case .sequential(let children): inputChannels(of: children)
    default: nil
    }
  }

  private static func walk(
    _ architectures: [LayerArchitecture], layers: [any Layer], prefix: String,
    tensors: [String: Tensor], shape: inout [Int], into steps: inout [InferenceStep]
  ) throws(ExportError) {
    for (index, (architecture, layer)) in zip(architectures, layers).enumerated() {
      let name = prefix + String(index)
      func tensor(_ leaf: String) -> Tensor { tensors["\(name).\(leaf)"]! }
      func optional(_ leaf: String) -> Tensor? { tensors["\(name).\(leaf)"] }
      let inputShape = shape
      let output: [Int]
      do {
        output = try layer.outputShape(for: shape)
      } catch {
        throw .shape(.inLayer(path: name, underlying: error))
      }
      shape = output
      func step(_ operation: InferenceOperation, _ suffix: String = "") {
        steps.append(
          InferenceStep(
            name: name + suffix, operation: operation, inputShape: inputShape,
            outputShape: output))
      }
      switch architecture {
      case .conv1D(_, _, _, let stride, let dilation, let padding, _):
        step(
          .conv1D(
            filter: tensor("filter"), bias: optional("bias"), stride: stride, dilation: dilation,
            padding: Padding(rawValue: padding)!))
      case .conv2D(_, _, _, _, let padding, _):
        step(
          .conv2D(
            filter: tensor("filter"), bias: optional("bias"), padding: Padding(rawValue: padding)!))
      case .dense:
        step(.dense(weight: tensor("weight"), bias: optional("bias")))
      case .lstm(_, _, let returnSequences):
        step(
          .lstm(
            kernel: tensor("kernel"), recurrentKernel: tensor("recurrentKernel"),
            bias: tensor("bias"), returnSequences: returnSequences))
      case .maxPool1D(let kernel, let stride, let padding):
        step(.maxPool1D(kernelSize: kernel, stride: stride, padding: Padding(rawValue: padding)!))
      case .avgPool1D(let kernel, let stride, let padding):
        step(.avgPool1D(kernelSize: kernel, stride: stride, padding: Padding(rawValue: padding)!))
      case .globalAvgPool1D: step(.globalAvgPool1D)
      case .globalMaxPool1D: step(.globalMaxPool1D)
      case .relu: step(.relu)
      case .sigmoid: step(.sigmoid)
      case .tanh: step(.tanh)
      case .softmax: step(.softmax)
      case .flatten: step(.flatten)
      case .reshape(let perExample): step(.reshape(perExample))
      case .dropout: continue  // the identity in inference
      case .batchNorm(_, _, let epsilon):
        step(
          .batchNorm(
            scale: tensor("scale"), offset: tensor("offset"), mean: tensor("runningMean"),
            variance: tensor("runningVariance"), epsilon: epsilon))
      case .channelAttention:
        step(.channelAttention(hidden: tensor("hidden"), output: tensor("output")))
      case .spatialAttention: step(.spatialAttention(filter: tensor("filter")))
      case .spatialAttention2D: step(.spatialAttention2D(filter: tensor("filter")))
      case .cbam:
        step(
          .channelAttention(hidden: tensor("channel.hidden"), output: tensor("channel.output")),
          ".channel")
        step(.spatialAttention(filter: tensor("spatial.filter")), ".spatial")
      case .cbam2D:
        step(
          .channelAttention(hidden: tensor("channel.hidden"), output: tensor("channel.output")),
          ".channel")
        step(.spatialAttention2D(filter: tensor("spatial.filter")), ".spatial")
      case .sequential(let children):
        guard let nested = layer as? Sequential else {
          throw .unsupported("layer \(name): a nested model that is not a Sequential")
        }
        shape = inputShape
        try walk(
          children, layers: nested.layers, prefix: name + ".", tensors: tensors, shape: &shape,
          into: &steps)
      }
    }
  }
}

/// One operation of an ``InferenceGraph``.
public struct InferenceStep {
  /// The dotted path of the layer it comes from (`"3"`, `"5.channel"`); its weights are the
  /// checkpoint tensors `"<name>.<parameter>"`.
  public var name: String
  /// What it computes, with its weights.
  public var operation: InferenceOperation
  /// Its input shape for one example window (batch 1, ``InferenceGraph/windowLength`` steps or
  /// 128), channels-last as in the package.
  public var inputShape: [Int]
  /// Its output shape for that window.
  public var outputShape: [Int]
}

/// What one ``InferenceStep`` computes, in this package's channels-last layouts and weight
/// layouts (each case says which).
public enum InferenceOperation {
  /// `Conv1D`: filter `[kernel, in, out]`, bias `[out]`; `[batch, time, in]` in.
  case conv1D(filter: Tensor, bias: Tensor?, stride: Int, dilation: Int, padding: Padding)
  /// `Conv2D`, stride 1: filter `[kh, kw, in, out]`, bias `[out]`; `[batch, h, w, in]` in.
  case conv2D(filter: Tensor, bias: Tensor?, padding: Padding)
  /// `Dense`: `x · weight + bias`, weight `[in, out]`, on the last axis.
  case dense(weight: Tensor, bias: Tensor?)
  /// `LSTM`: kernel `[in, 4u]`, recurrent kernel `[u, 4u]`, bias `[4u]`, gates `i, f, c, o`;
  /// `[batch, time, in]` in, every step or the last one out.
  case lstm(kernel: Tensor, recurrentKernel: Tensor, bias: Tensor, returnSequences: Bool)
  /// `MaxPool1D` over time.
  case maxPool1D(kernelSize: Int, stride: Int, padding: Padding)
  /// `AvgPool1D` over time (`same` padding does not count padded steps).
  case avgPool1D(kernelSize: Int, stride: Int, padding: Padding)
  /// The mean over time: `[batch, time, c]` → `[batch, c]`.
  case globalAvgPool1D
  /// The maximum over time: `[batch, time, c]` → `[batch, c]`.
  case globalMaxPool1D
  /// `max(0, x)`.
  case relu
  /// `1 / (1 + e⁻ˣ)`.
  case sigmoid
  /// `tanh(x)`.
  case tanh
  /// Softmax over the last axis.
  case softmax
  /// `[batch, a, b, …]` → `[batch, a·b·…]`, row-major.
  case flatten
  /// `[batch, …]` → `[batch] + shape` (one extent may be `-1`), row-major.
  case reshape([Int])
  /// `BatchNorm` in inference: `(x − mean) / √(variance + ε) · scale + offset` on the last axis.
  case batchNorm(scale: Tensor, offset: Tensor, mean: Tensor, variance: Tensor, epsilon: Float)
  /// CBAM channel attention: `x · σ(MLP(mean x) + MLP(max x))`, the MLP `ReLU(v · hidden) · output`
  /// (no biases), the means and maxima over every axis but batch and the last (time; or time and
  /// sensors for rank-4 input).
  case channelAttention(hidden: Tensor, output: Tensor)
  /// CBAM spatial attention over time: `x · σ(conv1D([mean_c x, max_c x], filter, same))`,
  /// filter `[k, 2, 1]`, no bias.
  case spatialAttention(filter: Tensor)
  /// CBAM spatial attention over time × sensors: `x · σ(conv2D([mean_f x, max_f x], filter,
  /// same))`, filter `[k, k, 2, 1]`, no bias.
  case spatialAttention2D(filter: Tensor)
}
