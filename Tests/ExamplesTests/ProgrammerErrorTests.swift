import Foundation
import HARDistill
import Testing

/// A public entry point given a wrong shape or count stops with a message that names what was
/// wrong, in the release builds the tests run in (the standard `precondition` prints none there).
@Suite("Programmer errors in release builds")
struct ProgrammerErrorTests {
  /// What a child process that stopped wrote on standard error.
  func text(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
  }

  @Test func inferencePlanGivenAnotherBatchSize() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var generator = SplitMix64(seed: 1)
      let model = ReferenceModel.lm.make(channels: 3, classes: 4, generator: &generator)
      let plan = try InferencePlan(model, inputShape: [1, 32, 3])
      _ = plan(Tensor(zeros: [2, 32, 3]))
    }
    let message = "InferencePlan: input shape [2, 32, 3] differs from the plan's [1, 32, 3]"
    #expect(text(result).contains(message))
  }

  @Test func labeledWindowsGivenTooFewValues() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = LabeledWindows(
        values: [0, 1, 2], shape: [1, 2, 2], labels: [0], subjects: [1], classNames: ["a"])
    }
    #expect(text(result).contains("LabeledWindows: shape [1, 2, 2] needs 4 values"))
  }

  @Test func predictGivenAZeroBatchSize() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var generator = SplitMix64(seed: 1)
      let model = ReferenceModel.lm.make(channels: 3, classes: 4, generator: &generator)
      _ = model.predict(Tensor(zeros: [2, 32, 3]), batchSize: 0)
    }
    #expect(text(result).contains("predict(batchSize: 0): must be > 0"))
  }

  @Test func teacherCacheGivenAZeroBatchSize() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var generator = SplitMix64(seed: 1)
      let model = ReferenceModel.lm.make(channels: 3, classes: 4, generator: &generator)
      _ = TeacherCache(teacher: model, inputs: Tensor(zeros: [2, 32, 3]), batchSize: 0)
    }
    #expect(text(result).contains("TeacherCache(batchSize: 0): must be > 0"))
  }

  @Test func standardizerGivenMismatchedStatistics() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = ChannelStandardizer(mean: [0, 0], standardDeviation: [1])
    }
    #expect(text(result).contains("ChannelStandardizer: 2 means but 1 deviations"))
  }
}
