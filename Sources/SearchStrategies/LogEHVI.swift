// Log expected hypervolume improvement over a box decomposition, for objectives whose
// posteriors are independent Gaussians (one GP per objective), every objective minimized.
//
// Notation: the region a new point can still add to the hypervolume is the union of disjoint
// boxes [lᵏ, uᵏ) (`NondominatedBoxes`), so HVI(f) = Σₖ Πⱼ (uᵏⱼ − max(fⱼ, lᵏⱼ))₊. With
// fⱼ ~ N(μⱼ, σⱼ²) independent, each factor's expectation is closed-form:
//   ψ(a) = E[(a − fⱼ)₊] = σⱼ h((a − μⱼ)/σⱼ),   h(z) = φ(z) + z Φ(z)   (the EI of `LogEI`),
//   E[(u − max(fⱼ, l))₊] = ψ(u) − ψ(l)   (both sides equal u − l below l, u − fⱼ between, 0 above),
// so EHVI = Σₖ Πⱼ tₖⱼ,  tₖⱼ = σⱼ (h(zᵤ) − h(zₗ)), zᵤ = (uᵏⱼ − μⱼ)/σⱼ, zₗ = (lᵏⱼ − μⱼ)/σⱼ, and
// h(−∞) = 0. Everything is summed in logs, so that a point far behind the front keeps a
// finite, informative value (the log form of Ament et al. 2023):
//   log tₖⱼ = log σⱼ + log h(zᵤ) + log(1 − exp(log h(zₗ) − log h(zᵤ))),
//   log EHVI = logsumexp over k of Σⱼ log tₖⱼ.
// Gradient: ∂tₖⱼ/∂μⱼ = −(Φ(zᵤ) − Φ(zₗ)), ∂tₖⱼ/∂σⱼ = φ(zᵤ) − φ(zₗ) (h′ = Φ, h − zΦ = φ), and
// ∂ log EHVI/∂μⱼ = Σₖ wₖ ∂ log tₖⱼ/∂μⱼ with wₖ = Πⱼ tₖⱼ / EHVI, the same for σⱼ; ∂σ/∂v = 1/(2σ).
//
// Box bounds repeat across boxes (a front of n points has n + 1 distinct values per
// objective), so the terms of h, Φ and φ are computed once per distinct bound.

import Foundation
public import MultiObjective

struct LogEHVI: Sendable {
  let objectives: Int
  /// Per objective, the distinct finite bounds of the boxes, ascending.
  private let levels: [[Double]]
  /// Box k's bound in objective j: `levels[j]` index at `k * objectives + j` (−1: −∞).
  private let lowerIndex: [Int]
  private let upperIndex: [Int]

  var boxCount: Int { lowerIndex.count / Swift.max(objectives, 1) }

  init(_ boxes: NondominatedBoxes, objectives m: Int) {
    objectives = m
    var levels: [[Double]] = []
    for j in 0..<m {
      let values = (boxes.lower.map { $0[j] } + boxes.upper.map { $0[j] }).filter(\.isFinite)
      levels.append(Array(Set(values)).sorted())
    }
    self.levels = levels
    var lowerIndex: [Int] = []
    var upperIndex: [Int] = []
    for k in 0..<boxes.count {
      for j in 0..<m {
        let l = boxes.lower[k][j]
        lowerIndex.append(l.isFinite ? Self.position(of: l, in: levels[j]) : -1)
        upperIndex.append(Self.position(of: boxes.upper[k][j], in: levels[j]))
      }
    }
    self.lowerIndex = lowerIndex
    self.upperIndex = upperIndex
  }

  private static func position(of value: Double, in sorted: [Double]) -> Int {
    var low = 0
    var high = sorted.count - 1
    while low < high {
      let middle = (low + high) / 2
      if sorted[middle] < value { low = middle + 1 } else { high = middle }
    }
    return low
  }

  /// log EHVI at posterior means and latent variances (one of each per objective).
  func value(mean: [Double], variance: [Double]) -> Double {
    evaluate(mean: mean, variance: variance, gradient: false).value
  }

  /// log EHVI with its partial derivatives in each objective's mean and variance.
  func valueWithGradient(mean: [Double], variance: [Double]) -> (
    value: Double, dMean: [Double], dVariance: [Double]
  ) {
    evaluate(mean: mean, variance: variance, gradient: true)
  }

  private struct Level {
    var logH: Double
    var logCDF: Double
    var logDensity: Double
  }

  private func evaluate(mean: [Double], variance: [Double], gradient: Bool) -> (
    value: Double, dMean: [Double], dVariance: [Double]
  ) {
    let m = objectives
    let sigma = variance.map { Swift.max($0, LogEI.varianceFloor).squareRoot() }
    let terms: [[Level]] = (0..<m).map { j in
      levels[j].map { bound in
        let z = (bound - mean[j]) / sigma[j]
        return Level(
          logH: LogEI.logH(z), logCDF: gradient ? LogEI.logStandardNormalCDF(z) : 0,
          logDensity: -0.5 * z * z - LogEI.logSqrt2Pi)
      }
    }
    let logSigma = sigma.map { log($0) }
    let boxes = boxCount
    var logBox = [Double](repeating: 0, count: boxes)
    // Per box and objective: ∂ log t/∂μ and ∂ log t/∂σ (only with `gradient`).
    var dMeanTerms = [Double](repeating: 0, count: gradient ? boxes * m : 0)
    var dSigmaTerms = [Double](repeating: 0, count: gradient ? boxes * m : 0)
    for k in 0..<boxes {
      var total = 0.0
      for j in 0..<m {
        let upper = terms[j][upperIndex[k * m + j]]
        let li = lowerIndex[k * m + j]
        var logT = logSigma[j] + upper.logH
        if li >= 0 { logT += LogEI.log1mexp(Swift.min(terms[j][li].logH - upper.logH, -1e-300)) }
        total += logT
        guard gradient else { continue }
        var cdf = exp(upper.logCDF - logT)
        var density = exp(upper.logDensity - logT)
        if li >= 0 {
          cdf -= exp(terms[j][li].logCDF - logT)
          density -= exp(terms[j][li].logDensity - logT)
        }
        dMeanTerms[k * m + j] = -cdf
        dSigmaTerms[k * m + j] = density
      }
      logBox[k] = total
    }
    guard let top = logBox.max(), top > -.infinity else {
      return (-.infinity, Array(repeating: 0, count: m), Array(repeating: 0, count: m))
    }
    let sum = logBox.reduce(0) { $0 + exp($1 - top) }
    let value = top + log(sum)
    guard gradient else { return (value, [], []) }
    var dMean = [Double](repeating: 0, count: m)
    var dVariance = [Double](repeating: 0, count: m)
    for k in 0..<boxes {
      let weight = exp(logBox[k] - value)
      guard weight > 0 else { continue }
      for j in 0..<m {
        dMean[j] += weight * dMeanTerms[k * m + j]
        dVariance[j] += weight * dSigmaTerms[k * m + j]
      }
    }
    for j in 0..<m {
      dVariance[j] = variance[j] < LogEI.varianceFloor ? 0 : dVariance[j] / (2 * sigma[j])
    }
    return (value, dMean, dVariance)
  }
}
