import Tensor

/// Layers applied one after another; parameters are named `"<index>.<name>"`.
///
/// ```swift
/// let model = Sequential {
///   Conv1D(inputChannels: 9, outputChannels: 16, kernelSize: 5, generator: &rng)
///   ReLU()
///   GlobalAvgPool1D()
///   Dense(inputSize: 16, outputSize: 6, generator: &rng)
/// }
/// ```
public struct Sequential: Layer {
  /// The layers, in order.
  public var layers: [any Layer]

  /// A model from a list of layers.
  public init(_ layers: [any Layer]) { self.layers = layers }

  /// A model built with the result-builder syntax.
  public init(@LayerBuilder _ layers: () -> [any Layer]) { self.layers = layers() }

  /// Each layer's output fed to the next; layer `i` runs with `"i"` appended to
  /// ``ForwardContext/path``.
  ///
  /// A ``Conv1D`` directly followed by a ``ReLU`` runs as one fused operation
  /// (`conv1D(…, activation: .relu)`): the same values and gradients, one output array and one
  /// backward step fewer; followed also by a ``MaxPool1D`` over pairs of steps, the three run as
  /// `conv1DReLUMaxPool(filter:bias:)`.
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    var x = input
    var index = 0
    while index < layers.count {
      let layer = layers[index]
      if let convolution = Sequential.convolutionBeforeReLUAndPairPool(layers, at: index) {
        x = x.conv1DReLUMaxPool(filter: convolution.filter, bias: convolution.bias)
        index += 3
        continue
      }
      if let convolution = Sequential.convolutionBeforeReLU(layers, at: index) {
        x = convolution.forward(x, activation: .relu)
        index += 2
        continue
      }
      x = context.withScope(String(index)) { layer.forward(x, context: &$0) }
      index += 1
    }
    return x
  }

  /// The last layer's output shape, the shape passed from layer to layer.
  ///
  /// - Throws: `ShapeError.inLayer(path:underlying:)` at the first layer that rejects its input,
  ///   e.g. `layer 2 (Dense): Dense: shapes [64, 32] and [16, 6] do not fit [batch, k] × [k, n]`.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    var shape = inputShape
    for (index, layer) in layers.enumerated() {
      do {
        shape = try layer.outputShape(for: shape)
      } catch {
        throw .inLayer(path: "\(index) (\(Sequential.typeName(of: layer)))", underlying: error)
      }
    }
    return shape
  }

  /// The sum of the layers' FLOPs, each at the shape it receives.
  public func forwardFLOPs(for inputShape: [Int]) -> Int {
    var shape = inputShape
    var total = 0
    for layer in layers {
      total += layer.forwardFLOPs(for: shape)
      guard let next = try? layer.outputShape(for: shape) else { break }
      shape = next
    }
    return total
  }

  /// Visits every layer's parameters in order, named `"<index>.<name>"`.
  public mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {
    for i in layers.indices {
      try layers[i].forEachParameter { name, value in try body("\(i).\(name)", &value) }
    }
  }

  /// Visits every layer's state in order, named `"<index>.<name>"`.
  public mutating func forEachState(_ body: (String, inout Tensor) throws -> Void) rethrows {
    for i in layers.indices {
      try layers[i].forEachState { name, value in try body("\(i).\(name)", &value) }
    }
  }

  /// The ``Conv1D`` at `index` if a ``ReLU`` follows it directly: the pair runs fused.
  static func convolutionBeforeReLU(_ layers: [any Layer], at index: Int) -> Conv1D? {
    guard let convolution = layers[index] as? Conv1D, index + 1 < layers.count,
      layers[index + 1] is ReLU
    else { return nil }
    return convolution
  }

  /// The ``Conv1D`` at `index` (stride 1, dilation 1, `same`) if a ``ReLU`` and a
  /// ``MaxPool1D`` over pairs of steps (kernel 2, stride 2, `valid`) follow it: the three run as
  /// `conv1DReLUMaxPool(filter:bias:)`.
  static func convolutionBeforeReLUAndPairPool(_ layers: [any Layer], at index: Int) -> Conv1D? {
    guard let convolution = convolutionBeforeReLU(layers, at: index),
      convolution.stride == 1, convolution.dilation == 1, convolution.padding == .same,
      index + 2 < layers.count, let pool = layers[index + 2] as? MaxPool1D,
      pool.kernelSize == 2, pool.stride == 2, pool.padding == .valid
    else { return nil }
    return convolution
  }

  /// The unqualified type name of a layer, e.g. `"Conv1D"`.
  static func typeName(of layer: any Layer) -> String {
    String(describing: type(of: layer))
  }
}

/// Builds a `[any Layer]` from a block of layer expressions, with `if`, `for` and optionals.
@resultBuilder
public enum LayerBuilder {
  /// One layer, as a one-element list.
  public static func buildExpression(_ layer: any Layer) -> [any Layer] { [layer] }
  /// A list of layers, spliced in place.
  public static func buildExpression(_ layers: [any Layer]) -> [any Layer] { layers }
  /// The statements of a block, concatenated in order.
  public static func buildBlock(_ parts: [any Layer]...) -> [any Layer] { parts.flatMap { $0 } }
  /// The layers of an `if` without `else`, or none.
  public static func buildOptional(_ part: [any Layer]?) -> [any Layer] { part ?? [] }
  /// The layers of the first branch of an `if`/`else` or `switch`.
  public static func buildEither(first: [any Layer]) -> [any Layer] { first }
  /// The layers of the second branch of an `if`/`else` or `switch`.
  public static func buildEither(second: [any Layer]) -> [any Layer] { second }
  /// The layers of every iteration of a `for` loop, in order.
  public static func buildArray(_ parts: [[any Layer]]) -> [any Layer] { parts.flatMap { $0 } }
}
