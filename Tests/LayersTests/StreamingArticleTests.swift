import Foundation
import Layers
import Tensor
import TestSupport
import Testing

// The code of the "Recognizing activities live" article (Sources/Layers/Layers.docc), compiled
// and run here; `articleQuotesOnlyCompiledCode` fails when the article and this code drift apart.

/// A stand-in for a watch's motion sensor: 50 samples a second, 6 channels (accelerometer and
/// gyroscope x, y, z); here a slow sine wave on each channel plus a little noise.
struct SimulatedSensor {
  var time = 0
  var generator = SplitMix64(seed: 7)

  mutating func nextSample() -> [Float] {
    time += 1
    let phase = Float(time) / 50 * 2 * Float.pi
    return (0..<6).map { channel in
      sin(phase + Float(channel)) + Float.random(in: -0.1...0.1, using: &generator)
    }
  }
}

@Suite("Live recognition article")
struct StreamingArticleTests {
  @Test func feedsASensorSampleBySample() throws {
    var generator = SplitMix64(seed: 1)
    let model = ReferenceModel.lmAtt.make(channels: 6, classes: 6, generator: &generator)
    // After training: the per-channel mean and deviation of the training windows.
    let mean: [Float] = [0, 0, 0, 0, 0, 0]
    let deviation: [Float] = [1, 1, 1, 1, 1, 1]

    let recognizer = try StreamingRecognizer(
      model: model, mean: mean, standardDeviation: deviation, windowLength: 128, hop: 16,
      smoothing: .hiddenMarkov(switchProbability: 0.02), unknownThreshold: 0.4)
    var sensor = SimulatedSensor()
    var shown: [String] = []
    for _ in 0..<(50 * 10) {  // ten seconds at 50 Hz
      for prediction in try recognizer.append(sample: sensor.nextSample()) {
        let label = prediction.label.map { "class \($0)" } ?? "unknown"
        shown.append("sample \(prediction.lastSample): \(label), \(prediction.confidence)")
      }
    }

    // Windows end at samples 127, 143, …, 495: (500 − 128) / 16 + 1 of them.
    #expect(shown.count == 24)
    #expect(shown.first?.hasPrefix("sample 127: ") == true)
    #expect(shown.last?.hasPrefix("sample 495: ") == true)
  }

  /// The article's recognizer built from a checkpoint file alone predicts as the one built by
  /// hand.
  @Test func fromACheckpointFile() throws {
    var generator = SplitMix64(seed: 1)
    let model = ReferenceModel.lmAtt.make(channels: 6, classes: 6, generator: &generator)
    let mean: [Float] = [0.1, 0, -0.2, 0, 0.3, 0]
    let deviation: [Float] = [1, 2, 1, 0.5, 1, 1]
    let studentURL = FileManager.default.temporaryDirectory
      .appendingPathComponent("student-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: studentURL) }
    let card = try ModelCard(
      model: model, normalization: InputNormalization(mean: mean, standardDeviation: deviation),
      windowLength: 128)
    try Checkpoint(model: model, card: card).write(to: studentURL)

    let recognizer = try StreamingRecognizer(
      checkpointAt: studentURL, hop: 16,
      smoothing: .hiddenMarkov(switchProbability: 0.02), unknownThreshold: 0.4)
    let byHand = try StreamingRecognizer(
      model: model, mean: mean, standardDeviation: deviation, windowLength: 128, hop: 16,
      smoothing: .hiddenMarkov(switchProbability: 0.02), unknownThreshold: 0.4)
    var sensor = SimulatedSensor()
    for _ in 0..<(50 * 10) {
      let sample = sensor.nextSample()
      #expect(try recognizer.append(sample: sample) == byHand.append(sample: sample))
    }
    #expect(recognizer.sampleCount == 500)
  }

  /// The errors the article shows: a hop the model's pooling does not allow, a broken sample.
  @Test func errorsTheArticleShows() throws {
    var generator = SplitMix64(seed: 1)
    let model = ReferenceModel.lmAtt.make(channels: 6, classes: 6, generator: &generator)
    let mean: [Float] = [0, 0, 0, 0, 0, 0]
    let deviation: [Float] = [1, 1, 1, 1, 1, 1]

    do {
      _ = try StreamingRecognizer(
        model: model, mean: mean, standardDeviation: deviation, windowLength: 128, hop: 5)
    } catch {
      print(error)  // hop 5 is not allowed: it must be a multiple of 2 (layer 2 (MaxPool1D) …)
    }
    #expect {
      _ = try StreamingRecognizer(
        model: model, mean: mean, standardDeviation: deviation, windowLength: 128, hop: 5)
    } throws: { error in
      "\(error)".contains("hop 5 is not allowed: it must be a multiple of 2 (layer 2 (MaxPool1D)")
    }
    let recognizer = try StreamingRecognizer(
      model: model, mean: mean, standardDeviation: deviation, windowLength: 128, hop: 16)
    do {
      _ = try recognizer.append(sample: [0, 0, .nan, 0, 0, 0])
    } catch {
      print(error)  // sample 0, channel 2 is nan; no sample of the call was used
    }
    #expect {
      _ = try recognizer.append(sample: [0, 0, .nan, 0, 0, 0])
    } throws: { error in
      "\(error)".contains("sample 0, channel 2 is nan; no sample of the call was used")
    }
    #expect(recognizer.sampleCount == 0)  // the recognizer is still usable, as if never called
  }

  @Test func articleQuotesOnlyCompiledCode() throws {
    for problem in try unquotedArticleBlocks(
      "Sources/Layers/Layers.docc/RecognizingActivitiesLive.md",
      quotesOnly: ["Tests/LayersTests/StreamingArticleTests.swift"])
    {
      Issue.record("\(problem)")
    }
  }
}
