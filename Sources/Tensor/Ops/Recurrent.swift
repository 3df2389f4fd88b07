// The element-wise half of an LSTM step as two fused operations, each with its backward.
//
// With the gate pre-activations z = [z_i | z_f | z_g | z_o] (Keras' gate order), one step is
//   c_t = σ(z_f) ⊙ c_{t−1} + σ(z_i) ⊙ tanh(z_g),    h_t = σ(z_o) ⊙ tanh(c_t).
// Written with generic ops that is four slices, four activations, three products, a sum and a
// tanh per step: a dozen recorded operations and arrays for a few hundred numbers. These two
// operations do the same arithmetic in one pass each.

extension Tensor {
  /// The shape rule of the LSTM cell operations: gates `[batch, 4·units]`, states `[batch, units]`.
  ///
  /// - Throws: ``ShapeError/incompatible(operation:lhs:rhs:rule:)`` naming both shapes.
  public static func checkLSTMCell(
    gates: [Int], state: [Int], operation: String
  ) throws(ShapeError) {
    guard gates.count == 2, state.count == 2, gates[0] == state[0], gates[1] == 4 * state[1] else {
      throw .incompatible(
        operation: operation, lhs: gates, rhs: state,
        rule: "gates [batch, 4·units], state [batch, units]")
    }
  }

  /// The new cell state of an LSTM step, `σ(z_f) ⊙ c + σ(z_i) ⊙ tanh(z_g)`.
  ///
  /// - Parameters:
  ///   - gates: Pre-activations `[batch, 4·units]` in Keras' order: input, forget, cell, output
  ///     (the output block is not read here).
  ///   - previous: The previous cell state `[batch, units]`, or `nil` for zeros (the first step).
  /// - Returns: `[batch, units]`.
  public static func lstmCellState(gates: Tensor, previous: Tensor?) -> Tensor {
    let units = gates.shape.count == 2 ? gates.shape[1] / 4 : 0
    checked { () throws(ShapeError) in
      try checkLSTMCell(
        gates: gates.shape, state: previous?.shape ?? [gates.shape.first ?? 0, units],
        operation: "lstmCellState")
    }
    let batch = gates.shape[0]
    let value = Kernels.lstmCellState(gates, previous, batch: batch, units: units)
    let inputs = [gates] + (previous.map { [$0] } ?? [])
    guard let tape = Tape.of(inputs) else { return value }
    let (z, c) = (gates.detached(), previous?.detached())
    return tape.record(.lstmCellState, value, inputs: inputs) { grad in
      // ∂c_t/∂z_i = tanh(z_g)·σ'(z_i), ∂c_t/∂z_f = c·σ'(z_f), ∂c_t/∂z_g = σ(z_i)·tanh'(z_g),
      // ∂c_t/∂c = σ(z_f); with σ' = σ(1 − σ) and tanh' = 1 − tanh².
      let (gz, gc) = Kernels.lstmCellStateBackward(grad, z, c, batch: batch, units: units)
      return c == nil ? [gz] : [gz, gc]
    }
  }

  /// The hidden state (output) of an LSTM step, `σ(z_o) ⊙ tanh(c)`.
  ///
  /// - Parameters:
  ///   - gates: Pre-activations `[batch, 4·units]` in Keras' order (only the output block is
  ///     read).
  ///   - state: This step's cell state `[batch, units]`.
  /// - Returns: `[batch, units]`.
  public static func lstmHiddenState(gates: Tensor, state: Tensor) -> Tensor {
    checked { () throws(ShapeError) in
      try checkLSTMCell(gates: gates.shape, state: state.shape, operation: "lstmHiddenState")
    }
    let (batch, units) = (state.shape[0], state.shape[1])
    let value = Kernels.lstmHiddenState(gates, state, batch: batch, units: units)
    guard let tape = Tape.of(gates, state) else { return value }
    let (z, c) = (gates.detached(), state.detached())
    return tape.record(.lstmHiddenState, value, inputs: [gates, state]) { grad in
      // ∂h/∂z_o = tanh(c)·σ'(z_o), ∂h/∂c = σ(z_o)·(1 − tanh²(c)).
      let (gz, gc) = Kernels.lstmHiddenStateBackward(grad, z, c, batch: batch, units: units)
      return [gz, gc]
    }
  }
}

extension Kernels {
  /// Forward of ``Tensor/lstmCellState(gates:previous:)``.
  static func lstmCellState(_ z: Tensor, _ c: Tensor?, batch: Int, units u: Int) -> Tensor {
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: batch * u) { out, initialized in
      z.withUnsafeBufferPointer { z in
        withOptionalPointer(c) { c in
          for b in 0..<batch {
            let row = b * 4 * u
            for j in 0..<u {
              let i = sigmoid(z[row + j])
              let g = Libm.tanh(z[row + 2 * u + j])
              var value = i * g
              if let c { value += sigmoid(z[row + u + j]) * c[b * u + j] }
              out[b * u + j] = value
            }
          }
        }
      }
      initialized = batch * u
    }
    return Tensor(uncheckedShape: [batch, u], scalars: result)
  }

  /// Gradients of ``Tensor/lstmCellState(gates:previous:)`` with respect to the gates (zero in
  /// the output block) and the previous state.
  static func lstmCellStateBackward(
    _ grad: Tensor, _ z: Tensor, _ c: Tensor?, batch: Int, units u: Int
  ) -> (gates: Tensor, previous: Tensor?) {
    var gz = Kernels.pooledFloats(repeating: 0, count: batch * 4 * u)
    var gc = Kernels.pooledFloats(repeating: 0, count: c == nil ? 0 : batch * u)
    grad.withUnsafeBufferPointer { dc in
      z.withUnsafeBufferPointer { z in
        withOptionalPointer(c) { c in
          gz.withUnsafeMutableBufferPointer { gz in
            gc.withUnsafeMutableBufferPointer { gc in
              for b in 0..<batch {
                let row = b * 4 * u
                for j in 0..<u {
                  let d = dc[b * u + j]
                  let i = sigmoid(z[row + j])
                  let g = Libm.tanh(z[row + 2 * u + j])
                  gz[row + j] = d * g * i * (1 - i)
                  gz[row + 2 * u + j] = d * i * (1 - g * g)
                  if let c {
                    let f = sigmoid(z[row + u + j])
                    gz[row + u + j] = d * c[b * u + j] * f * (1 - f)
                    gc[b * u + j] = d * f
                  }
                }
              }
            }
          }
        }
      }
    }
    return (
      Tensor(uncheckedShape: [batch, 4 * u], scalars: gz),
      c == nil ? nil : Tensor(uncheckedShape: [batch, u], scalars: gc)
    )
  }

  /// Forward of ``Tensor/lstmHiddenState(gates:state:)``.
  static func lstmHiddenState(_ z: Tensor, _ c: Tensor, batch: Int, units u: Int) -> Tensor {
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: batch * u) { out, initialized in
      z.withUnsafeBufferPointer { z in
        c.withUnsafeBufferPointer { c in
          for b in 0..<batch {
            for j in 0..<u {
              out[b * u + j] = sigmoid(z[b * 4 * u + 3 * u + j]) * Libm.tanh(c[b * u + j])
            }
          }
        }
      }
      initialized = batch * u
    }
    return Tensor(uncheckedShape: [batch, u], scalars: result)
  }

  /// Gradients of ``Tensor/lstmHiddenState(gates:state:)`` with respect to the gates (nonzero in
  /// the output block only) and the state.
  static func lstmHiddenStateBackward(
    _ grad: Tensor, _ z: Tensor, _ c: Tensor, batch: Int, units u: Int
  ) -> (gates: Tensor, state: Tensor) {
    var gz = Kernels.pooledFloats(repeating: 0, count: batch * 4 * u)
    let gc = Kernels.pooledFloats(unsafeUninitializedCapacity: batch * u) { gc, initialized in
      grad.withUnsafeBufferPointer { dh in
        z.withUnsafeBufferPointer { z in
          c.withUnsafeBufferPointer { c in
            gz.withUnsafeMutableBufferPointer { gz in
              for b in 0..<batch {
                for j in 0..<u {
                  let d = dh[b * u + j]
                  let o = sigmoid(z[b * 4 * u + 3 * u + j])
                  let t = Libm.tanh(c[b * u + j])
                  gz[b * 4 * u + 3 * u + j] = d * t * o * (1 - o)
                  gc[b * u + j] = d * o * (1 - t * t)
                }
              }
            }
          }
        }
      }
      initialized = batch * u
    }
    return (
      Tensor(uncheckedShape: [batch, 4 * u], scalars: gz),
      Tensor(uncheckedShape: [batch, u], scalars: gc)
    )
  }
}
