import Foundation
import Layers
import Tensor

/// The trainer's JSON-lines log, its per-epoch checkpoint, and resuming from it.
extension Trainer {
  func writeLog(_ history: TrainingHistory) throws(TrainingError) {
    guard let url = options.logURL else { return }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var text = ""
    for record in history.epochs {
      text += String(decoding: (try? encoder.encode(record)) ?? Data(), as: UTF8.self) + "\n"
    }
    do {
      try writeReplacing(Data(text.utf8), to: url)
    } catch {
      throw .log(path: url.path, reason: error.reason)
    }
  }

  private static let stateKey = "trainer.state"
  private static let bestPrefix = "best."

  func saveCheckpoint<Model: Layer>(
    to url: URL, student: TrainedStudent<Model>, optimizer: Adam, best: [String: Tensor],
    state: ResumeState
  ) throws(TrainingError) {
    var checkpoint = Checkpoint(
      model: student, optimizer: optimizer, metadata: options.checkpointMetadata)
    for (name, value) in best { checkpoint.tensors[Self.bestPrefix + name] = value }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    checkpoint.metadata[Self.stateKey] = String(
      decoding: (try? encoder.encode(state)) ?? Data(), as: UTF8.self)
    do {
      try checkpoint.write(to: url)
    } catch {
      throw .checkpoint(error)
    }
  }

  func resume<Model: Layer>(
    from url: URL, student: inout TrainedStudent<Model>, optimizer: inout Adam,
    best: inout [String: Tensor]
  ) throws(TrainingError) -> ResumeState {
    do {
      var checkpoint = try Checkpoint.read(from: url)
      guard let text = checkpoint.metadata[Self.stateKey],
        let state = try? JSONDecoder().decode(ResumeState.self, from: Data(text.utf8))
      else {
        throw CheckpointError.malformedHeader(
          path: url.path, reason: "no trainer state to resume from")
      }
      best = [:]
      for (name, value) in checkpoint.tensors where name.hasPrefix(Self.bestPrefix) {
        best[String(name.dropFirst(Self.bestPrefix.count))] = value
        checkpoint.tensors[name] = nil
      }
      try student.load(from: checkpoint)
      try optimizer.restore(state: checkpoint.optimizerState)
      return state
    } catch let error as CheckpointError {
      throw .checkpoint(error)
    } catch {
      throw .invalidData("\(error)")
    }
  }
}

/// Where a run stands after an epoch; stored in checkpoints so training can resume exactly.
struct ResumeState: Codable {
  var history = TrainingHistory()
  var wait = 0
  /// The data-order and dropout streams' states, as decimal strings (JSON numbers lose 64 bits).
  var orderText: String
  var dropoutText: String

  init(order: SplitMix64, dropout: SplitMix64) {
    orderText = String(order.state)
    dropoutText = String(dropout.state)
  }

  var order: SplitMix64 {
    get { SplitMix64(seed: UInt64(orderText) ?? 0) }
    set { orderText = String(newValue.state) }
  }

  var dropout: SplitMix64 {
    get { SplitMix64(seed: UInt64(dropoutText) ?? 0) }
    set { dropoutText = String(newValue.state) }
  }
}
