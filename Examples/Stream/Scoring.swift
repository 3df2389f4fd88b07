// How `stream` scores a strategy: sample-level labels, flicker and delays after each change.

import Datasets

/// Samples per second in UCI HAPT's recordings.
let sampleRate = 50.0

/// What one strategy did on every test recording.
struct Outcome {
  var truth: [Int] = []  // labelled samples only
  var predicted: [Int] = []  // the label shown at those samples (-1: unknown or none yet)
  var changes = 0  // shown-label changes, all samples
  var changesWithin = 0  // shown-label changes inside a labelled activity segment
  var delays: [Double] = []  // seconds from each activity change to the label following it
  var missed = 0  // changes the label never followed within the new activity
}

/// Scores one recording's shown labels into `outcome`; the first prediction comes at sample
/// `window` (the window length).
func score(_ shown: [Int], _ labels: [Int], window: Int, into outcome: inout Outcome) {
  for t in labels.indices where labels[t] >= 0 {
    outcome.truth.append(labels[t])
    outcome.predicted.append(shown[t])
  }
  // Changes of the shown label, from the first window's prediction on.
  for t in window..<Swift.max(window, shown.count) where shown[t] != shown[t - 1] {
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

/// The number of samples labelled with an activity.
func outcome(labelled streams: [LabeledStream]) -> Int {
  streams.reduce(0) { $0 + $1.labels.filter { $0 >= 0 }.count }
}
