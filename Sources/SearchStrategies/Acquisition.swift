// Acquisition functions: what the acquisition optimizer maximizes.
//
// Notation: at a query point the GP's posterior loss is f ~ N(μ, v) (v the latent variance,
// σ = √v, standardized loss units), f* the best standardized loss observed.
//
//   log EI    log E[max(f* − f, 0)]     see `LogEI`.
//   −LCB      −(μ − κ σ),  κ = 1.96 (scikit-optimize's default):
//             ∂/∂μ = −1,   ∂/∂v = κ / (2σ)  (0 where σ ≈ 0: an observed point).
//
// Both are "higher is better". LCB is BayesianOptimization's default: on the suite's
// multimodal functions (Levy, Rosenbrock, Shekel, Rastrigin) log EI, whose value collapses
// quickly away from the incumbent's neighbourhood, kept refining one basin; the confidence
// bound keeps a fixed exchange rate between mean and uncertainty (bench/strategies/README.md).

import Foundation

enum Acquisition: Sendable, Hashable {
  case logEI
  case lowerConfidenceBound

  static let kappa = 1.96

  func value(mean: Double, variance: Double, best: Double) -> Double {
    switch self {
    case .logEI:
      return LogEI.value(mean: mean, variance: variance, best: best)
    case .lowerConfidenceBound:
      return valueWithGradient(mean: mean, variance: variance, best: best).value
    }
  }

  /// The value with its partial derivatives in the mean and the variance.
  func valueWithGradient(mean: Double, variance: Double, best: Double) -> (
    value: Double, dMean: Double, dVariance: Double
  ) {
    switch self {
    case .logEI:
      return LogEI.valueWithGradient(mean: mean, variance: variance, best: best)
    case .lowerConfidenceBound:
      return Self.bound(mean: mean, variance: variance, kappa: Self.kappa)
    }
  }

  /// −(μ − κσ) with its partial derivatives in μ and v.
  private static func bound(mean: Double, variance: Double, kappa: Double) -> (
    value: Double, dMean: Double, dVariance: Double
  ) {
    let sigma = Swift.max(variance, 0).squareRoot()
    let dVariance = sigma > 1e-10 ? kappa / (2 * sigma) : 0
    return (-(mean - kappa * sigma), -1, dVariance)
  }
}
