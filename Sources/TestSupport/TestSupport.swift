import Tensor

/// The result of comparing a function's analytic Jacobian with central finite differences.
public struct GradientReport: CustomStringConvertible, Sendable {
  /// One Jacobian entry: `∂output[outputIndex] / ∂inputs[input][inputIndex]`.
  public struct Entry: Sendable {
    public let input: Int
    public let inputIndex: Int
    public let outputIndex: Int
    public let analytic: Double
    public let numeric: Double
  }

  /// Every Jacobian entry compared.
  public let entryCount: Int
  /// The entries outside tolerance.
  public let failures: [Entry]
  /// Whether every entry was within tolerance and the tracked forward matched the untracked one.
  public var passed: Bool { failures.isEmpty && forwardMatches }
  /// Whether the tracked forward values equal the untracked ones, to 10⁻⁶ of the largest
  /// (recording must not change values; an untracked pass may use a fused kernel).
  public let forwardMatches: Bool

  public var description: String {
    if passed { return "all \(entryCount) Jacobian entries within tolerance" }
    var lines = forwardMatches ? [] : ["tracked and untracked forward values differ"]
    lines.append("\(failures.count) of \(entryCount) Jacobian entries outside tolerance:")
    for entry in failures.prefix(8) {
      lines.append(
        "  ∂out[\(entry.outputIndex)]/∂in\(entry.input)[\(entry.inputIndex)]: analytic "
          + "\(entry.analytic), numeric \(entry.numeric)")
    }
    return lines.joined(separator: "\n")
  }
}

/// Compares the full Jacobian of `function` at `inputs`, computed by the tape, with central
/// finite differences accumulated in `Double`.
///
/// Every output element is seeded in turn (one forward, one backward per output element), and
/// every input element perturbed by `±step`. An entry passes when
/// `|analytic − numeric| ≤ absoluteTolerance + relativeTolerance · max(|analytic|, |numeric|)`.
/// A single random projection is not enough: it can hide an entry that is wrong but cancels.
///
/// - Parameters:
///   - step: The finite-difference step `h`; Float32 forward passes need `h` around 1e-2.
///   - absoluteTolerance: 1e-3 by default.
///   - relativeTolerance: 1e-2 by default.
///   - surrogate: For an operation whose backward is by design not its forward's derivative (a
///     straight-through estimator), the function whose Jacobian the backward claims: the finite
///     differences are taken of `surrogate`, the analytic Jacobian of `function`. `nil` (the
///     default) differentiates `function` itself.
public func checkGradients(
  of function: ([Tensor]) -> Tensor, at inputs: [Tensor], step: Float = 1e-2,
  absoluteTolerance: Double = 1e-3, relativeTolerance: Double = 1e-2,
  surrogate: (([Tensor]) -> Tensor)? = nil
) -> GradientReport {
  let tape = Tape()
  let tracked = inputs.map(tape.variable)
  let output = function(tracked)
  let plain = function(inputs)
  // Untracked, a layer may run a fused inference kernel (CBAM does) whose sums are ordered
  // differently from the recorded operations': equal up to float rounding of the output's size.
  let scale = Swift.max(1, plain.scalars.map(abs).max() ?? 0)
  let forwardMatches =
    output.shape == plain.shape
    && zip(output.scalars, plain.scalars).allSatisfy { abs($0 - $1) <= 1e-6 * scale }

  // analytic[o][k][e] = ∂out[o]/∂in_k[e], one vector-Jacobian product per output element.
  var analytic: [[[Float]]] = []
  for o in 0..<output.scalarCount {
    var seed = Tensor(zeros: output.shape)
    seed.withUnsafeMutableBufferPointer { $0[o] = 1 }
    analytic.append(
      tape.vectorJacobianProducts(of: output, seed: seed, wrt: tracked).map(\.scalars))
  }

  var failures: [GradientReport.Entry] = []
  var entryCount = 0
  for k in inputs.indices {
    for e in 0..<inputs[k].scalarCount {
      func evaluate(_ delta: Float) -> [Float] {
        var shifted = inputs
        shifted[k].withUnsafeMutableBufferPointer { $0[e] += delta }
        if let surrogate { return surrogate(shifted).scalars }
        return function(shifted).scalars
      }
      let (plus, minus) = (evaluate(step), evaluate(-step))
      for o in 0..<output.scalarCount {
        let numeric = (Double(plus[o]) - Double(minus[o])) / (2 * Double(step))
        let exact = Double(analytic[o][k][e])
        entryCount += 1
        let bound = absoluteTolerance + relativeTolerance * max(abs(exact), abs(numeric))
        if !(abs(exact - numeric) <= bound) {
          failures.append(
            .init(input: k, inputIndex: e, outputIndex: o, analytic: exact, numeric: numeric))
        }
      }
    }
  }
  return GradientReport(entryCount: entryCount, failures: failures, forwardMatches: forwardMatches)
}

/// Whether `actual` has `expected`'s shape and every element within `tolerance` of it.
public func isClose(_ actual: Tensor, _ expected: [Float], shape: [Int], tolerance: Float = 1e-5)
  -> Bool
{
  actual.shape == shape && actual.scalars.count == expected.count
    && zip(actual.scalars, expected).allSatisfy { abs($0 - $1) <= tolerance }
}

/// The synthetic task the PyTorch and Keras benchmarks train on: class `y` is a sine of frequency `y + 1`
/// cycles per window with a per-channel phase, `0.5·sin(2π(y+1)t/L + 0.5c)`, in unit Gaussian
/// noise. Returns inputs `[count, length, channels]` and labels.
public func sineWindows(count: Int, length: Int, channels: Int, classes: Int, seed: UInt64)
  -> (inputs: Tensor, labels: [Int])
{
  var rng = SplitMix64(seed: seed)
  var values: [Float] = []
  values.reserveCapacity(count * length * channels)
  var labels: [Int] = []
  let noise = Tensor.normal([count * length * channels], using: &rng).scalars
  for n in 0..<count {
    let y = Int(rng.next() % UInt64(classes))
    labels.append(y)
    for t in 0..<length {
      for c in 0..<channels {
        let phase = 2 * Double.pi * Double(y + 1) * Double(t) / Double(length) + 0.5 * Double(c)
        values.append(Float(0.5 * sin(phase)) + noise[(n * length + t) * channels + c])
      }
    }
  }
  return (try! Tensor(shape: [count, length, channels], scalars: values), labels)
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
