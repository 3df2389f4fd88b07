// stream: live recognition on UCI HAPT's continuous test recordings.
//
// Replays every sample of the test subjects' recordings (transitions and unlabelled stretches
// included) through a StreamingRecognizer built from a student's checkpoint alone, once per
// smoothing strategy, and reports sample-level accuracy and macro-F1, flicker and the delay after
// each activity change; it draws one recording's timeline. Without --checkpoint it first trains
// a student (LM or LM-Att) on the training subjects and writes its checkpoint.
//
//   swift run -c release stream --data-dir ../shared/datasets/uci-hapt --out stream-output
//   swift run -c release stream --checkpoint runs/lm-att/LM-Att-seed1.safetensors
import CommandLineOptions
import Datasets
import Distillation
import Foundation
import Layers
import Metrics
import Tensor

/// What to replay, how, and where the results go.
struct StreamOptions: ThreadBound {
  var dataDirectory = "../shared/datasets/uci-hapt"
  var checkpoint: String?
  var model = ReferenceModel.lmAtt
  var epochs = 30
  var seed: UInt64 = 1
  var hop = 16
  var figure = 0
  var out = "stream-output"
  var threads: Int? { nil }
}

let parser = OptionParser(
  program: "stream",
  summary: "Live recognition on UCI HAPT's continuous test recordings: a student's checkpoint "
    + "(or one trained here) replayed sample by sample, once per smoothing strategy.",
  defaults: StreamOptions(),
  options: [
    Option(
      "--data-dir", value: "PATH",
      help: "the UCI HAPT folder holding RawData/ "
        + "(default ../shared/datasets/uci-hapt)"
    ) { o, v in o.dataDirectory = v },
    Option(
      "--checkpoint", value: "FILE",
      help: "a trained student with its model card, "
        + "e.g. from lm-att --dataset uci-hapt (default: train one here)"
    ) {
      o, v throws(UsageError) in
      guard !v.isEmpty else { throw UsageError("--checkpoint expects a file, got ''") }
      o.checkpoint = v
    },
    Option(
      "--model", value: "NAME",
      help: "the student trained without --checkpoint: lm or "
        + "lm-att (default lm-att)"
    ) { o, v throws(UsageError) in
      guard let model = ReferenceModel(rawValue: v), model == .lm || model == .lmAtt else {
        throw UsageError("--model expects lm or lm-att, got '\(v)'")
      }
      o.model = model
    },
    Option(
      "--epochs", value: "N",
      help: "training epochs at most; early stopping on "
        + "validation macro-F1 (default 30)"
    ) { o, v throws(UsageError) in
      o.epochs = try OptionValue.integer("--epochs", v, in: 1...100_000)
    },
    Option("--seed", value: "N", help: "the weights' and the shuffling's seed (default 1)") {
      o, v throws(UsageError) in
      o.seed = UInt64(try OptionValue.integer("--seed", v, in: 0...Int.max))
    },
    Option(
      "--hop", value: "N",
      help: "samples between predictions, a multiple of 2 "
        + "(default 16: 0.32 s at 50 Hz)"
    ) { o, v throws(UsageError) in
      o.hop = try OptionValue.integer("--hop", v, in: 1...100_000)
    },
    Option(
      "--figure", value: "N",
      help: "which test recording the timeline shows, 0-based "
        + "(default 0)"
    ) { o, v throws(UsageError) in
      o.figure = try OptionValue.integer("--figure", v, in: 0...100_000)
    },
    Option(
      "--out", value: "DIR",
      help: "where results.md, timeline.svg and a trained "
        + "student's checkpoint go (default stream-output)"
    ) { o, v throws(UsageError) in
      guard !v.isEmpty else { throw UsageError("--out expects a folder, got ''") }
      o.out = v
    },
  ]
) { o, given throws(UsageError) in
  if o.checkpoint != nil, let flag = ["--model", "--epochs", "--seed"].first(where: given.contains)
  {
    throw UsageError("\(flag) trains a student; it cannot be given with --checkpoint")
  }
}

/// A strategy's row: its name and the recognizer settings.
struct Strategy {
  let name: String
  let smoothing: Smoothing
  let threshold: Float?
}

/// The label shown at every sample of a recording: the latest prediction's label (-1 before the
/// first prediction, or when it is unknown).
func shownLabels(
  _ recognizer: StreamingRecognizer, _ stream: LabeledStream
) throws -> (shown: [Int], raw: [Int]) {
  recognizer.reset()
  var shown = [Int](repeating: -1, count: stream.sampleCount)
  var raw = [Int](repeating: -1, count: stream.sampleCount)
  var current = (-1, -1)
  for t in 0..<stream.sampleCount {
    // One sample at a time, as a watch delivers them.
    let sample = Array(stream.values[t * 6..<(t + 1) * 6])
    for prediction in try recognizer.append(sample: sample) {
      current = (prediction.label ?? -1, prediction.rawLabel)
    }
    (shown[t], raw[t]) = current
  }
  return (shown, raw)
}

/// The largest difference between the recognizer's probabilities and a full forward pass
/// (an `InferencePlan`) of the same window, over every window of `stream`, and the window count:
/// the incremental computation checked on real data.
func largestDifference(
  _ model: Sequential, _ recognizer: StreamingRecognizer, _ stream: LabeledStream
) throws -> (difference: Float, windows: Int) {
  let (length, mean, deviation) =
    (recognizer.windowLength, recognizer.mean, recognizer.standardDeviation)
  recognizer.reset()
  let plan = try InferencePlan(model, inputShape: [1, length, 6])
  let predictions = try recognizer.append(
    try Tensor(shape: [stream.sampleCount, 6], scalars: stream.values))
  var worst: Float = 0
  for prediction in predictions {
    let first = prediction.lastSample - (length - 1)
    var window = Array(stream.values[first * 6..<(prediction.lastSample + 1) * 6])
    for i in window.indices {
      window[i] = (window[i] - mean[i % 6]) * (1 / deviation[i % 6])
    }
    let logits = plan(try Tensor(shape: [1, length, 6], scalars: window)).scalars
    let largest = logits.max()!
    let exps = logits.map { exp($0 - largest) }
    let total = exps.reduce(0, +)
    for (e, p) in zip(exps, prediction.probabilities) {
      worst = Swift.max(worst, abs(e / total - p))
    }
  }
  recognizer.reset()
  return (worst, predictions.count)
}

/// Trains a student on the training subjects' recordings as the study trains it (128-sample
/// windows every 64 samples inside labelled segments, a fifth of the subjects held out for early
/// stopping, a z-score fitted on the training windows alone) and writes its checkpoint, with the
/// model card that lets a recognizer be built from the file alone.
func trainStudent(
  _ options: StreamOptions, train: [LabeledStream], test: [LabeledStream], classNames: [String],
  to url: URL
) throws -> String {
  let started = Date()
  let windowing = WindowingOptions(length: 128, step: 64)
  let data = try PreparedData(
    TrainTestSplit(
      train: try LabeledWindows(windowing: train, options: windowing, classNames: classNames),
      test: try LabeledWindows(windowing: test, options: windowing, classNames: classNames)))
  print("training \(options.model.rawValue): \(data.summary)")
  var generator = SplitMix64(seed: options.seed)
  var model = options.model.make(channels: 6, classes: classNames.count, generator: &generator)
  var trainerOptions = TrainerOptions()
  trainerOptions.epochs = options.epochs
  trainerOptions.seed = options.seed
  trainerOptions.progress = .lines
  let history = try Trainer(options: trainerOptions).fit(
    &model, on: data.train, validation: data.validation)
  try Checkpoint(model: model, card: data.modelCard(for: model)).write(to: url)
  return """
    \(options.model.rawValue), trained \(history.epochs.count) epochs (best validation macro-F1 \
    \(String(format: "%.2f", 100 * (history.bestValidationMacroF1 ?? 0))) % at epoch \
    \(history.bestEpoch)), seed \(options.seed), in \
    \(String(format: "%.0f", Date().timeIntervalSince(started))) s
    """
}

CommandLineTool.main(parser) { options in
  let started = Date()
  // 1. The recordings: one continuous stream per experiment, a label per sample (-1 where
  //    unlabelled or a postural transition).
  let (streams, haptClassNames) = try HAPT.loadRecordings(from: options.dataDirectory)
  let testSubjects = Set(SubjectLists.uciHARTest)
  let trainStreams = streams.filter { !testSubjects.contains($0.subject) }
  let testStreams = streams.filter { testSubjects.contains($0.subject) }

  // 2. The student: a checkpoint given, or one trained on the training subjects here.
  let folder = URL(fileURLWithPath: options.out)
  try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  let url: URL
  let origin: String
  if let checkpoint = options.checkpoint {
    url = URL(fileURLWithPath: checkpoint)
    origin = "from \(url.path)"
  } else {
    url = folder.appendingPathComponent("student.safetensors")
    origin = try trainStudent(
      options, train: trainStreams, test: testStreams, classNames: haptClassNames, to: url)
  }
  // The recognizer takes the model, the z-score and the window length from the file's model
  // card alone; the stream needs a student of HAPT's six channels and six activities.
  let (model, card) = try Checkpoint.loadModel(from: url)
  let probe = try StreamingRecognizer(checkpointAt: url, hop: options.hop)
  let classNames = card.classNames ?? haptClassNames
  guard probe.channels == 6, probe.classes == haptClassNames.count else {
    throw StreamingError.invalidSetting(
      name: "model of \(url.path)", value: "\(probe.channels) channels, \(probe.classes) classes",
      expected: "HAPT's 6 channels and \(haptClassNames.count) activities")
  }

  // 3. Check the incremental computation against full forward passes, then replay every test
  //    recording through a recognizer per strategy.
  let check = try largestDifference(model, probe, testStreams[0])
  print(
    "incremental windows against full forward passes, test recording 0: \(check.windows) windows, "
      + "largest probability difference \(check.difference)")
  guard check.difference <= 1e-5 else {
    throw StreamingError.invalidSetting(
      name: "incremental computation", value: "\(check.difference)",
      expected: "a full pass's probabilities within 1e-5")
  }
  let windowLength = probe.windowLength
  let hopSeconds = Double(options.hop) / sampleRate
  let strategies = [
    Strategy(name: "none (raw)", smoothing: .none, threshold: nil),
    Strategy(name: "majority vote, last 5", smoothing: .majorityVote(count: 5), threshold: nil),
    Strategy(
      name: "EMA, weight 0.3", smoothing: .exponentialMovingAverage(weight: 0.3), threshold: nil),
    Strategy(
      name: "HMM, switch 0.02", smoothing: .hiddenMarkov(switchProbability: 0.02), threshold: nil),
    Strategy(
      name: "HMM, switch 0.002", smoothing: .hiddenMarkov(switchProbability: 0.002),
      threshold: nil),
    Strategy(
      name: "HMM, switch 0.02, unknown < 0.6",
      smoothing: .hiddenMarkov(switchProbability: 0.02), threshold: 0.6),
  ]
  let totalSamples = testStreams.reduce(0) { $0 + $1.sampleCount }
  let minutes = Double(totalSamples) / sampleRate / 60
  let labelledMinutes = Double(outcome(labelled: testStreams)) / sampleRate / 60
  let truthPerMinute = Double(testStreams.map { truthChanges($0.labels) }.reduce(0, +)) / minutes
  var table = """
    | smoothing | accuracy % | macro-F1 % | unknown % | label changes / min | \
    within activities / min | delay s (mean) | changes not followed |
    |---|---|---|---|---|---|---|---|

    """
  let figureIndex = Swift.min(options.figure, testStreams.count - 1)
  var figureRows: [(name: String, labels: [Int])] = [
    ("ground truth", testStreams[figureIndex].labels)
  ]
  for strategy in strategies {
    let recognizer = try StreamingRecognizer(
      checkpointAt: url, hop: options.hop, smoothing: strategy.smoothing,
      unknownThreshold: strategy.threshold)
    var outcome = Outcome()
    for (index, stream) in testStreams.enumerated() {
      let (shown, raw) = try shownLabels(recognizer, stream)
      score(shown, stream.labels, window: windowLength, into: &outcome)
      if index == figureIndex {
        if strategy.smoothing == .none { figureRows.append(("raw predictions", raw)) }
        if strategy.smoothing == .hiddenMarkov(switchProbability: 0.02) && strategy.threshold == nil
        {
          figureRows.append(("HMM-smoothed", shown))
        }
      }
    }
    let report = try ClassificationReport(
      labels: outcome.truth, predictions: outcome.predicted, classes: Array(0..<6) + [-1])
    let activities = report.perClass.filter { $0.classID >= 0 }
    let macroF1 = activities.map(\.f1).reduce(0, +) / Double(activities.count)
    let correct = zip(outcome.truth, outcome.predicted).filter { $0 == $1 }.count
    let unknown = outcome.predicted.filter { $0 < 0 }.count
    let delay = outcome.delays.reduce(0, +) / Double(Swift.max(1, outcome.delays.count))
    table += String(
      format: "| %@ | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %d of %d |\n", strategy.name,
      100 * Double(correct) / Double(outcome.truth.count), 100 * macroF1,
      100 * Double(unknown) / Double(outcome.truth.count), Double(outcome.changes) / minutes,
      Double(outcome.changesWithin) / labelledMinutes,
      delay, outcome.missed, outcome.missed + outcome.delays.count)
  }
  let summary = """
    Student: \(model.parameterCount) parameters, \(origin).
    Test recordings: \(testStreams.count) from subjects \(SubjectLists.uciHARTest), \
    \(totalSamples) samples (\(String(format: "%.1f", minutes)) min), \
    \(outcome(labelled: testStreams)) of them labelled with one of the six activities.
    Windows of \(windowLength) samples every \(options.hop) samples (\(hopSeconds) s); the label shown at a \
    sample is the latest prediction's. Ground truth: \(String(format: "%.2f", truthPerMinute)) \
    activity changes per minute (label changes per minute count every change of the shown label \
    over all samples; within activities, only those inside one labelled activity, per minute of \
    labelled time).

    """
  let results = summary + "\n" + table
  print(results)
  try results.write(
    to: folder.appendingPathComponent("results.md"), atomically: true, encoding: .utf8)
  let stream = testStreams[figureIndex]
  let svg = timeline(
    rows: figureRows, classNames: classNames, sampleRate: sampleRate,
    title: "HAPT test recording \(figureIndex) (subject \(stream.subject)), "
      + "\(url.deletingPathExtension().lastPathComponent), hop \(options.hop)")
  try svg.write(
    to: folder.appendingPathComponent("timeline.svg"), atomically: true, encoding: .utf8)
  print(
    "wrote \(folder.path)/results.md and timeline.svg in "
      + String(format: "%.0f s", Date().timeIntervalSince(started)))
}
