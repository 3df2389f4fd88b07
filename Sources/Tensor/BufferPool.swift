import CKernels

/// The element arrays of released tensors, kept for the next tensor of the same size.
///
/// A training step of a fixed model allocates the same activation and gradient sizes every step
/// and releases them all when its tape goes. Without reuse, each large array is a fresh `malloc`
/// that glibc serves from `mmap` (above 128 KiB by default) and unmaps on `free`, so every step
/// page-faults its memory in again, zeroed by the kernel: that halved the students' training
/// throughput. So when the last tensor holding an array of at least ``minimumCount`` elements is
/// released, the array goes here if kernels ask for arrays of its size, and the kernels take
/// their output arrays from here first (same element count). The pool is shared by all threads (a
/// spin lock around each take and return) and holds at most ``capacityBytes``: when it is full,
/// the sizes asked for least recently (an earlier workload's) are freed to make room, and an
/// array that still does not fit is freed.
///
/// A returned array is handed out only to a kernel that overwrites it, and only through
/// `Array`'s copy-on-write: if someone still holds the array (through ``Tensor/scalars``), the
/// kernel's write copies it first, so reuse never changes a value anyone can see.
public enum BufferPool {
  /// Arrays shorter than this (16 KiB) are left to `malloc`: its small-size bins serve them
  /// without system calls, and a single window's activations (a few KiB) skip the pool's lock.
  public static let minimumCount = 4096

  /// The most bytes of arrays the pool keeps, 256 MiB by default. A training step of the study's
  /// CNN teacher at batch 64 leaves 26–44 MiB here, a student's 4–9 MiB; DeepConvLSTM at OM's width
  /// needs more than 256 MiB per step and reuses what fits. Lowering it frees the excess.
  public static var capacityBytes: Int {
    get { shared.withLock { $0.capacity } }
    set {
      shared.withLock { pool in
        pool.capacity = Swift.max(0, newValue)
        _ = pool.makeRoom(for: 0, askedAt: .max)  // free the stalest sizes down to the capacity
      }
    }
  }

  /// What the pool holds and has done since the process started.
  public struct Statistics: Sendable, Equatable {
    /// Bytes of arrays waiting for reuse.
    public var heldBytes: Int
    /// Output arrays served from the pool.
    public var reused: Int
    /// Output arrays of pooled size that had to be allocated (nothing of their size was free).
    public var allocated: Int
  }

  /// The current statistics.
  public static var statistics: Statistics { shared.withLock { $0.statistics } }

  /// Frees every array the pool holds (e.g. after training, before a long inference phase).
  public static func drain() {
    shared.withLock { pool in
      pool.floats.free.removeAll()
      pool.indices.free.removeAll()
      pool.statistics.heldBytes = 0
    }
  }

  /// An array of `count` floats with unspecified contents, from the pool if one is free.
  static func take(_ count: Int) -> [Float]? {
    guard count >= minimumCount else { return nil }
    return shared.withLock { $0.takeFloats(count) }
  }

  /// An array of `count` indices with unspecified contents, from the pool if one is free.
  static func takeIndices(_ count: Int) -> [Int]? {
    guard count >= minimumCount else { return nil }
    return shared.withLock { $0.takeIndices(count) }
  }

  /// Keeps `array` for reuse (a released tensor's elements) if kernels ask for its size, making
  /// room by freeing sizes asked for less recently; dropped if that is not enough.
  static func recycle(_ array: [Float]) {
    guard array.count >= minimumCount else { return }
    shared.withLock { $0.keep(array) }
  }

  /// Keeps a released arg-max index array, as ``recycle(_:)`` keeps floats.
  static func recycle(indices array: [Int]) {
    guard array.count >= minimumCount else { return }
    shared.withLock { $0.keep(indices: array) }
  }

  /// The most free arrays kept of one size. An unrolled LSTM holds a few arrays of each size per
  /// time step (DeepConvLSTM at LM width: over 64 of 1,024 floats), so this is high; the sizes
  /// kept are only those kernels ask for, and ``capacityBytes`` bounds the total.
  static let maxPerSize = 512

  /// Free arrays of one element type by element count, and when kernels last asked for each
  /// count: only counts asked for are kept (a data batch's input array, for one, is released
  /// every step but never asked for), and when the pool is full, the counts asked for least
  /// recently make room (an earlier workload's sizes, not the current step's).
  private struct FreeLists<Element> {
    var free: [Int: [[Element]]] = [:]
    /// The pool's request clock at the last request of each count.
    var lastRequest: [Int: Int] = [:]

    mutating func take(_ count: Int, at clock: Int, _ statistics: inout Statistics) -> [Element]? {
      lastRequest[count] = clock
      guard let array = free[count]?.popLast() else {
        statistics.allocated += 1
        return nil
      }
      if free[count]?.isEmpty == true { free[count] = nil }
      statistics.heldBytes -= count * MemoryLayout<Element>.stride
      statistics.reused += 1
      return array
    }

    /// When kernels last asked for arrays of `array`'s count, if they did and fewer than
    /// ``maxPerSize`` of them are free.
    func askedFor(_ array: [Element]) -> Int? {
      guard (free[array.count]?.count ?? 0) < maxPerSize else { return nil }
      return lastRequest[array.count]
    }

    mutating func add(_ array: [Element], _ statistics: inout Statistics) {
      free[array.count, default: []].append(array)
      statistics.heldBytes += array.byteCount
    }

    /// The count holding free arrays that was asked for least recently, and when.
    func stalest() -> (count: Int, clock: Int)? {
      free.keys.map { ($0, lastRequest[$0] ?? 0) }.min { $0.1 < $1.1 }
    }

    /// Frees one array of `count`; returns its bytes.
    mutating func evictOne(_ count: Int) -> Int {
      guard free[count]?.popLast() != nil else { return 0 }
      if free[count]?.isEmpty == true { free[count] = nil }
      return count * MemoryLayout<Element>.stride
    }
  }

  private struct State {
    var floats = FreeLists<Float>()
    var indices = FreeLists<Int>()
    var capacity = 256 << 20
    var statistics = Statistics(heldBytes: 0, reused: 0, allocated: 0)
    /// Counts requests, to tell recently used sizes from stale ones.
    var clock = 0

    mutating func takeFloats(_ count: Int) -> [Float]? {
      clock += 1
      return floats.take(count, at: clock, &statistics)
    }

    mutating func takeIndices(_ count: Int) -> [Int]? {
      clock += 1
      return indices.take(count, at: clock, &statistics)
    }

    mutating func keep(_ array: [Float]) {
      guard let asked = floats.askedFor(array), makeRoom(for: array.byteCount, askedAt: asked)
      else { return }
      floats.add(array, &statistics)
    }

    mutating func keep(indices array: [Int]) {
      guard let asked = indices.askedFor(array), makeRoom(for: array.byteCount, askedAt: asked)
      else { return }
      indices.add(array, &statistics)
    }

    /// Frees arrays of counts asked for before `asked` (stalest first) until `bytes` more fit;
    /// `false` if they cannot, without evicting anything asked for since.
    mutating func makeRoom(for bytes: Int, askedAt asked: Int) -> Bool {
      while statistics.heldBytes + bytes > capacity {
        let (f, i) = (floats.stalest(), indices.stalest())
        let useFloats: Bool
        switch (f, i) {
        case (let f?, let i?): useFloats = f.clock <= i.clock
        case (_?, nil): useFloats = true
        case (nil, _?): useFloats = false
        case (nil, nil): return false
        }
        guard let victim = useFloats ? f : i, victim.clock < asked else { return false }
        statistics.heldBytes -=
          useFloats ? floats.evictOne(victim.count) : indices.evictOne(victim.count)
      }
      return true
    }

  }

  /// The pool's state behind the C spin lock (`hd_pool_lock`): its critical sections are a few
  /// dictionary operations, shorter than a sleeping mutex's wake-up.
  private final class Locked: @unchecked Sendable {
    // Invariant that makes `@unchecked Sendable` sound: `state` is touched only inside
    // `withLock`, which holds the lock for the whole access.
    private var state = State()

    func withLock<R>(_ body: (inout State) -> R) -> R {
      hd_pool_lock()
      defer { hd_pool_unlock() }
      return body(&state)
    }
  }

  private static let shared = Locked()
}

/// The arg-max indices a max reduction's backward needs, returned to the ``BufferPool`` when
/// the last closure holding them goes.
final class ArgMaxIndices {
  let indices: [Int]

  init(_ indices: [Int]) { self.indices = indices }

  deinit { BufferPool.recycle(indices: indices) }
}

/// A tensor's elements, shared by copies of the tensor until one writes (see ``Tensor``); when
/// the last holder goes, the array goes back to the ``BufferPool``.
final class TensorStorage {
  var scalars: [Float]

  init(_ scalars: [Float]) { self.scalars = scalars }

  deinit { BufferPool.recycle(scalars) }
}

extension Kernels {
  /// `[Float](unsafeUninitializedCapacity:initializingWith:)`, taking the array from the
  /// ``BufferPool`` when one of that size is free; `body` must initialize all `count` elements.
  ///
  /// The pooled array is bound straight from `take`'s result, never passed on as an argument:
  /// a borrowed copy would hold a second reference, and the write below would then copy the
  /// whole array (callgrind: 13 % of a student's training step went to such copies).
  @inline(__always)
  static func pooledFloats(
    unsafeUninitializedCapacity count: Int,
    initializingWith body: (inout UnsafeMutableBufferPointer<Float>, inout Int) throws -> Void
  ) rethrows -> [Float] {
    guard var array = BufferPool.take(count) else {
      return try [Float](unsafeUninitializedCapacity: count, initializingWith: body)
    }
    var initialized = count
    try array.withUnsafeMutableBufferPointer { try body(&$0, &initialized) }
    precondition(initialized == count, "pooled array: \(initialized) of \(count) initialized")
    return array
  }

  /// The same for arg-max indices.
  @inline(__always)
  static func pooledIndices(
    unsafeUninitializedCapacity count: Int,
    initializingWith body: (inout UnsafeMutableBufferPointer<Int>, inout Int) throws -> Void
  ) rethrows -> [Int] {
    guard var array = BufferPool.takeIndices(count) else {
      return try [Int](unsafeUninitializedCapacity: count, initializingWith: body)
    }
    var initialized = count
    try array.withUnsafeMutableBufferPointer { try body(&$0, &initialized) }
    precondition(initialized == count, "pooled array: \(initialized) of \(count) initialized")
    return array
  }

  /// `count` copies of `value`, in an array from the ``BufferPool`` when one is free.
  static func pooledFloats(repeating value: Float, count: Int) -> [Float] {
    guard var array = BufferPool.take(count) else {
      return [Float](repeating: value, count: count)
    }
    array.withUnsafeMutableBufferPointer { $0.update(repeating: value) }
    return array
  }
}

extension Array {
  /// The bytes of the elements.
  fileprivate var byteCount: Int { count * MemoryLayout<Element>.stride }
}
