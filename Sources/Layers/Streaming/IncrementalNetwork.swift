@_spi(Inference) import Tensor

/// A ``Sequential`` model split for streaming: a local part whose outputs at a time step depend
/// only on nearby inputs (Conv1D, ReLU, MaxPool1D, Dropout), run incrementally from one window to
/// the next, and a global part (CBAM, global pooling, Dense, ReLU, Dropout, a final Softmax) run
/// on the whole window every hop.
///
/// Each local stage keeps its output for the current window in a mirrored ring buffer: slot `q`
/// is stored at `q` and `q + length`, so the window is always one contiguous `[length, channels]`
/// array starting at slot `start`, and sliding the window by a hop only moves `start`.
///
/// An output step is *clean* when every input it reads is a clean step of the window (the raw
/// input is clean everywhere): it then equals the value a padding-free pass over the whole stream
/// gives, and so it is the same in every window that contains it. The first `left` and last
/// `right` outputs of a stage read the zero padding at the window's edges, directly or through
/// earlier stages. Per hop a stage computes the outputs that became clean (the `hop / stride`
/// newest), and recomputes both edges from its input window: on the right, the steps whose
/// padding real samples now replace; on the left, the steps that lose their left neighbours.
final class IncrementalNetwork {
  /// One local layer's geometry, weights and ring buffer.
  struct Stage {
    enum Operation {
      case conv(filter: UnsafePointer<Float>, bias: UnsafePointer<Float>?, relu: Bool)
      case maxPool
      case relu
    }
    let operation: Operation
    let kernel: Int
    let stride: Int
    let dilation: Int
    let padBefore: Int
    let inLength: Int
    let inChannels: Int
    let outLength: Int
    let outChannels: Int
    /// Output steps at the start and end of a window that depend on its padding.
    let left: Int
    let right: Int
    /// Output steps per hop.
    let hop: Int
    /// `2 · outLength · outChannels` floats: the mirrored ring.
    let ring: UnsafeMutablePointer<Float>
    /// The slot of the current window's first step.
    var start = 0

    var span: Int { (kernel - 1) * dilation + 1 }
  }

  /// One global layer.
  enum GlobalStep {
    case cbam(
      hidden: UnsafePointer<Float>, width: Int, output: UnsafePointer<Float>,
      spatial: UnsafePointer<Float>, spatialKernel: Int)
    case meanOverTime
    case maxOverTime
    case dense(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outputSize: Int)
    case relu
  }

  let windowLength: Int
  let channels: Int
  let hop: Int
  let classes: Int
  private(set) var stages: [Stage] = []
  private var globalSteps: [(step: GlobalStep, shape: [Int])] = []
  /// The raw (normalized) input window, a mirrored ring of `windowLength` steps.
  private let input: UnsafeMutablePointer<Float>
  private var inputStart = 0
  /// Scratch for a convolution: the rows it computes as one matrix (im2col), and its output.
  private let columns: UnsafeMutablePointer<Float>
  private let products: UnsafeMutablePointer<Float>
  /// Scratch for the global part: two activations, CBAM's maps.
  private let globalBuffers: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
  private let maps: UnsafeMutablePointer<Float>
  /// Every weight copy, freed with the network.
  private var owned: [UnsafeMutableBufferPointer<Float>] = []
  /// Whether the stages hold a window; `false` before the first and after ``reset()``.
  private var primed = false

  /// Splits `model` for windows of `windowLength × channels` sliding by `hop`.
  init(_ model: Sequential, windowLength: Int, channels: Int, hop: Int) throws(StreamingError) {
    self.windowLength = windowLength
    self.channels = channels
    self.hop = hop
    let outputShape: [Int]
    do {
      outputShape = try model.outputShape(for: [1, windowLength, channels])
    } catch {
      throw .shape(error)
    }
    guard outputShape.count == 2 else {
      throw .shape(
        .invalid(
          operation: "StreamingRecognizer", shape: outputShape, rule: "logits [batch, classes]"))
    }
    classes = outputShape[1]
    var made = false
    var owned: [UnsafeMutableBufferPointer<Float>] = []
    var stages: [Stage] = []
    defer {
      if !made {
        for buffer in owned { buffer.deallocate() }
        for stage in stages { stage.ring.deallocate() }
      }
    }
    func copy(_ tensor: Tensor) -> UnsafePointer<Float> {
      let buffer = UnsafeMutableBufferPointer<Float>.allocate(
        capacity: Swift.max(1, tensor.scalarCount))
      _ = tensor.withUnsafeBufferPointer { buffer.initialize(from: $0) }
      owned.append(buffer)
      return UnsafePointer(buffer.baseAddress!)
    }

    var shape = [1, windowLength, channels]
    var left = 0
    var right = 0
    var stride = 1  // input steps per step of `shape`
    var isLocal = true
    var globalSteps: [(step: GlobalStep, shape: [Int])] = []
    var largestGlobal = 1
    var largestMaps = 1
    var columnsCapacity = 1
    var productsCapacity = 1
    let layers = model.layers
    var index = 0
    while index < layers.count {
      let layer = layers[index]
      let type = Sequential.typeName(of: layer)
      // The model accepted the window's shape as a whole, so each layer accepts its part.
      let next = try! layer.outputShape(for: shape)
      func stage(
        _ operation: Stage.Operation, kernel: Int, stride layerStride: Int, dilation: Int,
        padding: Padding
      ) throws(StreamingError) -> Stage {
        guard isLocal else {
          throw .unsupportedLayer(
            index: index, type: type,
            reason: "a time-local layer after a global one (CBAM, pooling over time, Dense)")
        }
        guard hop % (stride * layerStride) == 0 else {
          throw .hopNotAllowed(
            hop: hop, multiple: stride * layerStride,
            reason: "layer \(index) (\(type)) has stride \(layerStride) after a total stride of "
              + "\(stride)")
        }
        let inLength = shape[1]
        let outLength = next[1]
        let span = (kernel - 1) * dilation + 1
        let padBefore: Int
        switch padding {
        case .valid: padBefore = 0
        case .same:
          padBefore = Swift.max(0, (outLength - 1) * layerStride + span - inLength) / 2
        }
        // Clean outputs read only inputs in [left, inLength - right).
        var newLeft = 0
        while newLeft < outLength && newLeft * layerStride - padBefore < left { newLeft += 1 }
        var lastClean = outLength - 1
        while lastClean >= 0 && lastClean * layerStride - padBefore + span > inLength - right {
          lastClean -= 1
        }
        let newRight = outLength - 1 - lastClean
        let ring = UnsafeMutablePointer<Float>.allocate(capacity: 2 * outLength * next[2])
        ring.initialize(repeating: 0, count: 2 * outLength * next[2])
        // Every output at once, when the window is computed whole.
        columnsCapacity = Swift.max(columnsCapacity, outLength * kernel * shape[2])
        productsCapacity = Swift.max(productsCapacity, outLength * next[2])
        return Stage(
          operation: operation, kernel: kernel, stride: layerStride, dilation: dilation,
          padBefore: padBefore, inLength: inLength, inChannels: shape[2], outLength: outLength,
          outChannels: next[2], left: newLeft, right: newRight,
          hop: hop / (stride * layerStride), ring: ring)
      }
      var consumed = 1
      switch layer {
      case let conv as Conv1D:
        let fused = Sequential.convolutionBeforeReLU(layers, at: index) != nil
        let s = try stage(
          .conv(filter: copy(conv.filter), bias: conv.bias.map(copy), relu: fused),
          kernel: conv.filter.shape[0], stride: conv.stride, dilation: conv.dilation,
          padding: conv.padding)
        stages.append(s)
        stride *= conv.stride
        (left, right) = (s.left, s.right)
        if fused { consumed = 2 }
      case let pool as MaxPool1D:
        let s = try stage(
          .maxPool, kernel: pool.kernelSize, stride: pool.stride, dilation: 1,
          padding: pool.padding)
        stages.append(s)
        stride *= pool.stride
        (left, right) = (s.left, s.right)
      case is ReLU where isLocal:
        let s = try stage(.relu, kernel: 1, stride: 1, dilation: 1, padding: .valid)
        stages.append(s)
      case is Dropout:
        break  // the identity at inference
      case let cbam as CBAM:
        isLocal = false
        globalSteps.append(
          (
            .cbam(
              hidden: copy(cbam.channel.hidden), width: cbam.channel.hidden.shape[1],
              output: copy(cbam.channel.output), spatial: copy(cbam.spatial.filter),
              spatialKernel: cbam.spatial.filter.shape[0]), shape
          ))
        largestMaps = Swift.max(largestMaps, shape[1] + shape[2])
      case is GlobalAvgPool1D:
        isLocal = false
        globalSteps.append((.meanOverTime, shape))
      case is GlobalMaxPool1D:
        isLocal = false
        globalSteps.append((.maxOverTime, shape))
      case let dense as Dense where shape.count == 2:
        isLocal = false
        globalSteps.append(
          (
            .dense(
              weight: copy(dense.weight), bias: dense.bias.map(copy),
              outputSize: dense.weight.shape[1]), shape
          ))
      case is ReLU:
        globalSteps.append((.relu, shape))
      case is Softmax where index == layers.count - 1:
        break  // the recognizer applies the softmax itself
      default:
        throw .unsupportedLayer(
          index: index, type: type,
          reason: "the recognizer runs Conv1D, ReLU, MaxPool1D, CBAM, GlobalAvgPool1D, "
            + "GlobalMaxPool1D, Dense on [batch, features], Dropout and a final Softmax")
      }
      if !isLocal { largestGlobal = Swift.max(largestGlobal, next.reduce(1, *)) }
      shape = next
      index += consumed
    }
    guard !globalSteps.isEmpty || shape.count == 2 else {
      throw .shape(
        .invalid(
          operation: "StreamingRecognizer", shape: shape, rule: "logits [batch, classes]"))
    }
    self.stages = stages
    self.globalSteps = globalSteps
    self.owned = owned
    input = .allocate(capacity: 2 * windowLength * channels)
    input.initialize(repeating: 0, count: 2 * windowLength * channels)
    columns = .allocate(capacity: columnsCapacity)
    products = .allocate(capacity: productsCapacity)
    globalBuffers = (.allocate(capacity: largestGlobal), .allocate(capacity: largestGlobal))
    maps = .allocate(capacity: largestMaps)
    made = true
  }

  deinit {
    input.deallocate()
    columns.deallocate()
    products.deallocate()
    globalBuffers.0.deallocate()
    globalBuffers.1.deallocate()
    maps.deallocate()
    for stage in stages { stage.ring.deallocate() }
    for buffer in owned { buffer.deallocate() }
  }

  /// Starts over: the next window is computed whole.
  func reset() {
    primed = false
    inputStart = 0
    for i in stages.indices { stages[i].start = 0 }
  }

  /// Writes one sample, normalized as `(x − mean) · scale`, at position `position` of the
  /// pending window (`0..<length`).
  func write(
    _ sample: UnsafePointer<Float>, mean: UnsafePointer<Float>, scale: UnsafePointer<Float>,
    at position: Int
  ) {
    var slot = inputStart + position
    if slot >= windowLength { slot -= windowLength }
    let first = input + slot * channels
    let second = input + (slot + windowLength) * channels
    for c in 0..<channels {
      let value = (sample[c] - mean[c]) * scale[c]
      first[c] = value
      second[c] = value
    }
  }

  /// The logits of the pending window (every step of it written), computed incrementally from
  /// the previous window; then slides the window by the hop.
  func logits(into result: UnsafeMutablePointer<Float>) {
    var x = UnsafePointer(input + inputStart * channels)
    for i in stages.indices {
      run(&stages[i], from: x, whole: !primed)
      x = UnsafePointer(stages[i].ring + stages[i].start * stages[i].outChannels)
    }
    runGlobal(from: x, into: result)
    primed = true
    // Slide: the next window's step 0 is this window's step `hop` (at every stage).
    inputStart = (inputStart + hop) % windowLength
    for i in stages.indices {
      stages[i].start = (stages[i].start + stages[i].hop) % stages[i].outLength
    }
  }

  /// Updates `stage`'s window from its input window `x`: the outputs that became clean and both
  /// edges, or every output when `whole`.
  private func run(_ stage: inout Stage, from x: UnsafePointer<Float>, whole: Bool) {
    let m = stage.outLength
    let rightBegin = Swift.max(stage.left, m - stage.right - stage.hop)
    // The left edge (possibly empty) and the right part; one part when the window is whole.
    let (leftPart, rightPart) =
      whole || rightBegin <= stage.left ? (0..<0, 0..<m) : (0..<stage.left, rightBegin..<m)
    if case .conv(let filter, let bias, let relu) = stage.operation {
      convolve(
        stage, outputs: (leftPart, rightPart), from: x, filter: filter, bias: bias, relu: relu)
    } else {
      if !leftPart.isEmpty { compute(stage, outputs: leftPart, from: x) }
      compute(stage, outputs: rightPart, from: x)
    }
  }

  /// Computes a convolution stage's outputs `parts` as one matrix product: their input rows
  /// gathered (zeros for padding), times the filter `[kernel · inChannels, outChannels]`, then
  /// copied into both copies of their ring slots.
  private func convolve(
    _ stage: Stage, outputs parts: (Range<Int>, Range<Int>), from x: UnsafePointer<Float>,
    filter: UnsafePointer<Float>, bias: UnsafePointer<Float>?, relu: Bool
  ) {
    let cIn = stage.inChannels
    let cOut = stage.outChannels
    let rowWidth = stage.kernel * cIn
    var rows = 0
    for t in parts.0 {
      gather(stage, step: t, from: x, into: columns + rows * rowWidth)
      rows += 1
    }
    for t in parts.1 {
      gather(stage, step: t, from: x, into: columns + rows * rowWidth)
      rows += 1
    }
    BufferKernels.dense(
      columns, rows: rows, inputSize: rowWidth, weight: filter, outputSize: cOut, bias: bias,
      into: products)
    if relu { BufferKernels.relu(products, count: rows * cOut, into: products) }
    if !parts.0.isEmpty { store(stage, outputs: parts.0, from: products) }
    store(stage, outputs: parts.1, from: products + parts.0.count * cOut)
  }

  /// Copies the input rows that output step `t` of a convolution stage reads into `row`
  /// (`kernel · inChannels` floats), zeros where it reads padding.
  @inline(__always)
  private func gather(
    _ stage: Stage, step t: Int, from x: UnsafePointer<Float>, into row: UnsafeMutablePointer<Float>
  ) {
    let cIn = stage.inChannels
    let first = t * stage.stride - stage.padBefore
    if stage.dilation == 1 && first >= 0 && first + stage.kernel <= stage.inLength {
      row.update(from: x + first * cIn, count: stage.kernel * cIn)
      return
    }
    for j in 0..<stage.kernel {
      let p = first + j * stage.dilation
      if p >= 0 && p < stage.inLength {
        (row + j * cIn).update(from: x + p * cIn, count: cIn)
      } else {
        (row + j * cIn).update(repeating: 0, count: cIn)
      }
    }
  }

  /// Copies outputs `outputs`, `[count, outChannels]` at `values`, into both copies of their
  /// ring slots.
  private func store(_ stage: Stage, outputs: Range<Int>, from values: UnsafePointer<Float>) {
    let m = stage.outLength
    let cOut = stage.outChannels
    var slot = stage.start + outputs.lowerBound
    if slot >= m { slot -= m }
    // The slots [slot, slot + count) wrap around at m at most once.
    let count = outputs.count
    let beforeWrap = Swift.min(count, m - slot)
    (stage.ring + slot * cOut).update(from: values, count: beforeWrap * cOut)
    (stage.ring + (slot + m) * cOut).update(from: values, count: beforeWrap * cOut)
    if beforeWrap < count {
      let rest = (count - beforeWrap) * cOut
      stage.ring.update(from: values + beforeWrap * cOut, count: rest)
      (stage.ring + m * cOut).update(from: values + beforeWrap * cOut, count: rest)
    }
  }

  /// Computes `stage`'s outputs `outputs` (window steps) from its input window `x`, reading
  /// padding outside it, into both copies of their ring slots.
  private func compute(_ stage: Stage, outputs: Range<Int>, from x: UnsafePointer<Float>) {
    let (t0, t1) = (outputs.lowerBound, outputs.upperBound)
    let cIn = stage.inChannels
    let cOut = stage.outChannels
    let y = stage.ring + (stage.start + t0) * cOut
    switch stage.operation {
    case .conv:
      fatalError("convolutions run through convolve")
    case .maxPool:
      for t in t0..<t1 {
        let row = y + (t - t0) * cOut
        let base = t * stage.stride - stage.padBefore
        // Padded steps are skipped, as the pooling kernel does.
        var firstTap = true
        for j in 0..<stage.kernel {
          let p = base + j
          guard p >= 0 && p < stage.inLength else { continue }
          let step = x + p * cIn
          if firstTap {
            row.update(from: step, count: cOut)
            firstTap = false
          } else {
            for c in 0..<cOut { row[c] = step[c] > row[c] ? step[c] : row[c] }
          }
        }
      }
    case .relu:
      BufferKernels.relu(x + t0 * cIn, count: (t1 - t0) * cIn, into: y)
    }
    // Mirror the slots written: [start + t0, start + t1) within [0, 2m).
    let m = stage.outLength
    let lo = stage.start + t0
    let hi = stage.start + t1
    if lo < m {
      let upper = Swift.min(hi, m)
      (stage.ring + (lo + m) * cOut).update(
        from: stage.ring + lo * cOut, count: (upper - lo) * cOut)
    }
    if hi > m {
      let lower = Swift.max(lo, m)
      (stage.ring + (lower - m) * cOut).update(
        from: stage.ring + lower * cOut, count: (hi - lower) * cOut)
    }
  }

  /// Runs the global part on the last stage's window `x` into `result` (`classes` logits).
  private func runGlobal(from x: UnsafePointer<Float>, into result: UnsafeMutablePointer<Float>) {
    var source = x
    var (target, spare) = globalBuffers
    var count = stages.last.map { $0.outLength * $0.outChannels } ?? windowLength * channels
    for (step, shape) in globalSteps {
      switch step {
      case .cbam(let hidden, let width, let output, let spatial, let spatialKernel):
        BufferKernels.cbam(
          source, batch: 1, time: shape[1], channels: shape[2], hidden: hidden, width: width,
          output: output, spatialFilter: spatial, spatialKernel: spatialKernel, into: target,
          channelMap: maps, spatialMap: maps + shape[2])
      case .meanOverTime:
        BufferKernels.meanOverTime(
          source, batch: 1, time: shape[1], channels: shape[2], into: target)
        count = shape[2]
      case .maxOverTime:
        let (time, width) = (shape[1], shape[2])
        target.update(from: source, count: width)
        for t in 1..<Swift.max(time, 1) {
          let step = source + t * width
          for c in 0..<width where step[c] > target[c] { target[c] = step[c] }
        }
        count = width
      case .dense(let weight, let bias, let outputSize):
        BufferKernels.dense(
          source, rows: 1, inputSize: shape[1], weight: weight, outputSize: outputSize,
          bias: bias, into: target)
        count = outputSize
      case .relu:
        BufferKernels.relu(source, count: count, into: target)
      }
      source = UnsafePointer(target)
      swap(&target, &spare)
    }
    result.update(from: source, count: classes)
  }
}
