/// A shape that does not fit what an operation or a constructor requires.
///
/// Every message names the operation and the shapes involved, so a failure deep inside a model
/// can be traced from its text alone:
///
/// ```
/// matmul: shapes [3, 4] and [5, 2] do not fit [..., m, k] × [..., k, n]
/// ```
public enum ShapeError: Error, Equatable, CustomStringConvertible, Sendable {
  /// `scalars.count` differs from the product of `shape`.
  case scalarCount(shape: [Int], expected: Int, found: Int)
  /// Two operands whose shapes break `rule`, e.g. `"[m, k] × [k, n]"`.
  case incompatible(operation: String, lhs: [Int], rhs: [Int], rule: String)
  /// One operand whose shape, or an argument given with it, breaks `rule`.
  case invalid(operation: String, shape: [Int], rule: String)
  /// `underlying`, raised inside the layer at `path`, e.g. `"3 (Dense)"`.
  indirect case inLayer(path: String, underlying: ShapeError)

  /// The message, e.g. `matmul: shapes [3, 4] and [5, 2] do not fit [..., m, k] × [..., k, n]`.
  public var description: String {
    switch self {
    case .scalarCount(let shape, let expected, let found):
      "shape \(shape) needs \(expected) scalars, found \(found)"
    case .incompatible(let operation, let lhs, let rhs, let rule):
      "\(operation): shapes \(lhs) and \(rhs) do not fit \(rule)"
    case .invalid(let operation, let shape, let rule):
      "\(operation): shape \(shape) does not fit \(rule)"
    case .inLayer(let path, let underlying):
      "layer \(path): \(underlying)"
    }
  }
}

/// Stops the program with the words a thrown ``ShapeError`` would use.
///
/// Ops call their throwing shape rule through this at the point of use: a shape error inside a
/// model is a programming error there, while the same rule is public and throws for callers
/// (layers, loaders, tests) that want to validate shapes before running anything.
@inline(__always)
@discardableResult
func checked<T>(
  _ rule: () throws(ShapeError) -> T, file: StaticString = #fileID, line: UInt = #line
) -> T {
  do {
    return try rule()
  } catch {
    // `fatalError` rather than `precondition`: its message survives optimized builds, and the
    // message is the whole point.
    fatalError(error.description, file: file, line: line)
  }
}

/// Stops the program with `error`'s message unless `condition` holds.
@inline(__always)
func require(
  _ condition: Bool, _ error: @autoclosure () -> ShapeError,
  file: StaticString = #fileID, line: UInt = #line
) {
  if !condition { fatalError(error().description, file: file, line: line) }
}
