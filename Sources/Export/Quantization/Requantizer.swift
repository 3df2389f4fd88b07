import Foundation

/// A real-valued scale `M` applied to an int32 accumulator with integers only, as a
/// microcontroller does: `M ≈ multiplier · 2⁻ˢʰⁱᶠᵗ` with `multiplier` in `[2³⁰, 2³¹)`, and
///
///     apply(acc) = (acc · multiplier + 2^(shift − 1)) >> shift
///
/// in 64-bit arithmetic with an arithmetic (flooring) right shift: the nearest integer to
/// `acc · multiplier · 2⁻ˢʰⁱᶠᵗ`, ties rounded toward +∞. The multiplier itself is `M`'s 31-bit
/// mantissa rounded to nearest, so the result can differ from `round(acc · M)` on exact ties
/// (`15 · 0.1` gives 1, since the multiplier of 0.1 is slightly below it).
public struct Requantizer: Sendable, Equatable, CustomStringConvertible {
  /// The 31-bit mantissa of the scale, in `[2³⁰, 2³¹)` (0 for a zero scale).
  public var multiplier: Int32
  /// The right shift, 1 … 62.
  public var shift: Int

  /// The integer form of `scale` (≥ 0). Scales below 2⁻³¹ become 0 (`multiplier` 0); scales of
  /// 2³⁰ or more saturate to the largest representable one.
  public init(scale: Double) {
    guard scale > 0, scale.isFinite else {
      multiplier = 0
      shift = 31
      return
    }
    let exponent = scale.exponent + 1  // scale = fraction · 2^exponent, fraction in [0.5, 1)
    let fraction = scale / Double(sign: .plus, exponent: exponent, significand: 1)
    var mantissa = (fraction * 2_147_483_648).rounded()
    var shift = 31 - exponent
    if mantissa >= 2_147_483_648 {
      mantissa /= 2
      shift -= 1
    }
    if shift > 62 {
      (multiplier, self.shift) = (0, 31)
    } else if shift < 1 {
      (multiplier, self.shift) = (Int32.max, 1)
    } else {
      (multiplier, self.shift) = (Int32(mantissa), shift)
    }
  }

  /// A requantizer from its two integers.
  public init(multiplier: Int32, shift: Int) {
    self.multiplier = multiplier
    self.shift = shift
  }

  /// The scale it applies, `multiplier · 2⁻ˢʰⁱᶠᵗ`.
  public var scale: Double {
    Double(multiplier) / Double(sign: .plus, exponent: shift, significand: 1)
  }

  /// `(accumulator · multiplier + 2^(shift − 1)) >> shift`, unclamped.
  public func apply(_ accumulator: Int32) -> Int64 {
    (Int64(accumulator) * Int64(multiplier) + (Int64(1) << (shift - 1))) >> shift
  }

  /// ``apply(_:)`` clamped to `lowerBound … 127` (`lowerBound` is 0 after a fused ReLU, −127
  /// otherwise: int8 values are symmetric, −128 is never produced).
  public func int8(_ accumulator: Int32, lowerBound: Int8 = -127) -> Int8 {
    Int8(Swift.min(127, Swift.max(Int64(lowerBound), apply(accumulator))))
  }

  /// `multiplier · 2^-shift`.
  public var description: String { "\(multiplier) · 2^-\(shift)" }
}
