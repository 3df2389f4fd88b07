import Foundation
import Layers
import Tensor

/// `stream.<model>`: a `StreamingRecognizer` on 128-sample windows of 9 channels, µs per hop
/// (appending `hop` samples, one window's prediction included) at hops 8, 16, 32 and 64, beside
/// a full-window forward pass by an `InferencePlan` (the fastest full pass) and by the model's own
/// `forward`, interleaved in the same run. The goal for hop 16: at most 16/128 of a full pass
/// plus 10 % of one; it is judged against the planned pass.
func runStreamCases(_ options: Options, _ report: inout Report) throws {
  let length = 128
  let hops = [8, 16, 32, 64]
  for model in [ReferenceModel.lm, .lmAtt] {
    let name = "stream.\(model.rawValue)"
    guard options.selects(name) else { continue }
    var rng = SplitMix64(seed: 21)
    let network = model.make(channels: 9, classes: 6, generator: &rng)
    let plan = try InferencePlan(network, inputShape: [1, length, 9])
    let mean = [Float](repeating: 0, count: 9)
    let deviation = [Float](repeating: 1, count: 9)
    // A stream long enough that the timed loops cycle through many distinct windows.
    let samples = 8_192
    let stream = Tensor.normal([samples, 9], using: &rng)
    let window = stream.sliced(alongAxis: 0, range: 0..<length).reshaped(to: [1, length, 9])

    // Check: the recognizer's first prediction against the plan's probabilities.
    let checker = try StreamingRecognizer(
      model: network, mean: mean, standardDeviation: deviation, windowLength: length, hop: 16)
    let first = try checker.append(stream.sliced(alongAxis: 0, range: 0..<length))
    let logits = plan(window).scalars
    let largest = logits.max()!
    let exps = logits.map { exp($0 - largest) }
    let total = exps.reduce(0, +)
    try check(name, exps.map { $0 / total }, first[0].probabilities, tolerance: 1e-5)

    var candidates: [() -> Void] = [{ _ = plan(window) }, { _ = network(window) }]
    for hop in hops {
      let recognizer = try StreamingRecognizer(
        model: network, mean: mean, standardDeviation: deviation, windowLength: length, hop: hop)
      _ = try recognizer.append(stream.sliced(alongAxis: 0, range: 0..<(length - hop)))
      let chunks = stride(from: 0, to: samples - hop + 1, by: hop).map {
        stream.sliced(alongAxis: 0, range: $0..<($0 + hop))
      }
      var next = 0
      candidates.append {
        // Each call completes exactly one window: `hop` new samples.
        _ = try! recognizer.append(chunks[next])
        next = next + 1 == chunks.count ? 0 : next + 1
      }
    }
    let (medians, foreign) = interleaved(
      rounds: options.quick ? 1 : 7, minimumSeconds: options.quick ? 0.02 : 0.1, candidates)
    let full = medians[0] * 1e6
    report.add(
      name, metric: "full_window_us", value: full,
      note: String(format: "InferencePlan, one 128×9 window; other jobs used %.2f cores", foreign))
    report.add(
      name, metric: "full_window_forward_us", value: medians[1] * 1e6,
      note: "the model's own forward pass (Tensor ops), one 128×9 window")
    for (hop, seconds) in zip(hops, medians.dropFirst(2)) {
      let perHop = seconds * 1e6
      let goal = Double(hop) / Double(length) + 0.1
      report.add(
        name, metric: "hop\(hop)_us", value: perHop, baseline: ("full window", full),
        note: String(
          format: "%.1f%% of a planned full pass (goal %d/128 + 10%% = %.1f%%: %@), "
            + "%.1f%% of a forward pass", 100 * perHop / full, hop, 100 * goal,
          perHop / full <= goal ? "met" : "not met", 100 * seconds / medians[1]))
    }
  }
}
