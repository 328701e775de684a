// What `AcquisitionOptimizer` maximizes: a function of GP inputs, "higher is better", with
// its gradient along the inputs (zero along categorical coordinates).
//
// - `PosteriorAcquisition`: one GP's posterior through an `Acquisition` (the single-objective
//   search).
// - `FeasibleHypervolumeAcquisition`: several objectives' GPs through `LogEHVI`, plus the log
//   probability that every constraint holds (one GP per constraint):
//     a(x) = log EHVI(μ(x), v(x)) + Σ_c log Φ((τ_c − μ_c(x)) / σ_c(x)),
//   τ_c the constraint's bound (0 in raw units) in its GP's standardized units. With a single
//   objective, EHVI over the 1-D boxes below the best feasible loss is expected improvement,
//   and a(x) is log constrained EI (Gardner et al. 2014).
//   ∂ log Φ(z)/∂z = φ(z)/Φ(z), z = (τ − μ)/σ: ∂z/∂μ = −1/σ, ∂z/∂v = −z/(2v).

import Foundation

protocol AcquisitionSurface: Sendable {
  /// The values at GP inputs.
  func values(_ inputs: [[Double]]) throws -> [Double]
  /// The value and its gradient along the input's coordinates; nil when the posterior fails.
  func valueWithGradient(_ input: [Double]) -> (value: Double, gradient: [Double])?
}

struct PosteriorAcquisition: AcquisitionSurface {
  var gp: GaussianProcess
  var acquisition: Acquisition
  /// Best standardized loss observed (f* of the improvement).
  var best: Double

  func values(_ inputs: [[Double]]) throws -> [Double] {
    let (mean, variance) = try gp.posterior(inputs.flatMap { $0 })
    return inputs.indices.map { acquisition.value(mean: mean[$0], variance: variance[$0], best: best) }
  }

  func valueWithGradient(_ input: [Double]) -> (value: Double, gradient: [Double])? {
    guard let posterior = try? gp.posteriorWithGradient(input) else { return nil }
    let a = acquisition.valueWithGradient(mean: posterior.mean, variance: posterior.variance, best: best)
    return (
      a.value,
      input.indices.map { a.dMean * posterior.meanGradient[$0] + a.dVariance * posterior.varianceGradient[$0] }
    )
  }
}

struct FeasibleHypervolumeAcquisition: AcquisitionSurface {
  /// One GP per objective (standardized losses).
  var objectives: [GaussianProcess]
  var improvement: LogEHVI
  /// One GP per constraint (standardized signed values, ≤ τ holds) and its bound τ.
  var constraints: [(gp: GaussianProcess, bound: Double)]

  func values(_ inputs: [[Double]]) throws -> [Double] {
    let flat = inputs.flatMap { $0 }
    let objectivePosteriors = try objectives.map { try $0.posterior(flat) }
    let constraintPosteriors = try constraints.map { try $0.gp.posterior(flat) }
    return inputs.indices.map { i in
      var value = improvement.value(
        mean: objectivePosteriors.map { $0.mean[i] }, variance: objectivePosteriors.map { $0.variance[i] })
      for (c, posterior) in constraintPosteriors.enumerated() {
        value +=
          Self.logFeasibility(mean: posterior.mean[i], variance: posterior.variance[i], bound: constraints[c].bound)
          .value
      }
      return value
    }
  }

  func valueWithGradient(_ input: [Double]) -> (value: Double, gradient: [Double])? {
    guard let objectivePosteriors = try? objectives.map({ try $0.posteriorWithGradient(input) }),
      let constraintPosteriors = try? constraints.map({ try $0.gp.posteriorWithGradient(input) })
    else { return nil }
    let ehvi = improvement.valueWithGradient(
      mean: objectivePosteriors.map(\.mean), variance: objectivePosteriors.map(\.variance))
    var value = ehvi.value
    var gradient = [Double](repeating: 0, count: input.count)
    for (j, posterior) in objectivePosteriors.enumerated() {
      for k in input.indices {
        gradient[k] += ehvi.dMean[j] * posterior.meanGradient[k] + ehvi.dVariance[j] * posterior.varianceGradient[k]
      }
    }
    for (c, posterior) in constraintPosteriors.enumerated() {
      let feasibility = Self.logFeasibility(
        mean: posterior.mean, variance: posterior.variance, bound: constraints[c].bound)
      value += feasibility.value
      for k in input.indices {
        gradient[k] +=
          feasibility.dMean * posterior.meanGradient[k] + feasibility.dVariance * posterior.varianceGradient[k]
      }
    }
    return (value, gradient)
  }

  /// log P(c ≤ bound) for c ~ N(mean, variance), with its partial derivatives.
  static func logFeasibility(mean: Double, variance: Double, bound: Double) -> (
    value: Double, dMean: Double, dVariance: Double
  ) {
    let v = Swift.max(variance, LogEI.varianceFloor)
    let sigma = v.squareRoot()
    let z = (bound - mean) / sigma
    let logCDF = LogEI.logStandardNormalCDF(z)
    let ratio = exp(-0.5 * z * z - LogEI.logSqrt2Pi - logCDF)
    return (logCDF, -ratio / sigma, variance < LogEI.varianceFloor ? 0 : -ratio * z / (2 * v))
  }
}
