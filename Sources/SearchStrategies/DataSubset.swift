// Subset of data for long studies: beyond `exactLimit` observations the GP is conditioned on
// a subset S of them instead of all n, so that a suggestion costs O(m³ + c·m²) in the subset
// size m rather than O(n³ + c·n²) (c candidates), whatever n is.
//
// Notation (n observations, subset size m, d input coordinates):
//
//   X, y    all n training inputs and targets (standardized, possibly warped, losses over all
//           n observations: the scale and the warp see the whole history).
//   x⁺      the input of the best observation (smallest y).
//   dist²   Σ_k sqd_k(x, x⁺), the kernel's sqd (squared difference, or Hamming for a
//           categorical coordinate) with unit lengthscales: distances in the unit cube.
//   S       S_best ∪ S_near ∪ S_spread, |S| = m (or n when n ≤ m), in observation order:
//             S_best    the ⌊m/4⌋ observations with the smallest y (the incumbent's rivals);
//             S_near    the ⌊m/4⌋ others nearest x⁺ by dist² (the region where expected
//                       improvement concentrates, as a trust region would);
//             S_spread  the rest of S, evenly spaced in observation order over the remaining
//                       observations (coverage of the space the history explored).
//   GP_S    the exact GP (see `GaussianProcess`) on (X_S, y_S): its hyperparameters are fitted
//           on S, warm-started from the fit of the previous history (see `FitCache`, keyed
//           by the whole history), and its posterior serves the acquisition.
//
// S depends on the history only (no randomness, no hyperparameters), so suggestions stay a
// function of seed and history. Observations outside S still count where they matter
// elsewhere: they are never suggested again, and they shape the warp and the standardization.

import Foundation

enum DataSubset {
  /// Histories up to this many observations use the exact GP on all of them.
  static let exactLimit = 500
  /// m, the subset size beyond `exactLimit`.
  static let size = 400

  /// The indices of S (ascending) for targets `y` and row-major inputs `x` (n × d).
  static func indices(x: [Double], y: [Double], dimension d: Int, isCategorical: [Bool], size m: Int) -> [Int] {
    let n = y.count
    guard n > m else { return Array(0..<n) }
    var chosen = [Bool](repeating: false, count: n)
    let ranked = y.indices.sorted { y[$0] != y[$1] ? y[$0] < y[$1] : $0 < $1 }
    for i in ranked.prefix(m / 4) { chosen[i] = true }
    let incumbent = ranked[0]
    var distance = [Double](repeating: 0, count: n)
    for i in 0..<n {
      var r2 = 0.0
      for k in 0..<d {
        let diff = x[i * d + k] - x[incumbent * d + k]
        r2 += isCategorical[k] ? (diff == 0 ? 0 : 1) : diff * diff
      }
      distance[i] = r2
    }
    let near = (0..<n).filter { !chosen[$0] }.sorted {
      distance[$0] != distance[$1] ? distance[$0] < distance[$1] : $0 < $1
    }
    for i in near.prefix(m / 4) { chosen[i] = true }
    let rest = (0..<n).filter { !chosen[$0] }
    let need = m - (n - rest.count)
    for k in 0..<Swift.max(need, 0) { chosen[rest[k * rest.count / need]] = true }
    return (0..<n).filter { chosen[$0] }
  }
}

extension BayesianOptimization.TrainingData {
  /// The rows `indices` of the training data (the best loss and anchors are kept: the best
  /// observation is always in S).
  func subset(_ indices: [Int], dimension d: Int) -> Self {
    var result = self
    result.x = indices.flatMap { x[($0 * d)..<($0 * d + d)] }
    result.y = indices.map { y[$0] }
    result.losses = indices.map { losses[$0] }
    result.logJacobians = indices.map { logJacobians[$0] }
    return result
  }
}
