import Tensor

/// A 1-D convolution over time (cross-correlation, as Keras `Conv1D`), channels-last.
///
/// Shapes: `input` is `[batch, time, inputChannels]`, `filter` is
/// `[kernelSize, inputChannels, outputChannels]`, `output` is `[batch, outTime, outputChannels]`
/// with `outTime = ceil(time / stride)` for `same` padding.
public struct Conv1D: Layer {
  /// `[kernelSize, inputChannels, outputChannels]`, Glorot-uniform at creation by default.
  public var filter: Tensor
  /// `[outputChannels]`, zero at creation by default; `nil` without bias.
  public var bias: Tensor?
  /// Steps between output positions.
  public let stride: Int
  /// Steps between kernel taps.
  public let dilation: Int
  /// `same` keeps `ceil(time / stride)` steps; `valid` uses only full windows.
  public let padding: Padding

  /// A convolution with weights drawn from `generator`.
  public init(
    inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, dilation: Int = 1,
    padding: Padding = .same, useBias: Bool = true,
    filterInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
    generator: inout some RandomNumberGenerator
  ) {
    precondition(
      inputChannels > 0 && outputChannels > 0 && kernelSize > 0 && stride > 0 && dilation > 0,
      "Conv1D(\(inputChannels) → \(outputChannels), kernel \(kernelSize), stride \(stride), "
        + "dilation \(dilation)): all must be > 0")
    filter = filterInitializer.make([kernelSize, inputChannels, outputChannels], using: &generator)
    bias = useBias ? biasInitializer.make([outputChannels], using: &generator) : nil
    self.stride = stride
    self.dilation = dilation
    self.padding = padding
  }

  /// The convolution: `[batch, time, inputChannels]` → `[batch, outTime, outputChannels]`.
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    forward(input, activation: .identity)
  }

  /// The convolution with `activation` applied in the same operation (``Sequential`` fuses a
  /// `Conv1D` followed by a ``ReLU`` this way).
  public func forward(_ input: Tensor, activation: ConvolutionActivation) -> Tensor {
    input.conv1D(
      filter: filter, bias: bias, stride: stride, dilation: dilation, padding: padding,
      activation: activation)
  }

  /// `[batch, outTime, outputChannels]`.
  ///
  /// - Throws: `ShapeError` naming the input and filter shapes when the channel counts differ or
  ///   the input is shorter than the dilated kernel (`valid`).
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    try Tensor.conv1DShape(
      input: inputShape, filter: filter.shape, bias: bias?.shape, stride: stride,
      dilation: dilation, padding: padding)
  }

  /// `2 · outTime · kernelSize · inputChannels · outputChannels` per example.
  public func forwardFLOPs(for inputShape: [Int]) -> Int {
    guard let output = try? outputShape(for: inputShape) else { return 0 }
    // Every tap counts, padding zeros included, as in the PyTorch and Keras counts.
    return 2 * output[1] * filter.shape[0] * filter.shape[1] * filter.shape[2]
  }

  /// Visits `"filter"`, then `"bias"` if the layer has one.
  public mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {
    try body("filter", &filter)
    if bias != nil { try body("bias", &bias!) }
  }
}
