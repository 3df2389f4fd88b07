import Tensor

/// The Convolutional Block Attention Module for 1-D data: channel attention, then spatial
/// attention, on `[batch, time, channels]`.
///
/// Both maps of the last forward pass are left in ``ForwardContext/attentionMaps`` under
/// ``name`` (or the layer's path), as tracked tensors, so that an attention-transfer loss can
/// backpropagate through them. Parameters: `2·C²/r + 2k` (`2·C·max(1, C/r) + 2k`).
///
/// Woo, Park, Lee & Kweon, "CBAM: Convolutional Block Attention Module", ECCV 2018
/// (https://arxiv.org/abs/1807.06521).
public struct CBAM: Layer {
  /// The channel half.
  public var channel: ChannelAttention
  /// The spatial half.
  public var spatial: SpatialAttention
  /// The key of this module's maps in ``ForwardContext/attentionMaps`` (its path if `nil`).
  public var name: String?

  /// A CBAM block over `channels` with reduction ratio `reduction` and a `spatialKernel` filter,
  /// every weight drawn with `weightInitializer`.
  public init(
    channels: Int, reduction: Int, spatialKernel: Int = 7, name: String? = nil,
    weightInitializer: Initializer = .glorotUniform, generator: inout some RandomNumberGenerator
  ) {
    channel = ChannelAttention(
      channels: channels, reduction: reduction, weightInitializer: weightInitializer,
      generator: &generator)
    spatial = SpatialAttention(
      kernelSize: spatialKernel, weightInitializer: weightInitializer, generator: &generator)
    self.name = name
  }

  /// The attended input and both maps: channel `[batch, channels]`, spatial `[batch, time]`.
  ///
  /// Untracked (inference), the whole block runs as one kernel
  /// (`Tensor.cbamForInference(hidden:output:spatialFilter:)`); tracked, as the two gates'
  /// differentiable operations.
  public func attend(_ input: Tensor) -> (output: Tensor, maps: AttentionMaps) {
    if !input.isTracked && !channel.hidden.isTracked && !channel.output.isTracked
      && !spatial.filter.isTracked
    {
      let (result, channelMap, spatialMap) = input.cbamForInference(
        hidden: channel.hidden, output: channel.output, spatialFilter: spatial.filter)
      return (result, AttentionMaps(channel: channelMap, spatial: spatialMap))
    }
    let (refined, channelMap) = channel.attend(input)
    let (result, spatialMap) = spatial.attend(refined)
    return (result, AttentionMaps(channel: channelMap, spatial: spatialMap))
  }

  /// The attended input, `[batch, time, channels]`; both maps go to
  /// ``ForwardContext/attentionMaps``.
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    let (result, maps) = attend(input)
    context.attentionMaps[name ?? context.path] = maps
    return result
  }

  /// `inputShape`, unchanged.
  ///
  /// - Throws: `ShapeError.invalid` unless the input is `[batch, time, channels]`.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    try channel.outputShape(for: spatial.outputShape(for: inputShape))
  }

  /// The channel MLP's and the spatial convolution's FLOPs.
  public func forwardFLOPs(for inputShape: [Int]) -> Int {
    channel.forwardFLOPs(for: inputShape) + spatial.forwardFLOPs(for: inputShape)
  }

  /// Visits `"channel.hidden"`, `"channel.output"` and `"spatial.filter"`.
  public mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {
    try channel.forEachParameter { name, value in try body("channel.\(name)", &value) }
    try spatial.forEachParameter { name, value in try body("spatial.\(name)", &value) }
  }
}
