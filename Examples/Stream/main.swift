// stream: live recognition on UCI HAPT's continuous test recordings.
//
// Trains a student (LM or LM-Att) on the HAPT training subjects' windows, then replays every
// sample of the test subjects' recordings (transitions and unlabelled stretches included) through
// a StreamingRecognizer, once per smoothing strategy, and reports sample-level accuracy and
// macro-F1, flicker and the delay after each activity change; it draws one recording's timeline.
//
//   swift run -c release stream --data-dir ../shared/datasets/uci-hapt --out stream-output
import Datasets
import Distillation
import Foundation
import Layers
import Metrics
import Tensor

let usage = """
  usage: stream [--data-dir PATH] [--model lm|lm-att] [--epochs N] [--seed N] [--hop N]
                [--figure N] [--out DIR]

    --data-dir PATH  the UCI HAPT folder holding RawData/ (default ../shared/datasets/uci-hapt)
    --model NAME     the student trained and replayed: lm or lm-att (default lm-att)
    --epochs N       training epochs at most; early stopping on validation macro-F1 (default 30)
    --seed N         the weights' and the shuffling's seed (default 1)
    --hop N          samples between predictions, a multiple of 2 (default 16: 0.32 s at 50 Hz)
    --figure N       which test recording the timeline shows, 0-based (default 0)
    --out DIR        where results.md and timeline.svg go (default stream-output)
  """

struct UsageError: Error, CustomStringConvertible { let description: String }

struct Options {
  var dataDirectory = "../shared/datasets/uci-hapt"
  var model = ReferenceModel.lmAtt
  var epochs = 30
  var seed: UInt64 = 1
  var hop = 16
  var figure = 0
  var out = "stream-output"

  init(_ arguments: [String]) throws {
    var rest = arguments[...]
    func value(_ flag: String) throws -> String {
      guard let v = rest.popFirst() else { throw UsageError(description: "\(flag) needs a value") }
      return v
    }
    func number(_ flag: String) throws -> Int {
      guard let n = Int(try value(flag)), n >= 0 else {
        throw UsageError(description: "\(flag) needs a whole number ≥ 0")
      }
      return n
    }
    while let argument = rest.popFirst() {
      switch argument {
      case "--data-dir": dataDirectory = try value(argument)
      case "--model":
        let name = try value(argument)
        guard let model = ReferenceModel(rawValue: name), model == .lm || model == .lmAtt else {
          throw UsageError(description: "--model is lm or lm-att, not \(name)")
        }
        self.model = model
      case "--epochs": epochs = Swift.max(1, try number(argument))
      case "--seed": seed = UInt64(try number(argument))
      case "--hop": hop = Swift.max(1, try number(argument))
      case "--figure": figure = try number(argument)
      case "--out": out = try value(argument)
      case "--help", "-h":
        print(usage)
        exit(0)
      default: throw UsageError(description: "unknown option \(argument)\n\(usage)")
      }
    }
  }
}

/// A strategy's row: its name and the recognizer settings.
struct Strategy {
  let name: String
  let smoothing: Smoothing
  let threshold: Float?
}

/// What one strategy did on every test recording.
struct Outcome {
  var truth: [Int] = []  // labelled samples only
  var predicted: [Int] = []  // the label shown at those samples (-1: unknown or none yet)
  var changes = 0  // shown-label changes, all samples
  var changesWithin = 0  // shown-label changes inside a labelled activity segment
  var delays: [Double] = []  // seconds from each activity change to the label following it
  var missed = 0  // changes the label never followed within the new activity
}

let sampleRate = 50.0

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
  _ model: Sequential, _ standardizer: ChannelStandardizer, hop: Int, _ stream: LabeledStream
) throws -> (difference: Float, windows: Int) {
  let recognizer = try StreamingRecognizer(
    model: model, mean: standardizer.mean, standardDeviation: standardizer.standardDeviation,
    windowLength: 128, hop: hop)
  let plan = try InferencePlan(model, inputShape: [1, 128, 6])
  let predictions = try recognizer.append(
    try Tensor(shape: [stream.sampleCount, 6], scalars: stream.values))
  var worst: Float = 0
  for prediction in predictions {
    let first = prediction.lastSample - 127
    var window = Array(stream.values[first * 6..<(prediction.lastSample + 1) * 6])
    for i in window.indices {
      window[i] =
        (window[i] - standardizer.mean[i % 6]) * (1 / standardizer.standardDeviation[i % 6])
    }
    let logits = plan(try Tensor(shape: [1, 128, 6], scalars: window)).scalars
    let largest = logits.max()!
    let exps = logits.map { exp($0 - largest) }
    let total = exps.reduce(0, +)
    for (e, p) in zip(exps, prediction.probabilities) {
      worst = Swift.max(worst, abs(e / total - p))
    }
  }
  return (worst, predictions.count)
}

/// Scores one recording's shown labels into `outcome`.
func score(_ shown: [Int], _ labels: [Int], into outcome: inout Outcome) {
  for t in labels.indices where labels[t] >= 0 {
    outcome.truth.append(labels[t])
    outcome.predicted.append(shown[t])
  }
  // Changes of the shown label, from the first window's prediction on.
  for t in 128..<Swift.max(128, shown.count) where shown[t] != shown[t - 1] {
    outcome.changes += 1
    // Inside one activity the truth does not change: every change there is flicker.
    if labels[t] >= 0 && labels[t - 1] == labels[t] { outcome.changesWithin += 1 }
  }
  // Activity changes: the start of a labelled segment whose activity differs from the last
  // labelled one before it (an unlabelled stretch or transition may lie between).
  var previous = -1
  var t = 0
  while t < labels.count {
    guard labels[t] >= 0 else {
      t += 1
      continue
    }
    var end = t
    while end < labels.count && labels[end] == labels[t] { end += 1 }
    if previous >= 0 && labels[t] != previous {
      if let followed = (t..<end).first(where: { shown[$0] == labels[t] }) {
        outcome.delays.append(Double(followed - t) / sampleRate)
      } else {
        outcome.missed += 1
      }
    }
    previous = labels[t]
    t = end
  }
}

/// Ground-truth activity changes in a recording (unlabelled stretches skipped).
func truthChanges(_ labels: [Int]) -> Int {
  let activities = labels.filter { $0 >= 0 }
  return zip(activities, activities.dropFirst()).filter { $0 != $1 }.count
}

/// An SVG timeline: one band per row, a colour per class, grey for unlabelled or unknown.
func timeline(
  rows: [(name: String, labels: [Int])], classNames: [String], title: String
) -> String {
  let colours = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]
  let (width, left, band, gap, top) = (960.0, 150.0, 34.0, 14.0, 40.0)
  let samples = rows.first?.labels.count ?? 1
  let scale = (width - left - 20) / Double(samples)
  let height = top + Double(rows.count) * (band + gap) + 70
  var svg = """
    <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
    font-family="sans-serif" font-size="12">
    <rect width="100%" height="100%" fill="white"/>
    <text x="\(Int(left))" y="22" font-size="14">\(title)</text>

    """
  for (r, row) in rows.enumerated() {
    let y = top + Double(r) * (band + gap)
    svg += "<text x=\"8\" y=\"\(Int(y + band / 2 + 4))\">\(row.name)</text>\n"
    var start = 0
    while start < row.labels.count {
      var end = start
      while end < row.labels.count && row.labels[end] == row.labels[start] { end += 1 }
      let label = row.labels[start]
      let colour = label >= 0 && label < colours.count ? colours[label] : "#d0d0d0"
      svg += String(
        format: "<rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%.0f\" fill=\"%@\"/>\n",
        left + Double(start) * scale, y, Double(end - start) * scale, band, colour)
      start = end
    }
  }
  // Time axis in minutes.
  let axisY = top + Double(rows.count) * (band + gap)
  let minutes = Double(samples) / sampleRate / 60
  for minute in 0...Int(minutes) {
    let x = left + Double(minute) * 60 * sampleRate * scale
    svg += String(
      format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#444\"/>"
        + "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%d min</text>\n",
      x, x, axisY - 8, axisY - 2, x, axisY + 10, minute)
  }
  // Legend.
  var x = left
  for (c, name) in classNames.enumerated() {
    svg += String(
      format: "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%@\"/>"
        + "<text x=\"%.0f\" y=\"%.0f\">%@</text>\n",
      x, axisY + 24, colours[c % colours.count], x + 16, axisY + 34, name.lowercased())
    x += 16 + Double(name.count) * 7.2 + 14
  }
  svg += String(
    format: "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"#d0d0d0\"/>"
      + "<text x=\"%.0f\" y=\"%.0f\">unlabelled / unknown</text>\n",
    x, axisY + 24, x + 16, axisY + 34)
  return svg + "</svg>\n"
}

func run(_ options: Options) throws {
  let started = Date()
  // 1. The recordings: one continuous stream per experiment, a label per sample (-1 where
  //    unlabelled or a postural transition).
  let (streams, classNames) = try HAPT.loadRecordings(from: options.dataDirectory)
  let testSubjects = Set(SubjectLists.uciHARTest)
  let trainStreams = streams.filter { !testSubjects.contains($0.subject) }
  let testStreams = streams.filter { testSubjects.contains($0.subject) }

  // 2. The student, trained as the study trains it: 128-sample windows every 64 samples inside
  //    labelled segments, a subject-disjoint fifth held out for early stopping, a z-score fitted
  //    on the training windows only.
  let windows = try LabeledWindows(
    windowing: trainStreams, options: WindowingOptions(length: 128, step: 64),
    classNames: classNames)
  let (train, validation) = try windows.validationSplit(fraction: 0.2, seed: 0)
  let standardizer = ChannelStandardizer(fittedTo: train)
  func prepared(_ part: LabeledWindows) throws -> TrainingData {
    let standardized = standardizer.standardized(part)
    return try TrainingData(
      inputs: try Tensor(shape: standardized.shape, scalars: standardized.values),
      labels: standardized.labels, classes: classNames.count)
  }
  print(
    "training \(options.model.rawValue) on \(train.count) windows "
      + "(\(train.subjectIDs.count) subjects), validating on \(validation.count) windows")
  var generator = SplitMix64(seed: options.seed)
  var model = options.model.make(channels: 6, classes: classNames.count, generator: &generator)
  var trainerOptions = TrainerOptions()
  trainerOptions.epochs = options.epochs
  trainerOptions.seed = options.seed
  trainerOptions.progress = .lines
  let history = try Trainer(options: trainerOptions).fit(
    &model, on: try prepared(train), validation: try prepared(validation))
  let trainedAt = Date()

  // 3. Replay every test recording through a recognizer per strategy.
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
  let check = try largestDifference(model, standardizer, hop: options.hop, testStreams[0])
  print(
    "incremental windows against full forward passes, test recording 0: \(check.windows) windows, "
      + "largest probability difference \(check.difference)")
  guard check.difference <= 1e-5 else {
    throw UsageError(description: "the recognizer differs from a full pass by \(check.difference)")
  }
  var figureRows: [(name: String, labels: [Int])] = [
    ("ground truth", testStreams[figureIndex].labels)
  ]
  for strategy in strategies {
    let recognizer = try StreamingRecognizer(
      model: model, mean: standardizer.mean, standardDeviation: standardizer.standardDeviation,
      windowLength: 128, hop: options.hop, smoothing: strategy.smoothing,
      unknownThreshold: strategy.threshold)
    var outcome = Outcome()
    for (index, stream) in testStreams.enumerated() {
      let (shown, raw) = try shownLabels(recognizer, stream)
      score(shown, stream.labels, into: &outcome)
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
    Student: \(options.model.rawValue), \(model.parameterCount) parameters, trained \
    \(history.epochs.count) epochs (best validation macro-F1 \
    \(String(format: "%.2f", 100 * (history.bestValidationMacroF1 ?? 0))) % at epoch \
    \(history.bestEpoch)), seed \(options.seed), in \
    \(String(format: "%.0f", trainedAt.timeIntervalSince(started))) s.
    Test recordings: \(testStreams.count) from subjects \(SubjectLists.uciHARTest), \
    \(totalSamples) samples (\(String(format: "%.1f", minutes)) min), \
    \(outcome(labelled: testStreams)) of them labelled with one of the six activities.
    Windows of 128 samples every \(options.hop) samples (\(hopSeconds) s); the label shown at a \
    sample is the latest prediction's. Ground truth: \(String(format: "%.2f", truthPerMinute)) \
    activity changes per minute (label changes per minute count every change of the shown label \
    over all samples; within activities, only those inside one labelled activity, per minute of \
    labelled time).

    """
  let results = summary + "\n" + table
  print(results)
  let folder = URL(fileURLWithPath: options.out)
  try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  try results.write(
    to: folder.appendingPathComponent("results.md"), atomically: true, encoding: .utf8)
  let stream = testStreams[figureIndex]
  let svg = timeline(
    rows: figureRows, classNames: classNames,
    title: "HAPT test recording \(figureIndex) (subject \(stream.subject)), "
      + "\(options.model.rawValue), hop \(options.hop)")
  try svg.write(
    to: folder.appendingPathComponent("timeline.svg"), atomically: true, encoding: .utf8)
  print(
    "wrote \(folder.path)/results.md and timeline.svg in "
      + String(format: "%.0f s", Date().timeIntervalSince(started)))
}

/// The number of samples labelled with an activity.
func outcome(labelled streams: [LabeledStream]) -> Int {
  streams.reduce(0) { $0 + $1.labels.filter { $0 >= 0 }.count }
}

do {
  try run(try Options(Array(CommandLine.arguments.dropFirst())))
} catch let error as UsageError {
  FileHandle.standardError.write(Data("stream: \(error)\n".utf8))
  exit(64)
} catch {
  FileHandle.standardError.write(Data("stream: \(error)\n".utf8))
  exit(1)
}
