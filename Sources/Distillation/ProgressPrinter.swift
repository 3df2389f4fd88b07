import Foundation

/// Prints training progress: a live line on a terminal, plain lines elsewhere.
struct ProgressPrinter {
  let style: ProgressOutput
  let label: String
  let live: Bool

  init(style: ProgressOutput, label: String) {
    self.style = style
    self.label = label.isEmpty ? "" : label + " "
    live = style == .automatic && isatty(STDOUT_FILENO) != 0
  }

  /// Redraws the live line during an epoch (terminals only).
  func step(epoch: Int, of epochs: Int, step: Int, of steps: Int, loss: Double) {
    guard live, step % 8 == 0 || step == steps else { return }
    write(
      "\r\u{1B}[2K\(label)epoch \(epoch)/\(epochs)  step \(step)/\(steps)  loss \(fixed(loss, 4))")
  }

  /// The line for a finished epoch: loss parts, accuracies, speed and the estimated time left.
  func epoch(_ record: EpochRecord, of epochs: Int, history: TrainingHistory) {
    guard style != .silent else { return }
    var parts = ["\(label)epoch \(record.epoch)/\(epochs)", "loss \(fixed(record.loss, 4))"]
    if record.distillation != 0 || record.channelAttention != 0 || record.spatialAttention != 0 {
      parts.append(
        "(ce \(fixed(record.crossEntropy, 4)) kd \(fixed(record.distillation, 4)) "
          + "ca \(fixed(record.channelAttention, 4)) sa \(fixed(record.spatialAttention, 4)))")
    }
    parts.append("train acc \(fixed(100 * record.trainAccuracy, 1))%")
    if let accuracy = record.validationAccuracy, let f1 = record.validationMacroF1 {
      parts.append("val acc \(fixed(100 * accuracy, 1))% F1 \(fixed(f1, 4))")
    }
    parts.append("\(Int(record.samplesPerSecond.rounded())) samples/s")
    let mean =
      history.epochs.map(\.seconds).reduce(0, +) / Double(Swift.max(history.epochs.count, 1))
    parts.append("ETA \(Int((mean * Double(epochs - record.epoch)).rounded()))s")
    write((live ? "\r\u{1B}[2K" : "") + parts.joined(separator: "  ") + "\n")
  }

  /// Through `print`, so that progress and the caller's own `print` lines keep their order.
  private func write(_ text: String) {
    print(text, terminator: "")
    fflush(nil)  // all streams: `stdout` itself is not concurrency-safe to name
  }

  private func fixed(_ value: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", value)
  }
}
