import Foundation
import Metrics

/// A map from data values to canvas coordinates along one axis, with the tick marks to draw.
struct Scale {
  /// One tick: where it sits in data units, and its label (empty for a minor tick).
  struct Tick {
    var value: Double
    var label: String
    var isMajor: Bool { !label.isEmpty }
  }

  enum Kind { case linear, logarithmic }

  let kind: Kind
  /// Data range shown; for a log scale both ends are > 0.
  let domain: ClosedRange<Double>
  /// Canvas coordinates of `domain.lowerBound` and `domain.upperBound` (may be decreasing).
  let range: (Double, Double)
  let ticks: [Tick]

  /// A linear scale over `data` padded to round tick values, with about `tickCount` ticks;
  /// `format` labels them (default: as many decimals as the step between ticks needs).
  static func linear(
    covering data: ClosedRange<Double>, range: (Double, Double), tickCount: Int = 6,
    format: ((Double) -> String)? = nil
  ) -> Scale {
    var (low, high) = (data.lowerBound, data.upperBound)
    if high - low < 1e-12 {
      let pad = max(abs(low) * 0.05, 1e-3)
      (low, high) = (low - pad, high + pad)
    }
    let step = niceStep((high - low) / Double(max(1, tickCount - 1)))
    low = (low / step).rounded(.down) * step
    high = (high / step).rounded(.up) * step
    var ticks: [Tick] = []
    var value = low
    while value <= high + step * 1e-9 {
      // Snap to the step grid: repeated addition drifts (0.1 + 0.2 ≠ 0.3).
      let snapped = (value / step).rounded() * step
      let label = format?(snapped) ?? Figures.tickLabel(snapped, step: step)
      ticks.append(Tick(value: snapped, label: label))
      value += step
    }
    return Scale(kind: .linear, domain: low...high, range: range, ticks: ticks)
  }

  /// A base-10 log scale over positive `data`, widened to whole decades; labelled major ticks at
  /// powers of ten, minor ticks at 2…9 × each decade.
  static func logarithmic(covering data: ClosedRange<Double>, range: (Double, Double)) -> Scale {
    let low = floor(log10(max(data.lowerBound, 1e-300)))
    var high = ceil(log10(max(data.upperBound, 1e-300)))
    if high <= low { high = low + 1 }
    var ticks: [Tick] = []
    for exponent in Int(low)...Int(high) {
      let decade = pow(10, Double(exponent))
      ticks.append(Tick(value: decade, label: Format.si(decade)))
      if exponent < Int(high) {
        for multiple in 2...9 { ticks.append(Tick(value: Double(multiple) * decade, label: "")) }
      }
    }
    return Scale(
      kind: .logarithmic, domain: pow(10, low)...pow(10, high), range: range, ticks: ticks)
  }

  /// The canvas coordinate of `value`.
  func callAsFunction(_ value: Double) -> Double {
    let fraction: Double
    switch kind {
    case .linear:
      fraction = (value - domain.lowerBound) / (domain.upperBound - domain.lowerBound)
    case .logarithmic:
      let (low, high) = (log10(domain.lowerBound), log10(domain.upperBound))
      fraction = (log10(max(value, 1e-300)) - low) / (high - low)
    }
    return range.0 + fraction * (range.1 - range.0)
  }

  /// The 1-2-5 × 10ⁿ step closest above `rough`.
  static func niceStep(_ rough: Double) -> Double {
    guard rough > 0, rough.isFinite else { return 1 }
    let power = pow(10, floor(log10(rough)))
    let fraction = rough / power
    let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
    return nice * power
  }
}
