import Distillation
import Layers
import Tensor
import TestSupport
import Testing

/// Attention transfer between DeepConvLSTM models, whose CBAM-2D maps are `[batch, filters]` and
/// `[batch, time, sensors]`.
@Suite("DeepConvLSTM distillation")
struct DeepConvLSTMDistillationTests {
  /// A `[batch, time, sensors]` map is resampled along time only, each sensor on its own:
  /// teacher steps 0, 1, 2 read at 0, 0.5, 1, 1.5, 2 for a student of length 5.
  @Test func spatialMapsOverTimeAndSensorsResampleAlongTime() throws {
    // Sensor 0 rises 0, 2, 4; sensor 1 falls 10, 6, 2.
    let teacher = try Tensor(shape: [1, 3, 2], scalars: [0, 10, 2, 6, 4, 2])
    let aligned = try alignSpatialMap(teacher: teacher, student: Tensor(zeros: [1, 5, 2]))
    #expect(isClose(aligned, [0, 10, 1, 8, 2, 6, 3, 4, 4, 2], shape: [1, 5, 2], tolerance: 1e-6))
    #expect(
      throws: DistillationError.incompatibleMaps(
        kind: "spatial", teacher: [1, 3, 2], student: [1, 5, 3])
    ) {
      try alignSpatialMap(teacher: teacher, student: Tensor(zeros: [1, 5, 3]))
    }
    // Filters 8 → 4: channel maps average pairs of teacher channels.
    let channel = try Tensor(shape: [1, 8], scalars: [1, 3, 5, 7, 0, 2, 4, 4])
    let grouped = try alignChannelMap(teacher: channel, student: Tensor(zeros: [1, 4]))
    #expect(isClose(grouped, [2, 6, 1, 4], shape: [1, 4]))
  }

  /// RAB-KD with a tiny DeepConvLSTM teacher (8 filters, 8 units, CBAM-2D after conv 2: maps
  /// `[batch, 12, 3]`) and student (4 filters, 4 units, CBAM-2D after conv 4: maps `[batch, 4, 3]`)
  /// on 20-step sine windows: the attention terms are active and the training loss falls.
  @Test func rabKDTrainsATinyDeepConvLSTMStudent() throws {
    let classes = 3
    let (inputs, labels) = sineWindows(
      count: 48, length: 20, channels: 3, classes: classes, seed: 11)
    let train = try TrainingData(inputs: inputs, labels: labels, classes: classes)
    var rng = SplitMix64(seed: 12)
    let teacher = DeepConvLSTM(
      filters: 8, units: 8, attention: .init(position: 2, reduction: 2, spatialKernel: 3)
    ).make(sensors: 3, classes: classes, generator: &rng)
    var student = DeepConvLSTM(
      filters: 4, units: 4, attention: .init(position: 4, reduction: 2, spatialKernel: 3)
    ).make(sensors: 3, classes: classes, generator: &rng)
    let cache = TeacherCache(teacher: teacher, inputs: train.inputs)
    let teacherMaps = try #require(cache.maps[ReferenceModel.attentionName])
    #expect(teacherMaps.spatial?.shape == [48, 12, 3])
    #expect(teacherMaps.channel?.shape == [48, 8])
    var options = TrainerOptions()
    options.epochs = 3
    options.batchSize = 16
    options.learningRate = 1e-2
    options.seed = 13
    options.progress = .silent
    let setup = DistillationSetup(
      teacher: cache, attention: [AttentionPair.named(ReferenceModel.attentionName)])
    let history = try Trainer(options: options).fit(&student, on: train, distillation: setup)
    let first = try #require(history.epochs.first)
    let last = try #require(history.epochs.last)
    #expect(history.epochs.count == 3)
    #expect(first.channelAttention > 0 && first.spatialAttention > 0 && first.distillation > 0)
    #expect(history.epochs.allSatisfy { $0.loss.isFinite })
    #expect(last.loss < first.loss, "loss \(first.loss) → \(last.loss)")
  }
}
