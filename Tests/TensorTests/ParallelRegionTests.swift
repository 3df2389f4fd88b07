import Synchronization
import Tensor
import Testing

/// `forEachPiece` runs every piece exactly once, whether its region runs on the parked worker
/// pool, inline, or (when the pool is busy: a region started from inside a piece, or from
/// several threads at once) on Dispatch's threads.
@Suite("Parallel regions")
struct ParallelRegionTests {
  /// How many times each piece ran, after `run` has returned.
  func counts(pieces: Int, _ run: (@escaping @Sendable (Int) -> Void) -> Void) -> [Int] {
    let counts = Mutex([Int](repeating: 0, count: pieces))
    run { piece in counts.withLock { $0[piece] += 1 } }
    return counts.withLock { $0 }
  }

  @Test(arguments: [1, 2, 3, 8])
  func everyPieceRunsOnce(threads: Int) {
    for pieces in [0, 1, 2, 7, 8, 64] {
      let ran = counts(pieces: pieces) { body in forEachPiece(pieces, threads: threads, body) }
      #expect(ran == [Int](repeating: 1, count: pieces), "\(pieces) pieces on \(threads) threads")
    }
  }

  @Test func regionsStartedInsidePiecesRunEveryPieceOnce() {
    // Each outer piece runs a region of 8 inner pieces: 5 × 8 cells, each written once.
    let ran = counts(pieces: 40) { body in
      forEachPiece(5, threads: 2) { outer in
        forEachPiece(8, threads: 2) { inner in body(outer * 8 + inner) }
      }
    }
    #expect(ran == [Int](repeating: 1, count: 40))
  }

  @Test func regionsFromSeveralTasksAtOnceRunEveryPieceOnce() async {
    let ran = await withTaskGroup(of: [Int].self) { group in
      for _ in 0..<4 {
        group.addTask {
          var all: [Int] = []
          for _ in 0..<50 {
            all += counts(pieces: 16) { body in forEachPiece(16, threads: 2, body) }
          }
          return all
        }
      }
      var all: [Int] = []
      for await part in group { all += part }
      return all
    }
    #expect(ran == [Int](repeating: 1, count: 4 * 50 * 16))
  }

  @Test func backToBackRegionsEachRunEveryPiece() {
    // Back-to-back regions (the pool worker still spinning or just asleep) over one buffer.
    let values = Mutex([Int](repeating: 0, count: 32))
    for round in 1...200 {
      forEachPiece(32, threads: 2) { piece in
        values.withLock { $0[piece] += 1 }
      }
      #expect(values.withLock { $0 } == [Int](repeating: round, count: 32))
    }
  }
}
