import CKernels

extension Kernels {
  /// `C[m, n] (+)= op(A) · op(B)` as
  /// ``referenceGEMM(m:n:k:a:transposeA:b:transposeB:c:accumulate:)``
  /// (same operands, same result up to rounding), with the kernels of `configuration`.
  ///
  /// The C kernels pack both operands, so the transposed forms cost the same as the plain one.
  /// Products of more than ``parallelGEMMFLOPs`` are cut along the longer of M and N, in whole
  /// micro-tiles, into ``parallelPieces`` pieces that the threads share: each piece writes
  /// its own rows or columns of C, and the cut changes no sum's order, so the result is bitwise
  /// the same for any thread count.
  static func gemm(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, transposeA: Bool,
    b: UnsafePointer<Float>, transposeB: Bool,
    c: UnsafeMutablePointer<Float>, accumulate: Bool,
    configuration: KernelConfiguration = .current
  ) {
    guard let variant = configuration.variant.cValue else {
      referenceGEMM(
        m: m, n: n, k: k, a: a, transposeA: transposeA, b: b, transposeB: transposeB, c: c,
        accumulate: accumulate)
      return
    }
    let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
    let (ta, tb): (Int32, Int32) = (transposeA ? 1 : 0, transposeB ? 1 : 0)
    let beta: Float = accumulate ? 1 : 0
    let workers = 2 * m * n * k >= parallelGEMMFLOPs ? parallelPieces : 1
    if workers == 1 {
      hd_sgemm(variant, ta, tb, m, n, k, a, lda, b, ldb, beta, c, n)
      return
    }
    let (pa, pb) = (DisjointWrites(reading: a, count: 0), DisjointWrites(reading: b, count: 0))
    let pc = DisjointWrites(c, count: m * n)
    let splitRows = m >= n
    parallelFor(workers, threads: configuration.threadCount) { worker in
      if splitRows {
        let rows = share(of: m, worker: worker, workers: workers, granule: 32)
        guard !rows.isEmpty else { return }
        let aStart = transposeA ? rows.lowerBound : rows.lowerBound * lda
        hd_sgemm(
          variant, ta, tb, rows.count, n, k, pa.base + aStart, lda, pb.base, ldb, beta,
          pc.base + rows.lowerBound * n, n)
      } else {
        let cols = share(of: n, worker: worker, workers: workers, granule: 32)
        guard !cols.isEmpty else { return }
        let bStart = transposeB ? cols.lowerBound * ldb : cols.lowerBound
        hd_sgemm(
          variant, ta, tb, m, cols.count, k, pa.base, lda, pb.base + bStart, ldb, beta,
          pc.base + cols.lowerBound, n)
      }
    }
  }

  /// Below this many FLOPs (2·m·n·k) a GEMM runs on one thread: ~80 µs of work, where the
  /// hand-off to a second thread stops costing more than it saves (5–30 µs to wake a thread).
  static let parallelGEMMFLOPs = 8_000_000

  /// `C[m, n] (+)= op(A) · op(B)` on row-major buffers, where `op(A)` is `[m, k]` (`A` stored
  /// `[k, m]` when `transposeA`) and `op(B)` is `[k, n]` (`B` stored `[n, k]` when `transposeB`).
  ///
  /// The reference kernel: the i-p-j loop order keeps the innermost loop a contiguous
  /// `c += a·b` over a row of `B` and `C`, which the compiler vectorizes. A transposed `B` is
  /// copied to `[k, n]` first, because the alternative inner dot product is a float reduction the
  /// compiler may not reorder. The fast blocked kernels are checked against this one.
  static func referenceGEMM(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, transposeA: Bool,
    b: UnsafePointer<Float>, transposeB: Bool,
    c: UnsafeMutablePointer<Float>, accumulate: Bool
  ) {
    if !accumulate { c.update(repeating: 0, count: m * n) }
    guard k > 0 else { return }
    if transposeB {
      let bt = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
      defer { bt.deallocate() }
      for j in 0..<n {
        for p in 0..<k { bt[p * n + j] = b[j * k + p] }
      }
      referenceGEMM(
        m: m, n: n, k: k, a: a, transposeA: transposeA, b: bt, transposeB: false, c: c,
        accumulate: true)
      return
    }
    for i in 0..<m {
      let row = c + i * n
      for p in 0..<k {
        let aip = transposeA ? a[p * m + i] : a[i * k + p]
        let bRow = b + p * n
        for j in 0..<n { row[j] += aip * bRow[j] }
      }
    }
  }

  /// Batched `op(a) · op(b)` over broadcast leading axes; `a` is `[..., m, k]` (or
  /// `[..., k, m]` when `transposeA`), `b` is `[..., k, n]` (or `[..., n, k]`), with batch shapes
  /// already checked to broadcast to `batch`.
  static func batchedMatmul(
    _ a: Tensor, transposeA: Bool, _ b: Tensor, transposeB: Bool, batch: [Int]
  ) -> Tensor {
    let (ra, rb) = (a.rank, b.rank)
    let m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2]
    let k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1]
    let n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1]
    let batchCount = batch.reduce(1, *)
    let stridesA = broadcastStrides(of: Array(a.shape.dropLast(2)), to: batch)
    let stridesB = broadcastStrides(of: Array(b.shape.dropLast(2)), to: batch)
    var offsetsA = [Int](repeating: 0, count: batchCount)
    var offsetsB = [Int](repeating: 0, count: batchCount)
    forEachOffset(shape: batch, strides: stridesA) { index, offset in offsetsA[index] = offset }
    forEachOffset(shape: batch, strides: stridesB) { index, offset in offsetsB[index] = offset }
    let count = batchCount * m * n
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
          for index in 0..<batchCount {
            gemm(
              m: m, n: n, k: k,
              a: pa.baseAddress! + offsetsA[index] * m * k, transposeA: transposeA,
              b: pb.baseAddress! + offsetsB[index] * k * n, transposeB: transposeB,
              c: out.baseAddress! + index * m * n, accumulate: false)
          }
        }
      }
      initialized = count
    }
    return Tensor(uncheckedShape: batch + [m, n], scalars: result)
  }
}
