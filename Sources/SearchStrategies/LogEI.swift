// Log expected improvement, computed without underflow (Ament et al., "Unexpected
// Improvements to Expected Improvement for Bayesian Optimization", NeurIPS 2023).
//
// For a loss f ~ N(μ, σ²) and the best loss so far f*, the improvement is max(f* − f, 0) and
//   EI = σ · h(z),   z = (f* − μ) / σ,   h(z) = φ(z) + z Φ(z).
// h underflows for z ≲ −38 although log h is perfectly finite (≈ −z²/2 − 2 log|z|), and
// computing φ + zΦ loses every digit to cancellation long before that. So:
//   z > −1:          log h = log(φ(z) + z Φ(z)) directly;
//   −100 < z ≤ −1:   h = φ(z) · (1 − |z| √(π/2) erfcx(|z|/√2)), via log1mexp;
//   z ≤ −100:        h = φ(z)/z² · (1 − 3/z² + 15/z⁴ − 105/z⁶), the asymptotic series.
// The gradient uses ∂log EI/∂μ = −Φ(z)/(σ h(z)) and ∂log EI/∂σ = φ(z)/(σ h(z)), both ratios
// formed from logarithms for the same reason.

import Foundation

enum LogEI {
  static let logSqrt2Pi = 0.5 * log(2 * Double.pi)

  /// The smallest variance used, so that log EI stays finite at an observed point.
  static let varianceFloor = 1e-20

  /// log h(z) for any finite z.
  static func logH(_ z: Double) -> Double {
    if z > -1 {
      return log(standardNormalDensity(z) + z * standardNormalCDF(z))
    }
    let logPhi = -0.5 * z * z - logSqrt2Pi
    if z > -100 {
      let a = log(-z) + 0.5 * log(Double.pi / 2) + log(erfcx(-z / 2.0.squareRoot()))
      return logPhi + log1mexp(a)
    }
    let w = 1 / (z * z)
    return logPhi + log(w) + log1p(w * (-3 + w * (15 - 105 * w)))
  }

  /// log Φ(z), finite for any finite z.
  static func logStandardNormalCDF(_ z: Double) -> Double {
    if z > -1 { return log(standardNormalCDF(z)) }
    return log(0.5 * erfcx(-z / 2.0.squareRoot())) - 0.5 * z * z
  }

  /// log EI of a loss with posterior mean `mean` and variance `variance` below `best`.
  static func value(mean: Double, variance: Double, best: Double) -> Double {
    let sigma = Swift.max(variance, varianceFloor).squareRoot()
    return log(sigma) + logH((best - mean) / sigma)
  }

  /// log EI with its partial derivatives in the mean and the variance.
  static func valueWithGradient(mean: Double, variance: Double, best: Double) -> (
    value: Double, dMean: Double, dVariance: Double
  ) {
    let floored = variance < varianceFloor
    let v = Swift.max(variance, varianceFloor)
    let sigma = v.squareRoot()
    let z = (best - mean) / sigma
    let lh = logH(z)
    let phiOverH = exp(-0.5 * z * z - logSqrt2Pi - lh)
    let cdfOverH = exp(logStandardNormalCDF(z) - lh)
    let dMean = -cdfOverH / sigma
    let dSigma = phiOverH / sigma
    return (log(sigma) + lh, dMean, floored ? 0 : dSigma / (2 * sigma))
  }

  static func standardNormalDensity(_ z: Double) -> Double {
    exp(-0.5 * z * z - logSqrt2Pi)
  }

  static func standardNormalCDF(_ z: Double) -> Double {
    0.5 * erfc(-z / 2.0.squareRoot())
  }

  /// The scaled complementary error function exp(x²)·erfc(x) for x ≥ 0.
  static func erfcx(_ x: Double) -> Double {
    if x < 26 { return exp(x * x) * erfc(x) }
    // Asymptotic: 1/(x√π) · Σ (−1)ᵏ (2k−1)!! / (2x²)ᵏ; six terms are exact to double precision here.
    let t = 1 / (2 * x * x)
    var term = 1.0
    var sum = 1.0
    for k in 1...6 {
      term *= -Double(2 * k - 1) * t
      sum += term
    }
    return sum / (x * Double.pi.squareRoot())
  }

  /// log(1 − eᵃ) for a < 0, accurate on both sides of −log 2.
  static func log1mexp(_ a: Double) -> Double {
    a > -log(2.0) ? log(-expm1(a)) : log1p(-exp(a))
  }
}
