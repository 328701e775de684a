import Foundation

/// Student's t distribution, for Welch's test and its confidence intervals.
///
/// The two-sided tail is the regularized incomplete beta function:
/// P(|T| ≥ t) = I_x(ν/2, 1/2) with x = ν / (ν + t²), ν the degrees of freedom.
public enum StudentT {
  /// P(T ≤ t) for ν = `degreesOfFreedom` (> 0).
  public static func cdf(_ t: Double, degreesOfFreedom: Double) -> Double {
    let tail = 0.5 * twoSidedTail(abs(t), degreesOfFreedom: degreesOfFreedom)
    return t >= 0 ? 1 - tail : tail
  }

  /// P(|T| ≥ |t|).
  public static func twoSidedTail(_ t: Double, degreesOfFreedom nu: Double) -> Double {
    guard t.isFinite else { return t.isNaN ? .nan : 0 }
    let x = nu / (nu + t * t)
    return IncompleteBeta.regularized(x: x, a: nu / 2, b: 0.5)
  }

  /// The t with P(T ≤ t) = p, for 0 < p < 1, found by bisection on the distribution function
  /// (monotone, so bisection cannot miss; 200 halvings reach double precision).
  public static func quantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
    precondition(p > 0 && p < 1, "a quantile's probability lies strictly between 0 and 1")
    if p == 0.5 { return 0 }
    if p < 0.5 { return -quantile(1 - p, degreesOfFreedom: nu) }
    var low = 0.0
    var high = 1.0
    while cdf(high, degreesOfFreedom: nu) < p { high *= 2 }
    for _ in 0..<200 {
      let middle = (low + high) / 2
      if middle == low || middle == high { break }
      if cdf(middle, degreesOfFreedom: nu) < p { low = middle } else { high = middle }
    }
    return (low + high) / 2
  }
}

/// The regularized incomplete beta function I_x(a, b), by its continued fraction (evaluated
/// with the modified Lentz method), using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the
/// fraction converges slowly.
enum IncompleteBeta {
  static func regularized(x: Double, a: Double, b: Double) -> Double {
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
    if x < (a + 1) / (a + b + 2) {
      return exp(logFront) * continuedFraction(x: x, a: a, b: b) / a
    }
    return 1 - exp(logFront) * continuedFraction(x: 1 - x, a: b, b: a) / b
  }

  private static func continuedFraction(x: Double, a: Double, b: Double) -> Double {
    let tiny = 1e-300
    var c = 1.0
    var d = 1 - (a + b) * x / (a + 1)
    if abs(d) < tiny { d = tiny }
    d = 1 / d
    var result = d
    for m in 1...500 {
      let m = Double(m)
      // The even step, then the odd step of the fraction's terms.
      var term = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
      d = 1 + term * d
      if abs(d) < tiny { d = tiny }
      c = 1 + term / c
      if abs(c) < tiny { c = tiny }
      d = 1 / d
      result *= d * c
      term = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
      d = 1 + term * d
      if abs(d) < tiny { d = tiny }
      c = 1 + term / c
      if abs(c) < tiny { c = tiny }
      d = 1 / d
      let step = d * c
      result *= step
      if abs(step - 1) < 1e-15 { break }
    }
    return result
  }
}
