import Layers
import Tensor

/// The mean cross-entropy of `logits` `[batch, classes]` against integer `labels`:
/// `CE = (1/B) Σ_b −log softmax(z_b)[y_b]` (fused and numerically stable).
public func crossEntropy(logits: Tensor, labels: [Int]) -> Tensor {
  softmaxCrossEntropy(logits: logits, labels: labels)
}

/// Temperature knowledge distillation: `KL(teacher ‖ student)` between the softened
/// distributions, summed over classes and averaged over the batch.
///
/// `KD = τ² · (1/B) Σ_b Σ_k p_t,bk (log p_t,bk − log p_s,bk)` with `p = softmax(z / τ)`. The τ²
/// factor (Hinton) keeps the gradient's scale independent of τ: `∂KD/∂z_s = τ·(p_s − p_t)/B`;
/// without it (`scaleByTemperatureSquared: false`, the study's own formula) the gradient is
/// `(p_s − p_t)/(τ·B)`. The teacher's logits are constants: no gradient flows into them.
///
/// Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural Network", NIPS 2014 Deep
/// Learning Workshop (https://arxiv.org/abs/1503.02531).
///
/// - Parameters:
///   - student: Student logits `[batch, classes]`.
///   - teacher: Teacher logits of the same shape.
///   - temperature: τ > 0; `softmax(z / τ)` flattens as τ grows (default in ``LossWeights``: 4).
///   - scaleByTemperatureSquared: Multiply by τ² (Hinton's convention, the default); `false`
///     gives the study's formula, whose gradient shrinks as `1/τ`.
/// - Returns: A scalar tensor.
public func distillationLoss(
  student: Tensor, teacher: Tensor, temperature: Float, scaleByTemperatureSquared: Bool = true
) -> Tensor {
  precondition(
    student.shape == teacher.shape && student.rank == 2,
    "distillationLoss: shapes \(student.shape) and \(teacher.shape) do not fit "
      + "[batch, classes] twice")
  precondition(temperature > 0, "distillationLoss: temperature \(temperature) must be > 0")
  let logTeacher = (teacher.detached() / temperature).logSoftmax()
  let logStudent = (student / temperature).logSoftmax()
  let teacherProbabilities = logTeacher.exp()
  let batch = Float(student.shape[0])
  let kl = (teacherProbabilities * (logTeacher - logStudent)).sum() / batch
  return scaleByTemperatureSquared ? kl * (temperature * temperature) : kl
}

/// Why a distillation set-up cannot work; every case names what it needs and what it found.
public enum DistillationError: Error, Equatable, CustomStringConvertible {
  /// Teacher and student maps whose shapes no alignment reconciles.
  case incompatibleMaps(kind: String, teacher: [Int], student: [Int])
  /// A layer named in an attention pairing left no map of that kind.
  case missingAttentionMap(model: String, layer: String, kind: String, available: [String])

  /// The message, naming both shapes or the missing layer and the layers that have maps.
  public var description: String {
    switch self {
    case .incompatibleMaps(let kind, let teacher, let student):
      "\(kind) attention maps: teacher shape \(teacher) and student shape \(student) cannot be "
        + "aligned (channel counts must divide, or use a projection; spatial maps must agree "
        + "apart from their time length)"
    case .missingAttentionMap(let model, let layer, let kind, let available):
      "the \(model) has no \(kind == "attention" ? "attention" : kind + " attention") map from "
        + "layer '\(layer)'; layers with maps: "
        + (available.isEmpty ? "none" : available.sorted().joined(separator: ", "))
    }
  }
}

/// How a teacher's channel map is brought to the student's channel count.
public enum ChannelAlignment: Sendable, Equatable {
  /// Average consecutive groups of `C_T / C_S` teacher channels (needs `C_S` to divide `C_T`).
  case groupAverage
  /// A trainable linear map `[C_T, C_S]`, trained with the student.
  ///
  /// The study's reference code created such a projection but left it untrained (a fresh random
  /// matrix each run), which makes the channel loss chase noise; here it is a student parameter.
  case projection
}

/// Channel maps aligned for the loss: the teacher map `[batch, C_T]` brought to the student's
/// `[batch, C_S]`.
///
/// - Throws: ``DistillationError/incompatibleMaps(kind:teacher:student:)`` naming both shapes.
public func alignChannelMap(
  teacher: Tensor, student: Tensor, projection: Tensor? = nil
) throws(DistillationError) -> Tensor {
  let (t, s) = (teacher.shape, student.shape)
  guard t.count == 2, s.count == 2, t[0] == s[0] else {
    throw .incompatibleMaps(kind: "channel", teacher: t, student: s)
  }
  if t == s { return teacher }
  if let projection {
    guard projection.shape == [t[1], s[1]] else {
      throw .incompatibleMaps(kind: "channel", teacher: t, student: s)
    }
    return teacher.matmul(projection)
  }
  guard t[1] % s[1] == 0 else { throw .incompatibleMaps(kind: "channel", teacher: t, student: s) }
  return teacher.reshaped(to: [t[0], s[1], t[1] / s[1]]).mean(alongAxis: 2)
}

/// Spatial maps aligned for the loss: the teacher map `[batch, T_t, …]` linearly resampled
/// along time to the student's `[batch, T_s, …]`.
///
/// Resampling uses aligned end points: student step `i` reads teacher position
/// `i · (T_t − 1) / (T_s − 1)`, interpolating between its two neighbours.
///
/// - Throws: ``DistillationError/incompatibleMaps(kind:teacher:student:)`` when the maps differ
///   in anything but their time length.
public func alignSpatialMap(teacher: Tensor, student: Tensor) throws(DistillationError) -> Tensor {
  let (t, s) = (teacher.shape, student.shape)
  guard t.count == s.count, t.count >= 2, t[0] == s[0],
    Array(t.dropFirst(2)) == Array(s.dropFirst(2))
  else { throw .incompatibleMaps(kind: "spatial", teacher: t, student: s) }
  if t == s { return teacher }
  let (from, to) = (t[1], s[1])
  // Interpolation weights as a constant matrix [T_s, T_t], applied along the time axis.
  var weights = Tensor(zeros: [to, from])
  weights.withUnsafeMutableBufferPointer { w in
    for i in 0..<to {
      let position = to == 1 ? 0 : Double(i) * Double(from - 1) / Double(to - 1)
      let left = Swift.min(Int(position), from - 1)
      let right = Swift.min(left + 1, from - 1)
      let fraction = Float(position - Double(left))
      w[i * from + left] += 1 - fraction
      w[i * from + right] += fraction
    }
  }
  let rest = Array(t.dropFirst(2))
  let flat = teacher.reshaped(to: [t[0], from, rest.reduce(1, *)])  // [B, T_t, R]
  return weights.matmul(flat).reshaped(to: [t[0], to] + rest)
}

/// The mean squared difference of two maps of the same shape: `mean((teacher − student)²)`.
///
/// With aligned maps this is `L_CA` (channel maps) or `L_SA` (spatial maps) of the combined loss
/// (Zagoruyko & Komodakis, "Paying More Attention to Attention: Improving the Performance of
/// Convolutional Neural Networks via Attention Transfer", ICLR 2017,
/// https://arxiv.org/abs/1612.03928).
public func attentionTransferLoss(student: Tensor, teacher: Tensor) -> Tensor {
  precondition(
    student.shape == teacher.shape,
    "attentionTransferLoss: shapes \(student.shape) and \(teacher.shape) must be equal; align them first"
  )
  return (teacher - student).squared().mean()
}

/// The weights of the combined loss `α·CE + (1−α)·KD + β·(L_CA + L_SA)` and the temperature.
public struct LossWeights: Sendable, Equatable, Codable {
  /// Weight of the cross-entropy with the labels (default 0.1).
  public var alpha: Float
  /// Weight of the attention-transfer terms (default 1).
  public var beta: Float
  /// The softening temperature τ (default 4).
  public var temperature: Float
  /// Whether KD carries Hinton's τ² factor (default `true`; `false` is the study's formula).
  public var scaleByTemperatureSquared: Bool

  /// The defaults: α = 0.1, β = 1, τ = 4, with the τ² factor.
  public init(
    alpha: Float = 0.1, beta: Float = 1, temperature: Float = 4,
    scaleByTemperatureSquared: Bool = true
  ) {
    self.alpha = alpha
    self.beta = beta
    self.temperature = temperature
    self.scaleByTemperatureSquared = scaleByTemperatureSquared
  }
}

/// The parts of the combined loss for one batch; `total` is tracked, the parts are values.
public struct LossParts {
  /// `α·CE + (1−α)·KD + β·(L_CA + L_SA)`, or `CE` alone without a teacher.
  public var total: Tensor
  /// Cross-entropy with the labels.
  public var crossEntropy: Float
  /// Knowledge distillation (τ² included by default); 0 without a teacher.
  public var distillation: Float = 0
  /// Channel attention transfer; 0 when not used.
  public var channelAttention: Float = 0
  /// Spatial attention transfer; 0 when not used.
  public var spatialAttention: Float = 0
}

/// `α·CE + (1−α)·KD + β·(L_CA + L_SA)` for one batch, each part reported.
///
/// - Parameters:
///   - logits: Student logits `[batch, classes]`.
///   - labels: One class index per example, `[batch]`.
///   - teacherLogits: Teacher logits, or `nil` for plain training (then the total is CE).
///   - weights: α, β, τ and the τ² convention.
///   - channelMaps: Aligned `(student, teacher)` channel-map pairs; their losses are summed.
///   - spatialMaps: Aligned `(student, teacher)` spatial-map pairs; their losses are summed.
public func combinedLoss(
  logits: Tensor, labels: [Int], teacherLogits: Tensor?, weights: LossWeights,
  channelMaps: [(student: Tensor, teacher: Tensor)] = [],
  spatialMaps: [(student: Tensor, teacher: Tensor)] = []
) -> LossParts {
  let ce = crossEntropy(logits: logits, labels: labels)
  guard let teacherLogits else {
    return LossParts(total: ce, crossEntropy: ce.scalar)
  }
  let kd = distillationLoss(
    student: logits, teacher: teacherLogits, temperature: weights.temperature,
    scaleByTemperatureSquared: weights.scaleByTemperatureSquared)
  var total = weights.alpha * ce + (1 - weights.alpha) * kd
  var parts = LossParts(total: total, crossEntropy: ce.scalar, distillation: kd.scalar)
  for (student, teacher) in channelMaps {
    let loss = attentionTransferLoss(student: student, teacher: teacher)
    total = total + weights.beta * loss
    parts.channelAttention += loss.scalar
  }
  for (student, teacher) in spatialMaps {
    let loss = attentionTransferLoss(student: student, teacher: teacher)
    total = total + weights.beta * loss
    parts.spatialAttention += loss.scalar
  }
  parts.total = total
  return parts
}
