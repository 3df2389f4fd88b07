import Datasets
import Distillation
import Foundation
import Layers
import Tensor
import Testing

// The failure of the issue "Your own data, end to end", reproduced on a small synthetic data set:
// a teacher stopped after one epoch is under-confident, and the check says so; a teacher trained
// to the end is not; and with such a teacher the distiller's defaults do not collapse.

/// 10 subjects × 6 activities × 4 windows of 64 samples, 9 channels: 3 test subjects, and one or
/// two of the other 7 validate.
private func smallData() throws -> PreparedData {
  let options = Synthetic.Options(subjects: 10, windowsPerActivity: 4, length: 64)
  return try PreparedData(try Synthetic.load(options, seed: 3))
}

private func models(seed: UInt64, channels: Int, classes: Int) -> (Sequential, Sequential) {
  var generator = SplitMix64(seed: seed, stream: .initialization)
  let teacher = ReferenceModel.teacherAtt.make(
    channels: channels, classes: classes, generator: &generator)
  let student = ReferenceModel.lmAtt.make(
    channels: channels, classes: classes, generator: &generator)
  return (teacher, student)
}

@Suite("Distiller")
struct DistillerTests {
  @Test func meanTopProbability() throws {
    // Equal logits: 1/classes; logits 0 and 4·ln 3 at τ = 4: probabilities 1/4 and 3/4.
    #expect(
      abs(TeacherCheck.meanTopProbability(Tensor(zeros: [2, 4]), temperature: 4) - 0.25) < 1e-9)
    let logits = try Tensor(shape: [1, 2], scalars: [0, 4 * Float(log(3.0))])
    #expect(abs(TeacherCheck.meanTopProbability(logits, temperature: 4) - 0.75) < 1e-6)
  }

  @Test func underConfidentTeacherWarnsAndCanRefuse() throws {
    let data = try smallData()
    let (teacher, student) = models(
      seed: 1, channels: data.channelCount, classes: data.classNames.count)
    var settings = DistillerSettings()
    settings.teacherTraining = .toTheEnd(epochs: 1)
    settings.teacherTraining?.progress = .silent
    settings.student.epochs = 1
    settings.student.progress = .silent
    settings.trainsPlainStudent = false
    settings.printsWarnings = false
    let result = try Distiller(teacher: teacher, student: student, settings: settings)
      .distill(on: data)
    print("under-trained \(result.check.line)")
    #expect(result.teacherHistory?.epochs.count == 1)
    #expect(abs(result.check.confidenceThreshold - (1.0 / 6 + 0.5 * 5 / 6)) < 1e-12)
    #expect(result.check.isUnderConfident)
    #expect(
      result.warnings == [
        .underConfidentTeacher(
          meanTopProbability: result.check.meanTopProbability,
          threshold: result.check.confidenceThreshold)
      ])
    #expect(result.history.epochs.count == 1)

    settings.policy = .refuse
    #expect {
      try Distiller(teacher: teacher, student: student, settings: settings).distill(on: data)
    } throws: { error in
      guard case .refused(let warnings, let check)? = error as? DistillerError else {
        return false
      }
      return warnings.count == 1 && check.isUnderConfident
    }
  }

  @Test func wellTrainedTeacherAndDefaultsDoNotCollapse() throws {
    let data = try smallData()
    let (teacher, student) = models(
      seed: 2, channels: data.channelCount, classes: data.classNames.count)
    var settings = DistillerSettings()
    settings.teacherTraining = .toTheEnd(epochs: 100)
    settings.teacherTraining?.progress = .silent
    settings.student.progress = .silent
    settings.printsWarnings = false
    let result = try Distiller(teacher: teacher, student: student, settings: settings)
      .distill(on: data)
    let plain = try #require(result.plainReport)
    print(
      "trained \(result.check.line); plain validation macro-F1 "
        + "\(result.plainHistory?.bestValidationMacroF1 ?? 0); distilled test \(result.report.line); plain test "
        + "\(plain.line); distilled epochs \(result.history.epochs.count)")
    #expect(result.teacherHistory?.epochs.count == 100)
    #expect(!result.check.isUnderConfident)
    #expect(
      !result.warnings.contains { if case .underConfidentTeacher = $0 { true } else { false } })
    // The teacher is compared with the plain student's best validation macro-F1.
    let plainF1 = try #require(result.plainHistory?.bestValidationMacroF1)
    #expect(
      result.warnings.contains(
        .teacherWeakerThanPlainStudent(
          teacherMacroF1: result.check.validationMacroF1, studentMacroF1: plainF1))
        == (result.check.validationMacroF1 < plainF1))
    // Both CBAM blocks are named "cbam", so the default pairs them: attention transfer ran.
    #expect((result.history.epochs.first?.channelAttention ?? 0) > 0)
    // Not collapsed: the distilled student within 5 points of the plain student's test accuracy
    // (the collapse of the issue was 24 to 32 points below).
    #expect(result.report.accuracy >= plain.accuracy - 0.05)
  }
}
