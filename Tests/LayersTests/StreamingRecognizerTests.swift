import Foundation
import Layers
import Tensor
import Testing

/// `StreamingRecognizer`: incremental windows equal full forward passes; bad input, hops and
/// layers are rejected with typed errors; the smoothers behave as documented.
@Suite("Streaming recognizer")
struct StreamingRecognizerTests {
  /// A model with random weights and biases (zero biases would hide edge mistakes less well).
  static func model(_ reference: ReferenceModel, channels: Int = 6, seed: UInt64) -> Sequential {
    var rng = SplitMix64(seed: seed)
    var model = reference.make(channels: channels, classes: 6, generator: &rng)
    model.forEachParameter { name, value in
      if name.hasSuffix("bias") {
        value = Tensor.normal(value.shape, standardDeviation: 0.3, using: &rng)
      }
    }
    return model
  }

  /// A random stream `[samples, channels]`: noise around a level that jumps every 61 samples,
  /// with per-channel offsets and scales, so that windows differ in more than noise.
  static func stream(samples: Int, channels: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    let noise = Tensor.normal([samples, channels], using: &rng).scalars
    let levels = Tensor.normal(
      [samples / 61 + 1, channels], standardDeviation: 3, using: &rng
    ).scalars
    return noise.enumerated().map { i, x in
      let (t, c) = (i / channels, i % channels)
      return (x + levels[(t / 61) * channels + c]) * Float(1 + c) + Float(c)
    }
  }

  /// The probabilities of a full forward pass over the window of `stream` ending at `last`.
  static func fullPass(
    _ model: Sequential, _ stream: [Float], last: Int, length: Int, mean: [Float],
    deviation: [Float]
  ) throws -> [Float] {
    let channels = mean.count
    var window = Array(stream[(last + 1 - length) * channels..<(last + 1) * channels])
    for i in window.indices {
      window[i] = (window[i] - mean[i % channels]) * (1 / deviation[i % channels])
    }
    let logits = model(try Tensor(shape: [1, length, channels], scalars: window)).scalars
    let largest = logits.max()!
    let e = logits.map { Foundation.exp($0 - largest) }
    let sum = e.reduce(0, +)
    return e.map { $0 / sum }
  }

  /// Feeds `stream` in chunks of varying size (1 sample, then a few, then many) and checks every
  /// prediction against a full forward pass of its window; returns how many there were.
  @discardableResult
  static func expectFullPassValues(
    _ model: Sequential, hop: Int, length: Int = 128, samples: Int, seed: UInt64,
    tolerance: Float = 1e-5
  ) throws -> Int {
    let channels = 6
    let mean: [Float] = [0, 1, 2, 3, 4, 5]
    let deviation: [Float] = [1, 2, 3, 4, 5, 6]
    let recognizer = try StreamingRecognizer(
      model: model, mean: mean, standardDeviation: deviation, windowLength: length, hop: hop)
    let stream = stream(samples: samples, channels: channels, seed: seed)
    var predictions: [StreamingPrediction] = []
    var first = 0
    let chunks = [1, 1, 3, 17, 1, 64, 5, 200, 2]
    var chunk = 0
    while first < samples {
      let count = Swift.min(chunks[chunk % chunks.count], samples - first)
      chunk += 1
      let part = try Tensor(
        shape: [count, channels],
        scalars: Array(stream[first * channels..<(first + count) * channels]))
      predictions += try recognizer.append(part)
      first += count
    }
    let expectedCount = samples >= length ? (samples - length) / hop + 1 : 0
    #expect(predictions.count == expectedCount, "hop \(hop)")
    var worst: Float = 0
    var distinct = Set<Int>()
    for (k, prediction) in predictions.enumerated() {
      #expect(prediction.lastSample == length - 1 + k * hop)
      let expected = try fullPass(
        model, stream, last: prediction.lastSample, length: length, mean: mean,
        deviation: deviation)
      for (e, a) in zip(expected, prediction.probabilities) { worst = Swift.max(worst, abs(e - a)) }
      distinct.insert(prediction.rawLabel)
    }
    #expect(worst <= tolerance, "hop \(hop): worst probability difference \(worst)")
    // The stream is not so dull that every window gets the same label.
    #expect(distinct.count >= 2 || predictions.count < 10, "hop \(hop): labels \(distinct)")
    return predictions.count
  }

  /// LM, LM-Att and MM on long random streams: every hop their pooling allows gives the full
  /// forward pass's probabilities; hop 1 is rejected (max pooling with stride 2).
  @Test(arguments: [ReferenceModel.lm, .lmAtt, .mm])
  func incrementalEqualsFullPass(_ reference: ReferenceModel) throws {
    let model = Self.model(reference, seed: 7)
    for hop in [1, 8, 16, 32, 64] {
      if hop == 1 {
        #expect(throws: StreamingError.self) {
          _ = try StreamingRecognizer(
            model: model, mean: [Float](repeating: 0, count: 6),
            standardDeviation: [Float](repeating: 1, count: 6), windowLength: 128, hop: hop)
        }
        continue
      }
      try Self.expectFullPassValues(model, hop: hop, samples: 128 + 150 * hop + 5, seed: 11)
    }
  }

  /// A model without pooling allows hop 1; a window a hop does not divide works too.
  @Test func hopOneWithoutPooling() throws {
    var rng = SplitMix64(seed: 3)
    let model = Sequential {
      Conv1D(inputChannels: 6, outputChannels: 8, kernelSize: 5, generator: &rng)
      ReLU()
      Conv1D(inputChannels: 8, outputChannels: 8, kernelSize: 3, dilation: 2, generator: &rng)
      ReLU()
      CBAM(channels: 8, reduction: 2, spatialKernel: 7, generator: &rng)
      GlobalAvgPool1D()
      Dense(inputSize: 8, outputSize: 6, generator: &rng)
    }
    try Self.expectFullPassValues(model, hop: 1, length: 50, samples: 400, seed: 4)
    try Self.expectFullPassValues(model, hop: 3, length: 50, samples: 400, seed: 5)
  }

  /// Other geometries: a valid convolution, a strided one, overlapping `same` max pooling, a
  /// ReLU on its own after pooling, global max pooling, a dense head with dropout and softmax.
  @Test func otherGeometries() throws {
    var rng = SplitMix64(seed: 5)
    let model = Sequential {
      Conv1D(inputChannels: 6, outputChannels: 8, kernelSize: 4, padding: .valid, generator: &rng)
      ReLU()
      MaxPool1D(kernelSize: 3, stride: 2, padding: .same)
      ReLU()
      Conv1D(inputChannels: 8, outputChannels: 12, kernelSize: 5, stride: 2, generator: &rng)
      Conv1D(inputChannels: 12, outputChannels: 12, kernelSize: 3, generator: &rng)
      ReLU()
      GlobalMaxPool1D()
      Dense(inputSize: 12, outputSize: 10, generator: &rng)
      ReLU()
      Dropout(rate: 0.5)
      Dense(inputSize: 10, outputSize: 6, generator: &rng)
      Softmax()
    }
    // The softmax is the recognizer's own: compare with the model minus its last layer.
    let logitsModel = Sequential(Array(model.layers.dropLast()))
    for hop in [4, 8, 12] {
      let count = try Self.expectFullPassValues(logitsModel, hop: hop, samples: 600, seed: 6)
      #expect(count > 10)
    }
    #expect(throws: StreamingError.self) {
      _ = try StreamingRecognizer(
        model: model, mean: [Float](repeating: 0, count: 6),
        standardDeviation: [Float](repeating: 1, count: 6), windowLength: 128, hop: 2)
    }
  }

  /// The teacher (four convolutions, a dense head) also streams exactly.
  @Test func teacherWithAttention() throws {
    let model = Self.model(.teacherAtt, seed: 9)
    try Self.expectFullPassValues(model, hop: 16, samples: 128 + 10 * 16, seed: 10)
  }

  /// A hop longer than the window skips the samples between windows.
  @Test func hopLongerThanTheWindow() throws {
    let model = Self.model(.lm, seed: 12)
    try Self.expectFullPassValues(model, hop: 150, samples: 1_000, seed: 13)
  }

  /// Hops the strides do not allow, layers the recognizer cannot run and bad settings throw
  /// typed errors with a message.
  @Test func rejectsWhatItCannotRun() throws {
    let lm = Self.model(.lm, seed: 1)
    let mean = [Float](repeating: 0, count: 6)
    let deviation = [Float](repeating: 1, count: 6)
    do {
      _ = try StreamingRecognizer(
        model: lm, mean: mean, standardDeviation: deviation, windowLength: 128, hop: 7)
      Issue.record("hop 7 accepted")
    } catch {
      #expect(error.description.contains("hop 7 is not allowed: it must be a multiple of 2"))
    }
    var rng = SplitMix64(seed: 2)
    let recurrent = Sequential {
      LSTM(inputSize: 6, units: 4, generator: &rng)
      Dense(inputSize: 4, outputSize: 6, generator: &rng)
    }
    #expect {
      _ = try StreamingRecognizer(
        model: recurrent, mean: mean, standardDeviation: deviation, windowLength: 32, hop: 4)
    } throws: { error in
      guard case .unsupportedLayer(index: 0, type: "LSTM", _) = error as? StreamingError else {
        return false
      }
      return true
    }
    #expect(throws: StreamingError.self) {
      _ = try StreamingRecognizer(
        model: lm, mean: [0, 0, 0], standardDeviation: deviation, windowLength: 128, hop: 8)
    }
    #expect(throws: StreamingError.self) {
      _ = try StreamingRecognizer(
        model: lm, mean: mean, standardDeviation: [1, 1, 1, 1, 1, 0], windowLength: 128, hop: 8)
    }
    #expect(throws: StreamingError.self) {
      _ = try StreamingRecognizer(
        model: Self.model(.lm, channels: 9, seed: 1), mean: mean, standardDeviation: deviation,
        windowLength: 128, hop: 8)
    }
    #expect(throws: StreamingError.self) {
      _ = try StreamingRecognizer(
        model: lm, mean: mean, standardDeviation: deviation, windowLength: 128, hop: 8,
        smoothing: .majorityVote(count: 0))
    }
  }

  /// Wrong channel counts and NaN or infinite values throw, and leave the recognizer exactly as
  /// it was: its later predictions equal those of one that never saw the bad samples.
  @Test func badInputLeavesTheRecognizerUsable() throws {
    let model = Self.model(.lmAtt, seed: 14)
    let mean = [Float](repeating: 0.5, count: 6)
    let deviation = [Float](repeating: 2, count: 6)
    func make() throws -> StreamingRecognizer {
      try StreamingRecognizer(
        model: model, mean: mean, standardDeviation: deviation, windowLength: 64, hop: 16,
        smoothing: .exponentialMovingAverage(weight: 0.3))
    }
    let clean = try make()
    let dirty = try make()
    let stream = Self.stream(samples: 300, channels: 6, seed: 15)
    var expected: [StreamingPrediction] = []
    var actual: [StreamingPrediction] = []
    for t in 0..<300 {
      let sample = Array(stream[t * 6..<(t + 1) * 6])
      expected += try clean.append(sample: sample)
      if t % 50 == 10 {
        #expect(throws: StreamingError.wrongChannelCount(expected: 6, found: 5)) {
          _ = try dirty.append(sample: Array(sample.prefix(5)))
        }
        var broken = sample
        broken[3] = t % 100 == 10 ? .nan : .infinity
        #expect(throws: StreamingError.self) { _ = try dirty.append(sample: broken) }
        // A chunk with one bad sample in the middle is refused whole.
        var chunk = Array(stream[0..<60])
        chunk[33] = -.infinity
        #expect(throws: StreamingError.nonFinite(sample: 5, channel: 3, value: -.infinity)) {
          _ = try dirty.append(try Tensor(shape: [10, 6], scalars: chunk))
        }
        #expect(throws: StreamingError.wrongRank(shape: [60])) {
          _ = try dirty.append(try Tensor(shape: [60], scalars: chunk))
        }
      }
      actual += try dirty.append(sample: sample)
    }
    #expect(dirty.sampleCount == 300)
    #expect(!expected.isEmpty)
    #expect(actual == expected)
  }

  /// After `reset()` the next window starts with the next sample, as in a new recognizer.
  @Test func resetStartsOver() throws {
    let model = Self.model(.lm, seed: 16)
    let mean = [Float](repeating: 0, count: 6)
    let deviation = [Float](repeating: 1, count: 6)
    let recognizer = try StreamingRecognizer(
      model: model, mean: mean, standardDeviation: deviation, windowLength: 32, hop: 8,
      smoothing: .majorityVote(count: 3))
    let stream = Self.stream(samples: 100, channels: 6, seed: 17)
    let input = try Tensor(shape: [100, 6], scalars: stream)
    _ = try recognizer.append(input.sliced(alongAxis: 0, range: 0..<77))
    recognizer.reset()
    let again = try recognizer.append(input)
    let fresh = try StreamingRecognizer(
      model: model, mean: mean, standardDeviation: deviation, windowLength: 32, hop: 8,
      smoothing: .majorityVote(count: 3))
    #expect(again == (try fresh.append(input)))
  }

  /// The smoothers on hand-made probabilities.
  @Test func smoothers() throws {
    let a: [Float] = [0.7, 0.2, 0.1]
    let b: [Float] = [0.1, 0.8, 0.1]
    var none = try PredictionSmoother(.none, classes: 3)
    #expect(none.update(b) == (1, 0.8))

    var vote = try PredictionSmoother(.majorityVote(count: 3), classes: 3)
    #expect(vote.update(a).label == 0)
    #expect(vote.update(b).label == 1)  // a tie: the latest wins
    let (label, confidence) = vote.update(a)
    #expect(label == 0)
    #expect(abs(confidence - (0.7 + 0.1 + 0.7) / 3) < 1e-6)
    #expect(vote.update(b).label == 1)  // [b, a, b]
    vote.reset()
    #expect(vote.update(b).label == 1)

    var average = try PredictionSmoother(.exponentialMovingAverage(weight: 0.25), classes: 3)
    #expect(average.update(a).label == 0)
    let (_, ema) = average.update(b)
    #expect(abs(ema - (0.75 * 0.7 + 0.25 * 0.1)) < 1e-6)  // class 0 still leads
    #expect(average.update(b).label == 1)

    // The HMM holds its label against one contrary window and follows a lasting change.
    var markov = try PredictionSmoother(.hiddenMarkov(switchProbability: 0.05), classes: 3)
    for _ in 0..<5 { #expect(markov.update(a).label == 0) }
    #expect(markov.update(b).label == 0)
    var switched = 0
    for step in 1...10 where markov.update(b).label == 1 && switched == 0 { switched = step }
    #expect(switched > 0)

    var unsure = try PredictionSmoother(.none, classes: 3, unknownThreshold: 0.75)
    #expect(unsure.update(a).label == nil)
    #expect(unsure.update(b).label == 1)
    #expect(throws: StreamingError.self) {
      _ = try PredictionSmoother(.hiddenMarkov(switchProbability: 1), classes: 3)
    }
    #expect(throws: StreamingError.self) {
      _ = try PredictionSmoother(.none, classes: 3, unknownThreshold: 2)
    }
  }
}
