// Random tensors, always drawn from a generator the caller passes: same seed, same tensor.

extension Tensor {
  /// A tensor of independent uniform samples from `range`.
  public static func uniform(
    _ shape: [Int], in range: ClosedRange<Float>, using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    let width = range.upperBound - range.lowerBound
    let count = elementCount(of: shape)
    var scalars = [Float](repeating: 0, count: count)
    for i in 0..<count { scalars[i] = range.lowerBound + width * generator.nextUnitFloat() }
    return Tensor(uncheckedShape: shape, scalars: scalars)
  }

  /// A tensor of independent normal samples with the given mean and standard deviation.
  public static func normal(
    _ shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
    using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    let count = elementCount(of: shape)
    var scalars = [Float](repeating: 0, count: count)
    for i in 0..<count {
      scalars[i] = mean + standardDeviation * Float(generator.nextStandardNormal())
    }
    return Tensor(uncheckedShape: shape, scalars: scalars)
  }

  /// The fan-in and fan-out of a weight of `shape`, as Keras counts them: a `[in, out]` matrix
  /// has fans `in` and `out`; a convolution filter `[kernel..., in, out]` multiplies both by the
  /// receptive field size.
  public static func fans(of shape: [Int]) -> (fanIn: Int, fanOut: Int) {
    switch shape.count {
    case 0: return (1, 1)
    case 1: return (shape[0], shape[0])
    default:
      let receptive = shape.dropLast(2).reduce(1, *)
      return (shape[shape.count - 2] * receptive, shape[shape.count - 1] * receptive)
    }
  }

  /// Glorot (Xavier) uniform initialization: `U(−l, l)` with `l = √(6 / (fanIn + fanOut))`.
  ///
  /// Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural
  /// networks", AISTATS 2010 (https://proceedings.mlr.press/v9/glorot10a.html). The Keras
  /// default for kernels.
  public static func glorotUniform(
    _ shape: [Int], using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    let (fanIn, fanOut) = fans(of: shape)
    let limit = (6 / Float(Swift.max(fanIn + fanOut, 1))).squareRoot()
    return uniform(shape, in: -limit...limit, using: &generator)
  }

  /// He (Kaiming) normal initialization: `N(0, 2 / fanIn)`.
  ///
  /// He, Zhang, Ren & Sun, "Delving Deep into Rectifiers: Surpassing Human-Level Performance on
  /// ImageNet Classification", ICCV 2015 (https://arxiv.org/abs/1502.01852).
  public static func heNormal(
    _ shape: [Int], using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    let fanIn = fans(of: shape).fanIn
    return normal(
      shape, standardDeviation: (2 / Float(Swift.max(fanIn, 1))).squareRoot(), using: &generator)
  }

  /// He (Kaiming) uniform initialization: `U(−l, l)` with `l = √(6 / fanIn)`.
  public static func heUniform(
    _ shape: [Int], using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    let limit = (6 / Float(Swift.max(fans(of: shape).fanIn, 1))).squareRoot()
    return uniform(shape, in: -limit...limit, using: &generator)
  }

  /// The element count of `shape`, stopping with a message on a negative extent.
  private static func elementCount(of shape: [Int]) -> Int {
    require(
      shape.allSatisfy { $0 >= 0 },
      .invalid(operation: "Tensor", shape: shape, rule: "non-negative extents"))
    return shape.reduce(1, *)
  }
}
