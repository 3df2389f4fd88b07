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

  /// The generator of one of a run's independent streams, derived from the run's `seed`.
  ///
  /// A run draws its weight initialization, its data order and its dropout masks from three
  /// streams, so that changing how one is consumed (a different model, another batch size)
  /// leaves the others' draws as they were:
  ///
  /// ```swift
  /// var initialization = SplitMix64(seed: 7, stream: .initialization)
  /// let model = ReferenceModel.lm.make(channels: 6, classes: 6, generator: &initialization)
  /// ```
  public init(seed: UInt64, stream: RandomStream) {
    // The seed and the stream's number mixed through one SplitMix64 step: nearby seeds and
    // streams start far apart.
    var mixer = SplitMix64(seed: seed ^ (stream.rawValue &* 0xD1B5_4A32_D192_ED03))
    state = mixer.next()
  }

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

/// The independent random streams of a training run (see ``SplitMix64/init(seed:stream:)``).
public enum RandomStream: UInt64, Sendable, CaseIterable {
  /// Weight initialization.
  case initialization = 1
  /// The order of the training examples, shuffled every epoch.
  case dataOrder = 2
  /// Dropout masks.
  case dropout = 3
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
