// CBAM's two gates as differentiable compositions, and its whole forward pass as one kernel for
// inference.
import CKernels

extension Tensor {
  /// CBAM channel attention on `[batch, time, channels]`: the input scaled per channel by
  /// `Mc = σ(MLP(mean_t x) + MLP(max_t x))`, `MLP(d) = ReLU(d · hidden) · output` (no biases),
  /// and the map `Mc` `[batch, channels]`. Differentiable (a composition of recorded operations).
  ///
  /// Both descriptors go through the shared MLP in one pass, as one `[2·batch, channels]` matrix:
  /// one GEMM per layer, not one per example.
  public func channelAttention(hidden: Tensor, output: Tensor) -> (output: Tensor, map: Tensor) {
    require(
      shape.count == 3,
      .incompatible(
        operation: "channelAttention", lhs: shape, rhs: hidden.shape,
        rule: "input [batch, time, channels], hidden [channels, width]"))
    let (batch, channels) = (shape[0], shape[2])
    let map = meanAndMax(alongAxis: 1).reshaped(to: [2 * batch, channels])
      .matmul(hidden).relu().matmul(output)
      .reshaped(to: [batch, 2, channels]).sum(alongAxis: 1).sigmoid()
    return (self * map.expandingShape(at: 1), map)
  }

  /// CBAM spatial attention on `[batch, time, channels]`: the input scaled per step by
  /// `Ms = σ(conv1D([mean_c x, max_c x], filter, same))` (`filter` `[k, 2, 1]`, mean first, no
  /// bias), and the map `Ms` `[batch, time]`. Differentiable.
  public func spatialAttention(filter: Tensor) -> (output: Tensor, map: Tensor) {
    let gate = meanAndMax(alongAxis: 2).conv1D(filter: filter, padding: .same).sigmoid()
    return (self * gate, gate.squeezingShape(at: 2))
  }

  /// CBAM (channel, then spatial attention) on `[batch, time, channels]` in one pass, for
  /// inference: the attended input, the channel map `[batch, channels]` and the spatial map
  /// `[batch, time]`.
  ///
  /// The same values, up to float rounding, as ``channelAttention(hidden:output:)`` followed by
  /// ``spatialAttention(filter:)``, without an array per step: `Mc = σ(MLP(mean_t x) +
  /// MLP(max_t x))`, `Ms = σ(conv1D([mean_c, max_c](x ⊙ Mc), spatialFilter, same))`, output
  /// `(x ⊙ Mc) ⊙ Ms`.
  /// It records nothing on a tape, so every operand must be untracked; training uses the
  /// composition (as `CBAM` does whenever its input or parameters are tracked).
  ///
  /// - Parameters:
  ///   - hidden: The shared MLP's first weight, `[channels, width]`.
  ///   - output: Its second weight, `[width, channels]`.
  ///   - spatialFilter: The spatial convolution, `[kernelSize, 2, 1]` (mean first, no bias).
  public func cbamForInference(
    hidden: Tensor, output: Tensor, spatialFilter: Tensor
  ) -> (output: Tensor, channelMap: Tensor, spatialMap: Tensor) {
    require(
      shape.count == 3 && shape.allSatisfy { $0 > 0 },
      .invalid(operation: "cbamForInference", shape: shape, rule: "[batch, time, channels]"))
    let (batch, time, channels) = (shape[0], shape[1], shape[2])
    require(
      hidden.rank == 2 && hidden.shape[0] == channels && hidden.shape[1] > 0,
      .incompatible(
        operation: "cbamForInference", lhs: shape, rhs: hidden.shape,
        rule: "hidden [channels, width]"))
    let width = hidden.shape[1]
    require(
      output.shape == [width, channels],
      .incompatible(
        operation: "cbamForInference", lhs: hidden.shape, rhs: output.shape,
        rule: "output [\(width), \(channels)]"))
    require(
      spatialFilter.rank == 3 && spatialFilter.shape[0] > 0 && spatialFilter.shape[1] == 2
        && spatialFilter.shape[2] == 1,
      .invalid(
        operation: "cbamForInference", shape: spatialFilter.shape, rule: "spatialFilter [k, 2, 1]"))
    require(
      !isTracked && !hidden.isTracked && !output.isTracked && !spatialFilter.isTracked,
      .invalid(
        operation: "cbamForInference", shape: shape,
        rule: "untracked operands (it records no gradient; train with the differentiable ops)"))

    let configuration = KernelConfiguration.current
    guard let variant = configuration.variant.cValue else {
      return referenceCBAM(hidden: hidden, output: output, spatialFilter: spatialFilter)
    }
    let kernelSize = spatialFilter.shape[0]
    var mapC = Kernels.pooledFloats(repeating: 0, count: batch * channels)
    var mapS = Kernels.pooledFloats(repeating: 0, count: batch * time)
    var result = Kernels.pooledFloats(repeating: 0, count: scalarCount)
    // About 8 passes over each example: split the batch once that is worth a thread hand-off.
    let workers =
      scalarCount >= 1 << 16
      ? Swift.min(Kernels.parallelPieces, batch) : 1
    withUnsafeBufferPointer { px in
      hidden.withUnsafeBufferPointer { pw1 in
        output.withUnsafeBufferPointer { pw2 in
          spatialFilter.withUnsafeBufferPointer { pf in
            result.withUnsafeMutableBufferPointer { py in
              mapC.withUnsafeMutableBufferPointer { pc in
                mapS.withUnsafeMutableBufferPointer { ps in
                  let inputs = (
                    x: DisjointWrites(reading: px.baseAddress!, count: px.count),
                    w1: DisjointWrites(reading: pw1.baseAddress!, count: pw1.count),
                    w2: DisjointWrites(reading: pw2.baseAddress!, count: pw2.count),
                    f: DisjointWrites(reading: pf.baseAddress!, count: pf.count)
                  )
                  let outputs = (
                    y: DisjointWrites(py.baseAddress!, count: py.count),
                    c: DisjointWrites(pc.baseAddress!, count: pc.count),
                    s: DisjointWrites(ps.baseAddress!, count: ps.count)
                  )
                  Kernels.parallelFor(workers, threads: configuration.threadCount) { worker in
                    let examples = Kernels.share(of: batch, worker: worker, workers: workers)
                    guard !examples.isEmpty else { return }
                    let first = examples.lowerBound
                    hd_cbam1d_forward(
                      variant, examples.count, time, channels, width,
                      inputs.x.base + first * time * channels, inputs.w1.base, inputs.w2.base,
                      kernelSize, inputs.f.base, outputs.y.base + first * time * channels,
                      outputs.c.base + first * channels, outputs.s.base + first * time)
                  }
                }
              }
            }
          }
        }
      }
    }
    return (
      Tensor(uncheckedShape: shape, scalars: result),
      Tensor(uncheckedShape: [batch, channels], scalars: mapC),
      Tensor(uncheckedShape: [batch, time], scalars: mapS)
    )
  }

  /// ``cbamForInference(hidden:output:spatialFilter:)`` composed from the differentiable
  /// operations: the reference the kernel is tested against.
  func referenceCBAM(
    hidden: Tensor, output: Tensor, spatialFilter: Tensor
  ) -> (output: Tensor, channelMap: Tensor, spatialMap: Tensor) {
    let (refined, channelMap) = channelAttention(hidden: hidden, output: output)
    let (result, spatialMap) = refined.spatialAttention(filter: spatialFilter)
    return (result, channelMap, spatialMap)
  }
}
