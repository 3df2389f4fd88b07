/// What a validation split does when a class of the data has no window in one of its parts, or
/// the data has a single class.
///
/// A class missing from the validation part caps its macro-F1 there without any sign in the
/// numbers (its F1 is 0 or undefined); a class missing from the training part cannot be learnt.
public enum MissingClassPolicy: Sendable, Equatable {
  /// Throw ``DatasetError/missingClasses(source:part:classes:)`` listing the missing classes by
  /// name, or ``DatasetError/singleClass(source:part:className:)``.
  case refuse
  /// Return the split anyway, with one human-readable line per problem in
  /// ``ValidationSplit/warnings``.
  case warn
}

/// A training set divided by subject into a part to train on and a part to validate on (early
/// stopping, model selection), with the problems a ``MissingClassPolicy/warn`` split let pass.
public struct ValidationSplit: Sendable, Equatable {
  /// The windows to train on: those of every subject not in ``validationSubjects``.
  public var train: LabeledWindows
  /// The windows of ``validationSubjects``.
  public var validation: LabeledWindows
  /// The subjects held out for validation, ascending.
  public var validationSubjects: [Int]
  /// One line per class missing from a part, or for data of a single class, under
  /// ``MissingClassPolicy/warn``; empty when every class is in both parts.
  public var warnings: [String]

  /// A split from its parts.
  public init(
    train: LabeledWindows, validation: LabeledWindows, validationSubjects: [Int],
    warnings: [String] = []
  ) {
    self.train = train
    self.validation = validation
    self.validationSubjects = validationSubjects
    self.warnings = warnings
  }
}

extension LabeledWindows {
  /// Holds out about `fraction` of the subjects as a validation part, chosen by `seed` so that
  /// every class of these windows has windows in both parts when at all possible.
  ///
  /// The validation part holds `max(1, round(fraction * subjects))` whole subjects (at least one
  /// is left for training), as ``validationSplit(fraction:seed:)`` does. Up to 64 seeded draws
  /// are made; each shuffles the subjects, then takes, for each class from the rarest (fewest
  /// subjects) to the most common, the first subject in shuffled order that has the class
  /// while leaving another subject with each of its classes for training, and then fills up in
  /// shuffled order (subjects that would take a class's last training subject come last). The
  /// first draw that puts every class in both parts is kept, otherwise the draw missing the
  /// fewest; the same windows and seed always give the same split.
  ///
  /// What cannot be covered (a class recorded from one subject only, more rare classes than
  /// validation subjects, data of one class) is handled by `policy`.
  /// - Parameters:
  ///   - fraction: The share of subjects to hold out, in `0 < fraction < 1`.
  ///   - seed: Picks the subjects.
  ///   - policy: Whether a class missing from a part, or data of a single class, throws or is
  ///     reported in ``ValidationSplit/warnings``.
  /// - Throws: ``DatasetError/invalidOption(name:value:expected:)`` for a `fraction` outside
  ///   `(0, 1)` or fewer than two subjects; under ``MissingClassPolicy/refuse``,
  ///   ``DatasetError/singleClass(source:part:className:)`` or
  ///   ``DatasetError/missingClasses(source:part:classes:)``.
  public func stratifiedValidationSplit(
    fraction: Double = 0.2, seed: UInt64, missingClasses policy: MissingClassPolicy = .refuse
  ) throws(DatasetError) -> ValidationSplit {
    let count = try validationCount(fraction: fraction)
    let classes = classesBySubject()
    let present = Set(labels)
    var generator = SplitMix64(seed: seed)
    var best: (held: Set<Int>, missing: Int)?
    for _ in 0..<64 {
      var order = subjectIDs
      Self.shuffle(&order, &generator)
      let held = Self.draw(order: order, count: count, classes: classes, present: present)
      var validationClasses = Set<Int>()
      var trainingClasses = Set<Int>()
      for (subject, its) in classes {
        if held.contains(subject) {
          validationClasses.formUnion(its)
        } else {
          trainingClasses.formUnion(its)
        }
      }
      let missing =
        present.subtracting(validationClasses).count + present.subtracting(trainingClasses).count
      if best.map({ missing < $0.missing }) ?? true { best = (held, missing) }
      if missing == 0 { break }
    }
    return try finishValidationSplit(
      held: best?.held ?? [], source: "stratified validation split", policy: policy)
  }

  /// Holds out the windows of the given subjects as the validation part, e.g. UCI HAPT's
  /// volunteers 25–30.
  ///
  /// - Parameters:
  ///   - validationSubjects: The subjects to validate on; each must have windows here.
  ///   - testSubjects: The subjects of the test part, which validation must not touch.
  ///   - policy: Whether a class missing from a part, or data of a single class, throws or is
  ///     reported in ``ValidationSplit/warnings``.
  /// - Throws: ``DatasetError/subjectOverlap(source:otherSource:subjects:)`` for validation
  ///   subjects among `testSubjects`, ``DatasetError/noWindows(source:reason:)`` for validation
  ///   subjects without windows, for no validation subject, or when no subject is left to
  ///   train on; under ``MissingClassPolicy/refuse``,
  ///   ``DatasetError/singleClass(source:part:className:)`` or
  ///   ``DatasetError/missingClasses(source:part:classes:)``.
  public func validationSplit(
    subjects validationSubjects: some Sequence<Int>, testSubjects: some Sequence<Int>,
    missingClasses policy: MissingClassPolicy = .refuse
  ) throws(DatasetError) -> ValidationSplit {
    let held = Set(validationSubjects)
    let source = "validation subjects"
    let shared = held.intersection(testSubjects)
    guard shared.isEmpty else {
      throw .subjectOverlap(source: source, otherSource: "test subjects", subjects: shared.sorted())
    }
    guard !held.isEmpty else {
      throw .noWindows(source: source, reason: "no validation subject given")
    }
    let known = Set(subjects)
    let absent = held.subtracting(known).sorted()
    guard absent.isEmpty else {
      throw .noWindows(
        source: source,
        reason: "no window of \(absent.count == 1 ? "subject" : "subjects") "
          + absent.map(String.init).joined(separator: ", "))
    }
    guard !known.subtracting(held).isEmpty else {
      throw .noWindows(
        source: source, reason: "every subject is a validation subject; none is left to train on")
    }
    return try finishValidationSplit(held: held, source: "validation split", policy: policy)
  }

  /// The classes each subject has windows of.
  func classesBySubject() -> [Int: Set<Int>] {
    var result: [Int: Set<Int>] = [:]
    for (subject, label) in zip(subjects, labels) { result[subject, default: []].insert(label) }
    return result
  }

  /// One greedy draw of `count` validation subjects from `order` (see
  /// ``stratifiedValidationSplit(fraction:seed:missingClasses:)``).
  static func draw(
    order: [Int], count: Int, classes: [Int: Set<Int>], present: Set<Int>
  ) -> Set<Int> {
    var held = Set<Int>()
    var covered = Set<Int>()
    // How many subjects not (yet) held have each class.
    var left: [Int: Int] = [:]
    for subject in order {
      for label in classes[subject, default: []] { left[label, default: 0] += 1 }
    }
    func keepsTraining(_ subject: Int) -> Bool {
      classes[subject, default: []].allSatisfy { left[$0, default: 0] > 1 }
    }
    func hold(_ subject: Int) {
      held.insert(subject)
      for label in classes[subject, default: []] {
        left[label, default: 0] -= 1
        covered.insert(label)
      }
    }
    // Rarest classes first: they have the fewest subjects to choose from.
    let rarestFirst = present.sorted { (left[$0, default: 0], $0) < (left[$1, default: 0], $1) }
    for label in rarestFirst where held.count < count && !covered.contains(label) {
      if let subject = order.first(where: {
        !held.contains($0) && classes[$0, default: []].contains(label) && keepsTraining($0)
      }) {
        hold(subject)
      }
    }
    for subject in order where held.count < count && !held.contains(subject) {
      if keepsTraining(subject) { hold(subject) }
    }
    for subject in order where held.count < count && !held.contains(subject) { hold(subject) }
    return held
  }

  /// Splits off the windows of `held` and applies `policy` to the classes of both parts.
  func finishValidationSplit(
    held: Set<Int>, source: String, policy: MissingClassPolicy
  ) throws(DatasetError) -> ValidationSplit {
    let train = selecting(subjects.indices.filter { !held.contains(subjects[$0]) })
    let validation = selecting(subjects.indices.filter { held.contains(subjects[$0]) })
    let present = Set(labels).sorted()
    var problems: [DatasetError] = []
    if present.count == 1 {
      problems.append(
        .singleClass(source: source, part: "training", className: classNames[present[0]]))
    }
    for (name, part) in [("validation", validation), ("training", train)] {
      let found = Set(part.labels)
      let missing = present.filter { !found.contains($0) }
      if !missing.isEmpty {
        problems.append(
          .missingClasses(source: source, part: name, classes: missing.map { classNames[$0] }))
      }
    }
    if policy == .refuse, let first = problems.first { throw first }
    return ValidationSplit(
      train: train, validation: validation, validationSubjects: held.sorted(),
      warnings: problems.map(\.description))
  }
}

extension TrainTestSplit {
  /// Holds out the training windows of `validationSubjects` as the validation part; see
  /// ``LabeledWindows/validationSplit(subjects:testSubjects:missingClasses:)``, called with the
  /// subjects of ``test`` as the test subjects.
  ///
  /// - Throws: What that method throws, e.g. for a validation subject that is a test subject.
  public func validationSplit(
    subjects validationSubjects: some Sequence<Int>,
    missingClasses policy: MissingClassPolicy = .refuse
  ) throws(DatasetError) -> ValidationSplit {
    try train.validationSplit(
      subjects: validationSubjects, testSubjects: test.subjectIDs, missingClasses: policy)
  }
}
