import Tensor

/// A fully connected layer: `output = input · weight + bias`.
///
/// Shapes: `input` is `[batch, inputSize]` (or `[batch, time, inputSize]`, applied per step),
/// `output` is `[batch, outputSize]`.
public struct Dense: Layer {
  /// `[inputSize, outputSize]`, Glorot-uniform at creation by default.
  public var weight: Tensor
  /// `[outputSize]`, zero at creation by default; `nil` for a layer without bias.
  public var bias: Tensor?

  /// A dense layer with weights drawn from `generator`.
  public init(
    inputSize: Int, outputSize: Int, useBias: Bool = true,
    weightInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
    generator: inout some RandomNumberGenerator
  ) {
    precondition(
      inputSize > 0 && outputSize > 0, "Dense(\(inputSize) → \(outputSize)): sizes must be > 0")
    weight = weightInitializer.make([inputSize, outputSize], using: &generator)
    bias = useBias ? biasInitializer.make([outputSize], using: &generator) : nil
  }

  /// `input · weight + bias`: `[batch, inputSize]` → `[batch, outputSize]` (or per time step).
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    let product = input.matmul(weight)
    return bias.map { product + $0 } ?? product
  }

  /// `inputShape` with its last axis replaced by `outputSize`.
  ///
  /// - Throws: `ShapeError.incompatible` naming the input and weight shapes when the last axis
  ///   is not `inputSize`.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    guard inputShape.count >= 2, inputShape.last == weight.shape[0] else {
      throw .incompatible(
        operation: "Dense", lhs: inputShape, rhs: weight.shape, rule: "[batch, k] × [k, n]")
    }
    return inputShape.dropLast() + [weight.shape[1]]
  }

  /// `2 · inputSize · outputSize` per example (and per time step for 3-D input).
  public func forwardFLOPs(for inputShape: [Int]) -> Int {
    2 * inputShape.dropFirst().dropLast().reduce(1, *) * weight.shape[0] * weight.shape[1]
  }

  /// Visits `"weight"`, then `"bias"` if the layer has one.
  public mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {
    try body("weight", &weight)
    if bias != nil { try body("bias", &bias!) }
  }
}
