import Foundation

/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny seedable generator, so splits and synthetic
/// data are the same for a given seed (integer draws bit for bit everywhere).
///
/// Internal on purpose: `Tensor` has its own generator, and two public types of one name would
/// clash in a client that imports both modules.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform double in `[0, 1)` from the top 53 bits.
  mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

  /// A uniform double in `range`.
  mutating func uniform(_ range: ClosedRange<Double>) -> Double {
    range.lowerBound + (range.upperBound - range.lowerBound) * unit()
  }

  /// A standard normal sample (Box–Muller; one of the pair is discarded for simplicity).
  mutating func normal() -> Double {
    let u1 = Swift.max(unit(), 0x1p-60)
    let u2 = unit()
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
  }
}
