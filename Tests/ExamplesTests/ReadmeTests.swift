import Foundation
import HARDistill
import TestSupport
import Testing

/// The README's library example, compiled and run here on the built-in synthetic data;
/// `readmeQuotesOnlyCompiledCode` fails when the README and this code drift apart.
@Suite("README")
struct ReadmeTests {
  @Test func libraryExampleDistillsAStudent() throws {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent(
      "hardistill-readme-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: out) }
    let studentURL = out.appendingPathComponent("student.safetensors")

    let data = try PreparedData(try Synthetic.load())  // or HAPT.load(from:), UCIHAR.load(from:), …
    let (channels, classes) = (data.channelCount, data.classNames.count)
    var initialization = SplitMix64(seed: 42, stream: .initialization)
    var teacher = ReferenceModel.teacherAtt.make(
      channels: channels, classes: classes, generator: &initialization)
    var student = ReferenceModel.lmAtt.make(
      channels: channels, classes: classes, generator: &initialization)
    print(try student.summary(inputShape: [1, data.windowLength, channels]))

    var options = TrainerOptions()  // Adam at 1e-3, batch 64, early stopping
    options.epochs = 2  // a quick look; 40 or so for real use
    let trainer = Trainer(options: options)
    try trainer.fit(&teacher, on: data.train, validation: data.validation)
    let setup = DistillationSetup(
      teacher: TeacherCache(teacher: teacher, inputs: data.train.inputs),  // run once, cached
      weights: LossWeights(alpha: 0.1, beta: 1, temperature: 4),
      attention: [AttentionPair(student: "cbam", teacher: "cbam")])
    try trainer.fit(&student, on: data.train, validation: data.validation, distillation: setup)
    print(try student.evaluate(on: data.test).line)  // accuracy, macro-F1 on test subjects
    try Checkpoint(model: student, card: data.modelCard(for: student)).write(to: studentURL)

    let predict = try InferencePlan(student, inputShape: [1, data.windowLength, channels])
    let logits = predict(data.test.inputs.sliced(alongAxis: 0, range: 0..<1))

    #expect(logits.shape == [1, classes])
    #expect(FileManager.default.fileExists(atPath: studentURL.path))
    var reloaded = ReferenceModel.lmAtt.make(
      channels: channels, classes: classes, generator: &initialization)
    try reloaded.load(from: Checkpoint.read(from: studentURL))
    #expect(try reloaded.evaluate(on: data.test) == student.evaluate(on: data.test))
  }

  @Test func readmeQuotesOnlyCompiledCode() throws {
    for problem in try unquotedArticleBlocks(
      "README.md", quotesOnly: ["Tests/ExamplesTests/ReadmeTests.swift"])
    {
      Issue.record("\(problem)")
    }
  }
}
