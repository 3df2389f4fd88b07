/// Which student attention layer learns from which teacher attention layer, by layer name.
public struct AttentionPair: Sendable, Equatable, Codable {
  /// The student layer's name (its key in `ForwardContext.attentionMaps`).
  public var student: String
  /// The teacher layer's name.
  public var teacher: String

  /// A pairing of the student's layer `student` with the teacher's layer `teacher`.
  public init(student: String, teacher: String) {
    self.student = student
    self.teacher = teacher
  }

  /// The layers of one name in both models, e.g. `.named("cbam")` for two reference models,
  /// which name their CBAM block `"cbam"`.
  public static func named(_ name: String) -> AttentionPair {
    AttentionPair(student: name, teacher: name)
  }
}

/// What a distilling student learns from: the cached teacher, the loss weights, and the
/// attention pairs (empty for response-based KD only).
public struct DistillationSetup {
  /// The frozen teacher's outputs on the training inputs, in the same order.
  public var teacher: TeacherCache
  /// α, β, τ and the τ² convention.
  public var weights: LossWeights
  /// Attention layers to align; empty for RB-KD.
  public var attention: [AttentionPair]
  /// How teacher channel maps reach the student's channel count.
  public var channelAlignment: ChannelAlignment

  /// A distillation set-up.
  public init(
    teacher: TeacherCache, weights: LossWeights = LossWeights(), attention: [AttentionPair] = [],
    channelAlignment: ChannelAlignment = .groupAverage
  ) {
    self.teacher = teacher
    self.weights = weights
    self.attention = attention
    self.channelAlignment = channelAlignment
  }
}
