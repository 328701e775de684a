// Output warping: a power transform of the losses before the GP sees them (as HEBO does), so
// that a loss spanning orders of magnitude (Goldstein-Price: 3 to 10⁶) or with a heavy upper
// tail does not leave the good region flat in the GP's eyes.
//
// Notation (n losses):
//
//   rᵢ      the raw losses, n (smaller is better).   s: their standard deviation.
//   u       the transform's input: u = r when every rᵢ > 0 (Box-Cox), else u = r / s
//           (Yeo-Johnson), HEBO's choice.
//   ψ(λ, u) Box-Cox (u > 0):   (u^λ − 1) / λ,   λ = 0: log u.
//           Yeo-Johnson (Yeo & Johnson, Biometrika 2000):
//             u ≥ 0, λ ≠ 0:   ((1 + u)^λ − 1) / λ            u ≥ 0, λ = 0:   log(1 + u)
//             u < 0, λ ≠ 2:   −((1 − u)^(2−λ) − 1) / (2 − λ)  u < 0, λ = 2:   −log(1 − u)
//           Both are increasing in u for every λ, so the order of the losses is kept.
//   J(λ)    the log-Jacobian Σᵢ log |∂ψ/∂u|(uᵢ), up to a constant in λ:
//             Box-Cox (λ − 1) Σᵢ log uᵢ;   Yeo-Johnson (λ − 1) Σᵢ sign(uᵢ) log(1 + |uᵢ|).
//   ℓ(λ)    the profile log-likelihood of λ under a normal model of ψ(λ, u):
//             ℓ(λ) = −(n/2) log σ̂²(λ) + J(λ),   σ̂²(λ) the (biased) variance of ψ(λ, u).
//           These are scipy's `boxcox_llf` and `yeojohnson_llf`; scipy maximizes them with
//           Brent's method (`boxcox`, `yeojohnson_normmax`).
//   λ̂       argmax ℓ over [−5, 5] (golden-section search, then the better of it and the
//           bracket's ends); λ = 1 is an affine map (no warping).
//   z       the warped targets: ψ(λ̂, u) standardized (mean 0, standard deviation 1).
//   log|∂zᵢ/∂rᵢ|  log ψ'(uᵢ) + log(∂u/∂r) − log sd(ψ); summed over the observations, with it, a GP's log marginal
//           likelihood of z is a log density of the raw losses r, comparable with the one of
//           the merely standardized losses (whose log-Jacobian is −n log s). The strategy fits
//           both GPs and keeps the one that explains r better (see `BayesianOptimization`).
//
// λ < 1 compresses the upper (bad) tail of the losses and stretches the lower (good) one,
// which is the side the expected improvement looks at.

import Foundation

/// The power transform of the losses (see the header).
enum PowerTransform: Sendable, Hashable {
  case boxCox
  case yeoJohnson

  /// ψ(λ, u).
  func transform(_ u: Double, lambda: Double) -> Double {
    switch self {
    case .boxCox:
      return abs(lambda) < 1e-12 ? log(u) : (pow(u, lambda) - 1) / lambda
    case .yeoJohnson:
      if u >= 0 {
        return abs(lambda) < 1e-12 ? log1p(u) : (pow(1 + u, lambda) - 1) / lambda
      }
      return abs(lambda - 2) < 1e-12 ? -log1p(-u) : -(pow(1 - u, 2 - lambda) - 1) / (2 - lambda)
    }
  }

  /// log ∂ψ/∂u at u.
  func logDerivative(_ u: Double, lambda: Double) -> Double {
    switch self {
    case .boxCox: (lambda - 1) * log(u)
    case .yeoJohnson: u >= 0 ? (lambda - 1) * log1p(u) : (1 - lambda) * log1p(-u)
    }
  }

  /// ℓ(λ), the profile log-likelihood (see the header).
  func logLikelihood(_ u: [Double], lambda: Double) -> Double {
    let n = Double(u.count)
    let psi = u.map { transform($0, lambda: lambda) }
    let mean = psi.reduce(0, +) / n
    let variance = psi.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
    guard variance > 0, variance.isFinite else { return -.infinity }
    let logJacobian: Double
    switch self {
    case .boxCox: logJacobian = u.reduce(0) { $0 + log($1) }
    case .yeoJohnson: logJacobian = u.reduce(0) { $0 + ($1 < 0 ? -1.0 : 1.0) * log1p(abs($1)) }
    }
    return -0.5 * n * log(variance) + (lambda - 1) * logJacobian
  }

  /// λ̂ = argmax ℓ over [lower, upper].
  func maximumLikelihoodLambda(_ u: [Double], lower: Double = -5, upper: Double = 5) -> Double {
    let ratio = (5.0.squareRoot() - 1) / 2
    var a = lower
    var b = upper
    var c = b - ratio * (b - a)
    var d = a + ratio * (b - a)
    var fc = logLikelihood(u, lambda: c)
    var fd = logLikelihood(u, lambda: d)
    for _ in 0..<100 where b - a > 1e-9 {
      if fc > fd {
        b = d
        d = c
        fd = fc
        c = b - ratio * (b - a)
        fc = logLikelihood(u, lambda: c)
      } else {
        a = c
        c = d
        fc = fd
        d = a + ratio * (b - a)
        fd = logLikelihood(u, lambda: d)
      }
    }
    return [(a + b) / 2, lower, upper].max { logLikelihood(u, lambda: $0) < logLikelihood(u, lambda: $1) }!
  }
}

enum OutputWarping {
  /// z = (r − mean) / s, with log |∂zᵢ/∂rᵢ| = −log s for each loss. A constant history gives
  /// zeros (and log-Jacobians 0).
  static func standardize(_ losses: [Double]) -> (standardized: [Double], logJacobians: [Double]) {
    let n = Double(Swift.max(losses.count, 1))
    let mean = losses.reduce(0, +) / n
    let variance = losses.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
    guard variance > 0, variance.isFinite else { return (losses.map { _ in 0 }, losses.map { _ in 0 }) }
    let scale = variance.squareRoot()
    return (losses.map { ($0 - mean) / scale }, losses.map { _ in -log(scale) })
  }

  /// z (see the header), the transform and λ̂ used, and log |∂zᵢ/∂rᵢ| for each loss (so that GP likelihoods of z and of the merely standardized losses compare as densities
  /// of the same r). Fewer than three distinct losses, or a numerical failure: the losses
  /// standardized, unwarped (λ = 1).
  static func warp(_ losses: [Double]) -> (
    warped: [Double], transform: PowerTransform, lambda: Double, logJacobians: [Double]
  ) {
    let plain = standardize(losses)
    guard Set(losses).count >= 3 else { return (plain.standardized, .yeoJohnson, 1, plain.logJacobians) }
    let n = Double(losses.count)
    let transform: PowerTransform
    let u: [Double]
    var logScale = 0.0
    if losses.allSatisfy({ $0 > 0 }) {
      transform = .boxCox
      u = losses
    } else {
      let mean = losses.reduce(0, +) / n
      let s = (losses.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n).squareRoot()
      transform = .yeoJohnson
      u = losses.map { $0 / s }
      logScale = -log(s)
    }
    let lambda = transform.maximumLikelihoodLambda(u)
    let psi = u.map { transform.transform($0, lambda: lambda) }
    let (warped, standardizing) = standardize(psi)
    guard psi.allSatisfy(\.isFinite), Set(psi).count > 1 else {
      return (plain.standardized, .yeoJohnson, 1, plain.logJacobians)
    }
    let logJacobians = zip(u, standardizing).map { transform.logDerivative($0, lambda: lambda) + logScale + $1 }
    return (warped, transform, lambda, logJacobians)
  }
}
