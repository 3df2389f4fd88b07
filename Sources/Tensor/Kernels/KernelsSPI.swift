// Raw kernel entry points for the benchmark and the kernel tests, outside the public API:
// clients that want them write `@_spi(Kernels) import Tensor`.
import CKernels

/// The GEMM kernels on plain row-major arrays.
@_spi(Kernels)
public enum GEMMKernels {
  /// `op(a) · op(b)` as an `m×n` row-major array, with `configuration`'s kernels
  /// (``KernelVariant/reference``
  /// is the naive Swift loop). `a` is `m×k` (`k×m` when `transposeA`), `b` is `k×n` (`n×k` when
  /// `transposeB`).
  public static func multiply(
    m: Int, n: Int, k: Int, _ a: [Float], transposeA: Bool = false, _ b: [Float],
    transposeB: Bool = false, into c: inout [Float],
    configuration: KernelConfiguration = .current
  ) {
    precondition(
      a.count == m * k && b.count == k * n && c.count == m * n,
      "GEMMKernels.multiply: \(m)×\(k)×\(n) needs \(m * k), \(k * n), \(m * n) floats, "
        + "got \(a.count), \(b.count), \(c.count)")
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          Kernels.gemm(
            m: m, n: n, k: k, a: pa.baseAddress!, transposeA: transposeA, b: pb.baseAddress!,
            transposeB: transposeB, c: pc.baseAddress!, accumulate: false,
            configuration: configuration)
        }
      }
    }
  }
}

/// The arithmetic ceiling of one core: independent fused multiply-adds on the widest registers of
/// `variant`, with no memory traffic.
@_spi(Kernels)
public enum CeilingKernel {
  /// Runs `iterations` rounds and returns the floating-point operations done (a round is 12
  /// vector FMAs of 2 operations per lane); the reference variant runs the generic C loop.
  @discardableResult
  public static func run(
    iterations: Int, variant: KernelVariant = KernelConfiguration.current.variant
  ) -> Int {
    let c = variant.cValue ?? Int32(HD_VARIANT_GENERIC)
    let result = hd_fma_ceiling(c, iterations)
    // The sum is finite for any count; checking it keeps the loop's result observable.
    precondition(result.isFinite, "CeilingKernel.run: the FMA loop produced \(result)")
    return hd_fma_ceiling_flops(c, iterations)
  }
}
