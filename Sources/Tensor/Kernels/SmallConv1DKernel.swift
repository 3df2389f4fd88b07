import CKernels

// Convolutions with 16 or 32 output channels (the students' layers) run on direct kernels
// (smallconv.c) instead of im2col + GEMM, whose packing outweighed the arithmetic there.

extension Kernels {
  /// Whether the direct small-channel kernels compute this convolution (and its filter
  /// gradient) with `configuration`'s C variant: stride 1, dilation 1, `same` length, 16 or 32
  /// output channels, at most 32 input channels.
  static func smallConv1DApplies(
    _ g: WindowGeometry, inC: Int, outC: Int, configuration: KernelConfiguration = .current
  ) -> Bool {
    configuration.variant.cValue != nil
      && hd_conv1d_small_applies(
        inC, outC, g.kernelSize, g.stride, g.dilation, g.inputLength, g.outputLength,
        g.padBefore) != 0
  }

  /// ``referenceConv1D(_:_:bias:geometry:)`` followed by `max(0, ·)` when `relu`, on the direct
  /// small-channel kernels, or `nil` when they do not apply (``smallConv1DApplies``).
  ///
  /// The batch is cut as ``conv1D(_:_:bias:geometry:configuration:)`` cuts it (never by the
  /// thread count), and each sample's output depends on that sample only.
  static func smallConv1D(
    _ x: Tensor, _ w: Tensor, bias: Tensor?, geometry g: WindowGeometry, relu: Bool,
    configuration: KernelConfiguration = .current
  ) -> Tensor? {
    let (batch, inC, outC) = (x.shape[0], x.shape[2], w.shape[2])
    guard let variant = configuration.variant.cValue, batch > 0,
      smallConv1DApplies(g, inC: inC, outC: outC, configuration: configuration)
    else { return nil }
    return sampleParallelConv1D(x, w, bias: bias, geometry: g, configuration: configuration) {
      samples, x, w, b, y in
      hd_conv1d_small_forward(
        variant, samples, g.inputLength, inC, outC, g.kernelSize, g.padBefore, x, w, b,
        relu ? 1 : 0, y)
    }
  }

  /// The input, filter and bias gradients of ``smallConv1D(_:_:bias:geometry:relu:configuration:)``
  /// for upstream `gy`, or `nil` when the direct kernels do not apply (the input gradient, when
  /// `needsInput`, also needs 16 or 32 input channels).
  ///
  /// With `mask` (the forward output of a convolution with ReLU), the upstream gradient counts
  /// only where `mask > 0`, as ``Tensor/relu()``'s subgradient. Several workers each take a share
  /// of the batch: input gradients land in disjoint samples, filter and bias gradients are summed
  /// from per-worker partials in worker order (the cut never depends on the thread count).
  ///
  /// With `pooled`, `gy` is the gradient of `maxPool2(mask)` (`[batch, length / 2, outC]`) and
  /// `mask` the convolution's output after ReLU: each pair's gradient goes to its first maximum,
  /// where that is > 0 (``Tensor/maxPool1D(kernelSize:stride:padding:)`` after ``Tensor/relu()``).
  static func smallConv1DBackward(
    _ gy: Tensor, _ x: Tensor, _ w: Tensor, mask: Tensor?, pooled: Bool = false,
    geometry g: WindowGeometry, needsInput: Bool, configuration: KernelConfiguration = .current
  ) -> (input: Tensor?, filter: Tensor, bias: Tensor)? {
    let (batch, inC, outC) = (x.shape[0], x.shape[2], w.shape[2])
    guard let variant = configuration.variant.cValue, batch > 0,
      smallConv1DApplies(g, inC: inC, outC: outC, configuration: configuration)
    else { return nil }
    if needsInput
      && hd_conv1d_small_backward_input_applies(
        inC, outC, g.kernelSize, g.stride, g.dilation, g.inputLength, g.outputLength,
        g.padBefore) == 0
    {
      return nil
    }
    let workers = convWorkers(g, batch: batch, inC: inC, outC: outC)
    let filterCount = w.scalarCount
    let stride = filterCount + outC
    // Worker 0 adds into the results, the others into partials [filter | bias] summed after in
    // worker order.
    var gw = Kernels.pooledFloats(repeating: 0, count: filterCount)
    var gb = Kernels.pooledFloats(repeating: 0, count: outC)
    var partials = [Float](repeating: 0, count: (workers - 1) * stride)
    var gx =
      needsInput
      ? Kernels.pooledFloats(unsafeUninitializedCapacity: x.scalarCount) { $1 = $0.count } : []
    gy.withUnsafeBufferPointer { pgy in
      x.withUnsafeBufferPointer { px in
        w.withUnsafeBufferPointer { pw in
          withOptionalPointer(mask) { pm in
            gw.withUnsafeMutableBufferPointer { pgw in
              gb.withUnsafeMutableBufferPointer { pgb in
                partials.withUnsafeMutableBufferPointer { pp in
                  gx.withUnsafeMutableBufferPointer { pgx in
                    let (sgy, sx, sw) = (
                      DisjointWrites(reading: pgy.baseAddress!, count: pgy.count),
                      DisjointWrites(reading: px.baseAddress!, count: px.count),
                      DisjointWrites(reading: pw.baseAddress!, count: pw.count)
                    )
                    let sm = pm.map { DisjointWrites(reading: $0, count: mask!.scalarCount) }
                    let (sgw, sgb) = (
                      DisjointWrites(pgw.baseAddress!, count: filterCount),
                      DisjointWrites(pgb.baseAddress!, count: outC)
                    )
                    let sp = workers > 1 ? DisjointWrites(pp.baseAddress!, count: pp.count) : nil
                    // Not `pgx.baseAddress.map`: an empty array may still have a base address.
                    let sgx = needsInput ? DisjointWrites(pgx.baseAddress!, count: pgx.count) : nil
                    parallelFor(workers, threads: configuration.threadCount) { worker in
                      let samples = share(of: batch, worker: worker, workers: workers)
                      guard !samples.isEmpty else { return }
                      let (inOffset, outOffset, upstreamOffset) = (
                        samples.lowerBound * g.inputLength * inC,
                        samples.lowerBound * g.outputLength * outC,
                        samples.lowerBound * (pooled ? g.outputLength / 2 : g.outputLength) * outC
                      )
                      let (filter, bias) =
                        worker == 0
                        ? (sgw.base, sgb.base)
                        : (
                          sp!.base + (worker - 1) * stride,
                          sp!.base + (worker - 1) * stride + filterCount
                        )
                      if pooled {
                        hd_conv1d_small_backward_pooled(
                          variant, samples.count, g.inputLength, inC, outC, g.kernelSize,
                          g.padBefore, sx.base + inOffset, sw.base, sgy.base + upstreamOffset,
                          sm!.base + outOffset, sgx.map { $0.base + inOffset }, filter, bias)
                      } else {
                        hd_conv1d_small_backward(
                          variant, samples.count, g.inputLength, inC, outC, g.kernelSize,
                          g.padBefore, sx.base + inOffset, sw.base, sgy.base + upstreamOffset,
                          sm.map { $0.base + outOffset }, sgx.map { $0.base + inOffset }, filter,
                          bias)
                      }
                    }
                  }
                }
                for worker in 1..<Swift.max(workers, 1) {
                  let base = (worker - 1) * stride
                  for i in 0..<filterCount { pgw[i] += partials[base + i] }
                  for o in 0..<outC { pgb[o] += partials[base + filterCount + o] }
                }
              }
            }
          }
        }
      }
    }
    return (
      needsInput ? Tensor(uncheckedShape: x.shape, scalars: gx) : nil,
      Tensor(uncheckedShape: w.shape, scalars: gw), Tensor(uncheckedShape: [outC], scalars: gb)
    )
  }

  /// `max(y[b, 2u, c], y[b, 2u + 1, c])` for `y` `[batch, length, channels]`: `[batch, length / 2,
  /// channels]` (a trailing odd step is dropped, as `valid` pooling drops it).
  static func maxPool2(_ y: Tensor) -> Tensor {
    let (batch, length, channels) = (y.shape[0], y.shape[1], y.shape[2])
    let count = batch * (length / 2) * channels
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      y.withUnsafeBufferPointer { py in
        hd_max_pool2(batch, length, channels, py.baseAddress!, out.baseAddress!)
      }
      initialized = count
    }
    return Tensor(uncheckedShape: [batch, length / 2, channels], scalars: result)
  }
}
