import Distillation
import Foundation
import Layers
import Tensor
import TestSupport
import Testing

// The code of the "Distilling a student" article (Sources/Distillation/Distillation.docc),
// compiled and run here on a tiny task; `articleQuotesOnlyCompiledCode` fails when the article
// and this code drift apart.

@Suite("Distilling article")
struct DistillingArticleTests {
  @Test func rabKDEndToEnd() throws {
    let (inputs, labels) = sineWindows(count: 48, length: 32, channels: 9, classes: 3, seed: 4)
    let training = try TrainingData(inputs: inputs, labels: labels, classes: 3)
    var options = TrainerOptions()
    options.epochs = 2
    options.progress = .silent

    var generator = SplitMix64(seed: 1)
    var teacher = ReferenceModel.teacherAtt.make(channels: 9, classes: 3, generator: &generator)
    _ = try Trainer(options: options).fit(&teacher, on: training)

    // The teacher runs once over the training windows, in inference mode.
    let cache = TeacherCache(teacher: teacher, inputs: training.inputs)

    // RAB-KD: α·CE + (1−α)·KD + β·(L_CA + L_SA), the CBAM blocks paired by name ("cbam").
    let setup = DistillationSetup(
      teacher: cache,
      weights: LossWeights(alpha: 0.1, beta: 1, temperature: 4),
      attention: [AttentionPair(student: "cbam", teacher: "cbam")],
      channelAlignment: .groupAverage)  // teacher 128 channels → student 32: means of 4
    var student = ReferenceModel.lmAtt.make(channels: 9, classes: 3, generator: &generator)
    let history = try Trainer(options: options).fit(&student, on: training, distillation: setup)

    #expect(history.epochs.count == 2)
    let last = try #require(history.epochs.last)
    #expect(last.distillation > 0 && last.channelAttention > 0 && last.spatialAttention > 0)
    #expect(cache.logits.shape == [48, 3])
    #expect(cache.maps["cbam"]?.channel?.shape == [48, 128])
    #expect(cache.maps["cbam"]?.spatial?.shape == [48, 16])
  }

  @Test func temperatureSquaredConvention() {
    var generator = SplitMix64(seed: 2)
    let student = Tensor.normal([4, 6], using: &generator)
    let teacher = Tensor.normal([4, 6], using: &generator)

    let hinton = distillationLoss(student: student, teacher: teacher, temperature: 4)
    let study = distillationLoss(
      student: student, teacher: teacher, temperature: 4, scaleByTemperatureSquared: false)
    #expect(abs(hinton.scalar - 16 * study.scalar) <= 1e-5 * abs(hinton.scalar))
  }

  @Test func alignment() throws {
    var generator = SplitMix64(seed: 3)
    let teacherChannels = Tensor.uniform([2, 128], in: 0...1, using: &generator)
    let studentChannels = Tensor.uniform([2, 32], in: 0...1, using: &generator)
    let grouped = try alignChannelMap(teacher: teacherChannels, student: studentChannels)
    #expect(grouped.shape == [2, 32])

    let teacherTime = Tensor.uniform([2, 64], in: 0...1, using: &generator)
    let studentTime = Tensor.uniform([2, 32], in: 0...1, using: &generator)
    #expect(try alignSpatialMap(teacher: teacherTime, student: studentTime).shape == [2, 32])

    #expect(throws: DistillationError.self) {
      try alignChannelMap(teacher: Tensor(zeros: [2, 100]), student: studentChannels)
    }
  }

  @Test func articleQuotesOnlyCompiledCode() throws {
    let root = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    func normalized(_ text: some StringProtocol) -> String {
      text.split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        .joined(separator: "\n")
    }
    let article = try String(
      contentsOf: root.appendingPathComponent(
        "Sources/Distillation/Distillation.docc/DistillingAStudent.md"),
      encoding: .utf8)
    let source = normalized(
      try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8))
    let blocks = article.components(separatedBy: "```swift\n").dropFirst()
      .map { normalized($0.components(separatedBy: "```")[0]) }
    #expect(!blocks.isEmpty)
    for block in blocks {
      #expect(
        source.contains(block), "DistillingAStudent.md: this block is not compiled here:\n\(block)")
    }
  }
}
