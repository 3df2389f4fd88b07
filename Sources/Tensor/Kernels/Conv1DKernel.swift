import CKernels

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
  static func referenceConv1D(
    _ x: Tensor, _ w: Tensor, bias: Tensor?, geometry g: WindowGeometry
  ) -> Tensor {
    let (batch, inC, outC) = (x.shape[0], x.shape[2], w.shape[2])
    let count = batch * g.outputLength * outC
    var result = Kernels.pooledFloats(repeating: 0, count: count)
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

  /// The gradients of ``referenceConv1D(_:_:bias:geometry:)`` with respect to its input, filter
  /// and bias, given the upstream gradient `gy` `[batch, outTime, outC]`.
  static func referenceConv1DBackward(
    _ gy: Tensor, _ x: Tensor, _ w: Tensor, geometry g: WindowGeometry
  ) -> (input: Tensor, filter: Tensor, bias: Tensor) {
    let (batch, inC, outC) = (x.shape[0], x.shape[2], w.shape[2])
    var gx = Kernels.pooledFloats(repeating: 0, count: x.scalarCount)
    var gw = Kernels.pooledFloats(repeating: 0, count: w.scalarCount)
    var gb = Kernels.pooledFloats(repeating: 0, count: outC)
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

extension Kernels {
  /// Below this many forward FLOPs a convolution runs on one thread (see ``parallelGEMMFLOPs``).
  static let parallelConvFLOPs = 4_000_000

  /// The C description of a convolution over `batch` samples; `winograd` lets its forward pass
  /// and gradients use the Winograd kernels (``KernelConfiguration/winograd``).
  static func cGeometry(
    _ g: WindowGeometry, batch: Int, inC: Int, outC: Int, winograd: Bool = false
  ) -> hd_conv1d_geometry {
    hd_conv1d_geometry(
      batch: batch, in_length: g.inputLength, in_channels: inC, out_length: g.outputLength,
      out_channels: outC, kernel: g.kernelSize, stride: g.stride, dilation: g.dilation,
      pad_before: g.padBefore, winograd: winograd ? 1 : 0)
  }

  /// How many pieces a convolution over `batch` samples is cut into (see
  /// ``parallelPieces``): whole samples, so each piece runs the single-threaded kernel on its
  /// own rows of the output.
  static func convWorkers(_ g: WindowGeometry, batch: Int, inC: Int, outC: Int) -> Int {
    let flops = 2 * batch * g.outputLength * g.kernelSize * inC * outC
    return flops >= parallelConvFLOPs ? Swift.min(parallelPieces, batch) : 1
  }

  /// ``referenceConv1D(_:_:bias:geometry:)`` with the kernels of `configuration`: im2col + GEMM
  /// in C, the batch split over threads (each sample's output is computed exactly as on one
  /// thread, so any thread count gives the same bits).
  static func conv1D(
    _ x: Tensor, _ w: Tensor, bias: Tensor?, geometry g: WindowGeometry,
    configuration: KernelConfiguration = .current
  ) -> Tensor {
    guard let variant = configuration.variant.cValue else {
      return referenceConv1D(x, w, bias: bias, geometry: g)
    }
    let (inC, outC) = (x.shape[2], w.shape[2])
    return sampleParallelConv1D(x, w, bias: bias, geometry: g, configuration: configuration) {
      samples, x, w, b, y in
      var geometry = cGeometry(
        g, batch: samples, inC: inC, outC: outC, winograd: configuration.winograd)
      hd_conv1d_forward(variant, &geometry, x, w, b, y)
    }
  }

  /// The forward pass of a 1-D convolution cut by samples: the batch is split into
  /// ``convWorkers(_:batch:inC:outC:)`` shares (never by the thread count), and `run` computes
  /// one share's `samples` windows from their input, the filters, the bias (or `nil`) into their
  /// output. Each sample's output depends on that sample only.
  static func sampleParallelConv1D(
    _ x: Tensor, _ w: Tensor, bias: Tensor?, geometry g: WindowGeometry,
    configuration: KernelConfiguration,
    run:
      @escaping @Sendable (
        _ samples: Int, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
        _ bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>
      ) -> Void
  ) -> Tensor {
    let (batch, inC, outC) = (x.shape[0], x.shape[2], w.shape[2])
    let count = batch * g.outputLength * outC
    let workers = convWorkers(g, batch: batch, inC: inC, outC: outC)
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      x.withUnsafeBufferPointer { px in
        w.withUnsafeBufferPointer { pw in
          withOptionalPointer(bias) { pb in
            let (sx, sw) = (
              DisjointWrites(reading: px.baseAddress!, count: px.count),
              DisjointWrites(reading: pw.baseAddress!, count: pw.count)
            )
            let sb = pb.map { DisjointWrites(reading: $0, count: outC) }
            let sy = DisjointWrites(out.baseAddress!, count: count)
            parallelFor(workers, threads: configuration.threadCount) { worker in
              let samples = share(of: batch, worker: worker, workers: workers)
              guard !samples.isEmpty else { return }
              run(
                samples.count, sx.base + samples.lowerBound * g.inputLength * inC, sw.base,
                sb?.base, sy.base + samples.lowerBound * g.outputLength * outC)
            }
          }
        }
      }
      initialized = count
    }
    return Tensor(uncheckedShape: [batch, g.outputLength, outC], scalars: result)
  }

  /// ``referenceConv1DBackward(_:_:_:geometry:)`` with the kernels of `configuration`; the input
  /// gradient is skipped (`nil`) unless `needsInput`.
  ///
  /// With several workers, each takes a share of the batch: input gradients land in disjoint
  /// samples, filter and bias gradients are summed from per-worker partials (so they differ from
  /// one thread's by rounding only).
  static func conv1DBackward(
    _ gy: Tensor, _ x: Tensor, _ w: Tensor, geometry g: WindowGeometry, needsInput: Bool,
    configuration: KernelConfiguration = .current
  ) -> (input: Tensor?, filter: Tensor, bias: Tensor) {
    guard let variant = configuration.variant.cValue else {
      let (gx, gw, gb) = referenceConv1DBackward(gy, x, w, geometry: g)
      return (needsInput ? gx : nil, gw, gb)
    }
    let (batch, inC, outC) = (x.shape[0], x.shape[2], w.shape[2])
    let workers = convWorkers(
      g, batch: batch, inC: inC, outC: outC)
    let filterCount = w.scalarCount
    // Worker 0 writes the result buffers; the others write partials [filter | bias] summed after.
    var partials = [Float](repeating: 0, count: (workers - 1) * (filterCount + outC))
    var gw = Kernels.pooledFloats(repeating: 0, count: filterCount)
    var gb = Kernels.pooledFloats(repeating: 0, count: outC)
    var gx = needsInput ? Kernels.pooledFloats(repeating: 0, count: x.scalarCount) : []
    gy.withUnsafeBufferPointer { pgy in
      x.withUnsafeBufferPointer { px in
        w.withUnsafeBufferPointer { pw in
          let (sgy, sx, sw) = (
            DisjointWrites(reading: pgy.baseAddress!, count: pgy.count),
            DisjointWrites(reading: px.baseAddress!, count: px.count),
            DisjointWrites(reading: pw.baseAddress!, count: pw.count)
          )
          gw.withUnsafeMutableBufferPointer { pgw in
            gb.withUnsafeMutableBufferPointer { pgb in
              partials.withUnsafeMutableBufferPointer { pp in
                gx.withUnsafeMutableBufferPointer { pgx in
                  let sgw = DisjointWrites(pgw.baseAddress!, count: filterCount)
                  let sgb = DisjointWrites(pgb.baseAddress!, count: outC)
                  let sp = workers > 1 ? DisjointWrites(pp.baseAddress!, count: pp.count) : nil
                  // Not `pgx.baseAddress.map`: an empty array may still have a base address.
                  let sgx = needsInput ? DisjointWrites(pgx.baseAddress!, count: pgx.count) : nil
                  parallelFor(workers, threads: configuration.threadCount) { worker in
                    let samples = share(of: batch, worker: worker, workers: workers)
                    var geometry = cGeometry(
                      g, batch: samples.count, inC: inC, outC: outC,
                      winograd: configuration.winograd)
                    let xs = sx.base + samples.lowerBound * g.inputLength * inC
                    let gys = sgy.base + samples.lowerBound * g.outputLength * outC
                    let (filter, bias) =
                      worker == 0
                      ? (sgw.base, sgb.base)
                      : (
                        sp!.base + (worker - 1) * (filterCount + outC),
                        sp!.base + (worker - 1) * (filterCount + outC) + filterCount
                      )
                    hd_conv1d_backward_filter(variant, &geometry, xs, gys, filter, bias, 0)
                    if let sgx {
                      hd_conv1d_backward_input(
                        variant, &geometry, gys, sw.base,
                        sgx.base + samples.lowerBound * g.inputLength * inC)
                    }
                  }
                }
              }
              for worker in 1..<Swift.max(workers, 1) {
                let base = (worker - 1) * (filterCount + outC)
                for i in 0..<filterCount { pgw[i] += partials[base + i] }
                for o in 0..<outC { pgb[o] += partials[base + filterCount + o] }
              }
            }
          }
        }
      }
    }
    return (
      needsInput ? Tensor(uncheckedShape: x.shape, scalars: gx) : nil,
      Tensor(uncheckedShape: w.shape, scalars: gw), Tensor(uncheckedShape: [outC], scalars: gb)
    )
  }

  /// Calls `body` with a pointer to `tensor`'s elements, or `nil` when there is no tensor.
  static func withOptionalPointer<R>(
    _ tensor: Tensor?, _ body: (UnsafePointer<Float>?) -> R
  ) -> R {
    guard let tensor else { return body(nil) }
    return tensor.withUnsafeBufferPointer { body($0.baseAddress) }
  }
}
