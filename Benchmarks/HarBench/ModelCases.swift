import Foundation
import Layers
import Tensor

/// The anchors' workload: 7,352 windows of 128×9, batch 64, reshuffled every epoch, the last
/// partial batch kept (115 steps per epoch).
let batchSize = 64

/// Runs `steps` optimizer steps (or whole epochs when `steps` is nil), returning samples/s.
func trainThroughput(
  _ trainer: inout Trainer, data: SyntheticWindows, epochs: Int, steps: Int? = nil, seed: UInt64
) -> Double {
  var rng = SplitMix64(seed: seed)
  var samples = 0
  let start = now()
  outer: for _ in 0..<epochs {
    var order = Array(0..<data.count)
    order.shuffle(using: &rng)
    var first = 0
    while first < order.count {
      let last = Swift.min(first + batchSize, order.count)
      let (x, labels) = data.batch(order[first..<last])
      trainer.step(x, labels)
      stepsRun += 1
      samples += last - first
      first = last
      if let steps, samples >= steps * batchSize { break outer }
    }
  }
  return Double(samples) / (now() - start)
}

func runTrainingCases(_ options: Options, _ report: inout Report) throws {
  let cases = TrainingCase.allCases.filter { options.selects("train.\($0.rawValue)") }
  guard !cases.isEmpty else { return }
  let data = SyntheticWindows(count: options.quick ? 1_024 : 7_352)
  for trainingCase in cases {
    let name = "train.\(trainingCase.rawValue)"
    // Check: one step's loss and gradients with the fast kernels against the reference kernels.
    let (x, labels) = data.batch(Array(0..<batchSize)[...])
    var checker = Trainer(trainingCase, shards: options.shards)
    var referenceChecker = checker
    let fast = checker.lossAndGradients(x, labels)
    let reference = KernelConfiguration.with(variant: .reference) {
      referenceChecker.lossAndGradients(x, labels)
    }
    try checkStep(name, fast: fast, reference: reference)
    // Baseline: the reference kernels for a few steps; candidate: whole epochs, warm-up first.
    let isTeacher = trainingCase == .teacher || trainingCase == .teacherAtt
    let baselineSteps = options.quick ? 1 : (isTeacher ? 2 : 10)
    var baselineTrainer = Trainer(trainingCase, shards: options.shards)
    _ = trainThroughput(&baselineTrainer, data: data, epochs: 1, steps: 1, seed: 3)
    var trainer = Trainer(trainingCase, shards: options.shards)
    _ = trainThroughput(&trainer, data: data, epochs: 1, steps: options.quick ? 2 : 20, seed: 3)
    reportTraining(
      name, options, &report,
      baseline: { epoch in
        trainThroughput(
          &baselineTrainer, data: data, epochs: 1, steps: baselineSteps, seed: UInt64(epoch))
      },
      candidate: { epoch in
        trainThroughput(&trainer, data: data, epochs: 1, seed: UInt64(10 + epoch))
      })
  }
}

func runInferenceCases(_ options: Options, _ report: inout Report) throws {
  for model in [ReferenceModel.lm, .lmAtt, .teacherAtt] {
    for batch in [1, 256] {
      let name = batch == 1 ? "infer1.\(model.rawValue)" : "infer256.\(model.rawValue)"
      let forwardName = "infer1-forward.\(model.rawValue)"
      let batchForwardName = "infer256-forward.\(model.rawValue)"
      let wanted =
        options.selects(name) || options.selects(batch == 1 ? forwardName : batchForwardName)
      guard wanted else { continue }
      var rng = SplitMix64(seed: 8)
      let network = model.make(channels: 9, classes: 6, generator: &rng)
      let x = Tensor.normal([batch, 128, 9], using: &rng)
      let expected = KernelConfiguration.with(variant: .reference) { network(x) }
      try check(name, expected.scalars, network(x).scalars, tolerance: 1e-4)
      if batch == 1 {
        // A single window runs through an InferencePlan (buffers planned once); the model's
        // own forward pass is timed too, as infer1-forward. Both against the forward pass on
        // the reference kernels, and the plan is checked against it first.
        let plan = try InferencePlan(network, inputShape: x.shape)
        try check("\(name) (plan)", expected.scalars, plan(x).scalars, tolerance: 1e-4)
        // Median of single calls, as the anchors do (median of 1,000 calls).
        let calls = options.quick ? 100 : 1_000
        func latencies(_ variant: KernelVariant, _ body: () -> Tensor) -> [Double] {
          KernelConfiguration.with(variant: variant) {
            (0..<calls).map { _ in
              let start = now()
              _ = body()
              return now() - start
            }
          }
        }
        let reference =
          options.skipBaseline ? nil : median(latencies(.reference) { network(x) }) * 1e6
        for (caseName, body) in [(name, { plan(x) }), (forwardName, { network(x) })]
        where options.selects(caseName) {
          _ = latencies(configurationVariant(), body)
          let fast = latencies(configurationVariant(), body)
          report.add(
            caseName, metric: "median_us", value: median(fast) * 1e6,
            baseline: reference.map { ("reference", $0) })
        }
      } else {
        // A batch runs through an InferencePlan too (the students' layers window by window);
        // the model's own forward pass is timed as infer256-forward, interleaved with it.
        let plan = try InferencePlan(network, inputShape: x.shape)
        try check("\(name) (plan)", expected.scalars, plan(x).scalars, tolerance: 1e-4)
        let (medians, _) = interleaved(
          rounds: options.quick ? 1 : 5, minimumSeconds: options.quick ? 0.05 : 0.2,
          [
            { _ = KernelConfiguration.with(variant: .reference) { network(x) } },
            { _ = plan(x) },
            { _ = network(x) },
          ])
        for (caseName, median) in [(name, medians[1]), (batchForwardName, medians[2])]
        where options.selects(caseName) {
          report.add(
            caseName, metric: "samples_per_sec", value: Double(batch) / median,
            baseline: ("reference", Double(batch) / medians[0]))
        }
      }
    }
  }
}

func configurationVariant() -> KernelVariant { KernelConfiguration.current.variant }
