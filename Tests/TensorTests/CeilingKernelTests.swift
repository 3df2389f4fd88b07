@_spi(Kernels) import Tensor
import Testing

/// The FMA-loop ceiling that har-bench states other figures against: the operation count it
/// reports must be what the loop does, 12 vector FMAs of 2 operations per lane a round.
@Suite("Ceiling kernel")
struct CeilingKernelTests {
  @Test(arguments: KernelVariant.allCases.filter(\.isSupported))
  func countsTwoOperationsPerLaneOfTwelveFMAsARound(variant: KernelVariant) {
    let lanes =
      switch variant {
      case .avx512F: 16
      case .avx2FMA: 8
      case .generic, .reference: 1
      }
    #expect(CeilingKernel.run(iterations: 1_000, variant: variant) == 2 * 12 * lanes * 1_000)
    #expect(CeilingKernel.run(iterations: 0, variant: variant) == 0)
  }
}
