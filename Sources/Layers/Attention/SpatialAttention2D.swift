import Tensor

/// CBAM spatial attention over a 2-D plane: which (time, sensor) positions matter.
///
/// For `input` `[batch, time, sensors, filters]`: `S = [mean_f x, max_f x]`
/// (`[batch, time, sensors, 2]`, mean first); `Ms = σ(Conv2D(S))` with a `k × k` filter
/// `[k, k, 2, 1]`, `same` padding, no bias; output `x ⊙ Ms` broadcast over filters. The map `Ms`
/// is `[batch, time, sensors]`.
///
/// Woo, Park, Lee & Kweon, "CBAM: Convolutional Block Attention Module", ECCV 2018.
public struct SpatialAttention2D: Layer {
  /// `[kernelSize, kernelSize, 2, 1]`.
  public var filter: Tensor
  /// The key of this layer's map in ``ForwardContext/attentionMaps`` (its path if `nil`).
  public var name: String?

  /// Spatial attention with a `kernelSize × kernelSize` convolution (7 in CBAM; 3, 5 or 7 here).
  public init(
    kernelSize: Int = 7, name: String? = nil, weightInitializer: Initializer = .glorotUniform,
    generator: inout some RandomNumberGenerator
  ) {
    precondition(kernelSize > 0, "SpatialAttention2D(kernelSize: \(kernelSize)): must be > 0")
    filter = weightInitializer.make([kernelSize, kernelSize, 2, 1], using: &generator)
    self.name = name
  }

  /// The attended input and the spatial map `[batch, time, sensors]`.
  public func attend(_ input: Tensor) -> (output: Tensor, map: Tensor) {
    // [batch, time, sensors, 2]: mean and max over the filters.
    let pooled = input.meanAndMax(alongAxis: 3)
    let gate = pooled.conv2D(filter: filter, padding: .same).sigmoid()  // [batch, time, sensors, 1]
    return (input * gate, gate.squeezingShape(at: 3))
  }

  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    let (result, map) = attend(input)
    context.attentionMaps[name ?? context.path, default: AttentionMaps()].spatial = map
    return result
  }

  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] {
    try expectShape(
      inputShape, rank: 4, layer: "SpatialAttention2D", rule: "[batch, time, sensors, filters]")
    return inputShape
  }

  /// `2 · time · sensors · k² · 2`: the `k × k` convolution over the two pooled planes.
  public func forwardFLOPs(for inputShape: [Int]) -> Int {
    inputShape.count == 4 ? 2 * inputShape[1] * inputShape[2] * filter.scalarCount : 0
  }

  public mutating func forEachParameter(_ body: (String, inout Tensor) throws -> Void) rethrows {
    try body("filter", &filter)
  }
}
