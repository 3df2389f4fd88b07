import Datasets
import Testing

/// Per-window features: each channel's mean and standard deviation.
private func features(_ windows: LabeledWindows, _ index: Int) -> [Double] {
  let window = Array(windows.window(index))
  let (time, channels) = (windows.length, windows.channelCount)
  var result: [Double] = []
  for c in 0..<channels {
    let values = (0..<time).map { Double(window[$0 * channels + c]) }
    let mean = values.reduce(0, +) / Double(time)
    let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(time)
    result += [mean, variance.squareRoot()]
  }
  return result
}

/// The test accuracy of a nearest-class-mean classifier on `features`.
private func nearestMeanAccuracy(_ split: TrainTestSplit) -> Double {
  let classes = split.train.classNames.count
  var sums = [[Double]](repeating: [Double](repeating: 0, count: 18), count: classes)
  let counts = split.train.classCounts()
  for i in 0..<split.train.count {
    for (k, f) in features(split.train, i).enumerated() { sums[split.train.labels[i]][k] += f }
  }
  let means = sums.enumerated().map { c, s in s.map { $0 / Double(counts[c]) } }
  var correct = 0
  for i in 0..<split.test.count {
    let f = features(split.test, i)
    let distances = means.map { m in zip(m, f).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) }
    if distances.indices.min(by: { distances[$0] < distances[$1] }) == split.test.labels[i] {
      correct += 1
    }
  }
  return Double(correct) / Double(split.test.count)
}

@Suite("Synthetic")
struct SyntheticTests {
  @Test func isDeterministicForASeed() throws {
    let options = Synthetic.Options(subjects: 3, windowsPerActivity: 2)
    let a = try Synthetic.generate(options, seed: 42)
    let b = try Synthetic.generate(options, seed: 42)
    let c = try Synthetic.generate(options, seed: 43)
    #expect(a == b)
    #expect(a.values != c.values)
    #expect(a.shape == [36, 128, 9])
    #expect(a.labels == (0..<3).flatMap { _ in (0..<6).flatMap { [$0, $0] } })
    #expect(a.subjects == (1...3).flatMap { [Int](repeating: $0, count: 12) })
    let finite = a.values.allSatisfy { $0.isFinite }
    #expect(finite)
  }

  @Test func subjectsDoNotDependOnHowManyAreGenerated() throws {
    let few = try Synthetic.generate(.init(subjects: 2, windowsPerActivity: 1), seed: 5)
    let more = try Synthetic.generate(.init(subjects: 4, windowsPerActivity: 1), seed: 5)
    #expect(more.filtered(subjects: [1, 2]) == few)
  }

  @Test func gravityFollowsPosture() throws {
    let windows = try Synthetic.generate(
      .init(subjects: 4, windowsPerActivity: 5, transitionFraction: 0, noiseScale: 0), seed: 1)
    // Mean total acceleration of each window: about 1 g in magnitude; laying is not upright.
    for i in 0..<windows.count {
      let window = Array(windows.window(i))
      let mean = (6..<9).map { c in (0..<128).map { Double(window[$0 * 9 + c]) }.reduce(0, +) / 128
      }
      let magnitude = (mean[0] * mean[0] + mean[1] * mean[1] + mean[2] * mean[2]).squareRoot()
      #expect(abs(magnitude - 1) < 0.25, "window \(i): |g| = \(magnitude)")
      if windows.labels[i] == 5 {
        #expect(abs(mean[0]) < 0.5, "laying window \(i): x = \(mean[0])")
      }
      if windows.labels[i] == 4 { #expect(mean[0] > 0.8, "standing window \(i): x = \(mean[0])") }
    }
  }

  @Test func isLearnableButNotTrivial() throws {
    let split = try Synthetic.load()
    #expect(split.train.shape == [5040, 128, 9])
    #expect(split.test.shape == [2160, 128, 9])
    #expect(split.test.subjectIDs == Array(22...30))
    let accuracy = nearestMeanAccuracy(split)
    print("Synthetic: nearest-class-mean on channel means and deviations: \(accuracy)")
    // Far above chance (1/6), far below perfect: sitting/standing and the gaits overlap.
    #expect(accuracy > 0.4 && accuracy < 0.9)
  }

  @Test func invalidOptionsAreReported() {
    #expect(
      throws: DatasetError.invalidOption(
        name: "synthetic sizes", value: "0 1 128",
        expected: "positive subjects, windows per activity and length")
    ) { try Synthetic.generate(.init(subjects: 0, windowsPerActivity: 1), seed: 0) }
  }
}

@Suite("Data set ids")
struct DatasetIDTests {
  @Test func idsMatchTheDesign() {
    #expect(
      DatasetID.allCases.map(\.rawValue)
        == ["uci-har", "uci-hapt", "wisdm", "wisdm-watch", "opportunity", "csv", "synthetic"])
    #expect(DatasetID.allCases.map(\.channelCount) == [9, 6, 3, 6, 113, nil, 9])
  }

  @Test func syntheticLoadsWithoutFiles() throws {
    let split = try DatasetID.synthetic.load(from: "")
    #expect(split == (try Synthetic.load()))
  }

  @Test func csvNeedsALayout() {
    #expect(
      throws: DatasetError.invalidOption(
        name: "dataset", value: "csv",
        expected: "a column layout: call CSV.load(_:layout:windowing:) and split by subject")
    ) { try DatasetID.csv.load(from: "x.csv") }
  }

  @Test func missingFolderNamesTheLayout() {
    #expect(throws: DatasetError.missing(path: "/nonexistent/RawData", expected: HAPT.layout)) {
      try DatasetID(rawValue: "uci-hapt")?.load(from: "/nonexistent")
    }
  }
}
