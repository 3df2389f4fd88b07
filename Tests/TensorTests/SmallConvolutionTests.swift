import Tensor
import Testing

/// The direct kernels for convolutions with 16 or 32 output channels (stride 1, `same`) against
/// the Swift reference kernels, on the students' layer shapes and on edge cases.
@Suite("Small-channel convolutions")
struct SmallConvolutionTests {
  static let fastVariants = KernelVariant.allCases.filter { $0 != .reference && $0.isSupported }

  /// (batch, length, in, out, kernel): LM's two layers, odd and even kernels, a kernel longer
  /// than the sequence, one step, 32 inputs.
  static let shapes: [(Int, Int, Int, Int, Int)] = [
    (3, 128, 9, 16, 5), (3, 64, 16, 32, 5), (2, 13, 32, 16, 4), (2, 3, 16, 32, 7),
    (1, 1, 5, 16, 3), (2, 17, 1, 32, 1), (9, 10, 16, 16, 2),
  ]

  func random(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = SplitMix64(seed: seed)
    return Tensor.uniform(shape, in: -1...1, using: &rng)
  }

  func worstDifference(_ a: Tensor, _ b: Tensor) -> Float {
    #expect(a.shape == b.shape)
    let scale = Swift.max(1, a.scalars.map(abs).max() ?? 0)
    return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
  }

  @Test(arguments: fastVariants)
  func valuesAndGradientsMatchTheReference(_ variant: KernelVariant) {
    for (index, (batch, length, inC, outC, kernel)) in Self.shapes.enumerated() {
      let seed = UInt64(10 * index)
      let x = random([batch, length, inC], seed: seed)
      let w = random([kernel, inC, outC], seed: seed + 1)
      let b = random([outC], seed: seed + 2)
      let g = random([batch, length, outC], seed: seed + 3)
      for activation in [ConvolutionActivation.identity, .relu] {
        func run(_ v: KernelVariant) -> (Tensor, [Tensor]) {
          KernelConfiguration.with(variant: v) {
            let y = x.conv1D(filter: w, bias: b, padding: .same, activation: activation)
            let (_, grads) = valueWithGradients(at: [x, w, b]) { p in
              (p[0].conv1D(filter: p[1], bias: p[2], padding: .same, activation: activation) * g)
                .sum()
            }
            // With the input untracked (a model's first layer), no input gradient is formed.
            let (_, parameterGrads) = valueWithGradients(at: [w, b]) { p in
              (x.conv1D(filter: p[0], bias: p[1], padding: .same, activation: activation) * g)
                .sum()
            }
            return (y, grads + parameterGrads)
          }
        }
        let (expected, expectedGrads) = run(.reference)
        let (actual, actualGrads) = run(variant)
        let label = "\(variant) \(batch)×\(length)×\(inC)→\(outC) k\(kernel) \(activation)"
        #expect(worstDifference(expected, actual) <= 1e-5, "\(label)")
        for (name, e, a) in zip3(
          ["input", "filter", "bias", "filter (input untracked)", "bias (input untracked)"],
          expectedGrads, actualGrads)
        {
          #expect(worstDifference(e, a) <= 1e-5, "\(label) \(name) gradient")
        }
      }
    }
  }

  /// The fused block against its two operations, on every variant (the reference runs the
  /// two operations): values and gradients, with the input tracked (16 channels) and not
  /// (LM's first layer), odd and even lengths.
  @Test(arguments: fastVariants)
  func theFusedBlockMatchesConvolutionThenPooling(_ variant: KernelVariant) {
    for (index, (batch, length, inC, outC, tracked)) in [
      (4, 128, 9, 16, false), (2, 64, 16, 32, true), (3, 7, 16, 16, true), (1, 2, 3, 32, false),
    ].enumerated() {
      let seed = UInt64(100 + 10 * index)
      let x = random([batch, length, inC], seed: seed)
      let w = random([5, inC, outC], seed: seed + 1)
      let b = random([outC], seed: seed + 2)
      let g = random([batch, length / 2, outC], seed: seed + 3)
      func run(fused: Bool) -> (Tensor, [Tensor]) {
        KernelConfiguration.with(variant: variant) {
          func block(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Tensor {
            fused
              ? x.conv1DReLUMaxPool(filter: w, bias: b)
              : x.conv1D(filter: w, bias: b, padding: .same, activation: .relu)
                .maxPool1D(kernelSize: 2)
          }
          let (_, grads) =
            tracked
            ? valueWithGradients(at: [x, w, b]) { p in (block(p[0], p[1], p[2]) * g).sum() }
            : valueWithGradients(at: [w, b]) { p in (block(x, p[0], p[1]) * g).sum() }
          return (block(x, w, b), grads)
        }
      }
      let (expected, expectedGrads) = run(fused: false)
      let (actual, actualGrads) = run(fused: true)
      let label = "\(variant) \(batch)×\(length)×\(inC)→\(outC)"
      #expect(expected.shape == [batch, length / 2, outC])
      #expect(worstDifference(expected, actual) <= 1e-6, "\(label)")
      #expect(expectedGrads.count == actualGrads.count)
      for (e, a) in zip(expectedGrads, actualGrads) {
        #expect(worstDifference(e, a) <= 1e-6, "\(label) gradient")
      }
    }
  }

  /// The direct kernels compute each sample from that sample alone: a sample's output is the
  /// same bits in a batch of 1 as in a batch of 8.
  @Test func aSampleGivesTheSameBitsInAnyBatch() {
    let x = random([8, 64, 16], seed: 5)
    let w = random([5, 16, 32], seed: 6)
    let whole = x.conv1D(filter: w, padding: .same, activation: .relu)
    let third = x.sliced(alongAxis: 0, range: 3..<4).conv1D(
      filter: w, padding: .same, activation: .relu)
    #expect(whole.sliced(alongAxis: 0, range: 3..<4).scalars == third.scalars)
  }
}

private func zip3<A, B, C>(_ a: [A], _ b: [B], _ c: [C]) -> [(A, B, C)] {
  zip(a, zip(b, c)).map { ($0, $1.0, $1.1) }
}
