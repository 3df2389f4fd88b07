import Foundation
import Tensor

/// One window's prediction from a ``StreamingRecognizer``.
public struct StreamingPrediction: Sendable, Equatable {
  /// The index of the window's last sample, counted from the first sample appended (or since
  /// ``StreamingRecognizer/reset()``).
  public var lastSample: Int
  /// The model's class probabilities for the window (the softmax of its logits).
  public var probabilities: [Float]
  /// The arg-max of ``probabilities``: the unsmoothed label.
  public var rawLabel: Int
  /// The smoothed label, or `nil` (unknown) when its confidence is below the recognizer's
  /// ``StreamingRecognizer/unknownThreshold``.
  public var label: Int?
  /// The smoothed label's confidence (see ``Smoothing`` for what each strategy reports).
  public var confidence: Float

  /// A prediction from its parts.
  public init(
    lastSample: Int, probabilities: [Float], rawLabel: Int, label: Int?, confidence: Float
  ) {
    self.lastSample = lastSample
    self.probabilities = probabilities
    self.rawLabel = rawLabel
    self.label = label
    self.confidence = confidence
  }
}

/// Recognizes activities live: samples go in as they arrive, and every `hop` samples the model
/// classifies the latest window and a smoother turns its probabilities into a stable label.
///
/// ```swift
/// let recognizer = try StreamingRecognizer(
///   model: model, mean: mean, standardDeviation: deviation, windowLength: 128, hop: 16,
///   smoothing: .hiddenMarkov(switchProbability: 0.02))
/// for prediction in try recognizer.append(sample: reading) { show(prediction.label) }
/// ```
///
/// - The model is a trained ``Sequential`` of the CNN family: Conv1D (and a following ReLU),
///   ReLU, MaxPool1D and Dropout, then CBAM, GlobalAvgPool1D or GlobalMaxPool1D, Dense, ReLU,
///   Dropout, and optionally a final Softmax. Its output must be logits `[1, classes]` for a
///   window `[1, windowLength, channels]`.
/// - Windows end at samples `windowLength − 1 + k · hop`. With a hop shorter than the window,
///   the convolutions are not recomputed: each keeps its outputs for the overlap and computes
///   only the steps the new samples change, including the steps near the window's edges that
///   read its zero padding; CBAM, pooling over time and the dense layers run on the whole window
///   every hop. The probabilities equal a full forward pass of the window up to float rounding.
/// - The hop must be a multiple of the product of the model's strides (2 for the reference
///   models' max pooling), so that every window sees the same pooling phase.
/// - Samples are normalized as `(x − mean[c]) · (1 / standardDeviation[c])`, the z-score the
///   model was trained with.
/// - A recognizer keeps buffers and state: it is not thread-safe; use one per stream.
public final class StreamingRecognizer {
  /// Samples per window.
  public let windowLength: Int
  /// Samples between the ends of consecutive windows.
  public let hop: Int
  /// Channels per sample.
  public var channels: Int { network.channels }
  /// The number of classes.
  public var classes: Int { network.classes }
  /// The per-channel mean subtracted from every sample.
  public let mean: [Float]
  /// The per-channel standard deviation every centred sample is divided by.
  public let standardDeviation: [Float]
  /// Labels below this confidence are unknown (`nil`); `nil` for no threshold.
  public var unknownThreshold: Float? { smoother.unknownThreshold }
  /// The smoothing strategy.
  public var smoothing: Smoothing { smoother.smoothing }
  /// Samples accepted since the start (or the last ``reset()``).
  public private(set) var sampleCount = 0

  private let network: IncrementalNetwork
  private var smoother: PredictionSmoother
  private let scale: [Float]
  /// The first sample of the window being filled.
  private var windowStart = 0
  private var logits: [Float]

  /// A recognizer running `model` on windows of `windowLength` samples every `hop` samples.
  ///
  /// - Parameters:
  ///   - model: The trained model; its weights are copied.
  ///   - mean: The per-channel mean of the training data (one per input channel).
  ///   - standardDeviation: The per-channel standard deviation of the training data.
  ///   - windowLength: Samples per window, as in training (128 for the study's windows).
  ///   - hop: Samples between predictions; shorter than the window means overlapping windows.
  ///   - smoothing: How predictions are smoothed into a label.
  ///   - unknownThreshold: A confidence below which the label is unknown, or `nil`.
  /// - Throws: ``StreamingError/unsupportedLayer(index:type:reason:)``,
  ///   ``StreamingError/hopNotAllowed(hop:multiple:reason:)``,
  ///   ``StreamingError/shape(_:)`` when the model rejects the window, and
  ///   ``StreamingError/invalidSetting(name:value:expected:)`` for a length, hop, normalization,
  ///   smoothing parameter or threshold out of range.
  public init(
    model: Sequential, mean: [Float], standardDeviation: [Float], windowLength: Int, hop: Int,
    smoothing: Smoothing = .none, unknownThreshold: Float? = nil
  ) throws(StreamingError) {
    guard windowLength >= 1 else {
      throw .invalidSetting(name: "window length", value: "\(windowLength)", expected: "≥ 1")
    }
    guard hop >= 1 else {
      throw .invalidSetting(name: "hop", value: "\(hop)", expected: "≥ 1")
    }
    guard !mean.isEmpty, mean.count == standardDeviation.count else {
      throw .invalidSetting(
        name: "normalization", value: "\(mean.count) means, \(standardDeviation.count) deviations",
        expected: "one mean and one deviation per channel")
    }
    for (c, value) in mean.enumerated() where !value.isFinite {
      throw .invalidSetting(name: "mean of channel \(c)", value: "\(value)", expected: "finite")
    }
    for (c, value) in standardDeviation.enumerated() where !(value.isFinite && value > 0) {
      throw .invalidSetting(
        name: "standard deviation of channel \(c)", value: "\(value)", expected: "finite, > 0")
    }
    network = try IncrementalNetwork(
      model, windowLength: windowLength, channels: mean.count, hop: hop)
    smoother = try PredictionSmoother(
      smoothing, classes: network.classes, unknownThreshold: unknownThreshold)
    self.windowLength = windowLength
    self.hop = hop
    self.mean = mean
    self.standardDeviation = standardDeviation
    scale = standardDeviation.map { 1 / $0 }
    logits = [Float](repeating: 0, count: network.classes)
  }

  /// A recognizer running the model of the checkpoint at `url`, rebuilt from its model card,
  /// on the card's window length with the card's input normalization: the file alone.
  ///
  /// ```swift
  /// let recognizer = try StreamingRecognizer(
  ///   checkpointAt: URL(fileURLWithPath: "student.safetensors"), hop: 16,
  ///   smoothing: .hiddenMarkov(switchProbability: 0.02))
  /// ```
  ///
  /// - Parameters:
  ///   - url: A checkpoint written with a ``ModelCard`` holding the architecture, the
  ///     normalization and the window length (as the examples and `study` write them).
  ///   - hop: Samples between predictions.
  ///   - smoothing: How predictions are smoothed into a label.
  ///   - unknownThreshold: A confidence below which the label is unknown, or `nil`.
  /// - Throws: ``StreamingError/checkpoint(_:)`` when the file cannot be read or its model not
  ///   rebuilt, ``StreamingError/incompleteModelCard(path:missing:)`` when the card has no
  ///   normalization or window length, and the errors of
  ///   ``init(model:mean:standardDeviation:windowLength:hop:smoothing:unknownThreshold:)``.
  public convenience init(
    checkpointAt url: URL, hop: Int, smoothing: Smoothing = .none,
    unknownThreshold: Float? = nil
  ) throws(StreamingError) {
    let checkpoint: Checkpoint
    do {
      checkpoint = try Checkpoint.read(from: url)
    } catch {
      throw .checkpoint(error)
    }
    try self.init(
      checkpoint: checkpoint, path: url.path, hop: hop, smoothing: smoothing,
      unknownThreshold: unknownThreshold)
  }

  /// A recognizer running the model of `checkpoint`, rebuilt from its model card, on the card's
  /// window length with the card's input normalization.
  ///
  /// - Parameters:
  ///   - checkpoint: A checkpoint with a ``ModelCard`` holding the architecture, the
  ///     normalization and the window length.
  ///   - path: Names the checkpoint in errors.
  ///   - hop: Samples between predictions.
  ///   - smoothing: How predictions are smoothed into a label.
  ///   - unknownThreshold: A confidence below which the label is unknown, or `nil`.
  /// - Throws: As ``init(checkpointAt:hop:smoothing:unknownThreshold:)``.
  public convenience init(
    checkpoint: Checkpoint, path: String = "checkpoint", hop: Int, smoothing: Smoothing = .none,
    unknownThreshold: Float? = nil
  ) throws(StreamingError) {
    let model: Sequential
    let card: ModelCard
    do {
      (model, card) = try checkpoint.model(path: path)
    } catch {
      throw .checkpoint(error)
    }
    guard let normalization = card.normalization else {
      throw .incompleteModelCard(path: path, missing: "input normalization")
    }
    guard let windowLength = card.windowLength else {
      throw .incompleteModelCard(path: path, missing: "window length")
    }
    try self.init(
      model: model, mean: normalization.mean, standardDeviation: normalization.standardDeviation,
      windowLength: windowLength, hop: hop, smoothing: smoothing,
      unknownThreshold: unknownThreshold)
  }

  /// Forgets every sample and prediction: the next window starts with the next sample.
  public func reset() {
    network.reset()
    smoother.reset()
    sampleCount = 0
    windowStart = 0
  }

  /// Appends one sample (`channels` values) and returns the prediction it completes, if any.
  ///
  /// - Throws: ``StreamingError/wrongChannelCount(expected:found:)`` or
  ///   ``StreamingError/nonFinite(sample:channel:value:)``; the sample is then not used.
  public func append(sample: [Float]) throws(StreamingError) -> [StreamingPrediction] {
    guard sample.count == channels else {
      throw .wrongChannelCount(expected: channels, found: sample.count)
    }
    return try sample.withUnsafeBufferPointer { buffer in
      Result { () throws(StreamingError) in try append(buffer.baseAddress!, count: 1) }
    }.get()
  }

  /// Appends samples `[time, channels]` (any number, one at a time works) and returns the
  /// predictions of the windows they complete, oldest first.
  ///
  /// - Throws: ``StreamingError/wrongRank(shape:)``,
  ///   ``StreamingError/wrongChannelCount(expected:found:)`` or
  ///   ``StreamingError/nonFinite(sample:channel:value:)``; none of the samples is then used.
  public func append(_ samples: Tensor) throws(StreamingError) -> [StreamingPrediction] {
    guard samples.rank == 2 else { throw .wrongRank(shape: samples.shape) }
    guard samples.shape[1] == channels else {
      throw .wrongChannelCount(expected: channels, found: samples.shape[1])
    }
    guard samples.shape[0] > 0 else { return [] }
    return try samples.withUnsafeBufferPointer { buffer in
      Result { () throws(StreamingError) in try append(buffer.baseAddress!, count: samples.shape[0])
      }
    }.get()
  }

  /// Appends `count` samples of ``channels`` values at `values`.
  private func append(
    _ values: UnsafePointer<Float>, count: Int
  ) throws(StreamingError) -> [StreamingPrediction] {
    let channels = self.channels
    // Check everything first: a rejected call leaves no trace.
    for i in 0..<count * channels where !values[i].isFinite {
      throw .nonFinite(sample: i / channels, channel: i % channels, value: values[i])
    }
    var predictions: [StreamingPrediction] = []
    var s = 0
    while s < count {
      // The samples up to the end of the pending window, or all that are left.
      let position = sampleCount - windowStart
      let take = Swift.min(count - s, windowLength - position)
      mean.withUnsafeBufferPointer { mean in
        scale.withUnsafeBufferPointer { scale in
          // With a hop longer than the window, samples between windows belong to none.
          for i in Swift.min(Swift.max(0, -position), take)..<take {
            network.write(
              values + (s + i) * channels, mean: mean.baseAddress!, scale: scale.baseAddress!,
              at: position + i)
          }
        }
      }
      s += take
      sampleCount += take
      guard position + take == windowLength else { continue }
      let probabilities = logits.withUnsafeMutableBufferPointer { logits in
        network.logits(into: logits.baseAddress!)
        return Self.softmax(logits)
      }
      let (label, confidence) = smoother.update(probabilities)
      predictions.append(
        StreamingPrediction(
          lastSample: sampleCount - 1, probabilities: probabilities,
          rawLabel: PredictionSmoother.argmax(probabilities), label: label,
          confidence: confidence))
      windowStart += hop
    }
    return predictions
  }

  /// The softmax of `logits`, computed from the largest one down.
  static func softmax(_ logits: UnsafeMutableBufferPointer<Float>) -> [Float] {
    let largest = logits.max() ?? 0
    var result = logits.map { Foundation.exp($0 - largest) }
    let sum = result.reduce(0, +)
    for i in result.indices { result[i] /= sum }
    return result
  }
}
