/// Training and test windows of one data set, split by subject, plus what a lenient load skipped.
///
/// Every loader checks, before returning a split, that both parts have windows and that no
/// subject has windows in both (``requireDisjointSubjects(trainSource:testSource:)``); the one
/// exception is ``Opportunity``, whose challenge split is by recording session and shares
/// subjects 2 and 3 between its parts by definition.
public struct TrainTestSplit: Sendable, Equatable {
  /// The windows to train (and validate) on.
  public var train: LabeledWindows
  /// The held-out windows.
  public var test: LabeledWindows
  /// The records a lenient load skipped, one error naming `path:line` each; empty otherwise.
  public var skipped: [DatasetError]

  /// A split from its parts.
  public init(train: LabeledWindows, test: LabeledWindows, skipped: [DatasetError] = []) {
    self.train = train
    self.test = test
    self.skipped = skipped
  }

  /// Throws unless no subject has windows in both `train` and `test`.
  ///
  /// A subject in both parts lets a model be tested on the person it was trained on, which
  /// inflates every test score; a split made by ``LabeledWindows/split(testSubjects:)`` is
  /// disjoint by construction, one read from files (UCI HAR's `subject_train.txt` and
  /// `subject_test.txt`) or assembled by hand need not be.
  /// - Parameters:
  ///   - trainSource: What the training subjects come from, for the message (e.g. a path).
  ///   - testSource: What the test subjects come from.
  /// - Throws: ``DatasetError/subjectOverlap(source:otherSource:subjects:)`` naming `testSource`,
  ///   `trainSource` and the shared subjects.
  public func requireDisjointSubjects(
    trainSource: String = "training part", testSource: String = "test part"
  ) throws(DatasetError) {
    let shared = Set(train.subjects).intersection(test.subjects)
    guard shared.isEmpty else {
      throw .subjectOverlap(
        source: testSource, otherSource: trainSource, subjects: shared.sorted())
    }
  }

  /// One line per part: window count, subjects and the count of each class.
  public var summary: String {
    func line(_ name: String, _ windows: LabeledWindows) -> String {
      let counts = zip(windows.classNames, windows.classCounts()).map { "\($0) \($1)" }
      return "\(name): \(windows.count) windows, \(windows.subjectIDs.count) subjects; "
        + counts.joined(separator: ", ")
    }
    return line("train", train) + "\n" + line("test", test)
  }
}

/// One fold of leave-one-subject-out cross-validation.
public struct SubjectFold: Sendable, Equatable {
  /// The subject held out.
  public var subject: Int
  /// The windows of every other subject.
  public var train: LabeledWindows
  /// The windows of `subject`.
  public var test: LabeledWindows
}

/// The official subject lists of the public data sets, as their authors or the usual benchmarks
/// split them.
public enum SubjectLists {
  /// The test volunteers of UCI HAR, and so of UCI HAPT (the same 30 people).
  public static let uciHARTest = [2, 4, 9, 10, 12, 13, 18, 20, 24]
  /// The test users of WISDM v1.1.
  public static let wisdmTest = Array(27...36)
}

extension LabeledWindows {
  /// The windows whose subject is in `subjects`, in their original order.
  public func filtered(subjects kept: Set<Int>) -> LabeledWindows {
    selecting(subjects.indices.filter { kept.contains(subjects[$0]) })
  }

  /// Splits by subject: windows of `testSubjects` go to `test`, all others to `train`.
  public func split(testSubjects: some Sequence<Int>) -> TrainTestSplit {
    let test = Set(testSubjects)
    return TrainTestSplit(
      train: selecting(subjects.indices.filter { !test.contains(subjects[$0]) }),
      test: selecting(subjects.indices.filter { test.contains(subjects[$0]) }))
  }

  /// Holds out about `fraction` of the subjects, chosen by `seed`, as a subject-disjoint
  /// validation part, without regard to classes.
  ///
  /// The subjects are shuffled with a generator seeded by `seed` and the first
  /// `max(1, round(fraction * subjects))` go to validation, so the same seed always picks the
  /// same people. Nothing ensures that every class reaches the validation part: a class missing
  /// there silently caps its macro-F1. Prefer
  /// ``stratifiedValidationSplit(fraction:seed:missingClasses:)``, which picks subjects so that
  /// both parts hold every class when possible and reports when not.
  /// - Throws: ``DatasetError/invalidOption(name:value:expected:)`` if `fraction` is not in
  ///   `0 < fraction < 1` or there are fewer than two subjects.
  public func validationSplit(
    fraction: Double = 0.2, seed: UInt64
  ) throws(DatasetError) -> (train: LabeledWindows, validation: LabeledWindows) {
    let count = try validationCount(fraction: fraction)
    var ids = subjectIDs
    var generator = SplitMix64(seed: seed)
    Self.shuffle(&ids, &generator)
    let held = Set(ids.prefix(count))
    return (
      selecting(subjects.indices.filter { !held.contains(subjects[$0]) }),
      selecting(subjects.indices.filter { held.contains(subjects[$0]) })
    )
  }

  /// The number of subjects a validation part of `fraction` holds:
  /// `max(1, round(fraction * subjects))`, leaving at least one for training.
  func validationCount(fraction: Double) throws(DatasetError) -> Int {
    guard fraction > 0, fraction < 1 else {
      throw .invalidOption(
        name: "validation fraction", value: "\(fraction)", expected: "a number in (0, 1)")
    }
    let ids = subjectIDs
    guard ids.count >= 2 else {
      throw .invalidOption(
        name: "validation subjects", value: "\(ids)", expected: "at least two subjects")
    }
    return Swift.min(ids.count - 1, Swift.max(1, Int((fraction * Double(ids.count)).rounded())))
  }

  /// Fisher–Yates with our own generator, not `shuffle(using:)`, whose algorithm the standard
  /// library may change: the same seed must pick the same people on every toolchain.
  static func shuffle(_ ids: inout [Int], _ generator: inout SplitMix64) {
    for i in stride(from: ids.count - 1, to: 0, by: -1) {
      ids.swapAt(i, Int(generator.next() % UInt64(i + 1)))
    }
  }

  /// One fold per subject, in ascending subject order, each holding that subject out.
  public func leaveOneSubjectOutFolds() -> [SubjectFold] {
    subjectIDs.map { subject in
      SubjectFold(
        subject: subject,
        train: selecting(subjects.indices.filter { subjects[$0] != subject }),
        test: selecting(subjects.indices.filter { subjects[$0] == subject }))
    }
  }
}
