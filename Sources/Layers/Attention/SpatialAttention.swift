import Tensor

/// CBAM spatial attention: which time steps matter.
///
/// For `input` `[batch, time, channels]`: `S = [mean_c x, max_c x]` (`[batch, time, 2]`, mean
/// first); `Ms = σ(Conv1D(S))` with a `kernelSize` filter `[k, 2, 1]`, `same` padding, no bias;
/// output `x ⊙ Ms` broadcast over channels. The map `Ms` is `[batch, time]`.
///
/// Woo, Park, Lee & Kweon, "CBAM: Convolutional Block Attention Module", ECCV 2018
/// (https://arxiv.org/abs/1807.06521).
public struct SpatialAttention: Layer {
  /// `[kernelSize, 2, 1]`.
  public var filter: Tensor
  /// The key of this layer's map in ``ForwardContext/attentionMaps`` (its path if `nil`).
  public var name: String?

  /// Spatial attention with a `kernelSize` convolution (7 in CBAM).
  public init(
    kernelSize: Int = 7, name: String? = nil, weightInitializer: Initializer = .glorotUniform,
    generator: inout some RandomNumberGenerator
  ) {
    precondition(kernelSize > 0, "SpatialAttention(kernelSize: \(kernelSize)): must be > 0")
    filter = weightInitializer.make([kernelSize, 2, 1], using: &generator)
    self.name = name
  }

  /// The attended input and the spatial map `[batch, time]`.
  public func attend(_ input: Tensor) -> (output: Tensor, map: Tensor) {
    input.spatialAttention(filter: filter)
  }

  /// The attended input, `[batch, time, channels]`; the map goes to
  /// ``ForwardContext/attentionMaps``.
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    let (result, map) = attend(input)
    context.attentionMaps[name ?? context.path, default: AttentionMaps()].spatial = map
    return result
  }

  /// `inputShape`, unchanged.
  ///
  /// - Throws: `ShapeError.invalid` unless the input is `[batch, time, channels]`.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    try expectShape(inputShape, rank: 3, layer: "SpatialAttention", rule: "[batch, time, channels]")
    return inputShape
  }

  /// The convolution over the pooled `[time, 2]` descriptor, `4 · time · kernelSize`.
  public func forwardFLOPs(for inputShape: [Int]) -> Int {
    inputShape.count == 3 ? 2 * inputShape[1] * filter.shape[0] * 2 : 0
  }

  /// Visits `"filter"`.
  public mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {
    try body("filter", &filter)
  }
}
