// Raw kernel entry points for the benchmark and the kernel tests, outside the public API:
// clients that want them write `@_spi(Kernels) import Tensor`.

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
