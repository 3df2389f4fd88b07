import Tensor
import Testing

/// The buffer pool behind tensor storage. It is shared by the whole process and other suites run
/// concurrently, so these tests assert what concurrent traffic cannot undo: reuse of sizes
/// nobody else uses, values that must not change, and a capacity of zero. (Which sizes a full
/// pool frees is not asserted here: other suites' traffic changes it; `har-bench` reports the
/// pool's misses per training step, 0.00 for the CNN cases after the GEMM cases' sizes.) The
/// tests run one at a time: one sets the capacity to zero, under which the others cannot reuse.
@Suite("Buffer pool", .serialized)
struct BufferPoolTests {
  func random(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = SplitMix64(seed: seed)
    return Tensor.uniform(shape, in: -1...1, using: &rng)
  }

  @Test func aReleasedArrayServesTheNextOutputOfItsSize() {
    // 5,003 elements: a size no other test allocates.
    let (x, y) = (random([5003], seed: 1), random([5003], seed: 2))
    let before = BufferPool.statistics.reused
    var sum = Tensor(zeros: [5003])
    for _ in 0..<4 { sum = sum + (x * y) }  // each step releases two arrays of this size
    #expect(BufferPool.statistics.reused > before)
    let expected = zip(x.scalars, y.scalars).map { 4 * ($0 * $1) }
    #expect(zip(sum.scalars, expected).allSatisfy { abs($0 - $1) <= 1e-6 })
  }

  /// An array handed out through `scalars` outlives its tensor; when the tensor's storage goes
  /// back to the pool and is handed to a kernel, copy-on-write must keep the caller's copy.
  @Test func reuseNeverChangesAnArraySomeoneStillHolds() {
    let (x, y) = (random([4099], seed: 3), random([4099], seed: 4))
    var held: [Float] = []
    var expected: [Float] = []
    do {
      let product = x * y
      held = product.scalars
      expected = held.map { $0 }  // a real copy, not a shared buffer
    }
    for _ in 0..<4 { _ = x + y }  // outputs of the same size, possibly from the pool
    #expect(held == expected)
  }

  @Test func aCapacityOfZeroKeepsNothing() {
    let saved = BufferPool.capacityBytes
    defer { BufferPool.capacityBytes = saved }
    BufferPool.capacityBytes = 0
    _ = random([8192], seed: 6) + random([8192], seed: 7)
    #expect(BufferPool.statistics.heldBytes == 0)
    BufferPool.capacityBytes = saved
    BufferPool.drain()
    #expect(BufferPool.capacityBytes == saved)
  }
}
