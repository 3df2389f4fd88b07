/// A per-channel z-score, `(x - mean[c]) / standardDeviation[c]`, fitted on training windows only.
///
/// Fit it on the training split and apply the same instance to validation and test windows, so
/// nothing about held-out subjects leaks into training.
public struct ChannelStandardizer: Sendable, Equatable, Codable {
  /// The mean of each channel.
  public var mean: [Float]
  /// The population standard deviation of each channel; 1 where a channel is constant.
  public var standardDeviation: [Float]

  /// A standardizer with the given statistics, one entry per channel.
  public init(mean: [Float], standardDeviation: [Float]) {
    precondition(
      mean.count == standardDeviation.count,
      "ChannelStandardizer: \(mean.count) means but \(standardDeviation.count) deviations")
    self.mean = mean
    self.standardDeviation = standardDeviation
  }

  /// Fits the mean and standard deviation of every channel over all samples of `windows`.
  ///
  /// Sums are accumulated in `Double` (two passes), so millions of samples lose no precision.
  /// A channel whose deviation is below 1e-12 (constant, or no windows) gets deviation 1.
  public init(fittedTo windows: LabeledWindows) {
    let channels = windows.channelCount
    let samples = windows.count * windows.length
    var sum = [Double](repeating: 0, count: channels)
    for (i, value) in windows.values.enumerated() { sum[i % channels] += Double(value) }
    let mean = sum.map { samples > 0 ? $0 / Double(samples) : 0 }
    var squares = [Double](repeating: 0, count: channels)
    for (i, value) in windows.values.enumerated() {
      let d = Double(value) - mean[i % channels]
      squares[i % channels] += d * d
    }
    let deviation = squares.map { samples > 0 ? ($0 / Double(samples)).squareRoot() : 0 }
    self.init(
      mean: mean.map { Float($0) },
      standardDeviation: deviation.map { $0 < 1e-12 ? 1 : Float($0) })
  }

  /// Standardizes every sample of `windows` in place.
  public func standardize(_ windows: inout LabeledWindows) {
    let channels = windows.channelCount
    precondition(
      channels == mean.count,
      "ChannelStandardizer: fitted on \(mean.count) channels, applied to \(channels)")
    let scale = standardDeviation.map { 1 / $0 }
    windows.values.withUnsafeMutableBufferPointer { values in
      var i = 0
      while i < values.count {
        for c in 0..<channels { values[i + c] = (values[i + c] - mean[c]) * scale[c] }
        i += channels
      }
    }
  }

  /// A standardized copy of `windows`.
  public func standardized(_ windows: LabeledWindows) -> LabeledWindows {
    var copy = windows
    standardize(&copy)
    return copy
  }
}

extension TrainTestSplit {
  /// The split with every part standardized by a ``ChannelStandardizer`` fitted on `train` only,
  /// and that standardizer (keep it to standardize new data the same way).
  ///
  /// If you hold validation subjects out of `train`, split them off first and fit a
  /// ``ChannelStandardizer`` on the remaining training part instead, so that the validation
  /// subjects do not shape the z-score either.
  public func standardized() -> (split: TrainTestSplit, standardizer: ChannelStandardizer) {
    let standardizer = ChannelStandardizer(fittedTo: train)
    var result = self
    standardizer.standardize(&result.train)
    standardizer.standardize(&result.test)
    return (result, standardizer)
  }
}
