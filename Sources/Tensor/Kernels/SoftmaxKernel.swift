import Foundation

extension Kernels {
  /// Softmax (or log-softmax) of `x` along `axis`, with the maximum subtracted first so that no
  /// exponential overflows.
  static func softmax(_ x: Tensor, axis: Int, log: Bool) -> Tensor {
    let (outer, extent, inner) = split(x.shape, at: axis)
    let count = x.scalarCount
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      x.withUnsafeBufferPointer { source in
        for o in 0..<outer {
          for i in 0..<inner {
            let base = o * extent * inner + i
            var peak = -Float.infinity
            for e in 0..<extent { peak = Swift.max(peak, source[base + e * inner]) }
            var total: Float = 0
            for e in 0..<extent {
              let shifted = source[base + e * inner] - peak
              out[base + e * inner] = shifted
              total += Libm.exp(shifted)
            }
            if log {
              let logTotal = Libm.log(total)
              for e in 0..<extent { out[base + e * inner] -= logTotal }
            } else {
              let scale = 1 / total
              for e in 0..<extent {
                out[base + e * inner] = Libm.exp(out[base + e * inner]) * scale
              }
            }
          }
        }
      }
      initialized = count
    }
    return Tensor(uncheckedShape: x.shape, scalars: result)
  }

  /// The mean cross-entropy of `logits` `[batch, classes]` against integer `labels`, and the
  /// softmax probabilities that its gradient needs.
  static func softmaxCrossEntropy(
    _ logits: Tensor, labels: [Int]
  ) -> (loss: Float, probabilities: Tensor) {
    let probabilities = softmax(logits, axis: 1, log: false)
    let classes = logits.shape[1]
    // The loss comes from the log-sum-exp form, accumulated in Double: −log p underflows for
    // confident wrong predictions if taken from the rounded probability.
    var total = 0.0
    logits.withUnsafeBufferPointer { z in
      for (row, label) in labels.enumerated() {
        let base = row * classes
        var peak = -Float.infinity
        for k in 0..<classes { peak = Swift.max(peak, z[base + k]) }
        var sum = 0.0
        for k in 0..<classes { sum += Double(Libm.exp(z[base + k] - peak)) }
        total += Foundation.log(sum) + Double(peak) - Double(z[base + label])
      }
    }
    return (Float(total / Double(Swift.max(labels.count, 1))), probabilities)
  }
}
