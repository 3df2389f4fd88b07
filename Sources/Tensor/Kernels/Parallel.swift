import Dispatch

/// A buffer that several workers write at once, each inside its own disjoint range.
///
/// Invariant (what makes the `@unchecked Sendable` sound): while a parallel region runs, every
/// element is written by at most one worker and read by no other worker, and the memory outlives
/// the region, because ``Kernels/parallelFor(_:_:)`` returns only after every worker finished.
/// Read-only operands of the region travel in the same box (`base` then points at memory that
/// nobody writes while the region runs). The only other unchecked crossing is `ShardWork` in
/// Layers (data-parallel training steps), whose invariant is documented there.
struct DisjointWrites: @unchecked Sendable {
  let base: UnsafeMutablePointer<Float>
  let count: Int

  init(_ base: UnsafeMutablePointer<Float>, count: Int) {
    self.base = base
    self.count = count
  }

  /// A read-only operand, shared by all workers and written by none.
  init(reading base: UnsafePointer<Float>, count: Int) {
    self.init(UnsafeMutablePointer(mutating: base), count: count)
  }
}

extension Kernels {
  /// Runs `body(worker)` for `worker` in `0..<count` and returns when all are done; with
  /// `count == 1` it runs inline on the calling thread.
  ///
  /// Callers split only regions of more than ~100–200 µs: waking the second thread costs
  /// 5–30 µs on the 2-core VMs this was tuned on (PERFORMANCE-NOTES §5), so finer regions run
  /// slower in parallel than on one thread.
  static func parallelFor(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count <= 1 {
      body(0)
      return
    }
    DispatchQueue.concurrentPerform(iterations: count, execute: body)
  }

  /// How many pieces a parallel region is cut into for `threads` threads: four per thread.
  ///
  /// Dispatch hands pieces to whichever thread is free, so when another process holds one core
  /// of this shared 2-core machine, the other thread takes most pieces instead of the region
  /// waiting for a half that cannot run (measured: with one core busy, halves made 2-thread
  /// training of the students slower than 1 thread).
  static func parallelChunks(_ threads: Int) -> Int { threads <= 1 ? 1 : 4 * threads }

  /// The half-open range of `0..<total` that worker `worker` of `workers` takes, in whole
  /// multiples of `granule` (the last worker takes the remainder).
  static func share(
    of total: Int, worker: Int, workers: Int, granule: Int = 1
  ) -> Range<Int> {
    let units = (total + granule - 1) / granule
    let start = Swift.min(total, units * worker / workers * granule)
    let end =
      worker == workers - 1 ? total : Swift.min(total, units * (worker + 1) / workers * granule)
    return start..<end
  }
}
