import Datasets
import Testing

/// One single-sample window per `(subject, label)` pair.
private func windows(_ pairs: [(subject: Int, label: Int)], classNames: [String])
  -> LabeledWindows
{
  LabeledWindows(
    values: pairs.indices.map(Float.init), shape: [pairs.count, 1, 1],
    labels: pairs.map(\.label), subjects: pairs.map(\.subject), classNames: classNames)
}

private let names = ["common", "rare", "other"]

/// Subjects 1–10 with classes 0 and 2; class 1 only in `rareSubjects`.
private func tenSubjects(rareSubjects: Set<Int>) -> LabeledWindows {
  var pairs: [(subject: Int, label: Int)] = []
  for subject in 1...10 {
    pairs += [(subject, 0), (subject, 2), (subject, 0)]
    if rareSubjects.contains(subject) { pairs.append((subject, 1)) }
  }
  return windows(pairs, classNames: names)
}

@Suite("Stratified and explicit validation splits")
struct ValidationSplitTests {
  @Test func stratifiedSplitKeepsEveryClassInBothParts() throws {
    let data = tenSubjects(rareSubjects: [3, 7])
    // The plain split leaves the rare class out of validation for some seed.
    let seed = try #require(
      (0..<100).map(UInt64.init).first { seed in
        let plain = try? data.validationSplit(fraction: 0.2, seed: seed)
        return plain.map { !$0.validation.labels.contains(1) } ?? false
      })
    let split = try data.stratifiedValidationSplit(fraction: 0.2, seed: seed)
    #expect(split.validationSubjects.count == 2)
    #expect(Set(split.validation.labels) == [0, 1, 2])
    #expect(Set(split.train.labels) == [0, 1, 2])
    #expect(split.warnings.isEmpty)
    #expect(Set(split.train.subjects).isDisjoint(with: split.validation.subjects))
    #expect(split.train.count + split.validation.count == data.count)
    #expect(try data.stratifiedValidationSplit(fraction: 0.2, seed: seed) == split)
    for other in UInt64(0)..<50 {
      let again = try data.stratifiedValidationSplit(fraction: 0.2, seed: other)
      #expect(Set(again.validation.labels).contains(1), "seed \(other)")
      #expect(Set(again.train.labels).contains(1), "seed \(other)")
    }
  }

  @Test func classOfOneSubjectIsRefusedOrWarned() throws {
    let data = tenSubjects(rareSubjects: [3])
    let missing = DatasetError.missingClasses(
      source: "stratified validation split", part: "validation", classes: ["rare"])
    #expect(throws: missing) { try data.stratifiedValidationSplit(fraction: 0.3, seed: 1) }
    let split = try data.stratifiedValidationSplit(
      fraction: 0.3, seed: 1, missingClasses: .warn)
    #expect(split.warnings == [missing.description])
    #expect(split.train.labels.contains(1))
    #expect(
      missing.description
        == "stratified validation split: expected a window of every class in the validation "
        + "part, found none of rare")
  }

  @Test func singleClassIsRefusedOrWarned() throws {
    let data = windows((1...5).map { ($0, 0) }, classNames: ["a", "b"])
    let single = DatasetError.singleClass(
      source: "stratified validation split", part: "training", className: "a")
    #expect(throws: single) { try data.stratifiedValidationSplit(seed: 0) }
    let split = try data.stratifiedValidationSplit(seed: 0, missingClasses: .warn)
    #expect(split.warnings == [single.description])
    #expect(split.validationSubjects.count == 1)
  }

  @Test func explicitValidationSubjects() throws {
    let data = windows(
      (1...30).flatMap { [($0, 0), ($0, 1)] }, classNames: ["walk", "sit"])
    let split = data.split(testSubjects: SubjectLists.uciHARTest)
    let parts = try split.validationSplit(subjects: 25...30)
    #expect(parts.validationSubjects == Array(25...30))
    #expect(parts.validation.subjectIDs == Array(25...30))
    #expect(parts.train.subjectIDs.allSatisfy { !(25...30).contains($0) })
    #expect(parts.train.count + parts.validation.count == split.train.count)

    #expect(
      throws: DatasetError.subjectOverlap(
        source: "validation subjects", otherSource: "test subjects", subjects: [24])
    ) { try split.validationSplit(subjects: [24, 25]) }
    #expect(
      throws: DatasetError.noWindows(
        source: "validation subjects", reason: "no window of subjects 31, 32")
    ) { try split.validationSplit(subjects: [25, 31, 32]) }
    #expect(
      throws: DatasetError.noWindows(
        source: "validation subjects",
        reason: "every subject is a validation subject; none is left to train on")
    ) { try split.test.validationSplit(subjects: split.test.subjectIDs, testSubjects: []) }

    // Subject 25 without "sit": refused, or returned with a warning.
    let uneven = data.selecting(
      data.labels.indices.filter { data.subjects[$0] != 25 || data.labels[$0] == 0 })
    let missing = DatasetError.missingClasses(
      source: "validation split", part: "validation", classes: ["sit"])
    #expect(throws: missing) {
      try uneven.validationSplit(subjects: [25], testSubjects: SubjectLists.uciHARTest)
    }
    let warned = try uneven.validationSplit(
      subjects: [25], testSubjects: SubjectLists.uciHARTest, missingClasses: .warn)
    #expect(warned.warnings == [missing.description])
  }
}
