import Tensor

/// The DeepConvLSTM architecture at a chosen width, with an optional CBAM-2D block.
///
/// ```
/// [batch, time, sensors]
///   → Reshape                        [batch, time, sensors, 1]
///   → 4 × (Conv2D 5×1 valid + ReLU)  [batch, time − 16, sensors, filters]
///     (CBAM2D after the ReLU of conv `attention.position`, if any)
///   → Reshape                        [batch, time − 16, sensors · filters]
///   → LSTM(units), every step        [batch, time − 16, units]
///   → LSTM(units), last step         [batch, units]
///   → Dense                          [batch, classes]   (logits)
/// ```
///
/// The convolutions run over time only, with weights shared across sensors; the LSTMs run over
/// time on each step's `sensors · filters` features. Windows need at least 17 steps. The CBAM
/// block is named ``ReferenceModel/attentionName`` (`"cbam"`), the key of its maps in
/// ``ForwardContext/attentionMaps``.
///
/// Ordóñez & Roggen, "Deep Convolutional and LSTM Recurrent Neural Networks for Multimodal
/// Wearable Activity Recognition", Sensors 16(1):115, 2016.
public struct DeepConvLSTM: Sendable, Equatable {
  /// Where a CBAM-2D block goes and how it is shaped.
  public struct Attention: Sendable, Equatable {
    /// The convolution (1–4) after whose ReLU the block sits.
    public var position: Int
    /// The channel-MLP reduction ratio `r`: hidden size `max(1, filters / r)`.
    public var reduction: Int
    /// The side `k` of the `k × k` spatial-attention kernel (3, 5 or 7).
    public var spatialKernel: Int

    /// A placement; the defaults are the study's (after the 4th convolution, `r = 8`, `k = 7`).
    public init(position: Int = 4, reduction: Int = 8, spatialKernel: Int = 7) {
      self.position = position
      self.reduction = reduction
      self.spatialKernel = spatialKernel
    }
  }

  /// Filters of each of the four convolutions.
  public var filters: Int
  /// Hidden units of each of the two LSTM layers.
  public var units: Int
  /// The CBAM-2D block, or `nil` for none.
  public var attention: Attention?

  /// The number of convolutions; each `valid` (5×1) one shortens time by 4.
  public static let convolutions = 4
  /// The kernel length over time of every convolution.
  public static let kernelLength = 5
  /// The shortest window the model accepts: `4 · (5 − 1) + 1 = 17` steps.
  public static let minimumTimeSteps = convolutions * (kernelLength - 1) + 1

  /// An architecture with `filters` per convolution and `units` per LSTM.
  public init(filters: Int, units: Int, attention: Attention? = nil) {
    self.filters = filters
    self.units = units
    self.attention = attention
  }

  /// OM, the teacher: 64 filters, 128 units.
  public static let om = DeepConvLSTM(filters: 64, units: 128)
  /// MM, the moderate model: 8 filters, 16 units.
  public static let mm = DeepConvLSTM(filters: 8, units: 16)
  /// LM, the lightweight student: 4 filters, 8 units.
  public static let lm = DeepConvLSTM(filters: 4, units: 8)

  /// This architecture with a CBAM-2D block placed by `attention`.
  public func with(attention: Attention?) -> DeepConvLSTM {
    DeepConvLSTM(filters: filters, units: units, attention: attention)
  }

  /// A freshly initialized model for windows `[batch, time, sensors]` with `sensors` channels
  /// and `classes` output classes: Glorot-uniform kernels, zero biases, orthogonal recurrent
  /// kernels, forget-gate biases of 1 (Keras defaults) by default; PyTorch's defaults, without
  /// the forget-gate term, with `initialization: .pytorch` (see ``WeightInitialization``).
  public func make(
    sensors: Int, classes: Int, initialization: WeightInitialization = .glorot,
    generator: inout some RandomNumberGenerator
  ) -> Sequential {
    precondition(
      sensors > 0 && classes > 0 && filters > 0 && units > 0,
      "DeepConvLSTM(filters: \(filters), units: \(units)) for \(sensors) sensors, \(classes) "
        + "classes: all must be > 0")
    if let attention {
      precondition(
        (1...Self.convolutions).contains(attention.position) && attention.reduction > 0
          && attention.spatialKernel > 0,
        "DeepConvLSTM attention \(attention): position must be in 1...4, reduction and kernel > 0")
    }
    var layers: [any Layer] = [Reshape([-1, sensors, 1])]
    for index in 1...Self.convolutions {
      let inputs = index == 1 ? 1 : filters
      layers.append(
        Conv2D(
          inputChannels: inputs, outputChannels: filters, kernelHeight: Self.kernelLength,
          kernelWidth: 1, padding: .valid, filterInitializer: initialization.weight,
          biasInitializer: initialization.bias(fanIn: Self.kernelLength * inputs),
          generator: &generator))
      layers.append(ReLU())
      if let attention, attention.position == index {
        layers.append(
          CBAM2D(
            filters: filters, reduction: attention.reduction,
            spatialKernel: attention.spatialKernel, name: ReferenceModel.attentionName,
            weightInitializer: initialization.weight, generator: &generator))
      }
    }
    layers.append(Reshape([-1, sensors * filters]))
    let keras = initialization == .glorot
    layers.append(
      LSTM(
        inputSize: sensors * filters, units: units, returnSequences: true, unitForgetBias: keras,
        initialization: initialization, generator: &generator))
    layers.append(
      LSTM(
        inputSize: units, units: units, returnSequences: false, unitForgetBias: keras,
        initialization: initialization, generator: &generator))
    layers.append(
      Dense(
        inputSize: units, outputSize: classes, weightInitializer: initialization.weight,
        biasInitializer: initialization.bias(fanIn: units), generator: &generator))
    return Sequential(layers)
  }
}
