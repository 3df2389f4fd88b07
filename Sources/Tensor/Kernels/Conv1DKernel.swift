/// The geometry of a 1-D convolution or pooling window over time, shared by forward and backward.
struct WindowGeometry {
  let inputLength: Int
  let outputLength: Int
  let kernelSize: Int
  let stride: Int
  let dilation: Int
  /// Zero positions added before the first input step (Keras/TensorFlow `same` puts the odd one
  /// after).
  let padBefore: Int

  init(inputLength: Int, kernelSize: Int, stride: Int, dilation: Int, padding: Padding) {
    self.inputLength = inputLength
    self.kernelSize = kernelSize
    self.stride = stride
    self.dilation = dilation
    let span = (kernelSize - 1) * dilation + 1
    switch padding {
    case .valid:
      outputLength = inputLength >= span ? (inputLength - span) / stride + 1 : 0
      padBefore = 0
    case .same:
      outputLength = (inputLength + stride - 1) / stride
      padBefore = Swift.max(0, (outputLength - 1) * stride + span - inputLength) / 2
    }
  }

  /// The input step read by tap `j` of output step `t`, or `nil` when it falls on padding.
  @inline(__always)
  func inputStep(output t: Int, tap j: Int) -> Int? {
    let s = t * stride + j * dilation - padBefore
    return s >= 0 && s < inputLength ? s : nil
  }
}

extension Kernels {
  /// Direct 1-D convolution (cross-correlation) of `x` `[batch, time, inC]` with `w`
  /// `[kernel, inC, outC]` plus `bias` `[outC]`, giving `[batch, outTime, outC]`.
  ///
  /// Loop order b-t-j-i-o keeps the innermost loop a contiguous `y[o] += x·w[o]` over a filter
  /// row; this is the reference that the im2col/GEMM kernels are checked against.
  static func conv1D(
    _ x: Tensor, _ w: Tensor, bias: Tensor?, geometry g: WindowGeometry
  ) -> Tensor {
    let (batch, inC, outC) = (x.shape[0], x.shape[2], w.shape[2])
    let count = batch * g.outputLength * outC
    var result = [Float](repeating: 0, count: count)
    result.withUnsafeMutableBufferPointer { y in
      x.withUnsafeBufferPointer { px in
        w.withUnsafeBufferPointer { pw in
          for b in 0..<batch {
            for t in 0..<g.outputLength {
              let row = y.baseAddress! + (b * g.outputLength + t) * outC
              if let bias {
                bias.withUnsafeBufferPointer { pb in for o in 0..<outC { row[o] = pb[o] } }
              }
              for j in 0..<g.kernelSize {
                guard let s = g.inputStep(output: t, tap: j) else { continue }
                let input = px.baseAddress! + (b * g.inputLength + s) * inC
                for i in 0..<inC {
                  let xv = input[i]
                  let filterRow = pw.baseAddress! + (j * inC + i) * outC
                  for o in 0..<outC { row[o] += xv * filterRow[o] }
                }
              }
            }
          }
        }
      }
    }
    return Tensor(uncheckedShape: [batch, g.outputLength, outC], scalars: result)
  }

  /// The gradients of ``conv1D(_:_:bias:geometry:)`` with respect to its input, filter and bias,
  /// given the upstream gradient `gy` `[batch, outTime, outC]`.
  static func conv1DBackward(
    _ gy: Tensor, _ x: Tensor, _ w: Tensor, geometry g: WindowGeometry
  ) -> (input: Tensor, filter: Tensor, bias: Tensor) {
    let (batch, inC, outC) = (x.shape[0], x.shape[2], w.shape[2])
    var gx = [Float](repeating: 0, count: x.scalarCount)
    var gw = [Float](repeating: 0, count: w.scalarCount)
    var gb = [Float](repeating: 0, count: outC)
    gx.withUnsafeMutableBufferPointer { pgx in
      gw.withUnsafeMutableBufferPointer { pgw in
        gb.withUnsafeMutableBufferPointer { pgb in
          gy.withUnsafeBufferPointer { pgy in
            x.withUnsafeBufferPointer { px in
              w.withUnsafeBufferPointer { pw in
                for b in 0..<batch {
                  for t in 0..<g.outputLength {
                    let upstream = pgy.baseAddress! + (b * g.outputLength + t) * outC
                    for o in 0..<outC { pgb[o] += upstream[o] }
                    for j in 0..<g.kernelSize {
                      guard let s = g.inputStep(output: t, tap: j) else { continue }
                      let offset = (b * g.inputLength + s) * inC
                      for i in 0..<inC {
                        let filterRow = (j * inC + i) * outC
                        let xv = px[offset + i]
                        var dot: Float = 0
                        for o in 0..<outC {
                          dot += upstream[o] * pw[filterRow + o]
                          pgw[filterRow + o] += xv * upstream[o]
                        }
                        pgx[offset + i] += dot
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
    return (
      Tensor(uncheckedShape: x.shape, scalars: gx), Tensor(uncheckedShape: w.shape, scalars: gw),
      Tensor(uncheckedShape: [outC], scalars: gb)
    )
  }
}
