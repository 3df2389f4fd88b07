@_spi(Inference) import Tensor

/// A run of small layers that an ``InferencePlan`` executes one window at a time: every
/// convolution's bias, ReLU and a following max pooling by 2 (or global average pooling) are
/// applied in registers before its output is stored, and a CBAM block followed by global average
/// pooling is one pass over the window. One window's activations (a few KiB) stay in the first
/// cache level from layer to layer, where the layer-by-layer batch pass writes and re-reads each
/// whole activation tensor.
///
/// It applies to `same` convolutions with stride and dilation 1 and at most
/// ``largestChannels`` channels in and out, the students' shapes: wider layers run as a GEMM
/// (or Winograd) over the whole batch, where that pays.
final class WindowPipeline {
  /// The widest convolution (input or output channels) the pipeline takes.
  static let largestChannels = 64

  /// Whether a convolution runs by Winograd's F(4, 5): kernel 5, a length that is a multiple of
  /// 4, at least 8 channels in and 16 out, and ``KernelConfiguration/winograd`` on when the plan
  /// is made. Measured per window on one core: LM's 16 → 32 layer 2.92 → 1.56 µs, its 9 → 16
  /// layer (with pooling) 1.60 → 1.31 µs.
  static func usesWinograd(kernel: Int, length: Int, inChannels: Int, outChannels: Int) -> Bool {
    KernelConfiguration.current.winograd && kernel == 5 && length % 4 == 0 && inChannels >= 8
      && outChannels >= 16
  }

  enum Stage {
    case conv(
      filter: UnsafePointer<Float>, bias: UnsafePointer<Float>?, kernel: Int, inChannels: Int,
      outChannels: Int, length: Int, relu: Bool, output: BufferKernels.WindowOutput)
    /// A kernel-5 convolution by Winograd's F(4, 5), its filter transformed.
    case winograd(
      transformed: UnsafePointer<Float>, bias: UnsafePointer<Float>?, inChannels: Int,
      outChannels: Int, length: Int, relu: Bool, output: BufferKernels.WindowOutput)
    case cbamMean(
      hidden: UnsafePointer<Float>, width: Int, output: UnsafePointer<Float>,
      spatial: UnsafePointer<Float>, spatialKernel: Int, time: Int, channels: Int)
  }

  private let stages: [Stage]
  /// The input buffer of each stage (for a convolution, with its zero padding rows) and where
  /// the window starts in it.
  private let sources: [UnsafeMutablePointer<Float>]
  private let interiors: [Int]
  /// Floats per window in and out.
  private let windowCount: Int
  private let outputCount: Int
  /// `1 / length` when the last stage sums over time (global average pooling).
  private let meanScale: Float?
  private let work: UnsafeMutablePointer<Float>
  private let workCount: Int

  private init(
    stages: [Stage], inputs: [(count: Int, interior: Int)], windowCount: Int, outputCount: Int,
    meanScale: Float?, workCount: Int
  ) {
    self.stages = stages
    sources = inputs.map { input in
      let buffer = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, input.count))
      buffer.initialize(repeating: 0, count: Swift.max(1, input.count))
      return buffer
    }
    interiors = inputs.map(\.interior)
    self.windowCount = windowCount
    self.outputCount = outputCount
    self.meanScale = meanScale
    self.workCount = Swift.max(1, workCount)
    work = .allocate(capacity: self.workCount)
  }

  deinit {
    for buffer in sources { buffer.deallocate() }
    work.deallocate()
  }

  /// Whether `layer` is a convolution the pipeline runs, on input shaped `shape`.
  private static func fusable(_ layer: any Layer, _ shape: [Int]) -> Conv1D? {
    guard shape.count == 3, shape[1] > 0, let conv = layer as? Conv1D, conv.stride == 1,
      conv.dilation == 1, conv.padding == .same, conv.filter.shape[1] <= largestChannels,
      conv.filter.shape[2] <= largestChannels
    else { return nil }
    return conv
  }

  /// The pipeline for the layers from `start` on, the number of layers it runs and its output
  /// shape; `nil` when `layers[start]` does not begin one.
  ///
  /// - Throws: `ShapeError` naming the first layer that rejects its input.
  static func make(
    _ layers: [any Layer], at start: Int, inputShape: [Int],
    copy: (Tensor) -> UnsafePointer<Float>
  ) throws(ShapeError) -> (WindowPipeline, Int, [Int])? {
    guard fusable(layers[start], inputShape) != nil else { return nil }
    // The weights copied before a later layer throws are freed by the plan (`copy` owns them).
    func checked(_ index: Int, _ shape: [Int]) throws(ShapeError) -> [Int] {
      do {
        return try layers[index].outputShape(for: shape)
      } catch {
        throw .inLayer(
          path: "\(index) (\(Sequential.typeName(of: layers[index])))", underlying: error)
      }
    }
    var stages: [Stage] = []
    var inputs: [(count: Int, interior: Int)] = []
    var shape = inputShape
    var index = start
    var meanScale: Float?
    var workCount = 0
    while index < layers.count {
      if let conv = fusable(layers[index], shape) {
        let (length, inChannels) = (shape[1], shape[2])
        let (kernel, outChannels) = (conv.filter.shape[0], conv.filter.shape[2])
        shape = try checked(index, shape)
        var next = index + 1
        let relu = Sequential.convolutionBeforeReLU(layers, at: index) != nil
        if relu {
          shape = try checked(next, shape)
          next += 1
        }
        var output = BufferKernels.WindowOutput.store(rowStride: outChannels)
        var ends = false
        if next < layers.count, let pool = layers[next] as? MaxPool1D, pool.kernelSize == 2,
          pool.stride == 2, pool.padding == .valid, length >= 2
        {
          shape = try checked(next, shape)
          output = .pool2(rowStride: outChannels)
          next += 1
        } else if next < layers.count, layers[next] is GlobalAvgPool1D {
          shape = try checked(next, shape)
          output = .sum
          meanScale = 1 / Float(length)
          next += 1
          ends = true
        }
        let pad = (kernel - 1) / 2
        inputs.append(((length + kernel - 1) * inChannels, pad * inChannels))
        if usesWinograd(
          kernel: kernel, length: length, inChannels: inChannels, outChannels: outChannels)
        {
          var transformed = [Float](repeating: 0, count: 8 * inChannels * outChannels)
          conv.filter.withUnsafeBufferPointer { w in
            BufferKernels.winogradFilter(
              w.baseAddress!, inChannels: inChannels, outChannels: outChannels,
              into: &transformed)
          }
          // The count is 8·inChannels·outChannels by construction.
          let u = try! Tensor(shape: [8, inChannels, outChannels], scalars: transformed)
          stages.append(
            .winograd(
              transformed: copy(u), bias: conv.bias.map(copy), inChannels: inChannels,
              outChannels: outChannels, length: length, relu: relu, output: output))
          workCount = Swift.max(
            workCount,
            BufferKernels.windowWinogradWorkCount(
              length: length, inChannels: inChannels, outChannels: outChannels))
        } else {
          stages.append(
            .conv(
              filter: copy(conv.filter), bias: conv.bias.map(copy), kernel: kernel,
              inChannels: inChannels, outChannels: outChannels, length: length, relu: relu,
              output: output))
        }
        index = next
        if ends { break }
      } else if let cbam = layers[index] as? CBAM, shape.count == 3, index + 1 < layers.count,
        layers[index + 1] is GlobalAvgPool1D
      {
        let (time, channels) = (shape[1], shape[2])
        shape = try checked(index + 1, try checked(index, shape))
        let width = cbam.channel.hidden.shape[1]
        inputs.append((time * channels, 0))
        stages.append(
          .cbamMean(
            hidden: copy(cbam.channel.hidden), width: width, output: copy(cbam.channel.output),
            spatial: copy(cbam.spatial.filter), spatialKernel: cbam.spatial.filter.shape[0],
            time: time, channels: channels))
        workCount = Swift.max(
          workCount,
          BufferKernels.windowCBAMMeanWorkCount(
            time: time, channels: channels, width: width,
            spatialKernel: cbam.spatial.filter.shape[0]))
        index += 2
        break
      } else {
        break
      }
    }
    let pipeline = WindowPipeline(
      stages: stages, inputs: inputs, windowCount: inputShape.dropFirst().reduce(1, *),
      outputCount: shape.dropFirst().reduce(1, *), meanScale: meanScale, workCount: workCount)
    return (pipeline, index - start, shape)
  }

  /// Runs the pipeline on `batch` windows `x` into `y`, window after window.
  func run(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>) {
    let last = stages.count - 1
    for b in 0..<batch {
      (sources[0] + interiors[0]).update(from: x + b * windowCount, count: windowCount)
      let result = y + b * outputCount
      for (s, stage) in stages.enumerated() {
        let target = s == last ? result : sources[s + 1] + interiors[s + 1]
        let source = UnsafePointer(sources[s])
        switch stage {
        case .conv(
          let filter, let bias, let kernel, let inChannels, let outChannels, let length, let relu,
          let output):
          if output == .sum { target.update(repeating: 0, count: outChannels) }
          BufferKernels.windowConv1D(
            source, length: length, inChannels: inChannels, filter: filter, kernelSize: kernel,
            outChannels: outChannels, bias: bias, relu: relu, output: output, into: target)
        case .winograd(
          let transformed, let bias, let inChannels, let outChannels, let length, let relu,
          let output):
          if output == .sum { target.update(repeating: 0, count: outChannels) }
          BufferKernels.windowConv1DWinograd(
            source, length: length, inChannels: inChannels, transformedFilter: transformed,
            outChannels: outChannels, bias: bias, relu: relu, output: output, into: target,
            work: work)
        case .cbamMean(
          let hidden, let width, let output, let spatial, let spatialKernel, let time,
          let channels):
          BufferKernels.windowCBAMMean(
            source, time: time, channels: channels, hidden: hidden, width: width, output: output,
            spatialFilter: spatial, spatialKernel: spatialKernel, into: target, work: work)
        }
      }
      if let meanScale {
        for c in 0..<outputCount { result[c] *= meanScale }
      }
    }
  }
}
