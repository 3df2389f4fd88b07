import Datasets
import Testing

/// One channel whose value is the sample index, with the given labels.
private func stream(_ labels: [Int], subject: Int = 1, timestamps: [Int64]? = nil) -> LabeledStream
{
  LabeledStream(
    values: labels.indices.map { Float($0) }, channelCount: 1, labels: labels, subject: subject,
    timestamps: timestamps)
}

private func starts(_ windows: LabeledWindows) -> [Float] {
  (0..<windows.count).map { windows.window($0).first! }
}

@Suite("Windowing")
struct WindowingTests {
  let names = ["a", "b", "c"]

  @Test func dropWindowsEachLabelledSegmentFromItsStart() throws {
    let windows = try LabeledWindows(
      windowing: [stream([0, 0, 0, 0, 1, 1, 1, -1, 2, 2])],
      options: WindowingOptions(length: 2, step: 2), classNames: names)
    #expect(starts(windows) == [0, 2, 4, 8])
    #expect(windows.labels == [0, 0, 1, 2])
    #expect(windows.shape == [4, 2, 1])
    #expect(windows.values == [0, 1, 2, 3, 4, 5, 8, 9])
  }

  @Test func keepLabelsByTheLastSample() throws {
    let windows = try LabeledWindows(
      windowing: [stream([0, 0, 1, 1, 1, 2, -1, 2])],
      options: WindowingOptions(length: 3, step: 2, labelRule: .lastSample, boundaries: .keep),
      classNames: names)
    // Windows at 0, 2, 4 end on labels 1, 1, -1 (skipped); one at 6 would end past the data.
    #expect(starts(windows) == [0, 2])
    #expect(windows.labels == [1, 1])
  }

  @Test func keepLabelsByMajorityWithTiesToTheSmallerClass() throws {
    let windows = try LabeledWindows(
      windowing: [stream([2, 2, 1, 1, 0, 2, -1, -1])],
      options: WindowingOptions(length: 4, step: 2, labelRule: .majority, boundaries: .keep),
      classNames: names)
    // [2 2 1 1] is a tie: class 1. [1 1 0 2]: class 1. [0 2 -1 -1]: unlabelled wins, skipped.
    #expect(starts(windows) == [0, 2])
    #expect(windows.labels == [1, 1])
  }

  @Test func sessionsBreakOnGapsAndBackwardTimestamps() throws {
    let s = stream([0, 0, 0, 0, 0, 0], timestamps: [10, 20, 30, 100, 90, 100])
    #expect(s.sessions(maxGap: 15) == [0..<3, 3..<4, 4..<6])
    let windows = try LabeledWindows(
      windowing: [s], options: WindowingOptions(length: 2, step: 1, maxGap: 15),
      classNames: names)
    #expect(starts(windows) == [0, 1, 4])
  }

  @Test func keepsStreamOrderAndSubjects() throws {
    let windows = try LabeledWindows(
      windowing: [stream([0, 0], subject: 7), stream([1, 1, 1], subject: 3)],
      options: WindowingOptions(length: 2, step: 1), classNames: names)
    #expect(windows.subjects == [7, 3, 3])
    #expect(windows.labels == [0, 1, 1])
  }

  @Test func invalidOptionsAreReported() {
    #expect(
      throws: DatasetError.invalidOption(name: "window length", value: "0", expected: "at least 1")
    ) {
      try LabeledWindows(
        windowing: [stream([0])], options: WindowingOptions(length: 0, step: 1), classNames: names)
    }
    #expect(
      throws: DatasetError.invalidOption(name: "window step", value: "-1", expected: "at least 1")
    ) {
      try LabeledWindows(
        windowing: [stream([0])], options: WindowingOptions(length: 1, step: -1), classNames: names)
    }
  }

  @Test func labelsOutsideTheClassesAreRejected() {
    #expect(
      throws: DatasetError.invalidOption(
        name: "stream label", value: "3", expected: "-1 or a class index in 0..<3")
    ) {
      try LabeledWindows(
        windowing: [stream([0, 3])], options: WindowingOptions(length: 1, step: 1),
        classNames: names)
    }
  }

  @Test func streamsWithDifferentChannelCountsAreRejected() {
    let two = LabeledStream(values: [1, 2], channelCount: 2, labels: [0], subject: 1)
    #expect(
      throws: DatasetError.invalidOption(
        name: "stream channels", value: "2", expected: "1 like the first stream")
    ) {
      try LabeledWindows(
        windowing: [stream([0]), two], options: WindowingOptions(length: 1, step: 1),
        classNames: names)
    }
  }
}

@Suite("Normalization and splits")
struct NormalizationAndSplitTests {
  /// Four windows of 2 steps × 2 channels from subjects 1, 1, 2, 3.
  let windows = LabeledWindows(
    values: [
      1, 10, 3, 10,
      5, 10, 7, 10,
      0, 0, 0, 0,
      2, 20, 2, 20,
    ],
    shape: [4, 2, 2], labels: [0, 1, 1, 2], subjects: [1, 1, 2, 3], classNames: ["a", "b", "c"])

  @Test func zScoreIsFittedOnTrainingSubjectsOnly() {
    let split = windows.split(testSubjects: [2, 3])
    #expect(split.train.subjects == [1, 1])
    #expect(split.test.subjects == [2, 3])
    let (standardized, standardizer) = split.standardized()
    // Channel 0 of the training part is 1, 3, 5, 7: mean 4, population deviation √5.
    #expect(standardizer.mean == [4, 10])
    #expect(standardizer.standardDeviation == [Float(5).squareRoot(), 1])
    #expect(standardized.train.values[0] == (1 - 4) / Float(5).squareRoot())
    #expect(standardized.train.values[1] == 0)
    #expect(standardized.test.values[0] == -4 / Float(5).squareRoot())
    #expect(standardized.test.values[5] == 10)
  }

  @Test func classCountsAndSubjects() {
    #expect(windows.classCounts() == [1, 2, 1])
    #expect(windows.subjectIDs == [1, 2, 3])
    #expect(windows.filtered(subjects: [1]).labels == [0, 1])
  }

  @Test func validationPartIsSubjectDisjointAndSeeded() throws {
    let many = LabeledWindows(
      values: (0..<20).map(Float.init), shape: [20, 1, 1], labels: [Int](repeating: 0, count: 20),
      subjects: (0..<20).map { $0 / 2 }, classNames: ["a"])
    let (train, validation) = try many.validationSplit(fraction: 0.3, seed: 7)
    #expect(validation.subjectIDs.count == 3)
    #expect(train.subjectIDs.count == 7)
    #expect(Set(train.subjectIDs).isDisjoint(with: validation.subjectIDs))
    #expect(train.count + validation.count == 20)
    let again = try many.validationSplit(fraction: 0.3, seed: 7)
    #expect(again.validation == validation)
  }

  @Test func validationNeedsTwoSubjectsAndAFraction() {
    #expect(
      throws: DatasetError.invalidOption(
        name: "validation fraction", value: "1.0", expected: "a number in (0, 1)")
    ) { try windows.validationSplit(fraction: 1, seed: 0) }
    #expect(
      throws: DatasetError.invalidOption(
        name: "validation subjects", value: "[1]", expected: "at least two subjects")
    ) { try windows.filtered(subjects: [1]).validationSplit(seed: 0) }
  }

  @Test func leaveOneSubjectOutHasOneFoldPerSubject() {
    let folds = windows.leaveOneSubjectOutFolds()
    #expect(folds.map(\.subject) == [1, 2, 3])
    #expect(folds[0].test.labels == [0, 1])
    #expect(folds[0].train.subjects == [2, 3])
    #expect(folds[2].train.values == [1, 10, 3, 10, 5, 10, 7, 10, 0, 0, 0, 0])
  }

  @Test func summaryCountsWindowsAndClasses() {
    let split = windows.split(testSubjects: [3])
    #expect(
      split.summary
        == "train: 3 windows, 2 subjects; a 1, b 2, c 0\ntest: 1 windows, 1 subjects; a 0, b 0, c 1"
    )
  }
}
