/// An n-dimensional array of `Float`, stored contiguously in row-major order.
///
/// `Tensor` has value semantics: copies share storage until one of them is written
/// (copy-on-write); when the last tensor holding a large element array is released, the array
/// goes to the ``BufferPool`` for the next tensor of its size. A tensor may be *tracked* by a
/// ``Tape``, in which case every differentiable operation applied to it is recorded for
/// reverse-mode differentiation; an untracked tensor (inference) records nothing and allocates
/// no graph.
///
/// Shapes are `[Int]`; 1-D sensor data uses the channels-last layout `[batch, time, channels]`.
public struct Tensor {
  /// The extent of each axis, outermost first. A scalar has shape `[]`.
  public let shape: [Int]
  /// The elements in row-major order; `scalars.count` is the product of `shape`.
  public internal(set) var scalars: [Float] {
    get { storage.scalars }
    _modify {
      if !isKnownUniquelyReferenced(&storage) { storage = TensorStorage(storage.scalars) }
      yield &storage.scalars
    }
  }
  /// The elements' owner, shared by copies of this tensor until one of them writes.
  private var storage: TensorStorage
  /// The tape recording operations on this tensor and this tensor's node on it, if tracked.
  var tracking: Tracking?

  /// Where a tracked tensor lives on its tape.
  struct Tracking {
    /// Held weakly: a tape owns its backward closures, tensors must not keep a finished tape alive.
    weak var tape: Tape?
    let id: Int
  }

  /// Creates a tensor from its shape and row-major scalars.
  ///
  /// - Throws: ``ShapeError/scalarCount(shape:expected:found:)`` if `scalars.count` is not the
  ///   product of `shape`, or ``ShapeError/invalid(operation:shape:rule:)`` for a negative extent.
  public init(shape: [Int], scalars: [Float]) throws(ShapeError) {
    guard shape.allSatisfy({ $0 >= 0 }) else {
      throw .invalid(operation: "Tensor", shape: shape, rule: "non-negative extents")
    }
    var expected = 1
    for extent in shape {
      let (product, overflow) = expected.multipliedReportingOverflow(by: extent)
      guard !overflow else {
        throw .invalid(operation: "Tensor", shape: shape, rule: "an element count that fits in Int")
      }
      expected = product
    }
    guard expected == scalars.count else {
      throw .scalarCount(shape: shape, expected: expected, found: scalars.count)
    }
    self.shape = shape
    self.storage = TensorStorage(scalars)
  }

  /// Creates a tensor whose shape is known to match, skipping the check (kernels only).
  init(uncheckedShape shape: [Int], scalars: [Float]) {
    self.shape = shape
    self.storage = TensorStorage(scalars)
  }

  /// `other`'s elements under `shape` (same count, unchecked), sharing its storage object: one
  /// owner per array, so that the array returns to the ``BufferPool`` once, when both are gone.
  init(uncheckedShape shape: [Int], sharingStorageOf other: Tensor) {
    self.shape = shape
    self.storage = other.storage
  }

  /// A tensor of the given shape filled with `value`.
  public init(repeating value: Float, shape: [Int]) {
    require(
      shape.allSatisfy { $0 >= 0 },
      .invalid(operation: "Tensor(repeating:shape:)", shape: shape, rule: "non-negative extents"))
    self.init(
      uncheckedShape: shape,
      scalars: Kernels.pooledFloats(repeating: value, count: shape.reduce(1, *)))
  }

  /// A tensor of zeros with the given shape.
  public init(zeros shape: [Int]) { self.init(repeating: 0, shape: shape) }

  /// A tensor of ones with the given shape.
  public init(ones shape: [Int]) { self.init(repeating: 1, shape: shape) }

  /// A scalar (rank-0) tensor.
  public init(_ value: Float) { self.init(uncheckedShape: [], scalars: [value]) }

  /// A vector (rank-1) tensor holding `scalars`.
  public init(_ scalars: [Float]) { self.init(uncheckedShape: [scalars.count], scalars: scalars) }

  /// A matrix (rank-2) tensor from its rows, which must all have the same length.
  ///
  /// - Throws: ``ShapeError/invalid(operation:shape:rule:)`` naming the first row's shape when
  ///   the rows differ in length.
  public init(rows: [[Float]]) throws(ShapeError) {
    let width = rows.first?.count ?? 0
    for row in rows where row.count != width {
      throw .invalid(
        operation: "Tensor(rows:)", shape: [rows.count, width],
        rule: "rows of equal length (found a row of \(row.count))")
    }
    self.init(uncheckedShape: [rows.count, width], scalars: rows.flatMap { $0 })
  }

  /// The number of axes.
  public var rank: Int { shape.count }

  /// The number of elements, the product of `shape`.
  public var scalarCount: Int { scalars.count }

  /// The only element of a one-element tensor (a scalar, `[1]`, `[1, 1]`, …).
  public var scalar: Float {
    require(
      scalars.count == 1,
      .invalid(operation: "scalar", shape: shape, rule: "exactly one element"))
    return scalars[0]
  }

  /// Whether a ``Tape`` records the operations applied to this tensor.
  public var isTracked: Bool { tracking?.tape != nil }

  /// The same values, no longer tracked: operations on the result record nothing.
  public func detached() -> Tensor {
    var copy = self
    copy.tracking = nil
    return copy
  }

  /// Row-major offset of a multi-index, checking every index against its axis.
  func offset(of indices: [Int]) -> Int {
    require(
      indices.count == shape.count,
      .invalid(
        operation: "subscript", shape: shape, rule: "\(shape.count) indices, got \(indices)"))
    var offset = 0
    for (axis, index) in indices.enumerated() {
      require(
        index >= 0 && index < shape[axis],
        .invalid(operation: "subscript", shape: shape, rule: "indices in range, got \(indices)"))
      offset = offset * shape[axis] + index
    }
    return offset
  }

  /// The element at a multi-index, one index per axis.
  ///
  /// Writing an element changes the value, so a tracked tensor becomes untracked: the tape's
  /// record no longer describes it.
  public subscript(indices: Int...) -> Float {
    get { scalars[offset(of: indices)] }
    set {
      scalars[offset(of: indices)] = newValue
      tracking = nil
    }
  }

  /// Calls `body` with the elements in row-major order.
  public func withUnsafeBufferPointer<R>(
    _ body: (UnsafeBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    try scalars.withUnsafeBufferPointer(body)
  }

  /// Calls `body` with mutable access to the elements; the tensor becomes untracked.
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    tracking = nil
    return try scalars.withUnsafeMutableBufferPointer(body)
  }
}

extension Tensor: CustomStringConvertible {
  /// Nested brackets in row-major order, with the shape, e.g.
  /// `Tensor([2, 2]) [[1.0, 2.0], [3.0, 4.0]]`; long axes are elided in the middle.
  public var description: String {
    func render(_ axis: Int, _ base: Int) -> String {
      if axis == shape.count { return "\(scalars[base])" }
      let extent = shape[axis]
      let stride = shape[(axis + 1)...].reduce(1, *)
      let shown: [Int?] =
        extent <= 8 ? Array(0..<extent) : Array(0..<3) + [nil] + Array((extent - 3)..<extent)
      let parts = shown.map { index in
        index.map { render(axis + 1, base + $0 * stride) } ?? "…"
      }
      return "[" + parts.joined(separator: ", ") + "]"
    }
    let body = scalarCount == 0 ? "[]" : render(0, 0)
    return "Tensor(\(shape)\(isTracked ? ", tracked" : "")) \(body)"
  }
}

extension Tensor {
  /// Whether two tensors have the same shape and every pair of elements differs by at most
  /// `tolerance` (absolute).
  public func isClose(to other: Tensor, tolerance: Float = 1e-5) -> Bool {
    shape == other.shape
      && zip(scalars, other.scalars).allSatisfy { abs($0 - $1) <= tolerance }
  }
}
