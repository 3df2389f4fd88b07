import Tensor

/// Max pooling over time: `[batch, time, channels]` → `[batch, outTime, channels]`.
public struct MaxPool1D: ParameterlessLayer {
  /// Steps per window.
  public let kernelSize: Int
  /// Steps between windows.
  public let stride: Int
  /// `valid` (Keras' default) or `same`.
  public let padding: Padding

  /// A max pooling with `stride` defaulting to `kernelSize`.
  public init(kernelSize: Int, stride: Int? = nil, padding: Padding = .valid) {
    precondition(kernelSize > 0 && (stride ?? 1) > 0, "MaxPool1D: kernel and stride must be > 0")
    self.kernelSize = kernelSize
    self.stride = stride ?? kernelSize
    self.padding = padding
  }

  /// `[batch, time, channels]` → `[batch, outTime, channels]`.
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    input.maxPool1D(kernelSize: kernelSize, stride: stride, padding: padding)
  }

  /// `[batch, outTime, channels]`: `outTime = ⌊(time − kernelSize) / stride⌋ + 1` for `valid`,
  /// `⌈time / stride⌉` for `same`.
  ///
  /// - Throws: `ShapeError.invalid` naming the input shape when it is not rank 3 or is shorter
  ///   than one `valid` window.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    try Tensor.pool1DShape(
      input: inputShape, kernelSize: kernelSize, stride: stride, padding: padding,
      operation: "MaxPool1D")
  }
}

/// Average pooling over time: `[batch, time, channels]` → `[batch, outTime, channels]`.
public struct AvgPool1D: ParameterlessLayer {
  /// Steps per window.
  public let kernelSize: Int
  /// Steps between windows.
  public let stride: Int
  /// `valid` (Keras' default) or `same` (padded steps are not counted).
  public let padding: Padding

  /// An average pooling with `stride` defaulting to `kernelSize`.
  public init(kernelSize: Int, stride: Int? = nil, padding: Padding = .valid) {
    precondition(kernelSize > 0 && (stride ?? 1) > 0, "AvgPool1D: kernel and stride must be > 0")
    self.kernelSize = kernelSize
    self.stride = stride ?? kernelSize
    self.padding = padding
  }

  /// `[batch, time, channels]` → `[batch, outTime, channels]`.
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    input.avgPool1D(kernelSize: kernelSize, stride: stride, padding: padding)
  }

  /// `[batch, outTime, channels]`: `outTime = ⌊(time − kernelSize) / stride⌋ + 1` for `valid`,
  /// `⌈time / stride⌉` for `same`.
  ///
  /// - Throws: `ShapeError.invalid` naming the input shape when it is not rank 3 or is shorter
  ///   than one `valid` window.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    try Tensor.pool1DShape(
      input: inputShape, kernelSize: kernelSize, stride: stride, padding: padding,
      operation: "AvgPool1D")
  }
}

/// The mean over time: `[batch, time, channels]` → `[batch, channels]`.
public struct GlobalAvgPool1D: ParameterlessLayer {
  /// A global average pooling.
  public init() {}

  /// `[batch, time, channels]` → `[batch, channels]`.
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    input.mean(alongAxis: 1)
  }

  /// `[batch, channels]`.
  ///
  /// - Throws: `ShapeError.invalid` naming the input shape when it is not
  ///   `[batch, time, channels]`.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    try expectShape(inputShape, rank: 3, layer: "GlobalAvgPool1D", rule: "[batch, time, channels]")
    return [inputShape[0], inputShape[2]]
  }
}

/// The maximum over time: `[batch, time, channels]` → `[batch, channels]`.
public struct GlobalMaxPool1D: ParameterlessLayer {
  /// A global max pooling.
  public init() {}

  /// `[batch, time, channels]` → `[batch, channels]`.
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    input.max(alongAxis: 1)
  }

  /// `[batch, channels]`.
  ///
  /// - Throws: `ShapeError.invalid` naming the input shape when it is not
  ///   `[batch, time, channels]`.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    try expectShape(inputShape, rank: 3, layer: "GlobalMaxPool1D", rule: "[batch, time, channels]")
    return [inputShape[0], inputShape[2]]
  }
}
