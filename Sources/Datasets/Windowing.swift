/// One continuous recording: samples of several channels with a class label per sample.
///
/// `values` is row-major `[time, channels]`. Samples outside every labelled activity carry
/// ``unlabeled``; they never become the label of a window.
public struct LabeledStream: Sendable, Equatable {
  /// The label of a sample that belongs to no class.
  public static let unlabeled = -1

  /// The samples, `sampleCount * channelCount` of them, channels fastest.
  public var values: [Float]
  /// The number of channels per sample.
  public var channelCount: Int
  /// The class index of each sample, or ``unlabeled``.
  public var labels: [Int]
  /// The subject the recording comes from.
  public var subject: Int
  /// The time of each sample in the data set's unit (e.g. nanoseconds), or nil if it has none.
  public var timestamps: [Int64]?

  /// A recording from its parts; stops the program if their lengths disagree.
  public init(
    values: [Float], channelCount: Int, labels: [Int], subject: Int, timestamps: [Int64]? = nil
  ) {
    precondition(
      channelCount > 0 && values.count == labels.count * channelCount,
      "LabeledStream: \(labels.count) samples of \(channelCount) channels need "
        + "\(labels.count * channelCount) values, found \(values.count)")
    precondition(
      timestamps.map { $0.count == labels.count } ?? true,
      "LabeledStream: \(labels.count) samples need as many timestamps, found "
        + "\(timestamps?.count ?? 0)")
    self.values = values
    self.channelCount = channelCount
    self.labels = labels
    self.subject = subject
    self.timestamps = timestamps
  }

  /// The number of samples.
  public var sampleCount: Int { labels.count }

  /// The ranges of samples between which no timestamp gap exceeds `maxGap`.
  ///
  /// A new session starts wherever the time advances by more than `maxGap` or does not advance
  /// at all (a repeated or backward timestamp). Without timestamps the whole stream is one
  /// session.
  public func sessions(maxGap: Int64) -> [Range<Int>] {
    guard let timestamps, !timestamps.isEmpty else {
      return sampleCount == 0 ? [] : [0..<sampleCount]
    }
    var result: [Range<Int>] = []
    var start = 0
    for i in 1..<timestamps.count {
      let step = timestamps[i] &- timestamps[i - 1]
      if step <= 0 || step > maxGap {
        result.append(start..<i)
        start = i
      }
    }
    result.append(start..<timestamps.count)
    return result
  }
}

/// How continuous streams are cut into windows.
public struct WindowingOptions: Sendable, Equatable {
  /// Which label a window that spans several labels gets.
  public enum LabelRule: Sendable, Equatable {
    /// The label of the window's last sample (Opportunity's convention).
    case lastSample
    /// The most frequent label in the window; ties go to the smaller class index.
    case majority
  }

  /// What happens to windows that cross a label boundary.
  public enum Boundaries: Sendable, Equatable {
    /// Windows lie inside one labelled segment; each segment is windowed from its first sample.
    case drop
    /// Windows run on a fixed grid over each session and get a label by the ``LabelRule``.
    case keep
  }

  /// Time steps per window.
  public var length: Int
  /// Time steps between the starts of consecutive windows.
  public var step: Int
  /// The label of a window that spans several labels (only with ``Boundaries/keep``).
  public var labelRule: LabelRule
  /// Whether windows across label boundaries are dropped or kept.
  public var boundaries: Boundaries
  /// The largest timestamp step inside one session; nil ignores timestamps.
  public var maxGap: Int64?

  /// Options for windows of `length` samples every `step` samples.
  public init(
    length: Int, step: Int, labelRule: LabelRule = .lastSample, boundaries: Boundaries = .drop,
    maxGap: Int64? = nil
  ) {
    self.length = length
    self.step = step
    self.labelRule = labelRule
    self.boundaries = boundaries
    self.maxGap = maxGap
  }

  /// Throws ``DatasetError/invalidOption(name:value:expected:)`` for a length or step below 1.
  func validate() throws(DatasetError) {
    guard length > 0 else {
      throw .invalidOption(name: "window length", value: "\(length)", expected: "at least 1")
    }
    guard step > 0 else {
      throw .invalidOption(name: "window step", value: "\(step)", expected: "at least 1")
    }
    if let maxGap, maxGap <= 0 {
      throw .invalidOption(name: "session gap", value: "\(maxGap)", expected: "at least 1")
    }
  }
}

extension LabeledWindows {
  /// Cuts `streams` into windows, in stream order and time order within each stream.
  ///
  /// Each stream is first split into sessions on timestamp gaps (if `options.maxGap` is set).
  /// With ``WindowingOptions/Boundaries/drop`` every run of one label is windowed from its first
  /// sample and a window never crosses a label change; with ``WindowingOptions/Boundaries/keep``
  /// windows start every `step` samples from the session's start and take the label the rule
  /// picks. Windows whose label would be ``LabeledStream/unlabeled`` are skipped.
  ///
  /// - Returns: Windows shaped `[windows, options.length, channels]`; possibly none.
  /// - Throws: ``DatasetError/invalidOption(name:value:expected:)`` for a bad option, streams
  ///   with different channel counts, or a label that is neither unlabelled nor a class index.
  public init(
    windowing streams: [LabeledStream], options: WindowingOptions, classNames: [String]
  ) throws(DatasetError) {
    try options.validate()
    let channels = streams.first?.channelCount ?? 0
    if let other = streams.first(where: { $0.channelCount != channels }) {
      throw .invalidOption(
        name: "stream channels", value: "\(other.channelCount)",
        expected: "\(channels) like the first stream")
    }
    for stream in streams {
      if let bad = stream.labels.first(where: { $0 < -1 || $0 >= classNames.count }) {
        throw .invalidOption(
          name: "stream label", value: "\(bad)",
          expected: "\(LabeledStream.unlabeled) or a class index in 0..<\(classNames.count)")
      }
    }
    let length = options.length
    var values: [Float] = []
    var labels: [Int] = []
    var subjects: [Int] = []
    var counts = [Int](repeating: 0, count: classNames.count + 1)
    for stream in streams {
      let sessions =
        options.maxGap.map { stream.sessions(maxGap: $0) }
        ?? (stream.sampleCount == 0 ? [] : [0..<stream.sampleCount])
      func emit(_ start: Int, _ label: Int) {
        values += stream.values[start * channels..<(start + length) * channels]
        labels.append(label)
        subjects.append(stream.subject)
      }
      for session in sessions {
        switch options.boundaries {
        case .drop:
          var runStart = session.lowerBound
          while runStart < session.upperBound {
            let label = stream.labels[runStart]
            var runEnd = runStart + 1
            while runEnd < session.upperBound, stream.labels[runEnd] == label { runEnd += 1 }
            if label != LabeledStream.unlabeled {
              var start = runStart
              while start + length <= runEnd {
                emit(start, label)
                start += options.step
              }
            }
            runStart = runEnd
          }
        case .keep:
          var start = session.lowerBound
          while start + length <= session.upperBound {
            let label: Int
            switch options.labelRule {
            case .lastSample:
              label = stream.labels[start + length - 1]
            case .majority:
              for i in counts.indices { counts[i] = 0 }
              for t in start..<start + length { counts[stream.labels[t] + 1] += 1 }
              // Index 0 counts unlabelled samples; ties go to the smaller index.
              var best = 0
              for i in counts.indices where counts[i] > counts[best] { best = i }
              label = best - 1
            }
            if label != LabeledStream.unlabeled { emit(start, label) }
            start += options.step
          }
        }
      }
    }
    self.init(
      values: values, shape: [labels.count, length, channels], labels: labels,
      subjects: subjects, classNames: classNames)
  }
}
