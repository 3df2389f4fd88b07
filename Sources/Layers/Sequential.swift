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

  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    var x = input
    for (index, layer) in layers.enumerated() {
      x = context.withScope(String(index)) { layer.forward(x, context: &$0) }
    }
    return x
  }

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

  public mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {
    for i in layers.indices {
      try layers[i].forEachParameter { name, value in try body("\(i).\(name)", &value) }
    }
  }

  public mutating func forEachState(_ body: (String, inout Tensor) throws -> Void) rethrows {
    for i in layers.indices {
      try layers[i].forEachState { name, value in try body("\(i).\(name)", &value) }
    }
  }

  /// The unqualified type name of a layer, e.g. `"Conv1D"`.
  static func typeName(of layer: any Layer) -> String {
    String(describing: type(of: layer))
  }
}

/// Builds a `[any Layer]` from a block of layer expressions, with `if`, `for` and optionals.
@resultBuilder
public enum LayerBuilder {
  public static func buildExpression(_ layer: any Layer) -> [any Layer] { [layer] }
  public static func buildExpression(_ layers: [any Layer]) -> [any Layer] { layers }
  public static func buildBlock(_ parts: [any Layer]...) -> [any Layer] { parts.flatMap { $0 } }
  public static func buildOptional(_ part: [any Layer]?) -> [any Layer] { part ?? [] }
  public static func buildEither(first: [any Layer]) -> [any Layer] { first }
  public static func buildEither(second: [any Layer]) -> [any Layer] { second }
  public static func buildArray(_ parts: [[any Layer]]) -> [any Layer] { parts.flatMap { $0 } }
}
