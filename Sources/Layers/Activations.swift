import Tensor

/// `max(0, x)`, elementwise.
public struct ReLU: ParameterlessLayer {
  /// A ReLU activation.
  public init() {}
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor { input.relu() }
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] { inputShape }
}

/// `1 / (1 + e⁻ˣ)`, elementwise.
public struct Sigmoid: ParameterlessLayer {
  /// A sigmoid activation.
  public init() {}
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor { input.sigmoid() }
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] { inputShape }
}

/// `tanh(x)`, elementwise.
public struct Tanh: ParameterlessLayer {
  /// A tanh activation.
  public init() {}
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor { input.tanh() }
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] { inputShape }
}

/// Softmax along the last axis (for probabilities; train on logits with the fused loss instead).
public struct Softmax: ParameterlessLayer {
  /// A softmax over the last axis.
  public init() {}
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor { input.softmax() }
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] { inputShape }
}

/// Flattens every axis after the batch axis: `[batch, a, b, …]` → `[batch, a·b·…]`.
public struct Flatten: ParameterlessLayer {
  /// A flattening layer.
  public init() {}

  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    input.reshaped(to: [input.shape[0], -1])
  }

  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    guard let batch = inputShape.first else {
      throw .invalid(operation: "Flatten", shape: inputShape, rule: "[batch, …]")
    }
    return [batch, inputShape.dropFirst().reduce(1, *)]
  }
}

/// Reshapes every example to `shape` (the batch axis is kept): `[batch, …]` → `[batch] + shape`.
public struct Reshape: ParameterlessLayer {
  /// The per-example shape; one extent may be `-1`.
  public let shape: [Int]

  /// A reshaping layer.
  public init(_ shape: [Int]) { self.shape = shape }

  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    input.reshaped(to: [input.shape[0]] + shape)
  }

  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    guard let batch = inputShape.first else {
      throw .invalid(operation: "Reshape", shape: inputShape, rule: "[batch, …]")
    }
    return try Tensor.reshapedShape(inputShape, to: [batch] + shape)
  }
}
