import Tensor

/// A 2-D convolution, stride 1 (cross-correlation, as Keras `Conv2D`), channels-last.
///
/// Shapes: `input` is `[batch, h, w, inputChannels]`, `filter` is
/// `[kernelHeight, kernelWidth, inputChannels, outputChannels]`, `output` is
/// `[batch, outH, outW, outputChannels]` (`h − kh + 1` by `w − kw + 1` with `valid` padding,
/// `h` by `w` with `same`). In DeepConvLSTM the input is `[batch, time, sensors, filters]` and a
/// `(5 × 1)` kernel convolves over time with weights shared across sensors (Ordóñez & Roggen,
/// "Deep Convolutional and LSTM Recurrent Neural Networks for Multimodal Wearable Activity
/// Recognition", Sensors 16(1):115, 2016).
public struct Conv2D: Layer {
  /// `[kernelHeight, kernelWidth, inputChannels, outputChannels]`, Glorot-uniform at creation by
  /// default (fans `kh·kw·in` and `kh·kw·out`, as Keras).
  public var filter: Tensor
  /// `[outputChannels]`, zero at creation by default; `nil` without bias.
  public var bias: Tensor?
  /// `same` keeps `h × w`; `valid` uses only windows that fit entirely inside the input.
  public let padding: Padding

  /// A convolution with a `kernelHeight × kernelWidth` kernel and weights drawn from `generator`.
  public init(
    inputChannels: Int, outputChannels: Int, kernelHeight: Int, kernelWidth: Int,
    padding: Padding = .valid, useBias: Bool = true,
    filterInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
    generator: inout some RandomNumberGenerator
  ) {
    precondition(
      inputChannels > 0 && outputChannels > 0 && kernelHeight > 0 && kernelWidth > 0,
      "Conv2D(\(inputChannels) → \(outputChannels), kernel \(kernelHeight)×\(kernelWidth)): "
        + "all must be > 0")
    filter = filterInitializer.make(
      [kernelHeight, kernelWidth, inputChannels, outputChannels], using: &generator)
    bias = useBias ? biasInitializer.make([outputChannels], using: &generator) : nil
    self.padding = padding
  }

  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    input.conv2D(filter: filter, bias: bias, padding: padding)
  }

  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    try Tensor.conv2DShape(
      input: inputShape, filter: filter.shape, bias: bias?.shape, padding: padding)
  }

  /// `2 · outH · outW · kh · kw · in · out`: every tap counts, padding zeros included.
  public func forwardFLOPs(for inputShape: [Int]) -> Int {
    guard let output = try? outputShape(for: inputShape) else { return 0 }
    return 2 * output[1] * output[2] * filter.scalarCount
  }

  public mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {
    try body("filter", &filter)
    if bias != nil { try body("bias", &bias!) }
  }
}
