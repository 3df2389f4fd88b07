import CKernels

extension Kernels {
  /// Max pooling over time of `x` `[batch, time, channels]`, with, for each output element, the
  /// flat input index of its maximum (−1 when the window holds only padding).
  ///
  /// ``referenceMaxPool1D(_:geometry:)`` in C: the first tap of a window is copied, later taps
  /// are compared row against row with selects, which vectorize in the AVX2 and AVX-512
  /// variants.
  static func maxPool1D(_ x: Tensor, geometry g: WindowGeometry) -> (Tensor, [Int]) {
    if KernelConfiguration.current.variant == .reference {
      return referenceMaxPool1D(x, geometry: g)
    }
    let (batch, channels) = (x.shape[0], x.shape[2])
    let count = batch * g.outputLength * channels
    var argmax: [Int] = []
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      // The C kernel writes every element of both (−1 where a window holds only padding).
      argmax = Kernels.pooledIndices(unsafeUninitializedCapacity: count) { pa, written in
        x.withUnsafeBufferPointer { px in
          var geometry = cGeometry(g, batch: batch, inC: channels, outC: channels)
          hd_max_pool1d(
            KernelConfiguration.current.variant.cValue!, &geometry, px.baseAddress!,
            out.baseAddress!, pa.baseAddress!)
        }
        written = count
      }
      initialized = count
    }
    return (Tensor(uncheckedShape: [batch, g.outputLength, channels], scalars: result), argmax)
  }

  /// The reference for ``maxPool1D(_:geometry:)``.
  static func referenceMaxPool1D(_ x: Tensor, geometry g: WindowGeometry) -> (Tensor, [Int]) {
    let (batch, channels) = (x.shape[0], x.shape[2])
    let count = batch * g.outputLength * channels
    var result = [Float](repeating: -.infinity, count: count)
    var argmax = [Int](repeating: -1, count: count)
    x.withUnsafeBufferPointer { px in
      for b in 0..<batch {
        for t in 0..<g.outputLength {
          let out = (b * g.outputLength + t) * channels
          for j in 0..<g.kernelSize {
            guard let s = g.inputStep(output: t, tap: j) else { continue }
            let input = (b * g.inputLength + s) * channels
            for c in 0..<channels where argmax[out + c] < 0 || px[input + c] > result[out + c] {
              result[out + c] = px[input + c]
              argmax[out + c] = input + c
            }
          }
        }
      }
    }
    return (Tensor(uncheckedShape: [batch, g.outputLength, channels], scalars: result), argmax)
  }

  /// Average pooling over time; padded positions are excluded from each window's count
  /// (TensorFlow's `same` convention).
  static func avgPool1D(_ x: Tensor, geometry g: WindowGeometry) -> Tensor {
    let (batch, channels) = (x.shape[0], x.shape[2])
    var result = Kernels.pooledFloats(repeating: 0, count: batch * g.outputLength * channels)
    x.withUnsafeBufferPointer { px in
      for b in 0..<batch {
        for t in 0..<g.outputLength {
          let out = (b * g.outputLength + t) * channels
          let steps = (0..<g.kernelSize).compactMap { g.inputStep(output: t, tap: $0) }
          let scale = 1 / Float(Swift.max(steps.count, 1))
          for s in steps {
            let input = (b * g.inputLength + s) * channels
            for c in 0..<channels { result[out + c] += px[input + c] * scale }
          }
        }
      }
    }
    return Tensor(uncheckedShape: [batch, g.outputLength, channels], scalars: result)
  }

  /// The input gradient of ``avgPool1D(_:geometry:)`` for upstream `gy`.
  static func avgPool1DBackward(_ gy: Tensor, inputShape: [Int], geometry g: WindowGeometry)
    -> Tensor
  {
    let (batch, channels) = (inputShape[0], inputShape[2])
    var result = Kernels.pooledFloats(repeating: 0, count: inputShape.reduce(1, *))
    gy.withUnsafeBufferPointer { pg in
      for b in 0..<batch {
        for t in 0..<g.outputLength {
          let out = (b * g.outputLength + t) * channels
          let steps = (0..<g.kernelSize).compactMap { g.inputStep(output: t, tap: $0) }
          let scale = 1 / Float(Swift.max(steps.count, 1))
          for s in steps {
            let input = (b * g.inputLength + s) * channels
            for c in 0..<channels { result[input + c] += pg[out + c] * scale }
          }
        }
      }
    }
    return Tensor(uncheckedShape: inputShape, scalars: result)
  }
}
