import Distillation
import Layers
import Tensor
import TestSupport
import Testing

@Suite("Distillation losses")
struct LossTests {
  let student = try! Tensor(rows: [[0, 0], [1, -1]])
  let teacher = try! Tensor(rows: [[1.0986123, 0], [0, 2]])  // ln 3 = 1.0986123

  /// Values from NumPy:
  ///
  /// ```python
  /// def sm(z): e = np.exp(z - z.max(-1, keepdims=True)); return e / e.sum(-1, keepdims=True)
  /// zs = np.array([[0., 0.], [1., -1.]]); zt = np.array([[np.log(3), 0.], [0., 2.]])
  /// for T, sq in [(1, True), (2, True), (2, False)]:
  ///     ps, pt = sm(zs / T), sm(zt / T)
  ///     kl = (pt * (np.log(pt) - np.log(ps))).sum(-1).mean() * (T * T if sq else 1)
  ///     grad = (ps - pt) / 2 * (T if sq else 1 / T)
  /// # 0.8270001739, 0.9969158803, 0.2492289701
  /// # grads [-0.125, 0.125, 0.38079708, -0.38079708], [-0.1339746, 0.1339746, 0.46211716,
  /// #        -0.46211716], [-0.03349365, 0.03349365, 0.11552929, -0.11552929]
  /// ```
  @Test(arguments: [
    (Float(1), true, Float(0.8270001739), [Float(-0.125), 0.125, 0.38079708, -0.38079708]),
    (2, true, 0.9969158803, [-0.1339746, 0.1339746, 0.46211716, -0.46211716]),
    (2, false, 0.2492289701, [-0.03349365, 0.03349365, 0.11552929, -0.11552929]),
  ])
  func kdMatchesItsClosedForm(temperature: Float, squared: Bool, value: Float, gradient: [Float]) {
    let (loss, grads) = valueWithGradients(at: [student]) { s in
      distillationLoss(
        student: s[0], teacher: teacher, temperature: temperature,
        scaleByTemperatureSquared: squared)
    }
    #expect(abs(loss.scalar - value) < 1e-5)
    // ∂KD/∂z_s = τ·(p_s − p_t)/B with τ², (p_s − p_t)/(τ·B) without.
    #expect(isClose(grads[0], gradient, shape: [2, 2], tolerance: 1e-6))
  }

  @Test func kdIsZeroWhenStudentMatchesTeacher() {
    #expect(abs(distillationLoss(student: teacher, teacher: teacher, temperature: 4).scalar) < 1e-6)
  }

  @Test func teacherLogitsGetNoGradient() {
    let tape = Tape()
    let t = tape.variable(teacher)
    let s = tape.variable(student)
    let grads = tape.gradients(
      of: distillationLoss(student: s, teacher: t, temperature: 2), wrt: [t, s])
    #expect(grads[0].scalars == [0, 0, 0, 0])
  }

  @Test func attentionAlignment() throws {
    // Group average of 4 teacher channels onto 2 student channels: [(1+3)/2, (5+7)/2].
    let teacherChannel = try Tensor(rows: [[1, 3, 5, 7]])
    let aligned = try alignChannelMap(teacher: teacherChannel, student: Tensor(zeros: [1, 2]))
    #expect(aligned.scalars == [2, 6])
    // 3 student channels do not divide 4 teacher channels.
    #expect(
      throws: DistillationError.incompatibleMaps(
        kind: "channel", teacher: [1, 4], student: [1, 3])
    ) {
      try alignChannelMap(teacher: teacherChannel, student: Tensor(zeros: [1, 3]))
    }
    // A projection maps any count.
    let projection = try Tensor(rows: [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]])
    #expect(
      try alignChannelMap(
        teacher: teacherChannel, student: Tensor(zeros: [1, 3]), projection: projection
      )
      .scalars == [8, 10, 12])
    // Linear resampling of a length-5 spatial map [0, 1, 2, 3, 4] to length 3: positions 0, 2, 4.
    let spatial = try alignSpatialMap(
      teacher: Tensor([0, 1, 2, 3, 4]).reshaped(to: [1, 5]), student: Tensor(zeros: [1, 3]))
    #expect(isClose(spatial, [0, 2, 4], shape: [1, 3]))
    // ... and up to length 9: positions 0, 0.5, …, 4.
    let up = try alignSpatialMap(
      teacher: Tensor([0, 1, 2, 3, 4]).reshaped(to: [1, 5]), student: Tensor(zeros: [1, 9]))
    #expect(isClose(up, [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4], shape: [1, 9]))
    #expect(
      throws: DistillationError.incompatibleMaps(
        kind: "spatial", teacher: [1, 5, 2], student: [1, 5, 3])
    ) {
      try alignSpatialMap(teacher: Tensor(zeros: [1, 5, 2]), student: Tensor(zeros: [1, 5, 3]))
    }
    #expect(
      DistillationError.incompatibleMaps(kind: "channel", teacher: [1, 4], student: [1, 3])
        .description
        .hasPrefix(
          "channel attention maps: teacher shape [1, 4] and student shape [1, 3] cannot be aligned")
    )
  }

  @Test func attentionMSEByHand() throws {
    // ((0.5 − 0.25)² + (1 − 0)²) / 2 = (0.0625 + 1) / 2.
    let loss = attentionTransferLoss(student: Tensor([0.25, 0]), teacher: Tensor([0.5, 1]))
    #expect(abs(loss.scalar - 0.53125) < 1e-7)
  }

  @Test func combinedLossAddsItsParts() throws {
    let weights = LossWeights(alpha: 0.25, beta: 2, temperature: 2)
    let channel = (student: Tensor([0.25, 0]), teacher: Tensor([0.5, 1]))
    let spatial = (student: Tensor([1, 1]), teacher: Tensor([0, 1]))
    let parts = combinedLoss(
      logits: student, labels: [0, 1], teacherLogits: teacher, weights: weights,
      channelMaps: [channel], spatialMaps: [spatial])
    // CE: row 0 −log ½ = 0.693147; row 1 −log σ(−2) = 2.126928 → mean 1.410038.
    #expect(abs(parts.crossEntropy - 1.410038) < 1e-5)
    #expect(abs(parts.distillation - 0.9969159) < 1e-5)
    #expect(abs(parts.channelAttention - 0.53125) < 1e-6)
    #expect(abs(parts.spatialAttention - 0.5) < 1e-6)
    // 0.25·1.410038 + 0.75·0.9969159 + 2·(0.53125 + 0.5) = 3.162696.
    #expect(abs(parts.total.scalar - 3.162696) < 1e-5)
    let plain = combinedLoss(logits: student, labels: [0, 1], teacherLogits: nil, weights: weights)
    #expect(plain.total.scalar == plain.crossEntropy)
  }

  /// The full Jacobian of the combined loss with respect to the student's logits and both maps,
  /// with alignment (group average, resampling) inside.
  @Test func combinedLossGradientCheck() {
    var rng = SplitMix64(seed: 4)
    let logits = Tensor.uniform([3, 4], in: -1...1, using: &rng)
    let teacherLogits = Tensor.uniform([3, 4], in: -1...1, using: &rng)
    let channel = Tensor.uniform([3, 2], in: 0.1...0.9, using: &rng)
    let spatial = Tensor.uniform([3, 5], in: 0.1...0.9, using: &rng)
    let teacherChannel = Tensor.uniform([3, 6], in: 0.1...0.9, using: &rng)
    let teacherSpatial = Tensor.uniform([3, 7], in: 0.1...0.9, using: &rng)
    for squared in [true, false] {
      let report = checkGradients(
        of: { v in
          combinedLoss(
            logits: v[0], labels: [0, 3, 1], teacherLogits: teacherLogits,
            weights: LossWeights(
              alpha: 0.3, beta: 0.7, temperature: 3, scaleByTemperatureSquared: squared),
            channelMaps: [(v[1], try! alignChannelMap(teacher: teacherChannel, student: v[1]))],
            spatialMaps: [(v[2], try! alignSpatialMap(teacher: teacherSpatial, student: v[2]))]
          ).total
        }, at: [logits, channel, spatial])
      #expect(report.passed, "\(report)")
    }
    // And through a trainable projection of the teacher's channel map.
    let projection = Tensor.uniform([6, 2], in: -0.5...0.5, using: &rng)
    let report = checkGradients(
      of: { v in
        attentionTransferLoss(
          student: v[0],
          teacher: try! alignChannelMap(teacher: teacherChannel, student: v[0], projection: v[1]))
      }, at: [channel, projection])
    #expect(report.passed, "\(report)")
  }

  @Test func lossWeightDefaults() {
    let defaults = LossWeights()
    #expect(
      defaults.alpha == 0.1 && defaults.beta == 1 && defaults.temperature == 4
        && defaults.scaleByTemperatureSquared)
  }
}
