import Tensor

/// Inverted dropout: in training, zeroes each element with probability `rate` and scales the
/// survivors by `1 / (1 − rate)`; in inference, the identity.
///
/// Srivastava et al., "Dropout: A Simple Way to Prevent Neural Networks from Overfitting", JMLR
/// 2014 (https://jmlr.org/papers/v15/srivastava14a.html). The mask comes from ``ForwardContext/generator``, so a seeded run is reproducible.
public struct Dropout: ParameterlessLayer {
  /// The probability of dropping an element, in `[0, 1)`.
  public let rate: Float

  /// A dropout layer.
  public init(rate: Float) {
    precondition(rate >= 0 && rate < 1, "Dropout(rate: \(rate)): rate must be in [0, 1)")
    self.rate = rate
  }

  /// In training, `input` with a fresh random mask applied (drawn from `context.generator`, one
  /// draw per element in row-major order); in inference, `input` itself. Any shape.
  ///
  /// In a shard of a batch (``ForwardContext/shard``), the draws of the examples before and after
  /// the shard are skipped, so the shard gets the same mask elements, and the generator ends in
  /// the same state, as one pass over the whole batch.
  public func forward(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    guard context.isTraining, rate > 0 else { return input }
    let scale = 1 / (1 - rate)
    let perExample = input.rank == 0 ? 1 : input.scalarCount / Swift.max(1, input.shape[0])
    if let shard = context.shard { context.generator.skip(shard.range.lowerBound * perExample) }
    var mask = Tensor(zeros: input.shape)
    mask.withUnsafeMutableBufferPointer { m in
      for i in m.indices {
        m[i] = Float(context.generator.next() >> 40) * 0x1p-24 >= rate ? scale : 0
      }
    }
    if let shard = context.shard {
      context.generator.skip((shard.batchSize - shard.range.upperBound) * perExample)
    }
    return input * mask
  }

  /// `inputShape`, unchanged.
  public func outputShape(for inputShape: [Int]) throws(ShapeError) -> [Int] { inputShape }
}
