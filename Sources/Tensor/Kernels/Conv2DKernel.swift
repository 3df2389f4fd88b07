/// The geometry of a stride-1 2-D convolution over `[batch, height, width, channels]`, shared by
/// forward and backward: one ``WindowGeometry`` per spatial axis.
struct Conv2DGeometry {
  let rows: WindowGeometry
  let columns: WindowGeometry
  let inChannels: Int
  let outChannels: Int

  init(
    height: Int, width: Int, kernelHeight: Int, kernelWidth: Int, inChannels: Int, outChannels: Int,
    padding: Padding
  ) {
    rows = WindowGeometry(
      inputLength: height, kernelSize: kernelHeight, stride: 1, dilation: 1, padding: padding)
    columns = WindowGeometry(
      inputLength: width, kernelSize: kernelWidth, stride: 1, dilation: 1, padding: padding)
    self.inChannels = inChannels
    self.outChannels = outChannels
  }

  /// Output positions per sample.
  var outputPositions: Int { rows.outputLength * columns.outputLength }
  /// Elements of one im2col row: a whole receptive field, ordered like the filter `[kh, kw, in]`.
  var patchSize: Int { rows.kernelSize * columns.kernelSize * inChannels }
  /// Input elements per sample.
  var inputSize: Int { rows.inputLength * columns.inputLength * inChannels }
}

extension Kernels {
  /// Direct 2-D convolution (cross-correlation) of `x` `[batch, h, w, in]` with `f`
  /// `[kh, kw, in, out]` plus `bias` `[out]`, giving `[batch, outH, outW, out]`: the reference
  /// the im2col kernel is checked against.
  static func referenceConv2D(_ x: Tensor, _ f: Tensor, bias: Tensor?, geometry g: Conv2DGeometry)
    -> Tensor
  {
    let batch = x.shape[0]
    let (outH, outW, inC, outC) = (
      g.rows.outputLength, g.columns.outputLength, g.inChannels, g.outChannels
    )
    var y = Kernels.pooledFloats(repeating: 0, count: batch * outH * outW * outC)
    let (px, pf) = (x.scalars, f.scalars)
    for b in 0..<batch {
      for r in 0..<outH {
        for c in 0..<outW {
          let out = ((b * outH + r) * outW + c) * outC
          if let bias { for o in 0..<outC { y[out + o] = bias.scalars[o] } }
          for i in 0..<g.rows.kernelSize {
            guard let s = g.rows.inputStep(output: r, tap: i) else { continue }
            for j in 0..<g.columns.kernelSize {
              guard let t = g.columns.inputStep(output: c, tap: j) else { continue }
              let input = ((b * g.rows.inputLength + s) * g.columns.inputLength + t) * inC
              for k in 0..<inC {
                let filterRow = ((i * g.columns.kernelSize + j) * inC + k) * outC
                for o in 0..<outC { y[out + o] += px[input + k] * pf[filterRow + o] }
              }
            }
          }
        }
      }
    }
    return Tensor(uncheckedShape: [batch, outH, outW, outC], scalars: y)
  }

  /// Writes sample `x`'s receptive fields as rows of `cols` `[outH·outW, kh·kw·in]`, zeros on
  /// padding, so the convolution becomes one GEMM with the filter read as `[kh·kw·in, out]`.
  static func im2col(
    _ x: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry
  ) {
    let (kh, kw, inC) = (g.rows.kernelSize, g.columns.kernelSize, g.inChannels)
    var row = cols
    for r in 0..<g.rows.outputLength {
      for c in 0..<g.columns.outputLength {
        var slot = row
        for i in 0..<kh {
          let s = g.rows.inputStep(output: r, tap: i)
          for j in 0..<kw {
            if let s, let t = g.columns.inputStep(output: c, tap: j) {
              // One tap's channels are contiguous in both layouts: copy them as a block.
              slot.update(from: x + (s * g.columns.inputLength + t) * inC, count: inC)
            } else {
              slot.update(repeating: 0, count: inC)
            }
            slot += inC
          }
        }
        row += g.patchSize
      }
    }
  }

  /// Adds the rows of `cols` (gradients of receptive fields) back onto sample gradient `gx`:
  /// the adjoint of ``im2col(_:_:_:)``.
  static func col2im(
    _ cols: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry
  ) {
    let (kh, kw, inC) = (g.rows.kernelSize, g.columns.kernelSize, g.inChannels)
    var row = cols
    for r in 0..<g.rows.outputLength {
      for c in 0..<g.columns.outputLength {
        var slot = row
        for i in 0..<kh {
          let s = g.rows.inputStep(output: r, tap: i)
          for j in 0..<kw {
            if let s, let t = g.columns.inputStep(output: c, tap: j) {
              let target = gx + (s * g.columns.inputLength + t) * inC
              for k in 0..<inC { target[k] += slot[k] }
            }
            slot += inC
          }
        }
        row += g.patchSize
      }
    }
  }

  /// ``im2col(_:_:_:)`` through the kernel-row plan when there is one (`kh×1` kernels).
  @inline(__always)
  static func im2col(
    _ x: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry,
    taps: TapRows?
  ) {
    if let taps { taps.im2col(x, cols) } else { im2col(x, cols, g) }
  }

  /// ``col2im(_:_:_:)`` through the kernel-row plan when there is one (`kh×1` kernels).
  @inline(__always)
  static func col2im(
    _ cols: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry,
    taps: TapRows?
  ) {
    if let taps { taps.col2im(cols, gx) } else { col2im(cols, gx, g) }
  }

  /// How many pieces a 2-D convolution over `batch` samples is cut into (whole samples each), by
  /// the same FLOP threshold as 1-D convolutions: two, whatever the thread count, so that the
  /// filter gradient's sums over the pieces are the same bits on any thread count.
  static func conv2DWorkers(_ g: Conv2DGeometry, batch: Int) -> Int {
    let flops = 2 * batch * g.outputPositions * g.patchSize * g.outChannels
    return flops >= parallelConvFLOPs ? Swift.min(2, batch) : 1
  }

  /// ``referenceConv2D(_:_:bias:geometry:)`` as im2col + GEMM per sample, the batch split over
  /// threads. Each worker owns one im2col buffer (`outH·outW·kh·kw·in` floats), so memory stays
  /// per sample rather than per batch; each sample's output is computed the same way on any
  /// thread count.
  static func conv2D(
    _ x: Tensor, _ f: Tensor, bias: Tensor?, geometry g: Conv2DGeometry,
    configuration: KernelConfiguration = .current
  ) -> Tensor {
    let batch = x.shape[0]
    let (positions, patch, outC) = (g.outputPositions, g.patchSize, g.outChannels)
    let count = batch * positions * outC
    let workers = conv2DWorkers(g, batch: batch)
    // The batch split is the only parallelism: each worker's GEMMs stay on its own thread.
    let single = configuration.withThreadCount(1)
    // Kernels one column wide read the input in place (``TapRows``): no im2col buffer.
    let taps = TapRows(g)
    let inPlace = taps?.readsInPlace ?? false
    var scratch = [Float](repeating: 0, count: inPlace ? 1 : workers * positions * patch)
    let result = Kernels.pooledFloats(unsafeUninitializedCapacity: count) { out, initialized in
      x.withUnsafeBufferPointer { px in
        f.withUnsafeBufferPointer { pf in
          withOptionalPointer(bias) { pb in
            scratch.withUnsafeMutableBufferPointer { ps in
              let (sx, sf) = (
                DisjointWrites(reading: px.baseAddress!, count: px.count),
                DisjointWrites(reading: pf.baseAddress!, count: pf.count)
              )
              let sb = pb.map { DisjointWrites(reading: $0, count: outC) }
              let sy = DisjointWrites(out.baseAddress!, count: count)
              let sc = DisjointWrites(ps.baseAddress!, count: ps.count)
              parallelFor(workers, threads: configuration.threadCount) { worker in
                let cols = sc.base + worker * positions * patch
                for b in share(of: batch, worker: worker, workers: workers) {
                  let y = sy.base + b * positions * outC
                  if let taps, inPlace {
                    taps.forward(
                      sx.base + b * g.inputSize, sf.base, bias: sb?.base, y, configuration: single)
                    continue
                  }
                  im2col(sx.base + b * g.inputSize, cols, g, taps: taps)
                  gemm(
                    m: positions, n: outC, k: patch, a: cols, transposeA: false, b: sf.base,
                    transposeB: false, c: y, accumulate: false,
                    configuration: single)
                  if let sb {
                    for p in 0..<positions {
                      for o in 0..<outC { y[p * outC + o] += sb.base[o] }
                    }
                  }
                }
              }
            }
          }
        }
      }
      initialized = count
    }
    return Tensor(
      uncheckedShape: [batch, g.rows.outputLength, g.columns.outputLength, outC], scalars: result)
  }

  /// The gradients of ``conv2D(_:_:bias:geometry:configuration:)`` with respect to input (only if
  /// `needsInput`), filter and bias, for upstream `gy` `[batch, outH, outW, out]`:
  /// `∂f = Σ_b colsᵀ·g`, `∂cols = g·fᵀ` scattered back by ``col2im(_:_:_:)``, `∂bias = Σ g`.
  ///
  /// Workers take whole samples; filter and bias gradients are summed from per-worker partials
  /// (so they differ from one thread's by rounding only).
  static func conv2DBackward(
    _ gy: Tensor, _ x: Tensor, _ f: Tensor, geometry g: Conv2DGeometry, needsInput: Bool,
    configuration: KernelConfiguration = .current
  ) -> (input: Tensor?, filter: Tensor, bias: Tensor) {
    let batch = x.shape[0]
    let (positions, patch, outC) = (g.outputPositions, g.patchSize, g.outChannels)
    let filterCount = f.scalarCount
    let workers = conv2DWorkers(g, batch: batch)
    let single = configuration.withThreadCount(1)
    // Per worker: im2col buffer, column-gradient buffer, then partial [filter | bias]; kernels
    // one column wide need no column buffers (``TapRows``).
    let taps = TapRows(g)
    let inPlace = taps?.readsInPlace ?? false
    let columnsSize = inPlace ? 0 : positions * patch
    let stride = 2 * columnsSize + filterCount + outC
    var scratch = [Float](repeating: 0, count: workers * stride)
    var gx = needsInput ? Kernels.pooledFloats(repeating: 0, count: x.scalarCount) : []
    gy.withUnsafeBufferPointer { pgy in
      x.withUnsafeBufferPointer { px in
        f.withUnsafeBufferPointer { pf in
          scratch.withUnsafeMutableBufferPointer { ps in
            gx.withUnsafeMutableBufferPointer { pgx in
              let (sgy, sx, sf) = (
                DisjointWrites(reading: pgy.baseAddress!, count: pgy.count),
                DisjointWrites(reading: px.baseAddress!, count: px.count),
                DisjointWrites(reading: pf.baseAddress!, count: pf.count)
              )
              let sc = DisjointWrites(ps.baseAddress!, count: ps.count)
              // Not `pgx.baseAddress.map`: an empty array may still have a base address.
              let sgx = needsInput ? DisjointWrites(pgx.baseAddress!, count: pgx.count) : nil
              parallelFor(workers, threads: configuration.threadCount) { worker in
                let cols = sc.base + worker * stride
                let gcols = cols + columnsSize
                let gf = gcols + columnsSize
                let gb = gf + filterCount
                for b in share(of: batch, worker: worker, workers: workers) {
                  let g0 = sgy.base + b * positions * outC
                  if let taps, inPlace {
                    for p in 0..<positions {
                      for o in 0..<outC { gb[o] += g0[p * outC + o] }
                    }
                    taps.backward(
                      g0, sx.base + b * g.inputSize, sf.base, filterGradient: gf,
                      inputGradient: sgx.map { $0.base + b * g.inputSize }, configuration: single)
                    continue
                  }
                  im2col(sx.base + b * g.inputSize, cols, g, taps: taps)
                  gemm(
                    m: patch, n: outC, k: positions, a: cols, transposeA: true, b: g0,
                    transposeB: false, c: gf, accumulate: true,
                    configuration: single)
                  for p in 0..<positions {
                    for o in 0..<outC { gb[o] += g0[p * outC + o] }
                  }
                  if let sgx {
                    gemm(
                      m: positions, n: patch, k: outC, a: g0, transposeA: false, b: sf.base,
                      transposeB: true, c: gcols, accumulate: false,
                      configuration: single)
                    col2im(gcols, sgx.base + b * g.inputSize, g, taps: taps)
                  }
                }
              }
            }
          }
        }
      }
    }
    var gf = Kernels.pooledFloats(repeating: 0, count: filterCount)
    var gb = Kernels.pooledFloats(repeating: 0, count: outC)
    for worker in 0..<workers {
      let base = worker * stride + 2 * columnsSize
      for i in 0..<filterCount { gf[i] += scratch[base + i] }
      for o in 0..<outC { gb[o] += scratch[base + filterCount + o] }
    }
    return (
      needsInput ? Tensor(uncheckedShape: x.shape, scalars: gx) : nil,
      Tensor(uncheckedShape: f.shape, scalars: gf), Tensor(uncheckedShape: [outC], scalars: gb)
    )
  }
}

/// A stride-1 2-D convolution whose kernel is one column wide (`kh×1`: DeepConvLSTM's
/// convolutions over time, shared across sensors), computed as one GEMM per kernel row that reads
/// the channels-last input in place.
///
/// With `[h, w, in]` samples, kernel row `i` reads input row `r + i − pad` for output row `r`, at
/// the same column. Over the output rows whose input row exists, `[r0, r1)`, those are the
/// contiguous rows `(r0 + i − pad)·w …` of the input seen as `[h·w, in]`, and they meet the
/// contiguous output rows `r0·w …` of `[outH·w, out]`. So
/// `y[r0·w ..< r1·w] += x[(r0+i−pad)·w …] · f[i]` for each kernel row, and the backward passes
/// are the transposed products on the same blocks: no im2col copy, no col2im scatter (those were
/// 50 % of a DeepConvLSTM training step).
struct TapRows {
  let geometry: Conv2DGeometry
  /// For each kernel row: the output rows it reaches and the input row of the first of them.
  let blocks: [(outputRows: Range<Int>, firstInputRow: Int)]

  /// Whether the kernel rows' GEMMs read the input in place. Only with at least 16 input and
  /// output channels: with fewer, each kernel row's GEMM is too thin (depth `in`, width `out`)
  /// and one GEMM over ``im2col(_:_:)``'s columns (depth `kh·in`) wins. Measured on DeepConvLSTM
  /// training: 64 channels 137 → 147 samples/s in place, 4 channels 1,990 → 1,796.
  var readsInPlace: Bool { geometry.inChannels >= 16 && geometry.outChannels >= 16 }

  /// The plan for `g`, or `nil` unless the kernel is one column wide.
  init?(_ g: Conv2DGeometry) {
    guard g.columns.kernelSize == 1, g.columns.outputLength == g.columns.inputLength else {
      return nil
    }
    geometry = g
    blocks = (0..<g.rows.kernelSize).map { i in
      let reached = (0..<g.rows.outputLength).filter { g.rows.inputStep(output: $0, tap: i) != nil }
      guard let first = reached.first, let last = reached.last else { return (0..<0, 0) }
      return (first..<(last + 1), g.rows.inputStep(output: first, tap: i)!)
    }
  }

  /// One sample's output `[outH, w, out]`: the bias (or zeros), then every kernel row's product.
  func forward(
    _ x: UnsafePointer<Float>, _ f: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    _ y: UnsafeMutablePointer<Float>, configuration: KernelConfiguration
  ) {
    let g = geometry
    let (w, inC, outC) = (g.columns.inputLength, g.inChannels, g.outChannels)
    for p in 0..<(g.outputPositions) {
      for o in 0..<outC { y[p * outC + o] = bias?[o] ?? 0 }
    }
    for (i, block) in blocks.enumerated() where !block.outputRows.isEmpty {
      Kernels.gemm(
        m: block.outputRows.count * w, n: outC, k: inC, a: x + block.firstInputRow * w * inC,
        transposeA: false, b: f + i * inC * outC, transposeB: false,
        c: y + block.outputRows.lowerBound * w * outC, accumulate: true,
        configuration: configuration)
    }
  }

  /// Adds one sample's filter gradient to `filterGradient` and, if asked, its input gradient to
  /// `inputGradient` (zeroed by the caller), for upstream `gy` `[outH, w, out]`.
  func backward(
    _ gy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ f: UnsafePointer<Float>,
    filterGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    configuration: KernelConfiguration
  ) {
    let g = geometry
    let (w, inC, outC) = (g.columns.inputLength, g.inChannels, g.outChannels)
    for (i, block) in blocks.enumerated() where !block.outputRows.isEmpty {
      let rows = block.outputRows.count * w
      let input = block.firstInputRow * w * inC
      let upstream = gy + block.outputRows.lowerBound * w * outC
      // ∂f[i] += x_blockᵀ · gy_block
      Kernels.gemm(
        m: inC, n: outC, k: rows, a: x + input, transposeA: true, b: upstream, transposeB: false,
        c: filterGradient + i * inC * outC, accumulate: true, configuration: configuration)
      // ∂x_block += gy_block · f[i]ᵀ
      if let inputGradient {
        Kernels.gemm(
          m: rows, n: inC, k: outC, a: upstream, transposeA: false, b: f + i * inC * outC,
          transposeB: true, c: inputGradient + input, accumulate: true,
          configuration: configuration)
      }
    }
  }

  /// ``Kernels/im2col(_:_:)`` for this kernel shape, by blocks: kernel row `i` fills its `in`
  /// columns of the output rows it reaches from one input row per output row (the same sensors),
  /// and zeros elsewhere. No per-tap bounds arithmetic and no copy call per `in` floats (those
  /// were 60 % of a DeepConvLSTM-LM training step with 4 channels).
  func im2col(_ x: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>) {
    let g = geometry
    let (w, inC, patch) = (g.columns.inputLength, g.inChannels, g.patchSize)
    for (i, block) in blocks.enumerated() {
      for r in 0..<g.rows.outputLength {
        let target = cols + r * w * patch + i * inC
        guard block.outputRows.contains(r) else {
          for c in 0..<w { (target + c * patch).update(repeating: 0, count: inC) }
          continue
        }
        let source = x + (block.firstInputRow + r - block.outputRows.lowerBound) * w * inC
        switch inC {
        case 1:
          for c in 0..<w { target[c * patch] = source[c] }
        case 4:
          // One vector load and store per sensor instead of a loop of unknown length.
          TapRows.copy(SIMD4<Float>.self, w, from: source, stride: 4, to: target, stride: patch)
        case 8:
          TapRows.copy(SIMD8<Float>.self, w, from: source, stride: 8, to: target, stride: patch)
        default:
          for c in 0..<w {
            for k in 0..<inC { target[c * patch + k] = source[c * inC + k] }
          }
        }
      }
    }
  }

  /// `count` vectors of `V` from `source` to `target`, `sourceStride` and `targetStride` floats
  /// apart.
  @inline(__always)
  private static func copy<V: SIMD>(
    _: V.Type, _ count: Int, from source: UnsafePointer<Float>, stride sourceStride: Int,
    to target: UnsafeMutablePointer<Float>, stride targetStride: Int
  ) where V.Scalar == Float {
    let (from, to) = (UnsafeRawPointer(source), UnsafeMutableRawPointer(target))
    for c in 0..<count {
      to.storeBytes(
        of: from.loadUnaligned(fromByteOffset: c * sourceStride * 4, as: V.self),
        toByteOffset: c * targetStride * 4, as: V.self)
    }
  }

  /// Adds `count` vectors of `V` from `source` onto `target`, `sourceStride` and `targetStride`
  /// floats apart.
  @inline(__always)
  private static func add<V: SIMD>(
    _: V.Type, _ count: Int, from source: UnsafePointer<Float>, stride sourceStride: Int,
    to target: UnsafeMutablePointer<Float>, stride targetStride: Int
  ) where V.Scalar == Float {
    let (from, to) = (UnsafeRawPointer(source), UnsafeMutableRawPointer(target))
    for c in 0..<count {
      let sum =
        to.loadUnaligned(fromByteOffset: c * targetStride * 4, as: V.self)
        + from.loadUnaligned(fromByteOffset: c * sourceStride * 4, as: V.self)
      to.storeBytes(of: sum, toByteOffset: c * targetStride * 4, as: V.self)
    }
  }

  /// The adjoint of ``im2col(_:_:)``: adds column gradients back onto the sample's gradient.
  func col2im(_ cols: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>) {
    let g = geometry
    let (w, inC, patch) = (g.columns.inputLength, g.inChannels, g.patchSize)
    for (i, block) in blocks.enumerated() {
      for r in block.outputRows {
        let source = cols + r * w * patch + i * inC
        let target = gx + (block.firstInputRow + r - block.outputRows.lowerBound) * w * inC
        switch inC {
        case 1:
          for c in 0..<w { target[c] += source[c * patch] }
        case 4:
          TapRows.add(SIMD4<Float>.self, w, from: source, stride: patch, to: target, stride: 4)
        case 8:
          TapRows.add(SIMD8<Float>.self, w, from: source, stride: patch, to: target, stride: 8)
        default:
          for c in 0..<w {
            for k in 0..<inC { target[c * inC + k] += source[c * patch + k] }
          }
        }
      }
    }
  }
}
