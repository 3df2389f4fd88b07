import Foundation
import Layers
import Metrics
import Tensor

/// What a ``Distiller`` does: the loss, the attention pairs, how the student (and optionally the
/// teacher) trains, whether a plain student is trained for comparison, and what happens when the
/// teacher check warns.
public struct DistillerSettings: Sendable {
  /// What the distiller does when the ``TeacherCheck`` warns.
  public enum WarningPolicy: Sendable, Equatable {
    /// Return the warnings in the result (and print them unless `printsWarnings` is off).
    case warn
    /// Throw ``DistillerError/refused(_:check:)`` before the distilled student trains.
    case refuse
  }

  /// α, β and τ; the defaults of ``LossWeights`` (α = 0.1, β = 1, τ = 4, τ² factor).
  ///
  /// Kept at the study's values: with a teacher trained to the end they gave the best students
  /// on a small smartwatch data set (4 activities, 6 channels, 40 training series; RAB-KD
  /// 95.3 ± 3.8 %, RB-KD-Att 94.0 ± 5.2 %, LM-Att alone 93.3 ± 4.6 %, 10 seeds). On the synthetic
  /// set of the tests, with teacher-att trained 100 epochs and the students trained to the end,
  /// RAB-KD reached 100, 93.1, 84.7 and 94.4 % (mean 93.0 %) against 92.7 % for the plain
  /// student (4 seeds); α = 0.5 gave 91.7 % and α = 0.5 with τ = 2 gave 92.7 %. With α = 0.1,
  /// 90 % of the loss follows the teacher, so a weak teacher hurts: the ``TeacherCheck`` exists
  /// for that case rather than a larger α that would blunt a good teacher.
  public var weights: LossWeights = LossWeights()
  /// The attention layers to align, or `nil` (the default) to pair every layer name under which
  /// both models leave attention maps (`"cbam"` for two reference models with CBAM), and none
  /// when they share no name (RB-KD).
  public var attention: [AttentionPair]?
  /// How teacher channel maps reach the student's channel count (group averages by default).
  public var channelAlignment: ChannelAlignment = .groupAverage
  /// How the students train: ``TrainerOptions/toTheEnd(epochs:)`` with 100 epochs, keeping the
  /// best validation epoch (the validation loss breaking ties).
  ///
  /// Early stopping from the first epoch (the ``TrainerOptions`` defaults, patience 10) stops a
  /// student on a small data set before it has learned: on the synthetic set of the tests (6
  /// classes, 9 channels, 168 training windows, 3 batches an epoch, 24 validation windows) one
  /// plain student of 3 seeds ended at 38.9 % test accuracy, and RAB-KD students from a teacher
  /// trained 30 epochs at 19.4 and 34.7 % in two of them. Trained for all 100 epochs, the plain
  /// students of 4 seeds reached 95.8, 95.8, 88.9 and 90.3 % (mean 92.7 %).
  ///
  /// On the recordings of the "Your own data" article (4 activities, 6 channels, 100-sample
  /// windows, 5 training subjects, 40 test windows), with teacher-att trained 100 epochs: with
  /// these defaults, distilled students 95, 100, 100, 100, 100 % (mean 99.0 %) and plain students
  /// 82.5, 100, 100, 97.5, 100 % (mean 96.0 %), 5 seeds; with the ``TrainerOptions`` defaults for
  /// the students (and the teacher kept at its best validation epoch), distilled 30, 100, 100,
  /// 100, 80 % and plain 30, 100, 40, 65, 100 %.
  public var student: TrainerOptions = .toTheEnd(epochs: 100)
  /// How to train the teacher first, or `nil` (the default) for a teacher that is already trained.
  ///
  /// A teacher trained here should run to the end; ``TrainerOptions/toTheEnd(epochs:)`` sets
  /// `minimumEpochs` to `epochs`. A teacher kept at an early best epoch (7–14 of 40 on the
  /// smartwatch data above) had a mean top probability at τ = 4 of 0.32–0.51, against 0.98 when
  /// trained to the end, and distillation from it fell below the plain student (RB-KD-Att
  /// 66.7 ± 20.2 %, RAB-KD 58.3 ± 10.1 % against LM-Att 90.8 ± 5.2 %, 3 seeds).
  public var teacherTraining: TrainerOptions?
  /// Whether a teacher trained here keeps the weights of its last epoch (default `true`) rather
  /// than those of its best validation epoch.
  ///
  /// Early stopping restores the best validation epoch, and on a small validation set that is an
  /// early one: on the synthetic set of the tests (168 training windows), a teacher-att kept at
  /// its best epoch gave the same weights whether it ran 30 or 100 epochs, with mean top
  /// probabilities at τ = 4 of 0.48, 0.55 and 0.69 (3 seeds). Keeping the last epoch gave 0.68,
  /// 0.64 and 0.69 after 30 epochs and 0.90, 0.92, 0.94 and 0.86 after 100 (4 seeds). Without
  /// validation the trainer runs every epoch and keeps the last weights.
  public var keepsLastTeacherEpoch: Bool = true
  /// Whether a copy of the student is also trained with cross-entropy alone, with the same
  /// initial weights, options and seed, so the result says whether distillation helped (default
  /// `true`: the student is small, so the comparison costs far less than the teacher).
  public var trainsPlainStudent: Bool = true
  /// A teacher whose mean top probability at τ on the training windows is below
  /// `1/C + confidenceMargin · (1 − 1/C)` (C classes) counts as under-confident.
  ///
  /// The default, 0.5, puts the threshold half-way between a uniform and a certain prediction:
  /// 0.625 for 4 classes, 0.583 for 6. The under-confident teachers above (0.32–0.51 for 4
  /// classes) fall below it, the teachers trained to the end (0.98) far above it. Passing it is
  /// not enough: on the synthetic set of the tests a teacher-att trained 30 epochs had 0.68,
  /// above the 0.583 of 6 classes, and its RAB-KD student still reached only 19.4 % against
  /// 95.8 % for the plain student (with the students stopping early); compare with the plain
  /// student too.
  public var confidenceMargin: Double = 0.5
  /// Whether warnings are only returned or also stop the run (default
  /// ``DistillerSettings/WarningPolicy/warn``).
  public var policy: WarningPolicy = .warn
  /// Whether each warning is also printed as one line on standard output (default `true`).
  public var printsWarnings: Bool = true

  /// The defaults described on each property.
  public init() {}
}

extension TrainerOptions {
  /// Options that train for exactly `epochs` epochs: early stopping never ends the run
  /// (`minimumEpochs` = `epochs`), and the best validation epoch is still the one kept, with the
  /// validation loss breaking ties of macro-F1, so a later, more confident epoch wins a tie.
  public static func toTheEnd(epochs: Int) -> TrainerOptions {
    var options = TrainerOptions()
    options.epochs = epochs
    options.minimumEpochs = epochs
    return options
  }
}

/// How the teacher looks before a student learns from it.
public struct TeacherCheck: Sendable, Equatable {
  /// The teacher's accuracy on the validation windows.
  public var validationAccuracy: Double
  /// The teacher's macro-F1 on the validation windows.
  public var validationMacroF1: Double
  /// The mean, over the training windows, of the teacher's largest class probability at the
  /// distillation temperature τ: what the student's KD term is pulled toward.
  public var meanTopProbability: Double
  /// The temperature the probabilities were computed at.
  public var temperature: Float
  /// The number of classes.
  public var classes: Int
  /// The mean top probability below which the teacher counts as under-confident.
  public var confidenceThreshold: Double

  /// Whether the mean top probability is below the threshold.
  public var isUnderConfident: Bool { meanTopProbability < confidenceThreshold }

  /// Checks `teacher` on `data`: validation scores, and confidence at `temperature` on the
  /// training windows (from `logits`, the teacher's logits on them).
  init(
    teacher: some Layer, logits: Tensor, validation: TrainingData, temperature: Float,
    confidenceMargin: Double
  ) throws(TrainingError) {
    let report = try teacher.evaluate(on: validation)
    validationAccuracy = report.accuracy
    validationMacroF1 = report.macroF1
    self.temperature = temperature
    classes = validation.classes
    meanTopProbability = Self.meanTopProbability(logits, temperature: temperature)
    let uniform = 1 / Double(classes)
    confidenceThreshold = uniform + confidenceMargin * (1 - uniform)
  }

  /// The mean over rows of `logits` `[examples, classes]` of the largest softmax(logits / τ).
  public static func meanTopProbability(_ logits: Tensor, temperature: Float) -> Double {
    let rows = logits.shape[0]
    let columns = logits.shape[1]
    guard rows > 0, columns > 0 else { return 0 }
    let values = logits.scalars
    var total = 0.0
    for row in 0..<rows {
      let scaled = values[(row * columns)..<((row + 1) * columns)].map {
        Double($0) / Double(temperature)
      }
      let largest = scaled.max()!
      total += 1 / scaled.reduce(0) { $0 + Foundation.exp($1 - largest) }
    }
    return total / Double(rows)
  }

  /// One line: validation scores and confidence against the threshold.
  public var line: String {
    "teacher: validation accuracy \(Format.fixed(100 * validationAccuracy, 2)) %, macro-F1 "
      + "\(Format.fixed(100 * validationMacroF1, 2)) %, mean top probability at τ = "
      + "\(temperature) \(Format.fixed(meanTopProbability, 3)) (under-confident below "
      + "\(Format.fixed(confidenceThreshold, 3)))"
  }
}

/// Why distillation may fail.
public enum DistillationWarning: Sendable, Equatable, CustomStringConvertible {
  /// The teacher's mean top probability at τ is below the threshold: its soft targets are close
  /// to flat, and the KD term pulls the student toward them.
  case underConfidentTeacher(meanTopProbability: Double, threshold: Double)
  /// The teacher's validation macro-F1 is below the plain student's.
  case teacherWeakerThanPlainStudent(teacherMacroF1: Double, studentMacroF1: Double)

  /// One line saying what is wrong and what to do.
  public var description: String {
    switch self {
    case .underConfidentTeacher(let probability, let threshold):
      return "warning: the teacher is under-confident (mean top probability "
        + "\(Format.fixed(probability, 3)) < \(Format.fixed(threshold, 3))); train it to the "
        + "end (TrainerOptions.toTheEnd) or raise α"
    case .teacherWeakerThanPlainStudent(let teacher, let student):
      return "warning: the teacher's validation macro-F1 \(Format.fixed(100 * teacher, 2)) % is "
        + "below the plain student's \(Format.fixed(100 * student, 2)) %"
    }
  }
}

/// Why a ``Distiller`` stopped.
public enum DistillerError: Error, Equatable, CustomStringConvertible {
  /// Training failed.
  case training(TrainingError)
  /// The policy is ``DistillerSettings/WarningPolicy/refuse`` and the check warned.
  case refused([DistillationWarning], check: TeacherCheck)

  /// What went wrong.
  public var description: String {
    switch self {
    case .training(let error): return "\(error)"
    case .refused(let warnings, let check):
      return "distillation refused: " + warnings.map(\.description).joined(separator: "; ")
        + " (\(check.line))"
    }
  }
}

/// What ``Distiller/distill(on:)`` returns.
public struct DistillationResult<Teacher: Layer, Student: Layer> {
  /// The teacher the student learned from (trained first if the settings said so).
  public var teacher: Teacher
  /// The teacher's training history, if the distiller trained it.
  public var teacherHistory: TrainingHistory?
  /// The teacher before distillation: validation scores and confidence.
  public var check: TeacherCheck
  /// The distilled student, holding its best weights.
  public var student: Student
  /// The distilled student's training history.
  public var history: TrainingHistory
  /// The distilled student on the test windows.
  public var report: ClassificationReport
  /// The student trained with cross-entropy alone, if the settings asked for it.
  public var plainStudent: Student?
  /// The plain student on the test windows, if it was trained.
  public var plainReport: ClassificationReport?
  /// The plain student's training history, if it was trained.
  public var plainHistory: TrainingHistory?
  /// What the check warned about, in order; empty when all looked well.
  public var warnings: [DistillationWarning]

  /// The distilled minus the plain student's test accuracy, if the plain student was trained.
  public var accuracyGain: Double? { plainReport.map { report.accuracy - $0.accuracy } }
}

/// One call to distill a teacher into a student on prepared data: optionally train the teacher,
/// check it, optionally train a plain student for comparison, then distill and evaluate.
///
/// ```swift
/// let distiller = Distiller(teacher: teacher, student: student)
/// let result = try distiller.distill(on: data)
/// print(result.report.line)
/// ```
public struct Distiller<Teacher: Layer, Student: Layer> {
  /// The teacher, trained or to be trained (see ``DistillerSettings/teacherTraining``).
  public var teacher: Teacher
  /// The freshly initialized student.
  public var student: Student
  /// The settings.
  public var settings: DistillerSettings

  /// A distiller of `teacher` into `student`.
  public init(teacher: Teacher, student: Student, settings: DistillerSettings = DistillerSettings())
  {
    self.teacher = teacher
    self.student = student
    self.settings = settings
  }

  /// Trains and evaluates as the settings say; the students train on `data.train`, stop early
  /// on `data.validation` and are scored on `data.test`.
  ///
  /// - Throws: ``DistillerError/training(_:)`` when training fails, and
  ///   ``DistillerError/refused(_:check:)`` when the policy refuses a warned-about teacher.
  public func distill(on data: PreparedData) throws(DistillerError) -> DistillationResult<
    Teacher, Student
  > {
    func training<T>(_ body: () throws(TrainingError) -> T) throws(DistillerError) -> T {
      do throws(TrainingError) { return try body() } catch { throw .training(error) }
    }
    var teacher = self.teacher
    var teacherHistory: TrainingHistory?
    if let options = settings.teacherTraining {
      teacherHistory = try training { () throws(TrainingError) in
        try Trainer(options: options).fit(
          &teacher, on: data.train,
          validation: settings.keepsLastTeacherEpoch ? nil : data.validation)
      }
    }
    let cache = TeacherCache(teacher: teacher, inputs: data.train.inputs)
    let trained = teacher
    let check = try training { () throws(TrainingError) in
      try TeacherCheck(
        teacher: trained, logits: cache.logits, validation: data.validation,
        temperature: settings.weights.temperature, confidenceMargin: settings.confidenceMargin)
    }
    var warnings: [DistillationWarning] = []
    if check.isUnderConfident {
      warnings.append(
        .underConfidentTeacher(
          meanTopProbability: check.meanTopProbability, threshold: check.confidenceThreshold))
    }
    var plainStudent: Student?
    var plainReport: ClassificationReport?
    var plainHistory: TrainingHistory?
    if settings.trainsPlainStudent {
      var plain = student
      let history = try training { () throws(TrainingError) in
        try Trainer(options: settings.student).fit(
          &plain, on: data.train, validation: data.validation)
      }
      plainReport = try training { () throws(TrainingError) in try plain.evaluate(on: data.test) }
      plainStudent = plain
      plainHistory = history
      if let studentF1 = history.bestValidationMacroF1, check.validationMacroF1 < studentF1 {
        warnings.append(
          .teacherWeakerThanPlainStudent(
            teacherMacroF1: check.validationMacroF1, studentMacroF1: studentF1))
      }
    }
    if settings.printsWarnings {
      for warning in warnings { print(warning) }
    }
    if settings.policy == .refuse && !warnings.isEmpty {
      throw .refused(warnings, check: check)
    }
    let setup = DistillationSetup(
      teacher: cache, weights: settings.weights,
      attention: settings.attention ?? automaticPairs(teacher: teacher, data: data.train),
      channelAlignment: settings.channelAlignment)
    var distilled = student
    let history = try training { () throws(TrainingError) in
      try Trainer(options: settings.student).fit(
        &distilled, on: data.train, validation: data.validation, distillation: setup)
    }
    let report = try training { () throws(TrainingError) in
      try distilled.evaluate(on: data.test)
    }
    return DistillationResult(
      teacher: teacher, teacherHistory: teacherHistory, check: check, student: distilled,
      history: history, report: report,
      plainStudent: plainStudent, plainReport: plainReport, plainHistory: plainHistory,
      warnings: warnings)
  }

  /// A pair for every layer name under which both models leave attention maps on one training
  /// window (the reference models' CBAM blocks are both `"cbam"`); none when they share no name.
  private func automaticPairs(teacher: Teacher, data: TrainingData) -> [AttentionPair] {
    let window = data.inputs.sliced(alongAxis: 0, range: 0..<1)
    func names(_ model: some Layer) -> Set<String> {
      var context = ForwardContext.inference
      _ = model.forward(window, context: &context)
      return Set(context.attentionMaps.keys)
    }
    return names(teacher).intersection(names(student)).sorted().map { AttentionPair.named($0) }
  }
}
