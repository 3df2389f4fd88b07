import Foundation
import Layers
import Tensor

/// The synthetic training set the PyTorch and Keras benchmarks use: `y ~ U{0..5}`,
/// `x[n, t, c] = 0.5·sin(2π(y+1)t/128 + 0.5c) + N(0, 1)`, here drawn from SplitMix64.
struct SyntheticWindows {
  let count: Int
  let length: Int
  let channels: Int
  let classes: Int
  let values: [Float]
  let labels: [Int]

  init(count: Int = 7_352, length: Int = 128, channels: Int = 9, classes: Int = 6, seed: UInt64 = 0)
  {
    var rng = SplitMix64(seed: seed)
    let noise = Tensor.normal([count * length * channels], using: &rng).scalars
    var values = [Float](repeating: 0, count: count * length * channels)
    var labels = [Int](repeating: 0, count: count)
    for n in 0..<count {
      let y = Int(rng.next() % UInt64(classes))
      labels[n] = y
      for t in 0..<length {
        for c in 0..<channels {
          let phase = 2 * Float.pi * Float(y + 1) * Float(t) / Float(length) + 0.5 * Float(c)
          let i = (n * length + t) * channels + c
          values[i] = 0.5 * sinf(phase) + noise[i]
        }
      }
    }
    (self.count, self.length, self.channels, self.classes) = (count, length, channels, classes)
    self.values = values
    self.labels = labels
  }

  /// The windows at `indices` as `[indices.count, length, channels]` and their labels.
  func batch(_ indices: ArraySlice<Int>) -> (Tensor, [Int]) {
    let width = length * channels
    var scalars = [Float](repeating: 0, count: indices.count * width)
    scalars.withUnsafeMutableBufferPointer { out in
      values.withUnsafeBufferPointer { source in
        for (row, index) in indices.enumerated() {
          (out.baseAddress! + row * width).update(
            from: source.baseAddress! + index * width, count: width)
        }
      }
    }
    let x = try! Tensor(shape: [indices.count, length, channels], scalars: scalars)
    return (x, indices.map { labels[$0] })
  }
}

/// One training configuration of the benchmark: a model and how one step computes its loss.
enum TrainingCase: String, CaseIterable {
  case teacher
  case teacherAtt = "teacher-att"
  case lm
  case lmAtt = "lm-att"
  case rabKD = "rab-kd"

  /// The trained model.
  var studentModel: ReferenceModel {
    switch self {
    case .teacher: .teacher
    case .teacherAtt: .teacherAtt
    case .lm: .lm
    case .lmAtt, .rabKD: .lmAtt
    }
  }
}

/// A model, its optimizer and (for RAB-KD) the frozen teacher: everything one step touches.
struct Trainer {
  let trainingCase: TrainingCase
  var model: Sequential
  var optimizer = Adam(learningRate: 1e-3, epsilon: 1e-8)
  let teacher: Sequential?
  var generator = SplitMix64(seed: 99)
  /// Slices per batch differentiated in parallel; `nil`: one per kernel thread.
  var shards: Int?
  // RAB-KD settings of the anchors: T = 4, α = 0.1, β = 1, T² on.
  let temperature: Float = 4
  let alpha: Float = 0.1
  let beta: Float = 1

  init(
    _ trainingCase: TrainingCase, channels: Int = 9, classes: Int = 6, seed: UInt64 = 1,
    shards: Int? = nil
  ) {
    self.trainingCase = trainingCase
    self.shards = shards
    var rng = SplitMix64(seed: seed)
    model = trainingCase.studentModel.make(channels: channels, classes: classes, generator: &rng)
    teacher =
      trainingCase == .rabKD
      ? ReferenceModel.teacherAtt.make(channels: channels, classes: classes, generator: &rng) : nil
  }

  /// The loss and gradients of one step, without updating anything: the batch is split into
  /// `shards` slices differentiated in parallel (data parallelism; one per kernel thread unless
  /// set), each slice's teacher forward pass included.
  mutating func lossAndGradients(_ x: Tensor, _ labels: [Int]) -> (
    value: Float, gradients: Gradients
  ) {
    let dropoutSeed = generator.next()
    let teacher = teacher
    let (t, alpha, beta) = (temperature, alpha, beta)
    let result = valueWithGradients(
      of: model, batchSize: labels.count, shards: shards ?? KernelConfiguration.current.threadCount
    ) { m, shard in
      let xs = shard.range.count == labels.count ? x : x.sliced(alongAxis: 0, range: shard.range)
      let ys = Array(labels[shard.range])
      var context = ForwardContext(isTraining: true, generator: SplitMix64(seed: dropoutSeed))
      context.shard = shard
      let logits = m.forward(xs, context: &context)
      guard let teacher else { return (softmaxCrossEntropy(logits: logits, labels: ys), ()) }
      // The frozen teacher: inference mode, untracked, so it records nothing.
      var teacherContext = ForwardContext.inference
      let teacherLogits = teacher.forward(xs, context: &teacherContext)
      let teacherMaps = teacherContext.attentionMaps[ReferenceModel.attentionName]!
      let softTargets = (teacherLogits / t).softmax()
      let logSoftTargets = (teacherLogits / t).logSoftmax()
      let teacherChannel = teacherMaps.channel!.reshaped(to: [ys.count, 32, -1]).mean(alongAxis: 2)
      let maps = context.attentionMaps[ReferenceModel.attentionName]!
      let ce = softmaxCrossEntropy(logits: logits, labels: ys)
      let kl = (softTargets * (logSoftTargets - (logits / t).logSoftmax())).sum() / Float(ys.count)
      let channelLoss = (teacherChannel - maps.channel!).squared().mean()
      let spatialLoss = (teacherMaps.spatial! - maps.spatial!).squared().mean()
      return (alpha * ce + (1 - alpha) * t * t * kl + beta * (channelLoss + spatialLoss), ())
    }
    return (result.value, result.gradients)
  }

  /// One optimizer step on a batch.
  mutating func step(_ x: Tensor, _ labels: [Int]) {
    let (_, gradients) = lossAndGradients(x, labels)
    optimizer.update(&model, along: gradients)
  }
}
