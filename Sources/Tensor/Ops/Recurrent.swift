import CKernels

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

// A whole LSTM layer's recurrence as one operation.
//
// Step by step on the tape, a sequence of T steps records ~5 operations per step, each with its
// arrays, and the backward pass of each step's slice of the projected input writes a gradient
// the size of the whole projection: O(T²) work that took a fifth of a 112-step training step.
// Here the forward pass keeps each step's activated gates, cell state and tanh(cell state), and
// the backward pass runs back through time in one closure: per step one fused element-wise
// kernel and one product with the recurrent kernel, then one product for the recurrent kernel's
// gradient over all steps.

extension Tensor {
  /// The shape rule of ``lstmSequence(projected:recurrentKernel:bias:returnSequences:)``.
  ///
  /// - Throws: ``ShapeError/incompatible(operation:lhs:rhs:rule:)`` naming the shapes.
  public static func checkLSTMSequence(
    projected: [Int], recurrentKernel: [Int], bias: [Int]
  ) throws(ShapeError) {
    guard recurrentKernel.count == 2, recurrentKernel[0] > 0,
      recurrentKernel[1] == 4 * recurrentKernel[0]
    else {
      throw .invalid(
        operation: "lstmSequence", shape: recurrentKernel, rule: "recurrent kernel [units, 4·units]"
      )
    }
    guard projected.count == 3, projected[1] > 0, projected[2] == recurrentKernel[1] else {
      throw .incompatible(
        operation: "lstmSequence", lhs: projected, rhs: recurrentKernel,
        rule: "projected input [batch, time ≥ 1, 4·units], recurrent kernel [units, 4·units]")
    }
    guard bias == [recurrentKernel[1]] else {
      throw .incompatible(
        operation: "lstmSequence", lhs: recurrentKernel, rhs: bias, rule: "bias [4·units]")
    }
  }

  /// An LSTM layer's recurrence over every step, `h₀ = c₀ = 0`, as one operation.
  ///
  /// With `z_t = projected[:, t] + bias + h_{t−1} · recurrentKernel` (gates in Keras' order
  /// input, forget, cell, output): `c_t = σ(z_f) ⊙ c_{t−1} + σ(z_i) ⊙ tanh(z_c)`,
  /// `h_t = σ(z_o) ⊙ tanh(c_t)`. The sigmoid and tanh use a vectorized exponential (about 2 ulp;
  /// the Swift reference kernels use the C library's).
  ///
  /// - Parameters:
  ///   - projected: The input projection of every step, `x_t · kernel`, `[batch, time, 4·units]`.
  ///   - recurrentKernel: `[units, 4·units]`.
  ///   - bias: `[4·units]`.
  ///   - returnSequences: Whether to return every `h_t` or only the last.
  /// - Returns: `[batch, time, units]` when `returnSequences`, else `[batch, units]`.
  public static func lstmSequence(
    projected: Tensor, recurrentKernel: Tensor, bias: Tensor, returnSequences: Bool
  ) -> Tensor {
    checked { () throws(ShapeError) in
      try checkLSTMSequence(
        projected: projected.shape, recurrentKernel: recurrentKernel.shape, bias: bias.shape)
    }
    let geometry = LSTMSequenceGeometry(
      batch: projected.shape[0], time: projected.shape[1], units: recurrentKernel.shape[0])
    let (value, saved) = Kernels.lstmSequence(
      projected, recurrentKernel, bias, geometry, returnSequences: returnSequences)
    let inputs = [projected, recurrentKernel, bias]
    guard let tape = Tape.of(inputs) else { return value }
    let u = recurrentKernel.detached()
    return tape.record(.lstmSequence, value, inputs: inputs) { grad in
      let (gp, gu, gb) = Kernels.lstmSequenceBackward(
        grad, saved, u, geometry, returnSequences: returnSequences)
      return [gp, gu, gb]
    }
  }
}

/// The sizes of an LSTM sequence.
struct LSTMSequenceGeometry {
  let batch: Int
  let time: Int
  let units: Int
  /// Floats of one step's gates, `[batch, 4·units]`.
  var gateStep: Int { batch * 4 * units }
  /// Floats of one step's states, `[batch, units]`.
  var stateStep: Int { batch * units }
}

/// What the forward pass keeps for the backward pass, time-major: the activated gates
/// `[time, batch, 4·units]`, the cell states, their tanh and the hidden states
/// (`[time, batch, units]` each).
struct LSTMSequenceState {
  let gates: Tensor
  let cells: Tensor
  let cellTanh: Tensor
  let hidden: Tensor
}

extension Kernels {
  /// Forward of ``Tensor/lstmSequence(projected:recurrentKernel:bias:returnSequences:)``.
  static func lstmSequence(
    _ projected: Tensor, _ recurrentKernel: Tensor, _ bias: Tensor, _ g: LSTMSequenceGeometry,
    returnSequences: Bool, configuration: KernelConfiguration = .current
  ) -> (value: Tensor, saved: LSTMSequenceState) {
    let (batch, time, u) = (g.batch, g.time, g.units)
    let (gateCount, stateCount) = (time * g.gateStep, time * g.stateStep)
    var gates = Kernels.pooledFloats(repeating: 0, count: gateCount)
    var cells = Kernels.pooledFloats(repeating: 0, count: stateCount)
    var cellTanh = Kernels.pooledFloats(repeating: 0, count: stateCount)
    var hidden = Kernels.pooledFloats(repeating: 0, count: stateCount)
    projected.withUnsafeBufferPointer { pp in
      recurrentKernel.withUnsafeBufferPointer { pu in
        bias.withUnsafeBufferPointer { pb in
          gates.withUnsafeMutableBufferPointer { pz in
            cells.withUnsafeMutableBufferPointer { pc in
              cellTanh.withUnsafeMutableBufferPointer { pt in
                hidden.withUnsafeMutableBufferPointer { ph in
                  let (p, z, c, tc, h) = (
                    pp.baseAddress!, pz.baseAddress!, pc.baseAddress!, pt.baseAddress!,
                    ph.baseAddress!
                  )
                  for t in 0..<time {
                    let zt = z + t * g.gateStep
                    // This step's projected rows (batch-major input) plus the bias.
                    for b in 0..<batch {
                      let source = p + (b * time + t) * 4 * u
                      let target = zt + b * 4 * u
                      for j in 0..<(4 * u) { target[j] = source[j] + pb[j] }
                    }
                    if t > 0 {
                      gemm(
                        m: batch, n: 4 * u, k: u, a: h + (t - 1) * g.stateStep, transposeA: false,
                        b: pu.baseAddress!, transposeB: false, c: zt, accumulate: true,
                        configuration: configuration)
                    }
                    let previous = t > 0 ? UnsafePointer(c + (t - 1) * g.stateStep) : nil
                    let (ct, tct, ht) = (
                      c + t * g.stateStep, tc + t * g.stateStep, h + t * g.stateStep
                    )
                    if let variant = configuration.variant.cValue {
                      hd_lstm_cell_forward(variant, batch, u, zt, previous, ct, tct, ht, u)
                    } else {
                      referenceLSTMCell(batch: batch, units: u, zt, previous, ct, tct, ht)
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    let count = returnSequences ? stateCount : g.stateStep
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      hidden.withUnsafeBufferPointer { h in
        if returnSequences {
          for t in 0..<time {
            for b in 0..<batch {
              let source = h.baseAddress! + t * g.stateStep + b * u
              (out.baseAddress! + (b * time + t) * u).update(from: source, count: u)
            }
          }
        } else {
          out.baseAddress!.update(from: h.baseAddress! + (time - 1) * g.stateStep, count: count)
        }
      }
      initialized = count
    }
    let saved = LSTMSequenceState(
      gates: Tensor(uncheckedShape: [time, batch, 4 * u], scalars: gates),
      cells: Tensor(uncheckedShape: [time, batch, u], scalars: cells),
      cellTanh: Tensor(uncheckedShape: [time, batch, u], scalars: cellTanh),
      hidden: Tensor(uncheckedShape: [time, batch, u], scalars: hidden))
    return (
      Tensor(uncheckedShape: returnSequences ? [batch, time, u] : [batch, u], scalars: result),
      saved
    )
  }

  /// The element-wise forward step of ``Tensor/lstmSequence`` with the C library's exp and tanh
  /// (the reference kernels' path): same contract as `hd_lstm_cell_forward`.
  private static func referenceLSTMCell(
    batch: Int, units u: Int, _ z: UnsafeMutablePointer<Float>, _ previous: UnsafePointer<Float>?,
    _ c: UnsafeMutablePointer<Float>, _ tc: UnsafeMutablePointer<Float>,
    _ h: UnsafeMutablePointer<Float>
  ) {
    for b in 0..<batch {
      let row = z + b * 4 * u
      for j in 0..<u {
        let i = sigmoid(row[j])
        let f = sigmoid(row[u + j])
        let g = Libm.tanh(row[2 * u + j])
        let o = sigmoid(row[3 * u + j])
        let cell = i * g + (previous.map { f * $0[b * u + j] } ?? 0)
        let t = Libm.tanh(cell)
        (row[j], row[u + j], row[2 * u + j], row[3 * u + j]) = (i, f, g, o)
        (c[b * u + j], tc[b * u + j], h[b * u + j]) = (cell, t, o * t)
      }
    }
  }

  /// Gradients of ``Tensor/lstmSequence(projected:recurrentKernel:bias:returnSequences:)`` with
  /// respect to the projected input, the recurrent kernel and the bias, back through time.
  static func lstmSequenceBackward(
    _ grad: Tensor, _ saved: LSTMSequenceState, _ recurrentKernel: Tensor,
    _ g: LSTMSequenceGeometry, returnSequences: Bool,
    configuration: KernelConfiguration = .current
  ) -> (projected: Tensor, recurrentKernel: Tensor, bias: Tensor) {
    let (batch, time, u) = (g.batch, g.time, g.units)
    // C's generic kernel when the reference kernels run: this pass has no transcendental.
    let variant = configuration.variant.cValue ?? Int32(HD_VARIANT_GENERIC)
    var dz = Kernels.pooledFloats(repeating: 0, count: time * g.gateStep)
    var dc = Kernels.pooledFloats(repeating: 0, count: g.stateStep)
    var dhRec = Kernels.pooledFloats(repeating: 0, count: g.stateStep)
    var du = Kernels.pooledFloats(repeating: 0, count: 4 * u * u)
    var db = Kernels.pooledFloats(repeating: 0, count: 4 * u)
    grad.withUnsafeBufferPointer { pg in
      saved.gates.withUnsafeBufferPointer { pa in
        saved.cells.withUnsafeBufferPointer { pc in
          saved.cellTanh.withUnsafeBufferPointer { pt in
            saved.hidden.withUnsafeBufferPointer { ph in
              recurrentKernel.withUnsafeBufferPointer { pu in
                dz.withUnsafeMutableBufferPointer { pdz in
                  dc.withUnsafeMutableBufferPointer { pdc in
                    dhRec.withUnsafeMutableBufferPointer { prec in
                      for t in stride(from: time - 1, through: 0, by: -1) {
                        let upstream: UnsafePointer<Float>?
                        let upstreamStride: Int
                        if returnSequences {
                          (upstream, upstreamStride) = (pg.baseAddress! + t * u, time * u)
                        } else {
                          (upstream, upstreamStride) = (t == time - 1 ? pg.baseAddress! : nil, u)
                        }
                        let dzt = pdz.baseAddress! + t * g.gateStep
                        let previous: UnsafePointer<Float>? =
                          t > 0 ? pc.baseAddress! + (t - 1) * g.stateStep : nil
                        let recurrent: UnsafePointer<Float>? =
                          t < time - 1 ? UnsafePointer(prec.baseAddress!) : nil
                        let act: UnsafePointer<Float> = pa.baseAddress! + t * g.gateStep
                        let tanhs: UnsafePointer<Float> = pt.baseAddress! + t * g.stateStep
                        hd_lstm_cell_backward(
                          variant, batch, u, act, previous, tanhs, upstream, upstreamStride,
                          recurrent, pdc.baseAddress!, dzt)
                        if t > 0 {
                          // dh_{t−1} from the recurrence: dz_t · recurrentKernelᵀ.
                          gemm(
                            m: batch, n: u, k: 4 * u, a: dzt, transposeA: false,
                            b: pu.baseAddress!, transposeB: true, c: prec.baseAddress!,
                            accumulate: false, configuration: configuration)
                        }
                      }
                      // ∂recurrentKernel = Σ_{t ≥ 1} h_{t−1}ᵀ · dz_t: one product over all steps.
                      if time > 1 {
                        du.withUnsafeMutableBufferPointer { pdu in
                          gemm(
                            m: u, n: 4 * u, k: (time - 1) * batch, a: ph.baseAddress!,
                            transposeA: true, b: pdz.baseAddress! + g.gateStep, transposeB: false,
                            c: pdu.baseAddress!, accumulate: false, configuration: configuration)
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    // ∂bias = Σ over steps and rows of dz; ∂projected is dz in the input's batch-major order.
    let count = batch * time * 4 * u
    let dp = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      dz.withUnsafeBufferPointer { pdz in
        db.withUnsafeMutableBufferPointer { pdb in
          for t in 0..<time {
            for b in 0..<batch {
              let source = pdz.baseAddress! + t * g.gateStep + b * 4 * u
              (out.baseAddress! + (b * time + t) * 4 * u).update(from: source, count: 4 * u)
              for j in 0..<(4 * u) { pdb[j] += source[j] }
            }
          }
        }
      }
      initialized = count
    }
    return (
      Tensor(uncheckedShape: [batch, time, 4 * u], scalars: dp),
      Tensor(uncheckedShape: [u, 4 * u], scalars: du),
      Tensor(uncheckedShape: [4 * u], scalars: db)
    )
  }
}
