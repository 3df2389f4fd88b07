import Foundation

/// Distribution functions that the paired tests need, written out so Metrics needs no
/// numerics dependency.
///
/// Implementation goals: double precision to ~1e-12 relative error over the arguments a study
/// meets (degrees of freedom 1…1000, |t| up to 1e3), and no iteration that can fail silently.
public enum SpecialFunctions {
  /// The regularized incomplete beta function `I_x(a, b)`, for `a, b > 0` and `0 ≤ x ≤ 1`.
  ///
  /// Evaluated with the continued fraction of Numerical Recipes §6.4 (modified Lentz), using the
  /// symmetry `I_x(a, b) = 1 − I_{1−x}(b, a)` so that the fraction is always used where it
  /// converges fast (`x < (a + 1) / (a + b + 2)`).
  public static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
    precondition(a > 0 && b > 0, "regularizedIncompleteBeta: a = \(a) and b = \(b) must be > 0")
    precondition(x >= 0 && x <= 1, "regularizedIncompleteBeta: x = \(x) must be in [0, 1]")
    if x == 0 || x == 1 { return x }
    // The prefactor x^a (1−x)^b / (a B(a, b)), in logs to avoid overflow for large a, b.
    let logFront =
      lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
    if x < (a + 1) / (a + b + 2) {
      return exp(logFront) * betaContinuedFraction(x, a: a, b: b) / a
    }
    return 1 - exp(logFront) * betaContinuedFraction(1 - x, a: b, b: a) / b
  }

  /// The continued fraction of `I_x(a, b)` (NR eq. 6.4.5), evaluated by the modified Lentz method.
  private static func betaContinuedFraction(_ x: Double, a: Double, b: Double) -> Double {
    let tiny = 1e-300
    let (qab, qap, qam) = (a + b, a + 1, a - 1)
    var c = 1.0
    var d = 1 - qab * x / qap
    if abs(d) < tiny { d = tiny }
    d = 1 / d
    var h = d
    for m in 1...10_000 {
      let m = Double(m)
      let m2 = 2 * m
      // Even step.
      var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
      d = 1 + aa * d
      if abs(d) < tiny { d = tiny }
      c = 1 + aa / c
      if abs(c) < tiny { c = tiny }
      d = 1 / d
      h *= d * c
      // Odd step.
      aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
      d = 1 + aa * d
      if abs(d) < tiny { d = tiny }
      c = 1 + aa / c
      if abs(c) < tiny { c = tiny }
      d = 1 / d
      let delta = d * c
      h *= delta
      if abs(delta - 1) < 1e-15 { return h }
    }
    // Converges in O(sqrt(max(a, b))) steps; 10,000 covers a, b up to ~1e7.
    fatalError(
      "regularizedIncompleteBeta did not converge for x = \(x), a = \(a), b = \(b)")
  }

  /// The cumulative distribution function of Student's t distribution with `degreesOfFreedom`.
  ///
  /// `P(T ≤ t) = 1 − ½ I_{ν/(ν+t²)}(ν/2, ½)` for `t ≥ 0`, and symmetric for `t < 0`.
  public static func studentTCDF(_ t: Double, degreesOfFreedom: Double) -> Double {
    precondition(degreesOfFreedom > 0, "studentTCDF: degrees of freedom \(degreesOfFreedom) ≤ 0")
    if t.isNaN { return .nan }
    if t.isInfinite { return t > 0 ? 1 : 0 }
    let tail = studentTTwoSidedTail(abs(t), degreesOfFreedom: degreesOfFreedom) / 2
    return t >= 0 ? 1 - tail : tail
  }

  /// `P(|T| ≥ t)` for Student's t with `degreesOfFreedom`: the two-sided p-value of statistic `t`.
  ///
  /// Computed directly as `I_{ν/(ν+t²)}(ν/2, ½)`, not as `2·(1 − CDF)`, so small p-values keep
  /// their relative precision.
  public static func studentTTwoSidedTail(_ t: Double, degreesOfFreedom: Double) -> Double {
    precondition(degreesOfFreedom > 0, "studentTTwoSidedTail: degrees of freedom ≤ 0")
    if t.isNaN { return .nan }
    if t.isInfinite { return 0 }
    let x = degreesOfFreedom / (degreesOfFreedom + t * t)
    return regularizedIncompleteBeta(x, a: degreesOfFreedom / 2, b: 0.5)
  }

  /// The quantile of Student's t distribution with `degreesOfFreedom`: the `t` with
  /// `P(T ≤ t) = p`, for `0 < p < 1` (scipy's `stats.t.ppf(p, df)`).
  ///
  /// Found by bisection on ``studentTTwoSidedTail(_:degreesOfFreedom:)``, which falls
  /// monotonically in `t`: the bracket doubles until it holds the answer, then halves until it is
  /// as narrow as a double allows, so the result is as accurate as the tail itself.
  public static func studentTQuantile(_ p: Double, degreesOfFreedom: Double) -> Double {
    precondition(degreesOfFreedom > 0, "studentTQuantile: degrees of freedom ≤ 0")
    precondition(p > 0 && p < 1, "studentTQuantile: p = \(p) must be in (0, 1)")
    if p == 0.5 { return 0 }
    // The one-sided upper tail to reach, P(T ≥ t) = tail, with t > 0.
    let tail = min(p, 1 - p)
    func upperTail(_ t: Double) -> Double {
      studentTTwoSidedTail(t, degreesOfFreedom: degreesOfFreedom) / 2
    }
    var (low, high) = (0.0, 1.0)
    while upperTail(high) > tail {
      low = high
      high *= 2
    }
    for _ in 0..<2_000 {
      let middle = (low + high) / 2
      guard middle > low && middle < high else { break }
      if upperTail(middle) > tail { low = middle } else { high = middle }
    }
    let t = (low + high) / 2
    return p > 0.5 ? t : -t
  }

  /// The cumulative distribution function of the standard normal distribution.
  public static func normalCDF(_ z: Double) -> Double {
    0.5 * erfc(-z / 2.0.squareRoot())
  }
}
