import Layers

/// One of the study's eight configurations: which model is trained, which teacher
/// (if any) it learns from, and whether it also learns the teacher's attention maps.
public struct Configuration: Sendable, Hashable, CustomStringConvertible {
  /// The configuration's name, exactly as in every output file.
  public let name: String
  /// The model trained in this configuration.
  public let student: ReferenceModel
  /// The frozen teacher it distills from, or `nil` for plain training with cross-entropy.
  public let teacher: ReferenceModel?
  /// Whether the loss includes the attention-transfer terms `β·(L_CA + L_SA)`.
  public let transfersAttention: Bool

  /// The configuration's name, e.g. `"RAB-KD"`.
  public var description: String { name }

  /// Whether this configuration trains a teacher (`teacher`, `teacher-att`).
  public var isTeacher: Bool { student == .teacher || student == .teacherAtt }

  /// The big model trained with cross-entropy alone.
  public static let teacher = Configuration(
    name: "teacher", student: .teacher, teacher: nil, transfersAttention: false)
  /// The teacher with CBAM, trained with cross-entropy; the RAB-KD teacher.
  public static let teacherAtt = Configuration(
    name: "teacher-att", student: .teacherAtt, teacher: nil, transfersAttention: false)
  /// The moderate model, trained with cross-entropy.
  public static let mm = Configuration(
    name: "MM", student: .mm, teacher: nil, transfersAttention: false)
  /// The lightweight student, trained with cross-entropy: the baseline every claim is measured against.
  public static let lm = Configuration(
    name: "LM", student: .lm, teacher: nil, transfersAttention: false)
  /// The student distilled from the teacher's soft predictions (response-based KD).
  public static let rbKD = Configuration(
    name: "RB-KD", student: .lm, teacher: .teacher, transfersAttention: false)
  /// The student with CBAM, trained with cross-entropy.
  public static let lmAtt = Configuration(
    name: "LM-Att", student: .lmAtt, teacher: nil, transfersAttention: false)
  /// The CBAM student distilled from the teacher's soft predictions.
  public static let rbKDAtt = Configuration(
    name: "RB-KD-Att", student: .lmAtt, teacher: .teacher, transfersAttention: false)
  /// The CBAM student distilled from the CBAM teacher's soft predictions and attention maps.
  public static let rabKD = Configuration(
    name: "RAB-KD", student: .lmAtt, teacher: .teacherAtt, transfersAttention: true)

  /// All eight, in the study's order: teachers, MM, then the students.
  public static let all: [Configuration] = [
    teacher, teacherAtt, mm, lm, rbKD, lmAtt, rbKDAtt, rabKD,
  ]

  /// The configuration called `name` (exact, case-sensitive), if any.
  public static func named(_ name: String) -> Configuration? { all.first { $0.name == name } }
}
