/// A record of differentiable operations, replayed backwards to compute gradients.
///
/// Create one tape per training step, mark the tensors you differentiate with respect to with
/// ``variable(_:)``, run the computation, then ask for ``gradients(of:wrt:)``:
///
/// ```swift
/// let tape = Tape()
/// let w = tape.variable(weight)
/// let loss = (x.matmul(w) - y).squared().mean()
/// let dw = tape.gradients(of: loss, wrt: [w])[0]
/// ```
///
/// A tape is not thread-safe: keep it inside one task. Tensors refer to it weakly, so a tape
/// lives as long as the code that created it holds it.
public final class Tape {
  /// Every operation that records a backward; each one has a finite-difference gradient check.
  public enum Operation: String, CaseIterable, Sendable {
    /// Broadcasting arithmetic: `+`, `-`, `*`, `/` and unary `-`.
    case add, subtract, multiply, divide, negate
    /// Element-wise functions: `exp()`, `log()`, `sqrt()`, `pow(_:)`, `relu()`, `sigmoid()`,
    /// `tanh()`.
    case exp, log, sqrt, pow, relu, sigmoid, tanh
    /// Reductions along axes: `sum`, `mean`, `max`, and CBAM's stacked
    /// `meanAndMax(alongAxis:)`.
    case sum, mean, max, meanAndMax
    /// The (batched) matrix product `matmul(_:)`.
    case matmul
    /// Data movement: `reshaped(to:)`, `transposed(permutation:)`, `concatenating(_:alongAxis:)`,
    /// `sliced(alongAxis:range:)`, `padded(alongAxis:before:after:value:)`.
    case reshape, transpose, concatenate, slice, pad
    /// Softmax, log-softmax, and the fused softmax cross-entropy loss.
    case softmax, logSoftmax, softmaxCrossEntropy
    /// Convolution and pooling over time, `[batch, time, channels]`.
    case conv1D, maxPool1D, avgPool1D
    /// Convolution over time with a ReLU on its output, in one operation
    /// (`conv1D(…, activation: .relu)`).
    case conv1DReLU
    /// Convolution (`same`) with a ReLU, then max pooling over pairs of steps, in one operation
    /// (`conv1DReLUMaxPool(filter:bias:)`).
    case conv1DReLUMaxPool
    /// Convolution over two axes, `[batch, h, w, channels]` (time × sensors in DeepConvLSTM).
    case conv2D
    /// One LSTM step's element-wise part: the new cell state and the hidden state
    /// (`lstmCellState(gates:previous:)`, `lstmHiddenState(gates:state:)`).
    case lstmCellState, lstmHiddenState
    /// Symmetric int8 fake quantization with a clipped straight-through gradient
    /// (`fakeQuantized(scale:)`, `fakeQuantized(scales:)`).
    case fakeQuantize
    /// An LSTM layer's whole recurrence, every step and its backward through time
    /// (`lstmSequence(projected:recurrentKernel:bias:returnSequences:)`).
    case lstmSequence
  }

  /// One recorded operation: which nodes it read, which node it wrote, and its vector-Jacobian
  /// product (upstream gradient → one gradient per input, `nil` where none flows).
  struct Entry {
    let operation: Operation
    let inputs: [Int?]
    let output: Int
    let backward: (Tensor) -> [Tensor?]
  }

  private var entries: [Entry] = []
  private var nodeCount = 0

  /// An empty tape.
  public init() {}

  /// The number of operations recorded so far.
  public var operationCount: Int { entries.count }

  /// `value`, tracked on this tape as a leaf that gradients can be taken with respect to.
  public func variable(_ value: Tensor) -> Tensor {
    var tracked = value
    tracked.tracking = Tensor.Tracking(tape: self, id: newNode())
    return tracked
  }

  private func newNode() -> Int {
    nodeCount += 1
    return nodeCount - 1
  }

  /// The tape that tracks any of `inputs`, or `nil` when none is tracked (inference).
  ///
  /// Ops call this *before* forming their backward closure, so inference forms none.
  /// One operand: no array is built, so an untracked (inference) op allocates nothing here.
  @inline(__always)
  static func of(_ input: Tensor) -> Tape? { input.tracking?.tape }

  /// Two operands, also without building an array.
  @inline(__always)
  static func of(_ lhs: Tensor, _ rhs: Tensor) -> Tape? {
    switch (lhs.tracking?.tape, rhs.tracking?.tape) {
    case (nil, nil): return nil
    case (let tape?, nil), (nil, let tape?): return tape
    case (let left?, let right?):
      precondition(left === right, "operands are tracked on two different tapes")
      return left
    }
  }

  static func of(_ inputs: [Tensor]) -> Tape? {
    var found: Tape?
    for input in inputs {
      guard let tape = input.tracking?.tape else { continue }
      if let found {
        precondition(found === tape, "operands are tracked on two different tapes")
      }
      found = tape
    }
    return found
  }

  /// Tracks `output` on this tape and records `backward`, which must capture detached values only
  /// (so that backward passes never record onto the tape).
  func record(
    _ operation: Operation, _ output: Tensor, inputs: [Tensor],
    backward: @escaping (Tensor) -> [Tensor?]
  ) -> Tensor {
    var result = output
    let id = newNode()
    result.tracking = Tensor.Tracking(tape: self, id: id)
    entries.append(
      Entry(
        operation: operation,
        inputs: inputs.map { $0.tracking?.tape === self ? $0.tracking?.id : nil },
        output: id, backward: backward))
    return result
  }

  /// Gradients of the scalar `loss` with respect to each of `targets`.
  ///
  /// A target that `loss` does not depend on gets zeros of its own shape. Gradients of a tensor
  /// used several times are summed.
  public func gradients(of loss: Tensor, wrt targets: [Tensor]) -> [Tensor] {
    require(
      loss.scalarCount == 1,
      .invalid(operation: "gradients(of:wrt:)", shape: loss.shape, rule: "a one-element loss"))
    return vectorJacobianProducts(
      of: loss, seed: Tensor(repeating: 1, shape: loss.shape), wrt: targets)
  }

  /// `seedᵀ · J` for each target: the gradient of `sum(output * seed)` with respect to each of
  /// `targets`, where `output` may have any shape and `seed` has the same shape.
  public func vectorJacobianProducts(
    of output: Tensor, seed: Tensor, wrt targets: [Tensor]
  ) -> [Tensor] {
    require(
      output.shape == seed.shape,
      .incompatible(
        operation: "vectorJacobianProducts", lhs: output.shape, rhs: seed.shape,
        rule: "a seed shaped like the output"))
    var grads: [Int: Tensor] = [:]
    // Gradients of intermediate nodes are dropped once propagated, except those asked for.
    let kept = Set(targets.compactMap { $0.tracking?.tape === self ? $0.tracking?.id : nil })
    if let root = output.tracking, root.tape === self { grads[root.id] = seed.detached() }
    for entry in entries.reversed() {
      guard
        let upstream = kept.contains(entry.output)
          ? grads[entry.output] : grads.removeValue(forKey: entry.output)
      else { continue }
      for (input, grad) in zip(entry.inputs, entry.backward(upstream)) {
        guard let input, let grad else { continue }
        if var existing = grads.removeValue(forKey: input) {
          existing.accumulate(grad)
          grads[input] = existing
        } else {
          grads[input] = grad
        }
      }
    }
    return targets.map { target in
      guard let tracking = target.tracking, tracking.tape === self, let grad = grads[tracking.id]
      else { return Tensor(zeros: target.shape) }
      return grad
    }
  }
}

extension Tensor {
  /// Adds `other`, of the same shape, in place (gradient accumulation).
  mutating func accumulate(_ other: Tensor) {
    require(
      shape == other.shape,
      .incompatible(operation: "accumulate", lhs: shape, rhs: other.shape, rule: "equal shapes"))
    other.scalars.withUnsafeBufferPointer { source in
      scalars.withUnsafeMutableBufferPointer { target in
        for i in 0..<target.count { target[i] += source[i] }
      }
    }
  }
}

/// The value of `function` at `inputs` and its gradient with respect to each input.
///
/// `function` must return a one-element tensor. A fresh tape is used and discarded.
public func valueWithGradients(
  at inputs: [Tensor], of function: ([Tensor]) -> Tensor
) -> (value: Tensor, gradients: [Tensor]) {
  let tape = Tape()
  let tracked = inputs.map(tape.variable)
  let value = function(tracked)
  return (value.detached(), tape.gradients(of: value, wrt: tracked))
}
