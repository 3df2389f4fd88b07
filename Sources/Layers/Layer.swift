import Tensor

/// What a forward pass needs beyond its input: training or inference mode, the random stream
/// for dropout, and where layers leave what they produced besides their output.
///
/// Create one per forward pass (or per training step) and pass it `inout` through the model.
public struct ForwardContext {
  /// `true` while training: dropout drops and batch normalization uses batch statistics.
  public var isTraining: Bool
  /// The random stream for dropout masks; seeded, so a training run is reproducible.
  public var generator: SplitMix64
  /// The dotted path of the layer being run, e.g. `"3"` or `"2.channel"`; set by containers.
  public private(set) var path: String = ""
  /// Attention maps produced by the last forward pass, keyed by the producing layer's name
  /// (its `name`, or its path when it has none). Tracked when the input was tracked.
  public var attentionMaps: [String: AttentionMaps] = [:]
  /// New values for non-trainable state (batch-norm running statistics), keyed by the state's
  /// dotted name; apply them with ``Layer/applyStateUpdates(_:)`` after the step.
  public var stateUpdates: [String: Tensor] = [:]
  /// Which examples of the mini-batch this pass sees, when a step is split across workers
  /// (``valueWithGradients(of:batchSize:shards:_:)``); `nil` for a whole batch. Layers that draw
  /// per-element randomness use it to draw what a single pass over the whole batch would have.
  public var shard: BatchShard?

  /// A context for training (`isTraining: true`) or inference.
  public init(isTraining: Bool, generator: SplitMix64 = SplitMix64(seed: 0)) {
    self.isTraining = isTraining
    self.generator = generator
  }

  /// A context for inference.
  public static var inference: ForwardContext { ForwardContext(isTraining: false) }

  /// Runs `body` with `component` appended to ``path``.
  public mutating func withScope<R>(_ component: String, _ body: (inout ForwardContext) -> R) -> R {
    let saved = path
    path = path.isEmpty ? component : "\(path).\(component)"
    defer { path = saved }
    return body(&self)
  }

  /// The dotted name of `leaf` under the current path.
  public func qualified(_ leaf: String) -> String { path.isEmpty ? leaf : "\(path).\(leaf)" }
}

/// The examples `range` of a mini-batch of `batchSize` examples that one worker differentiates.
public struct BatchShard: Sendable, Equatable {
  /// The examples of the batch this shard holds, in batch order.
  public var range: Range<Int>
  /// The number of examples in the whole batch.
  public var batchSize: Int

  /// A shard; `range` must lie inside `0..<batchSize`.
  public init(range: Range<Int>, batchSize: Int) {
    precondition(
      range.lowerBound >= 0 && range.upperBound <= batchSize,
      "BatchShard: examples \(range) outside a batch of \(batchSize)")
    self.range = range
    self.batchSize = batchSize
  }

  /// The shard's share of the batch, `range.count / batchSize`: the weight of its mean loss and
  /// its gradients in the whole batch's mean.
  public var weight: Float { Float(range.count) / Float(batchSize) }
}

/// The attention maps of one attention layer, from its last forward pass.
public struct AttentionMaps {
  /// The channel map, `[batch, channels]`, if the layer computes one.
  public var channel: Tensor?
  /// The spatial map, `[batch, time]` (or `[batch, time, sensors]` for 2-D attention).
  public var spatial: Tensor?

  /// Maps from their parts.
  public init(channel: Tensor? = nil, spatial: Tensor? = nil) {
    self.channel = channel
    self.spatial = spatial
  }
}

/// A differentiable building block of a model.
///
/// A layer is a value: its parameters are stored properties, visited by dotted name with
/// ``forEachParameter(_:)`` (for optimizers, checkpoints and gradients). Every layer also reports,
/// for an input shape, its output shape, parameter count and forward FLOPs, so a model can be
/// validated and costed before it runs.
public protocol Layer {
  /// Applies the layer to `input`.
  func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor

  /// The output shape for `inputShape` (batch axis included).
  ///
  /// - Throws: `ShapeError` naming the input shape and what the layer expects.
  func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int]

  /// Forward FLOPs for one example of `inputShape` (batch axis included, but counted once): 2
  /// per multiply-add of matrix work (conv, dense); element-wise work is not counted (the
  /// convention of the PyTorch and Keras counts the study compares with).
  func forwardFLOPs(for inputShape: [Int]) -> Int

  /// Calls `body` with each trainable parameter's dotted name and value, in a stable order.
  mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows

  /// Calls `body` with each non-trainable state tensor (running statistics), in a stable order.
  mutating func forEachState(_ body: (String, inout Tensor) throws -> Void) rethrows
}

/// A layer without trainable parameters (activations, pooling, reshaping).
public protocol ParameterlessLayer: Layer {}

extension ParameterlessLayer {
  /// Visits nothing: the layer has no parameters.
  public mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {}
  /// 0: activations, pooling and reshaping are element-wise work, not counted.
  public func forwardFLOPs(for inputShape: [Int]) -> Int { 0 }
}

extension Layer {
  /// Layers have no state unless they say so.
  public mutating func forEachState(_ body: (String, inout Tensor) throws -> Void) rethrows {}

  /// Every trainable parameter by name, in visiting order.
  public var parameters: [(name: String, value: Tensor)] {
    var copy = self
    var result: [(name: String, value: Tensor)] = []
    copy.forEachParameter { name, value in result.append((name, value)) }
    return result
  }

  /// Every state tensor by name, in visiting order.
  public var states: [(name: String, value: Tensor)] {
    var copy = self
    var result: [(name: String, value: Tensor)] = []
    copy.forEachState { name, value in result.append((name, value)) }
    return result
  }

  /// The number of trainable scalars.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.scalarCount } }

  /// Runs the layer in inference mode.
  public func callAsFunction(_ input: Tensor) -> Tensor {
    var context = ForwardContext.inference
    return forward(input, context: &context)
  }

  /// Replaces state tensors by the values a training forward pass left in
  /// ``ForwardContext/stateUpdates``.
  public mutating func applyStateUpdates(_ updates: [String: Tensor]) {
    guard !updates.isEmpty else { return }
    forEachState { name, value in
      if let update = updates[name] { value = update.detached() }
    }
  }
}

/// Checks that `inputShape` has `rank` axes and, where given, the expected extent on the last
/// axis, throwing an error that names both.
func expectShape(
  _ inputShape: [Int], rank: Int, lastAxis: Int? = nil, layer: String, rule: String
) throws(ShapeError) {
  guard inputShape.count == rank, inputShape.allSatisfy({ $0 > 0 }),
    lastAxis.map({ inputShape.last == $0 }) ?? true
  else {
    throw .invalid(operation: layer, shape: inputShape, rule: rule)
  }
}
