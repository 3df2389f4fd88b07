@_spi(Inference) import Tensor

/// A ``Sequential`` model prepared for inference on inputs of one shape: shapes checked, weights
/// copied and every intermediate buffer allocated once, so that a call runs the layers' kernels
/// back to back with no allocation but its result.
///
/// For a single window of the study's students this removes most of a forward pass's cost that is
/// not arithmetic: the per-operation result arrays, shape arrays and checks, and the tape and
/// attention-map bookkeeping that ``Layer/forward(_:context:)`` keeps for training.
///
/// ```swift
/// let plan = try InferencePlan(model, inputShape: [1, 128, 9])
/// let logits = plan(window)        // the same values as model(window)
/// ```
///
/// - The values equal the model's inference-mode forward pass up to float rounding (the dense
///   layers add their bias before the product's sum rather than after; fused layers sum in
///   another order; within 1e-5 of the largest logit for the reference models).
/// - Small convolutions run one window at a time, fused: a `same` Conv1D with stride and
///   dilation 1 and at most 64 channels in and out, with a directly following ReLU and then
///   MaxPool1D(2) or GlobalAvgPool1D, keeps its outputs in registers until they are activated
///   and pooled; kernel-5 ones with lengths divisible by 4 use Winograd's F(4, 5) when
///   `KernelConfiguration.winograd` is on as the plan is made; CBAM followed by global average
///   pooling is one pass. A window's activations stay in the first-level cache from layer to
///   layer.
/// - Otherwise Conv1D (and a directly following ReLU, fused), ReLU, MaxPool1D, CBAM,
///   GlobalAvgPool1D, Dense and Dropout (the identity in inference) run from the plan's buffers
///   over the whole batch; any other layer runs its own `forward` on a tensor copied from them.
/// - The weights are copied when the plan is made: after further training, make a new plan.
/// - A plan reuses its buffers, so it is not thread-safe: use one plan per thread. It runs on the
///   calling thread: to use several cores, give each thread its own plan and part of the batch.
/// - CBAM's attention maps are computed but not returned; use `forward` with a
///   ``ForwardContext`` for them.
public final class InferencePlan {
  /// The input shape the plan was made for, batch axis included.
  public let inputShape: [Int]
  /// The shape of every result.
  public let outputShape: [Int]

  private let steps: [Step]
  /// Two activation buffers, used alternately, each as large as the largest activation.
  private let buffers: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
  /// Scratch: max pooling's arg-max indices and CBAM's maps.
  private let indices: UnsafeMutablePointer<Int>
  private let maps: UnsafeMutablePointer<Float>
  /// Every weight copied into the plan, freed with it.
  private var owned: [UnsafeMutableBufferPointer<Float>] = []

  /// One layer's work, with the shape of its input.
  private enum Step {
    case conv(
      filter: UnsafePointer<Float>, bias: UnsafePointer<Float>?, kernel: Int, stride: Int,
      dilation: Int, padding: Padding, outChannels: Int, relu: Bool)
    case relu
    case maxPool(kernel: Int, stride: Int, padding: Padding)
    case cbam(
      hidden: UnsafePointer<Float>, width: Int, output: UnsafePointer<Float>,
      spatial: UnsafePointer<Float>, spatialKernel: Int)
    case meanOverTime
    case dense(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outputSize: Int)
    case identity
    case layer(any Layer)
    case windows(WindowPipeline)
  }

  private let inputShapes: [[Int]]

  /// Prepares `model` for inputs shaped `inputShape`.
  ///
  /// - Throws: `ShapeError` naming the first layer that rejects its input, as
  ///   ``Sequential/outputShape(for:)``.
  public init(_ model: Sequential, inputShape: [Int]) throws(ShapeError) {
    self.inputShape = inputShape
    var shape = inputShape
    var steps: [Step] = []
    var shapes: [[Int]] = []
    var largest = inputShape.reduce(1, *)
    var largestMaps = 0
    var owned: [UnsafeMutableBufferPointer<Float>] = []
    var made = false
    // A layer that rejects its shape throws before `self` owns the copies: free them here.
    defer { if !made { for buffer in owned { buffer.deallocate() } } }
    func copy(_ tensor: Tensor) -> UnsafePointer<Float> {
      let buffer = UnsafeMutableBufferPointer<Float>.allocate(
        capacity: Swift.max(1, tensor.scalarCount))
      _ = tensor.withUnsafeBufferPointer { buffer.initialize(from: $0) }
      owned.append(buffer)
      return UnsafePointer(buffer.baseAddress!)
    }
    var index = 0
    let layers = model.layers
    while index < layers.count {
      let layer = layers[index]
      let next: [Int]
      do {
        next = try layer.outputShape(for: shape)
      } catch {
        throw .inLayer(path: "\(index) (\(Sequential.typeName(of: layer)))", underlying: error)
      }
      shapes.append(shape)
      if let (pipeline, consumed, output) = try WindowPipeline.make(
        layers, at: index, inputShape: shape, copy: copy)
      {
        steps.append(.windows(pipeline))
        shape = output
        largest = Swift.max(largest, shape.reduce(1, *))
        index += consumed
        continue
      }
      switch layer {
      case let conv as Conv1D:
        let fused = Sequential.convolutionBeforeReLU(layers, at: index) != nil
        steps.append(
          .conv(
            filter: copy(conv.filter), bias: conv.bias.map(copy), kernel: conv.filter.shape[0],
            stride: conv.stride, dilation: conv.dilation, padding: conv.padding,
            outChannels: conv.filter.shape[2], relu: fused))
        if fused { index += 1 }
      case is ReLU:
        steps.append(.relu)
      case let pool as MaxPool1D:
        steps.append(.maxPool(kernel: pool.kernelSize, stride: pool.stride, padding: pool.padding))
      case let cbam as CBAM:
        steps.append(
          .cbam(
            hidden: copy(cbam.channel.hidden), width: cbam.channel.hidden.shape[1],
            output: copy(cbam.channel.output), spatial: copy(cbam.spatial.filter),
            spatialKernel: cbam.spatial.filter.shape[0]))
        largestMaps = Swift.max(largestMaps, shape[0] * (shape[1] + shape[2]))
      case is GlobalAvgPool1D:
        steps.append(.meanOverTime)
      case let dense as Dense where shape.count == 2:
        steps.append(
          .dense(
            weight: copy(dense.weight), bias: dense.bias.map(copy),
            outputSize: dense.weight.shape[1]))
      case is Dropout:
        steps.append(.identity)
      default:
        steps.append(.layer(layer))
      }
      shape = next
      largest = Swift.max(largest, shape.reduce(1, *))
      index += 1
    }
    self.steps = steps
    self.inputShapes = shapes
    self.outputShape = shape
    self.owned = owned
    made = true
    buffers = (.allocate(capacity: largest), .allocate(capacity: largest))
    indices = .allocate(capacity: largest)
    maps = .allocate(capacity: Swift.max(1, largestMaps))
  }

  deinit {
    buffers.0.deallocate()
    buffers.1.deallocate()
    indices.deallocate()
    maps.deallocate()
    for buffer in owned { buffer.deallocate() }
  }

  /// The model's output for `input`, which must have ``inputShape``.
  public func callAsFunction(_ input: Tensor) -> Tensor {
    precondition(
      input.shape == inputShape,
      "InferencePlan: input shape \(input.shape) differs from the plan's \(inputShape)")
    let scalars = input.withUnsafeBufferPointer { x -> [Float] in
      var source = x.baseAddress!
      var (target, spare) = buffers
      for (step, shape) in zip(steps, inputShapes) {
        if run(step, shape, from: source, into: target) {
          source = UnsafePointer(target)
          swap(&target, &spare)
        }
      }
      return Array(UnsafeBufferPointer(start: source, count: outputShape.reduce(1, *)))
    }
    // The element count is the product of `outputShape` by construction.
    return try! Tensor(shape: outputShape, scalars: scalars)
  }

  /// Runs one step from `x` (shaped `shape`) into `y`; `false` when the step's output is `x`
  /// itself (dropout). Steps never write `x`: it may be the caller's input.
  private func run(
    _ step: Step, _ shape: [Int], from x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>
  ) -> Bool {
    switch step {
    case .conv(
      let filter, let bias, let kernel, let stride, let dilation, let padding, let outChannels,
      let relu):
      BufferKernels.conv1D(
        x, batch: shape[0], length: shape[1], inChannels: shape[2], filter: filter,
        kernelSize: kernel, outChannels: outChannels, stride: stride, dilation: dilation,
        padding: padding, bias: bias, relu: relu, into: y)
    case .relu:
      BufferKernels.relu(x, count: shape.reduce(1, *), into: y)
    case .maxPool(let kernel, let stride, let padding):
      BufferKernels.maxPool1D(
        x, batch: shape[0], length: shape[1], channels: shape[2], kernelSize: kernel,
        stride: stride, padding: padding, into: y, indices: indices)
    case .cbam(let hidden, let width, let output, let spatial, let spatialKernel):
      BufferKernels.cbam(
        x, batch: shape[0], time: shape[1], channels: shape[2], hidden: hidden, width: width,
        output: output, spatialFilter: spatial, spatialKernel: spatialKernel, into: y,
        channelMap: maps, spatialMap: maps + shape[0] * shape[2])
    case .meanOverTime:
      BufferKernels.meanOverTime(x, batch: shape[0], time: shape[1], channels: shape[2], into: y)
    case .dense(let weight, let bias, let outputSize):
      BufferKernels.dense(
        x, rows: shape[0], inputSize: shape[1], weight: weight, outputSize: outputSize, bias: bias,
        into: y)
    case .identity:
      return false
    case .windows(let pipeline):
      pipeline.run(x, batch: shape[0], into: y)
    case .layer(let layer):
      let input = try! Tensor(
        shape: shape, scalars: Array(UnsafeBufferPointer(start: x, count: shape.reduce(1, *))))
      var context = ForwardContext.inference
      let output = layer.forward(input, context: &context)
      output.withUnsafeBufferPointer { y.update(from: $0.baseAddress!, count: $0.count) }
    }
    return true
  }
}
