import Foundation
import Layers
import Tensor

/// DeepConvLSTM training on Opportunity-shaped and HAPT-shaped windows, compared
/// with the same model in PyTorch by `Benchmarks/anchors/bench_dcl_torch.py`.
///
/// The model is exactly what `DeepConvLSTM.make(sensors:classes:generator:)` builds, without
/// attention: `[batch, 30, 113]` → four Conv2D (5×1, `valid`, ReLU) over time, shared across the
/// 113 sensors → `[batch, 14, 113 · filters]` → LSTM (every step) → LSTM (last step) → Dense 18;
/// on HAPT's windows `[batch, 128, 6]` → `[batch, 112, 6 · filters]` → … → Dense 6.
enum OpportunityCase: String, CaseIterable {
  /// OM, the study's teacher: 64 filters, 128 LSTM units.
  case om
  /// The same network at LM's width: 4 filters, 8 LSTM units.
  case omLM = "om-lm"
  /// OM on the study's HAPT windows: 128 steps × 6 channels, 6 classes.
  case omHAPT = "om-hapt"

  /// The case's name in reports and for `--filter`.
  var name: String { "train.\(rawValue)" }

  /// The architecture trained.
  var architecture: DeepConvLSTM { self == .omLM ? .lm : .om }

  /// The windows' layout.
  var shape: WindowShape { self == .omHAPT ? .hapt : .opportunity }

  /// Untimed steps on the fast kernels before the first timed epoch.
  func warmUpSteps(quick: Bool) -> Int {
    switch self {
    case .om, .omHAPT: quick ? 1 : 3
    case .omLM: quick ? 2 : 20
    }
  }

  /// Steps on the reference kernels per timed epoch (an OM step takes seconds on them).
  func baselineSteps(quick: Bool) -> Int {
    switch self {
    case .om, .omHAPT: 1
    case .omLM: quick ? 1 : 10
    }
  }
}

/// A window layout: steps, sensor channels and classes.
struct WindowShape {
  let length: Int
  let sensors: Int
  let classes: Int

  /// Opportunity's: 30 steps (1 s at 30 Hz) × 113 sensor channels (the challenge set), 18
  /// classes.
  static let opportunity = WindowShape(
    length: OpportunityShape.length, sensors: OpportunityShape.sensors,
    classes: OpportunityShape.classes)
  /// The study's UCI HAPT windows: 128 steps (2.56 s at 50 Hz) × 6 channels (accelerometer and
  /// gyroscope), the 6 basic activities.
  static let hapt = WindowShape(length: 128, sensors: 6, classes: 6)
}

/// Opportunity's layout: windows of 30 steps (1 s at 30 Hz) × 113 sensor channels
/// (the challenge set), 18 classes.
enum OpportunityShape {
  static let length = 30
  static let sensors = 113
  static let classes = 18

  /// 1,024 windows (16 full batches of 64), so that an OM epoch takes seconds (8–16 s on this
  /// machine) rather than the minutes of the real training split (~46k windows); 256 with
  /// `--quick`. `bench_dcl_torch.py` uses the same number by default.
  static func windows(quick: Bool) -> Int { quick ? 256 : 1_024 }
}

/// A DeepConvLSTM and its Adam optimizer (lr 1e-3, ε 1e-8 as PyTorch's default), trained with
/// plain cross-entropy, each batch split into shards as in ``Trainer``.
struct DeepConvLSTMTrainer {
  var model: Sequential
  var optimizer = Adam(learningRate: 1e-3, epsilon: 1e-8)
  /// Slices per batch differentiated in parallel; `nil`: one per kernel thread.
  var shards: Int?

  init(_ trainingCase: OpportunityCase, seed: UInt64 = 1, shards: Int? = nil) {
    self.shards = shards
    var rng = SplitMix64(seed: seed)
    model = trainingCase.architecture.make(
      sensors: trainingCase.shape.sensors, classes: trainingCase.shape.classes, generator: &rng)
  }

  /// The loss and gradients of one step, without updating anything.
  func lossAndGradients(_ x: Tensor, _ labels: [Int]) -> (value: Float, gradients: Gradients) {
    let result = valueWithGradients(
      of: model, batchSize: labels.count, shards: shards ?? KernelConfiguration.current.threadCount
    ) { m, shard in
      let xs = shard.range.count == labels.count ? x : x.sliced(alongAxis: 0, range: shard.range)
      var context = ForwardContext(isTraining: true)
      context.shard = shard
      let logits = m.forward(xs, context: &context)
      return (softmaxCrossEntropy(logits: logits, labels: Array(labels[shard.range])), ())
    }
    return (result.value, result.gradients)
  }

  /// One optimizer step on a batch.
  mutating func step(_ x: Tensor, _ labels: [Int]) {
    let (_, gradients) = lossAndGradients(x, labels)
    optimizer.update(&model, along: gradients)
  }
}

/// Runs `steps` optimizer steps, or one whole epoch (reshuffled, the last partial batch kept)
/// when `steps` is nil, and returns samples/s.
func epochThroughput(
  _ trainer: inout DeepConvLSTMTrainer, data: SyntheticWindows, steps: Int? = nil, seed: UInt64
) -> Double {
  var rng = SplitMix64(seed: seed)
  var order = Array(0..<data.count)
  order.shuffle(using: &rng)
  var (first, taken) = (0, 0)
  let start = now()
  while first < order.count, taken < steps ?? Int.max {
    let last = Swift.min(first + batchSize, order.count)
    let (x, labels) = data.batch(order[first..<last])
    trainer.step(x, labels)
    stepsRun += 1
    (first, taken) = (last, taken + 1)
  }
  return Double(first) / (now() - start)
}

/// `train.om`, `train.om-lm` and `train.om-hapt`: checked against the reference kernels, then timed like the
/// anchors' training cases (baseline steps on the reference kernels interleaved with each timed
/// epoch on the fast ones).
func runOpportunityTrainingCases(_ options: Options, _ report: inout Report) throws {
  let cases = OpportunityCase.allCases.filter { options.selects($0.name) }
  guard !cases.isEmpty else { return }
  for trainingCase in cases {
    let name = trainingCase.name
    let shape = trainingCase.shape
    let data = SyntheticWindows(
      count: OpportunityShape.windows(quick: options.quick), length: shape.length,
      channels: shape.sensors, classes: shape.classes)
    // Check: one step's loss and gradients with the fast kernels against the reference kernels.
    let (x, labels) = data.batch(Array(0..<batchSize)[...])
    let checker = DeepConvLSTMTrainer(trainingCase, shards: options.shards)
    let fast = checker.lossAndGradients(x, labels)
    let reference = KernelConfiguration.with(variant: .reference) {
      checker.lossAndGradients(x, labels)
    }
    try checkStep(name, fast: fast, reference: reference)
    let parameters = checker.model.parameterCount
    var baselineTrainer = DeepConvLSTMTrainer(trainingCase, shards: options.shards)
    var trainer = DeepConvLSTMTrainer(trainingCase, shards: options.shards)
    _ = epochThroughput(
      &trainer, data: data, steps: trainingCase.warmUpSteps(quick: options.quick), seed: 3)
    reportTraining(
      name, options, &report,
      notePrefix: "\(data.count) windows of \(data.length)x\(data.channels); ",
      parameters: parameters,
      baseline: { epoch in
        epochThroughput(
          &baselineTrainer, data: data, steps: trainingCase.baselineSteps(quick: options.quick),
          seed: UInt64(epoch))
      },
      candidate: { epoch in epochThroughput(&trainer, data: data, seed: UInt64(10 + epoch)) })
  }
}
