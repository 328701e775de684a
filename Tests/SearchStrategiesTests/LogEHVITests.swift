import Foundation
import MultiObjective
import Testing

@testable import SearchStrategies

@Suite("Log expected hypervolume improvement and the probability of feasibility")
struct LogEHVITests {
  /// EHVI by Monte Carlo: the mean improvement over Gaussian draws (common random numbers).
  static func monteCarlo(_ boxes: NondominatedBoxes, mean: [Double], sigma: [Double], draws: Int = 200_000) -> Double {
    var rng = SplitMix64(seed: 11, stream: 0, index: 0)
    var total = 0.0
    for _ in 0..<draws {
      let y = mean.indices.map { mean[$0] + sigma[$0] * rng.nextGaussian() }
      total += boxes.improvement(of: y)
    }
    return total / Double(draws)
  }

  @Test("2 and 3 objectives: matches Monte Carlo within 1%")
  func matchesMonteCarlo() {
    let cases: [(front: [[Double]], reference: [Double], mean: [Double], sigma: [Double])] = [
      ([[1, 3], [2, 2], [3, 1]], [4, 4], [2.2, 1.8], [0.5, 0.8]),
      ([[1, 3], [2, 2], [3, 1]], [4, 4], [0.5, 4.5], [0.3, 1.0]),
      ([[0.2, 0.8, 0.5], [0.7, 0.3, 0.4], [0.5, 0.5, 0.1]], [1, 1, 1], [0.45, 0.45, 0.45], [0.2, 0.1, 0.3]),
    ]
    for (front, reference, mean, sigma) in cases {
      let boxes = NondominatedBoxes(points: front, reference: reference)
      let ehvi = exp(LogEHVI(boxes, objectives: mean.count).value(mean: mean, variance: sigma.map { $0 * $0 }))
      let sampled = Self.monteCarlo(boxes, mean: mean, sigma: sigma)
      #expect(abs(ehvi - sampled) / sampled < 0.01, "EHVI \(ehvi), Monte Carlo \(sampled)")
    }
  }

  @Test("one objective: EHVI below the best loss is expected improvement")
  func oneObjectiveIsEI() {
    let boxes = NondominatedBoxes(points: [[0.3]], reference: [2])
    let ehvi = LogEHVI(boxes, objectives: 1)
    for (mean, variance) in [(0.5, 0.04), (-1.0, 1.0), (3.0, 0.01)] {
      let expected = LogEI.value(mean: mean, variance: variance, best: 0.3)
      #expect(abs(ehvi.value(mean: [mean], variance: [variance]) - expected) < 1e-9)
    }
  }

  @Test("far behind the front the log form stays finite and keeps ordering points")
  func logFormDoesNotUnderflow() {
    let boxes = NondominatedBoxes(points: [[0, 1], [1, 0]], reference: [1.1, 1.1])
    let ehvi = LogEHVI(boxes, objectives: 2)
    let behind = ehvi.value(mean: [30, 30], variance: [0.01, 0.01])
    let further = ehvi.value(mean: [31, 30], variance: [0.01, 0.01])
    #expect(behind.isFinite && further.isFinite)
    #expect(exp(behind) == 0, "the plain value underflows")
    #expect(further < behind)
  }

  @Test("gradients agree with central differences")
  func gradients() {
    let boxes = NondominatedBoxes(
      points: [[0.2, 0.8, 0.5], [0.7, 0.3, 0.4], [0.5, 0.5, 0.1]], reference: [1, 1, 1])
    let ehvi = LogEHVI(boxes, objectives: 3)
    for (mean, variance) in [([0.45, 0.45, 0.45], [0.04, 0.01, 0.09]), ([1.5, 0.9, 2.0], [0.01, 0.25, 0.04])] {
      let (_, dMean, dVariance) = ehvi.valueWithGradient(mean: mean, variance: variance)
      let h = 1e-6
      // The central difference of f along coordinate j of x.
      func difference(_ x: [Double], _ j: Int, _ f: ([Double]) -> Double) -> Double {
        var up = x
        var down = x
        up[j] += h
        down[j] -= h
        return (f(up) - f(down)) / (2 * h)
      }
      for j in 0..<3 {
        let numeric = difference(mean, j) { ehvi.value(mean: $0, variance: variance) }
        #expect(abs(numeric - dMean[j]) < 1e-4 * Swift.max(1, abs(numeric)), "∂μ\(j)")
        let numericV = difference(variance, j) { ehvi.value(mean: mean, variance: $0) }
        #expect(abs(numericV - dVariance[j]) < 1e-4 * Swift.max(1, abs(numericV)), "∂v\(j)")
      }
    }
  }

  @Test("probability of feasibility: log Φ((τ − μ)/σ) and its derivatives")
  func feasibility() {
    let value = FeasibleHypervolumeAcquisition.logFeasibility(mean: 0.5, variance: 0.25, bound: 0)
    // Φ(−1) = 0.158655…
    #expect(abs(exp(value.value) - 0.158_655_253_9) < 1e-9)
    let h = 1e-6
    let dMean =
      (FeasibleHypervolumeAcquisition.logFeasibility(mean: 0.5 + h, variance: 0.25, bound: 0).value
        - FeasibleHypervolumeAcquisition.logFeasibility(mean: 0.5 - h, variance: 0.25, bound: 0).value) / (2 * h)
    let dVariance =
      (FeasibleHypervolumeAcquisition.logFeasibility(mean: 0.5, variance: 0.25 + h, bound: 0).value
        - FeasibleHypervolumeAcquisition.logFeasibility(mean: 0.5, variance: 0.25 - h, bound: 0).value) / (2 * h)
    #expect(abs(dMean - value.dMean) < 1e-5 && abs(dVariance - value.dVariance) < 1e-5)
    // Far on the wrong side the log stays finite.
    #expect(FeasibleHypervolumeAcquisition.logFeasibility(mean: 50, variance: 1, bound: 0).value.isFinite)
  }
}
