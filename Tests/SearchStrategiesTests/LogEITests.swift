import Foundation
import Testing

@testable import SearchStrategies

/// Reference values: Optuna 5.0's `optuna._gp.acqf.logei(mean=z, var=1, f0=0)` (it maximizes,
/// so its z is our (best − mean)/σ).
struct LogEITests {
  static let reference: [(z: Double, logEI: Double)] = [
    (2, 0.6973835457882284), (0, -0.9189385332046727), (-1, -2.4851210257126413), (-5, -16.744301162660967),
    (-20, -206.91783850941914), (-40, -808.2985683566197), (-200, -20011.51564825973),
  ]

  @Test(arguments: reference.indices)
  func matchesTheReference(_ index: Int) {
    // Given a standardized improvement z / When log EI is computed with mean −z, variance 1, best 0
    let (z, expected) = Self.reference[index]
    let value = LogEI.value(mean: -z, variance: 1, best: 0)
    // Then it matches to near machine precision, even where EI itself underflows (z = −40, −200)
    #expect(abs(value - expected) <= 1e-10 * max(1, abs(expected)), "z=\(z): \(value) vs \(expected)")
  }

  @Test func isFiniteAndMonotoneFarIntoTheTail() {
    // Given z from 5 down to −1e4 / When log h(z) is evaluated / Then it is finite and decreasing
    var previous = Double.infinity
    for z in stride(from: 5.0, through: -10_000, by: -0.37) {
      let value = LogEI.logH(z)
      #expect(value.isFinite)
      #expect(value < previous)
      previous = value
    }
  }

  @Test func gradientMatchesFiniteDifferences() {
    // Given a few (mean, variance) pairs, including a far tail one
    for (mean, variance) in [(0.3, 0.5), (-1.0, 2.0), (4.0, 0.01), (40.0, 1.0)] {
      let g = LogEI.valueWithGradient(mean: mean, variance: variance, best: 0)
      let h = 1e-6
      let dMean =
        (LogEI.value(mean: mean + h, variance: variance, best: 0)
          - LogEI.value(mean: mean - h, variance: variance, best: 0)) / (2 * h)
      let dVariance =
        (LogEI.value(mean: mean, variance: variance + h, best: 0)
          - LogEI.value(mean: mean, variance: variance - h, best: 0)) / (2 * h)
      // When compared with central differences / Then the analytic partials agree
      #expect(abs(g.dMean - dMean) < 1e-4 * max(1, abs(dMean)), "mean \(mean)")
      #expect(abs(g.dVariance - dVariance) < 1e-4 * max(1, abs(dVariance)), "mean \(mean)")
    }
  }
}
