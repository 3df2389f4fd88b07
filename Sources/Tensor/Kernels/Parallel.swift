import CKernels
import Dispatch

/// A buffer that several workers write at once, each inside its own disjoint range.
///
/// Invariant (what makes the `@unchecked Sendable` sound): while a parallel region runs, every
/// element is written by at most one worker and read by no other worker, and the memory outlives
/// the region, because ``Kernels/parallelFor(_:_:)`` returns only after every worker finished.
/// Read-only operands of the region travel in the same box (`base` then points at memory that
/// nobody writes while the region runs). The only other unchecked crossing is `ShardWork` in
/// Layers (data-parallel training steps), whose invariant is documented there, and
/// ``PieceCounter``.
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
  /// Runs `body(piece)` for every `piece` in `0..<count` and returns when all are done.
  ///
  /// The pieces run on at most `threads` threads, the calling thread included; each thread takes
  /// the next piece not yet taken, so when another process
  /// holds one core of a shared machine, the other threads take most pieces instead of the
  /// region waiting for a share that cannot run. With one thread the pieces run in order, inline.
  /// How the work is cut into pieces never depends on the thread count (see ``parallelPieces``),
  /// so every thread count gives the same bits.
  static func parallelFor(_ count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
    let threads = Swift.min(count, threads)
    if threads <= 1 {
      for piece in 0..<count { body(piece) }
      return
    }
    // The parked pool (CKernels' parallel.c) starts its workers within microseconds; it runs one
    // region at a time, so a region started while it is busy (by another thread, or from inside
    // a piece) runs on Dispatch's threads instead.
    let ranOnPool = withoutActuallyEscaping(body) { body in
      let box = PieceBody(body)
      return withExtendedLifetime(box) {
        hd_parallel_for(
          count, Int32(threads),
          { context, piece in
            Unmanaged<PieceBody>.fromOpaque(context!).takeUnretainedValue().body(piece)
          }, Unmanaged.passUnretained(box).toOpaque()) != 0
      }
    }
    if ranOnPool { return }
    let next = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    next.initialize(to: 0)
    defer { next.deallocate() }
    let counter = PieceCounter(next: next)
    DispatchQueue.concurrentPerform(iterations: threads) { _ in
      while true {
        let piece = Int(hd_take_next(counter.next))
        guard piece < count else { return }
        body(piece)
      }
    }
  }

  /// How many pieces a parallel region that is worth splitting is cut into: a fixed number, so
  /// that the sums a region makes (a filter gradient summed over its pieces' samples) and so the
  /// results are the same bits on any thread count. Eight pieces give two threads four each: on
  /// a shared 2-core machine halves made 2-thread training slower than one thread whenever
  /// another process held a core, and quarters did not.
  ///
  /// Callers split only regions of more than ~100–200 µs: waking a second thread costs 5–30 µs
  /// on the 2-core machines this was tuned on, so finer regions run slower in parallel.
  static let parallelPieces = 8

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

/// Runs `body(piece)` for every `piece` in `0..<count` on at most `threads` threads (the calling
/// thread included) and returns when all are done; each thread takes the next piece not yet
/// taken. With one thread the pieces run in order, inline. Data-parallel training runs its
/// shards with it, so that a thread count bounds a whole training step.
public func forEachPiece(_ count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
  Kernels.parallelFor(count, threads: threads, body)
}

/// The next piece of a parallel region, shared by its workers.
///
/// Invariant (what makes the `@unchecked Sendable` sound): workers touch `next` only through
/// `hd_take_next`, an atomic fetch-and-add, and the memory outlives the region.
struct PieceCounter: @unchecked Sendable {
  let next: UnsafeMutablePointer<Int>
}

/// A region's body, handed to the C pool as an unretained pointer that lives until the region
/// returns.
private final class PieceBody: Sendable {
  let body: @Sendable (Int) -> Void
  init(_ body: @escaping @Sendable (Int) -> Void) { self.body = body }
}
