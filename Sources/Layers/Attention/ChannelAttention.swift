import Tensor

/// CBAM channel attention: which channels matter.
///
/// For `input` `[batch, time, channels]`: `a = mean_t x`, `m = max_t x` (each `[batch, C]`);
/// `Mc = σ(MLP(a) + MLP(m))` with one shared MLP `C → max(1, C/r) → C`, ReLU between, no biases;
/// output `x ⊙ Mc` broadcast over time. The map `Mc` is `[batch, channels]`.
///
/// Woo, Park, Lee & Kweon, "CBAM: Convolutional Block Attention Module", ECCV 2018
/// (https://arxiv.org/abs/1807.06521).
public struct ChannelAttention: Layer {
  /// `[channels, hidden]`, the MLP's first weight.
  public var hidden: Tensor
  /// `[hidden, channels]`, the MLP's second weight.
  public var output: Tensor
  /// The key of this layer's map in ``ForwardContext/attentionMaps`` (its path if `nil`).
  public var name: String?

  /// Channel attention with hidden size `max(1, channels / reduction)`, both weights drawn
  /// with `weightInitializer`.
  public init(
    channels: Int, reduction: Int, name: String? = nil,
    weightInitializer: Initializer = .glorotUniform, generator: inout some RandomNumberGenerator
  ) {
    precondition(
      channels > 0 && reduction > 0,
      "ChannelAttention(channels: \(channels), reduction: \(reduction)): both must be > 0")
    let width = Swift.max(1, channels / reduction)
    hidden = weightInitializer.make([channels, width], using: &generator)
    output = weightInitializer.make([width, channels], using: &generator)
    self.name = name
  }

  /// The channel count.
  public var channels: Int { hidden.shape[0] }

  /// The attended input and the channel map `[batch, channels]`.
  public func attend(_ input: Tensor) -> (output: Tensor, map: Tensor) {
    input.channelAttention(hidden: hidden, output: output)
  }

  /// The attended input, `[batch, time, channels]`; the map goes to
  /// ``ForwardContext/attentionMaps``.
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    let (result, map) = attend(input)
    context.attentionMaps[name ?? context.path, default: AttentionMaps()].channel = map
    return result
  }

  /// `inputShape`, unchanged.
  ///
  /// - Throws: `ShapeError.invalid` unless the input is `[batch, time, channels]`.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    try expectShape(
      inputShape, rank: 3, lastAxis: channels, layer: "ChannelAttention",
      rule: "[batch, time, \(channels)]")
    return inputShape
  }

  /// The shared MLP's matrix work on both descriptors, `8 · channels · hidden`.
  public func forwardFLOPs(for inputShape: [Int]) -> Int {
    // The shared MLP runs twice (average and max descriptors): 2 · 2 · (C·h + h·C).
    2 * 2 * 2 * hidden.shape[0] * hidden.shape[1]
  }

  /// Visits `"hidden"`, then `"output"`.
  public mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {
    try body("hidden", &hidden)
    try body("output", &output)
  }
}
