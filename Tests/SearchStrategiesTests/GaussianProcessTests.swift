import Foundation
import Testing

@testable import SearchStrategies

/// Known answers from Optuna 5.0's `optuna._gp.gp.GPRegressor` (torch, float64) on the same
/// data and hyperparameters; its marginal log-likelihood omits −(n/2) log 2π, added here.
struct GaussianProcessTests {
  static let x: [Double] = [0.1, 0.2, 0.4, 0.9, 0.7, 0.3, 0.95, 0.6]
  static let y: [Double] = [0.5, -1.2, 0.3, 1.1]
  static let hyperparameters = GPHyperparameters(
    inverseSquaredLengthscales: [2.0, 0.5], kernelScale: 1.5, noiseVariance: 0.01)

  @Test func posteriorAndLikelihoodMatchTheReference() throws {
    // Given four points in 2-D and fixed hyperparameters
    let gp = try GaussianProcess(
      x: Self.x, y: Self.y, isCategorical: [false, false], hyperparameters: Self.hyperparameters)
    // When the posterior at two points and the log marginal likelihood are computed
    let (mean, variance) = try gp.posterior([0.5, 0.5, 0.2, 0.8])
    // Then they match the reference implementation's numbers
    #expect(abs(gp.logMarginalLikelihood - -7.387398583380435) < 1e-9)
    #expect(abs(mean[0] - -0.4423484668812816) < 1e-9)
    #expect(abs(mean[1] - -0.8397321020474076) < 1e-9)
    #expect(abs(variance[0] - 0.03831770293728365) < 1e-9)
    #expect(abs(variance[1] - 0.0765016010715398) < 1e-9)
  }

  @Test func categoricalCoordinatesUseHammingDistance() throws {
    // Given the second coordinate categorical (indices 0, 1, 2, 0)
    let x: [Double] = [0.1, 0, 0.4, 1, 0.7, 2, 0.95, 0]
    let gp = try GaussianProcess(x: x, y: Self.y, isCategorical: [false, true], hyperparameters: Self.hyperparameters)
    // When the posterior is computed / Then it matches the reference
    let (mean, variance) = try gp.posterior([0.5, 1, 0.2, 0])
    #expect(abs(gp.logMarginalLikelihood - -6.05591434907989) < 1e-9)
    #expect(abs(mean[0] - -1.08242010154685) < 1e-9)
    #expect(abs(mean[1] - 0.48905475755942285) < 1e-9)
    #expect(abs(variance[0] - 0.04188089138443618) < 1e-9)
    #expect(abs(variance[1] - 0.042512282019384395) < 1e-9)
  }

  @Test func likelihoodGradientMatchesFiniteDifferences() throws {
    // Given the reference data and a point θ in raw hyperparameter space
    let theta = Self.hyperparameters.raw
    let isCategorical = [false, false]
    func lml(_ raw: [Double]) throws -> Double {
      try GaussianProcess.logMarginalLikelihoodWithGradient(
        x: Self.x, y: Self.y, isCategorical: isCategorical, hyperparameters: GPHyperparameters(raw: raw)
      ).value
    }
    // When the analytic gradient is compared with central differences
    let analytic = try GaussianProcess.logMarginalLikelihoodWithGradient(
      x: Self.x, y: Self.y, isCategorical: isCategorical, hyperparameters: GPHyperparameters(raw: theta))
    #expect(abs(analytic.value - -7.387398583380435) < 1e-9)
    for j in theta.indices {
      var plus = theta
      var minus = theta
      plus[j] += 1e-6
      minus[j] -= 1e-6
      let numeric = (try lml(plus) - lml(minus)) / 2e-6
      // Then every component agrees
      #expect(abs(analytic.gradient[j] - numeric) < 1e-5, "component \(j): \(analytic.gradient[j]) vs \(numeric)")
    }
  }

  @Test func priorGradientMatchesFiniteDifferences() {
    // Given a point θ / When the prior's gradient is compared with central differences
    let h = GPHyperparameters(inverseSquaredLengthscales: [0.3, 4], kernelScale: 0.7, noiseVariance: 0.02)
    let theta = h.raw
    let analytic = h.logPrior().gradient
    for j in theta.indices {
      var plus = theta
      var minus = theta
      plus[j] += 1e-6
      minus[j] -= 1e-6
      let numeric =
        (GPHyperparameters(raw: plus).logPrior().value - GPHyperparameters(raw: minus).logPrior().value) / 2e-6
      // Then they agree
      #expect(abs(analytic[j] - numeric) < 1e-5)
    }
  }

  @Test func posteriorGradientMatchesFiniteDifferences() throws {
    // Given the reference GP and a query point
    let gp = try GaussianProcess(
      x: Self.x, y: Self.y, isCategorical: [false, false], hyperparameters: Self.hyperparameters)
    let point = [0.45, 0.55]
    // When the analytic mean and variance gradients are compared with central differences
    let analytic = try gp.posteriorWithGradient(point)
    for k in 0..<2 {
      var plus = point
      var minus = point
      plus[k] += 1e-6
      minus[k] -= 1e-6
      let (mp, vp) = try gp.posterior(plus)
      let (mm, vm) = try gp.posterior(minus)
      // Then both agree
      #expect(abs(analytic.meanGradient[k] - (mp[0] - mm[0]) / 2e-6) < 1e-5)
      #expect(abs(analytic.varianceGradient[k] - (vp[0] - vm[0]) / 2e-6) < 1e-5)
    }
  }

  @Test func fittingRecoversALongLengthscaleForAFlatCoordinate() throws {
    // Given 30 points where y depends on the first coordinate only
    var rng = SplitMix64(seed: 1)
    var x: [Double] = []
    var y: [Double] = []
    for _ in 0..<30 {
      let a = rng.nextUnit()
      let b = rng.nextUnit()
      x += [a, b]
      y.append(sin(6 * a))
    }
    let mean = y.reduce(0, +) / 30
    let sd = (y.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 30).squareRoot()
    y = y.map { ($0 - mean) / sd }
    // When the hyperparameters are fitted from the default start
    let fit = GaussianProcess.fitHyperparameters(
      x: x, y: y, isCategorical: [false, false], starts: [GPHyperparameters.initial(dimension: 2)])
    // Then the relevant coordinate gets a much larger inverse squared lengthscale, the noise is small,
    // and the objective improved on the start
    let ils = fit.hyperparameters.inverseSquaredLengthscales
    #expect(ils[0] > 10 * ils[1])
    #expect(fit.hyperparameters.noiseVariance < 0.05)
  }
}
