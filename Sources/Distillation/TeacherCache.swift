import Layers
import Tensor

/// A frozen teacher's logits and attention maps for a fixed set of inputs, computed once.
///
/// The teacher runs in inference mode (dropout off) and records nothing; distillation then reads
/// rows of the cache instead of running the teacher every step of every epoch.
public struct TeacherCache {
  /// Logits `[examples, classes]`.
  public let logits: Tensor
  /// Attention maps by layer name, each with the examples as first axis.
  public let maps: [String: AttentionMaps]

  /// Runs `teacher` over `inputs` (`[examples, time, channels]`), `batchSize` at a time.
  public init<Model: Layer>(teacher: Model, inputs: Tensor, batchSize: Int = 256) {
    precondition(batchSize > 0, "TeacherCache(batchSize: \(batchSize)): must be > 0")
    let count = inputs.shape.first ?? 0
    var logitParts: [Tensor] = []
    var mapParts: [String: (channel: [Tensor], spatial: [Tensor])] = [:]
    var start = 0
    while start < count {
      let end = Swift.min(start + batchSize, count)
      var context = ForwardContext.inference
      logitParts.append(
        teacher.forward(inputs.sliced(alongAxis: 0, range: start..<end), context: &context))
      for (name, maps) in context.attentionMaps {
        if let channel = maps.channel { mapParts[name, default: ([], [])].channel.append(channel) }
        if let spatial = maps.spatial { mapParts[name, default: ([], [])].spatial.append(spatial) }
      }
      start = end
    }
    func joined(_ parts: [Tensor]) -> Tensor? {
      parts.isEmpty ? nil : parts.count == 1 ? parts[0] : Tensor.concatenating(parts, alongAxis: 0)
    }
    logits = joined(logitParts) ?? Tensor(zeros: [0, 0])
    maps = mapParts.mapValues {
      AttentionMaps(channel: joined($0.channel), spatial: joined($0.spatial))
    }
  }

  /// The cached logits and maps of the examples at `indices`.
  public func batch(_ indices: [Int]) -> (logits: Tensor, maps: [String: AttentionMaps]) {
    (
      logits.gathering(rows: indices),
      maps.mapValues {
        AttentionMaps(
          channel: $0.channel?.gathering(rows: indices),
          spatial: $0.spatial?.gathering(rows: indices))
      }
    )
  }
}
