import Tensor

/// The Convolutional Block Attention Module over a time × sensor plane: channel attention over
/// the filters, then spatial attention over (time, sensors), on `[batch, time, sensors, filters]`.
///
/// Channel attention is ``ChannelAttention`` with its descriptors pooled over time *and* sensors
/// (mean and max over all `time · sensors` positions; shared MLP `filters → max(1, filters/r) →
/// filters`, no biases); spatial attention is ``SpatialAttention2D`` with a `k × k` kernel. Both
/// maps of the last forward pass are left in ``ForwardContext/attentionMaps`` under ``name`` (or
/// the layer's path) as tracked tensors: channel `[batch, filters]`, spatial
/// `[batch, time, sensors]`. Parameters: `2·F·max(1, F/r) + 2k²`.
///
/// Woo, Park, Lee & Kweon, "CBAM: Convolutional Block Attention Module", ECCV 2018; placed
/// inside DeepConvLSTM (Ordóñez & Roggen, Sensors 2016) after one of its convolutions.
public struct CBAM2D: Layer {
  /// The channel half (its descriptors pool over time and sensors).
  public var channel: ChannelAttention
  /// The spatial half.
  public var spatial: SpatialAttention2D
  /// The key of this module's maps in ``ForwardContext/attentionMaps`` (its path if `nil`).
  public var name: String?

  /// A CBAM block over `filters` channels with reduction ratio `reduction` and a
  /// `spatialKernel × spatialKernel` spatial filter, every weight drawn with `weightInitializer`.
  public init(
    filters: Int, reduction: Int, spatialKernel: Int = 7, name: String? = nil,
    weightInitializer: Initializer = .glorotUniform, generator: inout some RandomNumberGenerator
  ) {
    channel = ChannelAttention(
      channels: filters, reduction: reduction, weightInitializer: weightInitializer,
      generator: &generator)
    spatial = SpatialAttention2D(
      kernelSize: spatialKernel, weightInitializer: weightInitializer, generator: &generator)
    self.name = name
  }

  /// The attended input `[batch, time, sensors, filters]` and both maps: channel
  /// `[batch, filters]`, spatial `[batch, time, sensors]`.
  public func attend(_ input: Tensor) -> (output: Tensor, maps: AttentionMaps) {
    let (batch, time, sensors, filters) = (
      input.shape[0], input.shape[1], input.shape[2], input.shape[3]
    )
    // Pooling over time and sensors is pooling over the flattened plane.
    let (refined, channelMap) = channel.attend(
      input.reshaped(to: [batch, time * sensors, filters]))
    let (result, spatialMap) = spatial.attend(
      refined.reshaped(to: [batch, time, sensors, filters]))
    return (result, AttentionMaps(channel: channelMap, spatial: spatialMap))
  }

  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    let (result, maps) = attend(input)
    context.attentionMaps[name ?? context.path] = maps
    return result
  }

  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    try expectShape(
      inputShape, rank: 4, lastAxis: channel.channels, layer: "CBAM2D",
      rule: "[batch, time, sensors, \(channel.channels)]")
    return inputShape
  }

  /// The shared MLP twice (`2 · 2 · 2·F·h`) plus the spatial `k × k` convolution
  /// (`2 · time · sensors · 2k²`); pooling and gating are element-wise work, not counted.
  public func forwardFLOPs(for inputShape: [Int]) -> Int {
    guard inputShape.count == 4 else { return 0 }
    return channel.forwardFLOPs(for: inputShape) + spatial.forwardFLOPs(for: inputShape)
  }

  public mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {
    try channel.forEachParameter { name, value in try body("channel.\(name)", &value) }
    try spatial.forEachParameter { name, value in try body("spatial.\(name)", &value) }
  }
}
