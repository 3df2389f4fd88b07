/// How a ``PredictionSmoother`` turns a sequence of per-window class probabilities into a stable
/// label.
public enum Smoothing: Sendable, Equatable {
  /// The label is the arg-max of the latest window's probabilities; its confidence is that
  /// probability.
  case none
  /// The label is the most frequent arg-max of the last `count` windows (a tie goes to the label
  /// among the tied ones seen most recently); its confidence is that label's mean probability
  /// over those windows.
  case majorityVote(count: Int)
  /// The label is the arg-max of an exponential moving average of the probabilities,
  /// `s ← weight · p + (1 − weight) · s` (the first window's probabilities start it); its
  /// confidence is the average's value there.
  case exponentialMovingAverage(weight: Float)
  /// Online filtering in a hidden Markov model (the forward algorithm): the activity stays the
  /// same from one window to the next with probability `1 − switchProbability` and changes to
  /// each other class with probability `switchProbability / (classes − 1)`; each window's
  /// probabilities serve as its emission likelihoods (a uniform class prior). The label is the
  /// arg-max of the filtered belief, its confidence the belief's value there. A smaller
  /// `switchProbability` is a larger penalty on switching.
  case hiddenMarkov(switchProbability: Float)

  /// Throws unless the parameters are in range.
  func validate() throws(StreamingError) {
    switch self {
    case .none: break
    case .majorityVote(let count):
      guard count >= 1 else {
        throw .invalidSetting(name: "majority vote count", value: "\(count)", expected: "≥ 1")
      }
    case .exponentialMovingAverage(let weight):
      guard weight > 0, weight <= 1 else {
        throw .invalidSetting(
          name: "moving-average weight", value: "\(weight)", expected: "0 < weight ≤ 1")
      }
    case .hiddenMarkov(let switchProbability):
      guard switchProbability > 0, switchProbability < 1 else {
        throw .invalidSetting(
          name: "switch probability", value: "\(switchProbability)",
          expected: "0 < probability < 1")
      }
    }
  }
}

/// Smooths a stream of per-window class probabilities into a label and its confidence, with an
/// optional threshold below which the label is unknown (`nil`).
///
/// ``StreamingRecognizer`` runs one for its predictions; it works as well on its own, e.g. to
/// compare strategies on probabilities computed once:
///
/// ```swift
/// var smoother = try PredictionSmoother(.hiddenMarkov(switchProbability: 0.01), classes: 6)
/// let (label, confidence) = smoother.update(probabilities)
/// ```
public struct PredictionSmoother: Sendable {
  /// The strategy.
  public let smoothing: Smoothing
  /// The number of classes.
  public let classes: Int
  /// Labels whose confidence is below this are reported as unknown (`nil`); `nil` for none.
  public let unknownThreshold: Float?

  /// The majority vote's recent probabilities, oldest first.
  private var recent: [[Float]] = []
  /// The moving average or the filtered belief; empty before the first update.
  private var state: [Float] = []

  /// A smoother for `classes` classes.
  ///
  /// - Throws: ``StreamingError/invalidSetting(name:value:expected:)`` for a parameter out of
  ///   range, fewer than one class, or a threshold outside `0...1`.
  public init(
    _ smoothing: Smoothing, classes: Int, unknownThreshold: Float? = nil
  ) throws(StreamingError) {
    try smoothing.validate()
    guard classes >= 1 else {
      throw .invalidSetting(name: "class count", value: "\(classes)", expected: "≥ 1")
    }
    if let threshold = unknownThreshold, !(threshold >= 0 && threshold <= 1) {
      throw .invalidSetting(
        name: "unknown threshold", value: "\(threshold)", expected: "a probability in 0...1")
    }
    self.smoothing = smoothing
    self.classes = classes
    self.unknownThreshold = unknownThreshold
  }

  /// Forgets every earlier window.
  public mutating func reset() {
    recent.removeAll(keepingCapacity: true)
    state.removeAll(keepingCapacity: true)
  }

  /// Takes the next window's probabilities (`classes` of them, summing to 1) and returns the
  /// smoothed label (`nil` when its confidence is below ``unknownThreshold``) and its confidence.
  public mutating func update(_ probabilities: [Float]) -> (label: Int?, confidence: Float) {
    precondition(
      probabilities.count == classes,
      "PredictionSmoother: \(probabilities.count) probabilities for \(classes) classes")
    let (label, confidence): (Int, Float)
    switch smoothing {
    case .none:
      label = Self.argmax(probabilities)
      confidence = probabilities[label]
    case .majorityVote(let count):
      if recent.count == count { recent.removeFirst() }
      recent.append(probabilities)
      var votes = [Int](repeating: 0, count: classes)
      var lastSeen = [Int](repeating: -1, count: classes)
      for (position, window) in recent.enumerated() {
        let vote = Self.argmax(window)
        votes[vote] += 1
        lastSeen[vote] = position
      }
      var best = 0
      for c in 1..<classes
      where votes[c] > votes[best] || (votes[c] == votes[best] && lastSeen[c] > lastSeen[best]) {
        best = c
      }
      label = best
      confidence = recent.reduce(0) { $0 + $1[best] } / Float(recent.count)
    case .exponentialMovingAverage(let weight):
      if state.isEmpty {
        state = probabilities
      } else {
        for c in 0..<classes { state[c] = weight * probabilities[c] + (1 - weight) * state[c] }
      }
      label = Self.argmax(state)
      confidence = state[label]
    case .hiddenMarkov(let switchProbability):
      // Probabilities of exactly 0 would make a class unreachable for good: floor them.
      let floor: Float = 1e-6
      if state.isEmpty {
        state = probabilities.map { Swift.max($0, floor) }
      } else {
        let total = state.reduce(0, +)
        let stay = 1 - switchProbability
        let move = classes > 1 ? switchProbability / Float(classes - 1) : 0
        for c in 0..<classes {
          // Σᵢ belief(i)·A(i, c) with A = stay on the diagonal and move elsewhere.
          let prior = stay * state[c] + move * (total - state[c])
          state[c] = prior * Swift.max(probabilities[c], floor)
        }
      }
      let sum = state.reduce(0, +)
      for c in 0..<classes { state[c] /= sum }
      label = Self.argmax(state)
      confidence = state[label]
    }
    if let threshold = unknownThreshold, confidence < threshold { return (nil, confidence) }
    return (label, confidence)
  }

  /// The first index of the largest value.
  static func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
  }
}
