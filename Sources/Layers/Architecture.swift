import Tensor

/// The architecture of one built-in layer: its type and every hyperparameter needed to rebuild
/// it with the same parameter names and shapes, but no weights.
///
/// It is `Codable`: a checkpoint stores a model's architecture as JSON beside its tensors
/// (``ModelCard``), so ``Checkpoint/loadModel(from:)`` can rebuild the model from the file alone.
/// Each case encodes as a one-key JSON object, e.g.
/// `{"conv1D":{"inputChannels":9,"outputChannels":16,"kernelSize":5,…}}`.
///
/// Obtain one with ``init(describing:)``; a layer type this enum does not know (a custom layer)
/// has no architecture.
public enum LayerArchitecture: Codable, Equatable, Sendable {
  /// ``Conv1D``; `padding` is `"same"` or `"valid"`.
  case conv1D(
    inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int, dilation: Int,
    padding: String, useBias: Bool)
  /// ``Conv2D``; `padding` is `"same"` or `"valid"`.
  case conv2D(
    inputChannels: Int, outputChannels: Int, kernelHeight: Int, kernelWidth: Int,
    padding: String, useBias: Bool)
  /// ``Dense``.
  case dense(inputSize: Int, outputSize: Int, useBias: Bool)
  /// ``LSTM``.
  case lstm(inputSize: Int, units: Int, returnSequences: Bool)
  /// ``MaxPool1D``.
  case maxPool1D(kernelSize: Int, stride: Int, padding: String)
  /// ``AvgPool1D``.
  case avgPool1D(kernelSize: Int, stride: Int, padding: String)
  /// ``GlobalAvgPool1D``.
  case globalAvgPool1D
  /// ``GlobalMaxPool1D``.
  case globalMaxPool1D
  /// ``ReLU``.
  case relu
  /// ``Sigmoid``.
  case sigmoid
  /// ``Tanh``.
  case tanh
  /// ``Softmax``.
  case softmax
  /// ``Flatten``.
  case flatten
  /// ``Reshape`` to `[batch] + shape`.
  case reshape(shape: [Int])
  /// ``Dropout``: the identity at inference.
  case dropout(rate: Float)
  /// ``BatchNorm``.
  case batchNorm(channels: Int, momentum: Float, epsilon: Float)
  /// ``ChannelAttention`` with an MLP `channels → hidden → channels`.
  case channelAttention(channels: Int, hidden: Int, name: String?)
  /// ``SpatialAttention`` with a `kernelSize` filter.
  case spatialAttention(kernelSize: Int, name: String?)
  /// ``SpatialAttention2D`` with a `kernelSize × kernelSize` filter.
  case spatialAttention2D(kernelSize: Int, name: String?)
  /// ``CBAM``: channel attention (`channels → hidden → channels`), then spatial attention.
  case cbam(channels: Int, hidden: Int, spatialKernel: Int, name: String?)
  /// ``CBAM2D``: channel attention over filters, then `k × k` spatial attention.
  case cbam2D(filters: Int, hidden: Int, spatialKernel: Int, name: String?)
  /// A nested ``Sequential``.
  case sequential([LayerArchitecture])

  /// The architecture of `layer`.
  ///
  /// - Throws: ``ModelCardError/undescribableLayer(path:type:)`` for a layer type that is not
  ///   built in (or a ``Sequential`` that contains one), naming its dotted path.
  public init(describing layer: any Layer) throws(ModelCardError) {
    self = try Self.describe(layer, path: "")
  }

  private static func describe(_ layer: any Layer, path: String) throws(ModelCardError)
    -> LayerArchitecture
  {
    switch layer {
    case let l as Conv1D:
      return .conv1D(
        inputChannels: l.filter.shape[1], outputChannels: l.filter.shape[2],
        kernelSize: l.filter.shape[0], stride: l.stride, dilation: l.dilation,
        padding: l.padding.rawValue, useBias: l.bias != nil)
    case let l as Conv2D:
      return .conv2D(
        inputChannels: l.filter.shape[2], outputChannels: l.filter.shape[3],
        kernelHeight: l.filter.shape[0], kernelWidth: l.filter.shape[1],
        padding: l.padding.rawValue, useBias: l.bias != nil)
    case let l as Dense:
      return .dense(
        inputSize: l.weight.shape[0], outputSize: l.weight.shape[1], useBias: l.bias != nil)
    case let l as LSTM:
      return .lstm(inputSize: l.inputSize, units: l.units, returnSequences: l.returnSequences)
    case let l as MaxPool1D:
      return .maxPool1D(kernelSize: l.kernelSize, stride: l.stride, padding: l.padding.rawValue)
    case let l as AvgPool1D:
      return .avgPool1D(kernelSize: l.kernelSize, stride: l.stride, padding: l.padding.rawValue)
    case is GlobalAvgPool1D: return .globalAvgPool1D
    case is GlobalMaxPool1D: return .globalMaxPool1D
    case is ReLU: return .relu
    case is Sigmoid: return .sigmoid
    case is Tanh: return .tanh
    case is Softmax: return .softmax
    case is Flatten: return .flatten
    case let l as Reshape: return .reshape(shape: l.shape)
    case let l as Dropout: return .dropout(rate: l.rate)
    case let l as BatchNorm:
      return .batchNorm(channels: l.scale.shape[0], momentum: l.momentum, epsilon: l.epsilon)
    case let l as ChannelAttention:
      return .channelAttention(channels: l.channels, hidden: l.hidden.shape[1], name: l.name)
    case let l as SpatialAttention:
      return .spatialAttention(kernelSize: l.filter.shape[0], name: l.name)
    case let l as SpatialAttention2D:
      return .spatialAttention2D(kernelSize: l.filter.shape[0], name: l.name)
    case let l as CBAM:
      return .cbam(
        channels: l.channel.channels, hidden: l.channel.hidden.shape[1],
        spatialKernel: l.spatial.filter.shape[0], name: l.name)
    case let l as CBAM2D:
      return .cbam2D(
        filters: l.channel.channels, hidden: l.channel.hidden.shape[1],
        spatialKernel: l.spatial.filter.shape[0], name: l.name)
    case let l as Sequential:
      var children: [LayerArchitecture] = []
      for (index, child) in l.layers.enumerated() {
        children.append(
          try describe(child, path: path.isEmpty ? "\(index)" : "\(path).\(index)"))
      }
      return .sequential(children)
    default:
      throw .undescribableLayer(
        path: path.isEmpty ? "(model)" : path, type: Sequential.typeName(of: layer))
    }
  }

  /// The number of trainable and state scalars a layer of this architecture holds, or `nil` if
  /// it overflows an `Int`.
  public var scalarCount: Int? {
    func product(_ factors: Int...) -> Int? {
      var result = 1
      for factor in factors {
        let (value, overflow) = result.multipliedReportingOverflow(by: Swift.max(0, factor))
        if overflow { return nil }
        result = value
      }
      return result
    }
    func sum(_ terms: Int?...) -> Int? {
      var result = 0
      for term in terms {
        guard let term else { return nil }
        let (value, overflow) = result.addingReportingOverflow(term)
        if overflow { return nil }
        result = value
      }
      return result
    }
    switch self {
    case .conv1D(let input, let output, let kernel, _, _, _, let useBias):
      return sum(product(kernel, input, output), useBias ? output : 0)
    case .conv2D(let input, let output, let height, let width, _, let useBias):
      return sum(product(height, width, input, output), useBias ? output : 0)
    case .dense(let input, let output, let useBias):
      return sum(product(input, output), useBias ? output : 0)
    case .lstm(let input, let units, _):
      return sum(product(input, 4, units), product(units, 4, units), product(4, units))
    case .maxPool1D, .avgPool1D, .globalAvgPool1D, .globalMaxPool1D, .relu, .sigmoid, .tanh,
      .softmax, .flatten, .reshape, .dropout:
      return 0
    case .batchNorm(let channels, _, _): return product(4, channels)
    case .channelAttention(let channels, let hidden, _): return product(2, channels, hidden)
    case .spatialAttention(let kernel, _): return product(kernel, 2)
    case .spatialAttention2D(let kernel, _): return product(kernel, kernel, 2)
    case .cbam(let channels, let hidden, let kernel, _):
      return sum(product(2, channels, hidden), product(kernel, 2))
    case .cbam2D(let filters, let hidden, let kernel, _):
      return sum(product(2, filters, hidden), product(kernel, kernel, 2))
    case .sequential(let children):
      var total: Int? = 0
      for child in children { total = sum(total, child.scalarCount) }
      return total
    }
  }

  /// A freshly initialized layer of this architecture (the parameter names and shapes of the
  /// described layer; zero or freshly drawn weights, to be replaced by
  /// ``Layer/load(from:)``).
  ///
  /// - Throws: ``ModelCardError/invalidArchitecture(reason:)`` for a hyperparameter the layer
  ///   type rejects (a non-positive size, an unknown padding, …), instead of trapping.
  public func makeLayer(generator: inout some RandomNumberGenerator) throws(ModelCardError)
    -> any Layer
  {
    func positive(_ values: Int..., in layer: String) throws(ModelCardError) {
      guard values.allSatisfy({ $0 > 0 }) else {
        throw .invalidArchitecture(reason: "\(layer): sizes \(values) must all be > 0")
      }
    }
    func padding(_ text: String, in layer: String) throws(ModelCardError) -> Padding {
      guard let padding = Padding(rawValue: text) else {
        throw .invalidArchitecture(reason: "\(layer): unknown padding '\(text)'")
      }
      return padding
    }
    switch self {
    case .conv1D(let input, let output, let kernel, let stride, let dilation, let pad, let bias):
      try positive(input, output, kernel, stride, dilation, in: "conv1D")
      return Conv1D(
        inputChannels: input, outputChannels: output, kernelSize: kernel, stride: stride,
        dilation: dilation, padding: try padding(pad, in: "conv1D"), useBias: bias,
        filterInitializer: .zeros, generator: &generator)
    case .conv2D(let input, let output, let height, let width, let pad, let bias):
      try positive(input, output, height, width, in: "conv2D")
      return Conv2D(
        inputChannels: input, outputChannels: output, kernelHeight: height, kernelWidth: width,
        padding: try padding(pad, in: "conv2D"), useBias: bias, filterInitializer: .zeros,
        generator: &generator)
    case .dense(let input, let output, let bias):
      try positive(input, output, in: "dense")
      return Dense(
        inputSize: input, outputSize: output, useBias: bias, weightInitializer: .zeros,
        generator: &generator)
    case .lstm(let input, let units, let returnSequences):
      try positive(input, units, in: "lstm")
      return LSTM(
        inputSize: input, units: units, returnSequences: returnSequences, generator: &generator)
    case .maxPool1D(let kernel, let stride, let pad):
      try positive(kernel, stride, in: "maxPool1D")
      return MaxPool1D(
        kernelSize: kernel, stride: stride, padding: try padding(pad, in: "maxPool1D"))
    case .avgPool1D(let kernel, let stride, let pad):
      try positive(kernel, stride, in: "avgPool1D")
      return AvgPool1D(
        kernelSize: kernel, stride: stride, padding: try padding(pad, in: "avgPool1D"))
    case .globalAvgPool1D: return GlobalAvgPool1D()
    case .globalMaxPool1D: return GlobalMaxPool1D()
    case .relu: return ReLU()
    case .sigmoid: return Sigmoid()
    case .tanh: return Tanh()
    case .softmax: return Softmax()
    case .flatten: return Flatten()
    case .reshape(let shape):
      guard shape.allSatisfy({ $0 > 0 || $0 == -1 }), shape.filter({ $0 == -1 }).count <= 1 else {
        throw .invalidArchitecture(
          reason: "reshape: shape \(shape) needs positive extents and at most one -1")
      }
      return Reshape(shape)
    case .dropout(let rate):
      guard rate >= 0 && rate < 1 else {
        throw .invalidArchitecture(reason: "dropout: rate \(rate) must be in [0, 1)")
      }
      return Dropout(rate: rate)
    case .batchNorm(let channels, let momentum, let epsilon):
      try positive(channels, in: "batchNorm")
      guard momentum.isFinite, epsilon.isFinite, epsilon > 0 else {
        throw .invalidArchitecture(
          reason: "batchNorm: momentum \(momentum) and epsilon \(epsilon) must be finite, ε > 0")
      }
      return BatchNorm(channels: channels, momentum: momentum, epsilon: epsilon)
    case .channelAttention(let channels, let hidden, let name):
      return try Self.channelAttention(channels, hidden, name, "channelAttention", &generator)
    case .spatialAttention(let kernel, let name):
      try positive(kernel, in: "spatialAttention")
      return SpatialAttention(kernelSize: kernel, name: name, generator: &generator)
    case .spatialAttention2D(let kernel, let name):
      try positive(kernel, in: "spatialAttention2D")
      return SpatialAttention2D(kernelSize: kernel, name: name, generator: &generator)
    case .cbam(let channels, let hidden, let kernel, let name):
      try positive(kernel, in: "cbam")
      var block = CBAM(channels: 1, reduction: 1, spatialKernel: kernel, generator: &generator)
      block.channel = try Self.channelAttention(channels, hidden, nil, "cbam", &generator)
      block.name = name
      return block
    case .cbam2D(let filters, let hidden, let kernel, let name):
      try positive(kernel, in: "cbam2D")
      var block = CBAM2D(filters: 1, reduction: 1, spatialKernel: kernel, generator: &generator)
      block.channel = try Self.channelAttention(filters, hidden, nil, "cbam2D", &generator)
      block.name = name
      return block
    case .sequential(let children):
      var layers: [any Layer] = []
      for child in children { layers.append(try child.makeLayer(generator: &generator)) }
      return Sequential(layers)
    }
  }

  /// Channel attention with exactly `hidden` units (the reduction ratio is not stored by the
  /// layer, only the width it produced).
  private static func channelAttention(
    _ channels: Int, _ hidden: Int, _ name: String?, _ layer: String,
    _ generator: inout some RandomNumberGenerator
  ) throws(ModelCardError) -> ChannelAttention {
    guard channels > 0, hidden > 0, hidden <= channels else {
      throw .invalidArchitecture(
        reason: "\(layer): channels \(channels) and hidden \(hidden) need 0 < hidden ≤ channels")
    }
    var attention = ChannelAttention(
      channels: channels, reduction: channels / hidden, name: name, generator: &generator)
    if attention.hidden.shape[1] != hidden {
      attention.hidden = Tensor(zeros: [channels, hidden])
      attention.output = Tensor(zeros: [hidden, channels])
    }
    return attention
  }
}

/// The architecture of a whole ``Sequential`` model: its layers, in order.
///
/// ```swift
/// let architecture = try ModelArchitecture(describing: student)
/// let rebuilt = try architecture.makeModel()     // same layer names, so same parameter names
/// ```
public struct ModelArchitecture: Codable, Equatable, Sendable {
  /// The version of this description's JSON layout; 1 today.
  public var formatVersion: Int
  /// The model's layers, in order.
  public var layers: [LayerArchitecture]

  /// The current ``formatVersion``.
  public static let currentFormatVersion = 1

  /// An architecture of `layers`.
  public init(layers: [LayerArchitecture]) {
    self.formatVersion = Self.currentFormatVersion
    self.layers = layers
  }

  /// The architecture of `model`.
  ///
  /// - Throws: ``ModelCardError/undescribableLayer(path:type:)`` naming the first layer that is
  ///   not a built-in type.
  public init(describing model: Sequential) throws(ModelCardError) {
    guard case .sequential(let layers) = try LayerArchitecture(describing: model) else {
      fatalError("a Sequential is described as .sequential")
    }
    self.init(layers: layers)
  }

  /// The number of parameter and state scalars of the model, or `nil` if it overflows an `Int`.
  public var scalarCount: Int? { LayerArchitecture.sequential(layers).scalarCount }

  /// A freshly initialized model of this architecture: the same layers, hence the same parameter
  /// names and shapes, as the described model; load its weights with ``Layer/load(from:)``.
  ///
  /// - Throws: ``ModelCardError/invalidArchitecture(reason:)`` for an unknown format version or a
  ///   hyperparameter the layer type rejects.
  public func makeModel(generator: inout some RandomNumberGenerator) throws(ModelCardError)
    -> Sequential
  {
    guard formatVersion == Self.currentFormatVersion else {
      throw .invalidArchitecture(
        reason: "format version \(formatVersion); this build reads \(Self.currentFormatVersion)")
    }
    var built: [any Layer] = []
    for layer in layers { built.append(try layer.makeLayer(generator: &generator)) }
    return Sequential(built)
  }

  /// ``makeModel(generator:)`` with a fixed seed.
  public func makeModel() throws(ModelCardError) -> Sequential {
    var generator = SplitMix64(seed: 0)
    return try makeModel(generator: &generator)
  }
}

extension Sequential {
  /// The model's architecture, or `nil` if it contains a layer type that is not built in.
  public var architecture: ModelArchitecture? { try? ModelArchitecture(describing: self) }
}
