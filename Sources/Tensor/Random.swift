/// A small, fast, seedable random number generator.
///
/// SplitMix64: Steele, Lea & Flood, "Fast Splittable Pseudorandom Number Generators", OOPSLA 2014
/// (https://doi.org/10.1145/2660193.2660195).
///
/// Every random tensor in HARDistill is drawn from a generator passed explicitly, so the same seed
/// gives the same model on every machine. There is no global generator.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
  /// The generator's whole state; two generators with equal state produce equal streams.
  public private(set) var state: UInt64

  /// A generator whose stream is determined by `seed`.
  public init(seed: UInt64) { state = seed }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Skips the next `draws` outputs in constant time: the generator then continues exactly as if
  /// `next()` had been called `draws` times (SplitMix64's state is a counter).
  ///
  /// A worker that handles the second half of a batch starts its stream where the first half's
  /// stream ends, so both see the draws one worker would have made.
  public mutating func skip(_ draws: Int) {
    precondition(draws >= 0, "SplitMix64.skip(\(draws)): the count must be ≥ 0")
    state &+= UInt64(draws) &* 0x9E37_79B9_7F4A_7C15
  }
}

extension RandomNumberGenerator {
  /// A uniform `Float` in `[0, 1)` built from the top 24 bits, identical on every platform.
  @inlinable
  mutating func nextUnitFloat() -> Float {
    Float(next() >> 40) * (1.0 / 16_777_216.0)
  }

  /// A standard normal sample (Box–Muller, one of the pair), in `Double` for accuracy.
  mutating func nextStandardNormal() -> Double {
    // u1 in (0, 1] keeps the logarithm finite.
    let u1 = (Double(next() >> 11) + 1) * (1.0 / 9_007_199_254_740_992.0)
    let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif
