import Tensor

/// `max(0, x)`, elementwise.
public struct ReLU: ParameterlessLayer {
  /// A ReLU activation.
  public init() {}
  /// `input` with the activation applied to every element; any shape.
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor { input.relu() }
  /// `inputShape`, unchanged.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] { inputShape }
}

/// `1 / (1 + e⁻ˣ)`, elementwise.
public struct Sigmoid: ParameterlessLayer {
  /// A sigmoid activation.
  public init() {}
  /// `input` with the activation applied to every element; any shape.
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor { input.sigmoid() }
  /// `inputShape`, unchanged.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] { inputShape }
}

/// `tanh(x)`, elementwise.
public struct Tanh: ParameterlessLayer {
  /// A tanh activation.
  public init() {}
  /// `input` with the activation applied to every element; any shape.
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor { input.tanh() }
  /// `inputShape`, unchanged.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] { inputShape }
}

/// Softmax along the last axis (for probabilities; train on logits with the fused loss instead).
public struct Softmax: ParameterlessLayer {
  /// A softmax over the last axis.
  public init() {}
  /// `input` with the activation applied to every element; any shape.
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor { input.softmax() }
  /// `inputShape`, unchanged.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] { inputShape }
}

/// Flattens every axis after the batch axis: `[batch, a, b, …]` → `[batch, a·b·…]`.
public struct Flatten: ParameterlessLayer {
  /// A flattening layer.
  public init() {}

  /// `input` `[batch, a, b, …]` as `[batch, a·b·…]` (the same scalars).
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    input.reshaped(to: [input.shape[0], -1])
  }

  /// `[batch, a·b·…]`.
  ///
  /// - Throws: `ShapeError.invalid` for a shape without a batch axis.
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

  /// `input` `[batch, …]` as `[batch] + shape` (the same scalars).
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    input.reshaped(to: [input.shape[0]] + shape)
  }

  /// `[batch] + shape`, with a `-1` extent resolved.
  ///
  /// - Throws: `ShapeError` when the example's element count does not fit `shape`.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    guard let batch = inputShape.first else {
      throw .invalid(operation: "Reshape", shape: inputShape, rule: "[batch, …]")
    }
    return try Tensor.reshapedShape(inputShape, to: [batch] + shape)
  }
}
