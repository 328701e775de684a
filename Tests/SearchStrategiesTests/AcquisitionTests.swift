import Foundation
import Testing

@testable import SearchStrategies

/// Reference values by hand: scikit-optimize's `gaussian_lcb` is μ − κσ with κ = 1.96; the
/// acquisition maximizes its negation.
struct AcquisitionTests {
  static let reference: [(mean: Double, variance: Double, value: Double, dVariance: Double)] = [
    // μ = 0.3, σ = 0.5: −(0.3 − 0.98) = 0.68;  ∂/∂v = 1.96 / (2 · 0.5) = 1.96.
    (0.3, 0.25, 0.68, 1.96),
    // μ = −1, σ = 2: −(−1 − 3.92) = 4.92;  ∂/∂v = 1.96 / 4 = 0.49.
    (-1, 4, 4.92, 0.49),
    // An observed point (v = 0): −μ, and no variance gradient.
    (2, 0, -2, 0),
  ]

  @Test(arguments: reference.indices)
  func lowerConfidenceBoundMatchesTheHandValues(_ index: Int) {
    // Given a posterior (μ, v) / When the negated LCB and its gradient are computed
    let r = Self.reference[index]
    let value = Acquisition.lowerConfidenceBound.value(mean: r.mean, variance: r.variance, best: 0)
    let g = Acquisition.lowerConfidenceBound.valueWithGradient(mean: r.mean, variance: r.variance, best: 0)
    // Then they match the hand values, and do not depend on the incumbent
    #expect(abs(value - r.value) < 1e-12)
    #expect(abs(g.value - r.value) < 1e-12)
    #expect(g.dMean == -1)
    #expect(abs(g.dVariance - r.dVariance) < 1e-12)
    #expect(Acquisition.lowerConfidenceBound.value(mean: r.mean, variance: r.variance, best: -7) == value)
  }

  @Test func lowerConfidenceBoundGradientMatchesFiniteDifferences() {
    for (mean, variance) in [(0.3, 0.5), (-1.0, 2.0), (4.0, 0.01)] {
      let g = Acquisition.lowerConfidenceBound.valueWithGradient(mean: mean, variance: variance, best: 0)
      let h = 1e-7
      let dVariance =
        (Acquisition.lowerConfidenceBound.value(mean: mean, variance: variance + h, best: 0)
          - Acquisition.lowerConfidenceBound.value(mean: mean, variance: variance - h, best: 0)) / (2 * h)
      #expect(abs(g.dVariance - dVariance) < 1e-5 * max(1, abs(dVariance)))
    }
  }

  @Test func logEIIsTheLogEIOfLogEI() {
    // The log-EI member is `LogEI` itself (its known answers are in LogEITests).
    let a = Acquisition.logEI.valueWithGradient(mean: 0.3, variance: 0.5, best: 0)
    let b = LogEI.valueWithGradient(mean: 0.3, variance: 0.5, best: 0)
    #expect(a.value == b.value && a.dMean == b.dMean && a.dVariance == b.dVariance)
  }

  @Test func bayesianOptimizationUsesTheLowerConfidenceBound() {
    #expect(BayesianOptimization(seed: 0).acquisition == .lowerConfidenceBound)
  }
}
