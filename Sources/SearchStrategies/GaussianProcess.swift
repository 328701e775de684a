// Gaussian-process regression with a Matern-5/2 ARD kernel.
//
// Notation and shapes (n observations, d input coordinates):
//
//   X       training inputs, n × d, row-major: `x[i * d + k]` is coordinate k of point i.
//           Numeric parameters sit in [0, 1] (their unit-cube coordinate); a categorical
//           parameter holds its category index (inactive: -1), compared by equality only.
//   y       training targets, n, standardized losses (smaller is better).
//   ℓ⁻²     `inverseSquaredLengthscales`, d.   s: `kernelScale`.   σ²: `noiseVariance`.
//   sqd_k   (x_k − x'_k)² for a numeric coordinate; [x_k ≠ x'_k] (Hamming) for a categorical one.
//   r²      Σ_k ℓ⁻²_k · sqd_k(x, x').
//   m(r²)   Matern 5/2: (1 + √(5r²) + 5r²/3) · exp(−√(5r²)).
//   k       k(x, x') = s · m(r²);   k(x, x) = s.
//   K       k(X, X) + σ² I, n × n;   L: its lower Cholesky factor (K = L Lᵀ).
//   α       K⁻¹ y via L, n.
//   k_*     k(X, x_*), n: the kernel column of a query point.
//   μ(x_*)  k_*ᵀ α.            v(x_*) = s − ‖L⁻¹ k_*‖² (the latent f's variance, ≥ 0).
//   LML     −½ yᵀα − Σ log Lᵢᵢ − (n/2) log 2π.
//   θ       raw hyperparameters, d + 2: (log ℓ⁻²_1…d, log s, log(σ² − σ²_min)).
//   ∂LML/∂θ_j = ½ tr((α αᵀ − K⁻¹) ∂K/∂θ_j).
//
// K, L and k_* are column-major `Matrix` values (K filled in its lower triangle only, which is
// all `dpotrf` reads). α, μ and v use only L and triangular solves. The one place K⁻¹'s entries
// are formed is the likelihood gradient's trace term, which needs them: `dpotri` from L (L⁻¹,
// then L⁻ᵀ L⁻¹, lower triangle only: about ⅔n³ flops, a third of solving K W = I), the most
// expensive step of a warm hyperparameter fit.
//
// The weak prior on θ: −(0.1/ℓ⁻² + c·ℓ⁻²) per coordinate with c = min(0.1, d²/360), whose mode
// is at ℓ⁻² = √(0.1/c) = max(6/d, 1): below 6 dimensions lengthscales grow as √d (as Hvarfner
// et al., "Vanilla Bayesian optimization performs great in high dimensions", ICML 2024,
// argue they should), from 6 on the mode is Optuna's (`default_log_prior`: c = 0.1, mode at
// lengthscale 1 in every dimension). Optuna's mode in 2–5 dimensions keeps the GP from
// resolving narrow features (Michalewicz, Rastrigin, Levy-4) in 60 observations; a weaker
// prior in 6 or more dimensions (tried: mode 12.65/d) lets the GP turn local and miss
// Hartmann-6's main basin on some seeds. Gamma(2, 1) on s, Gamma(1.1, 30) on σ².

import Foundation

/// The kernel's hyperparameters.
struct GPHyperparameters: Sendable, Hashable {
  var inverseSquaredLengthscales: [Double]
  var kernelScale: Double
  var noiseVariance: Double

  /// The smallest noise variance the fit may choose (as Optuna's `DEFAULT_MINIMUM_NOISE_VAR`).
  static let minimumNoise = 1e-6

  /// All ones, like Optuna's default start.
  static func initial(dimension: Int) -> GPHyperparameters {
    GPHyperparameters(
      inverseSquaredLengthscales: Array(repeating: 1, count: dimension), kernelScale: 1, noiseVariance: 1e-2)
  }

  /// θ: the raw, unconstrained parameters the fit optimizes.
  var raw: [Double] {
    inverseSquaredLengthscales.map { log($0) } + [
      log(kernelScale), log(Swift.max(noiseVariance - Self.minimumNoise, 0.01 * Self.minimumNoise)),
    ]
  }

  init(inverseSquaredLengthscales: [Double], kernelScale: Double, noiseVariance: Double) {
    self.inverseSquaredLengthscales = inverseSquaredLengthscales
    self.kernelScale = kernelScale
    self.noiseVariance = noiseVariance
  }

  init(raw: [Double]) {
    let d = raw.count - 2
    inverseSquaredLengthscales = raw[0..<d].map { exp($0) }
    kernelScale = exp(raw[d])
    noiseVariance = exp(raw[d + 1]) + Self.minimumNoise
  }

  /// The log prior density (up to a constant) and its gradient with respect to `raw`.
  func logPrior() -> (value: Double, gradient: [Double]) {
    var value = 0.0
    var gradient: [Double] = []
    // c = min(0.1, d²/360) puts the mode at ℓ⁻² = √(0.1/c) = max(6/d, 1) (see the header).
    let d = Double(inverseSquaredLengthscales.count)
    let c = Swift.min(0.1, d * d / 360)
    for l in inverseSquaredLengthscales {
      value -= 0.1 / l + c * l
      gradient.append(0.1 / l - c * l)
    }
    // Gamma(2, 1) on s: log s − s;   d/dlog s = 1 − s.
    value += log(kernelScale) - kernelScale
    gradient.append(1 - kernelScale)
    // Gamma(1.1, 30) on σ²: 0.1 log σ² − 30 σ²;   dσ²/dθ = σ² − σ²_min.
    value += 0.1 * log(noiseVariance) - 30 * noiseVariance
    gradient.append((0.1 / noiseVariance - 30) * (noiseVariance - Self.minimumNoise))
    return (value, gradient)
  }
}

/// Matern 5/2 as a function of the squared scaled distance r².
enum Matern52 {
  @inline(__always) static func value(_ r2: Double) -> Double {
    let s = (5 * r2).squareRoot()
    return (1 + s + 5.0 / 3.0 * r2) * exp(-s)
  }

  /// `dm/d(r²) = −5/6 · (1 + √(5r²)) · exp(−√(5r²))`, finite at r² = 0.
  @inline(__always) static func derivative(_ r2: Double) -> Double {
    let s = (5 * r2).squareRoot()
    return -5.0 / 6.0 * (1 + s) * exp(-s)
  }
}

/// A Gaussian process conditioned on training data, with fixed hyperparameters.
struct GaussianProcess: Sendable {
  let dimension: Int
  /// n × d, row-major.
  let x: [Double]
  /// `x` coordinate-major (d × n), for contiguous inner loops.
  let columns: [Double]
  let y: [Double]
  /// `true` for coordinates compared by equality (categorical parameters).
  let isCategorical: [Bool]
  let hyperparameters: GPHyperparameters
  let factor: CholeskyFactor
  let alpha: [Double]

  var count: Int { y.count }

  /// Conditions the GP on the data. The last `believed` points are kriging-believer points
  /// (pending trials at their posterior mean): they get the minimum noise, not the fitted one,
  /// so the variance collapses there and the acquisition looks elsewhere.
  init(x: [Double], y: [Double], isCategorical: [Bool], hyperparameters: GPHyperparameters, believed: Int = 0) throws {
    let d = isCategorical.count
    precondition(x.count == y.count * d, "x has \(x.count) entries, not \(y.count)x\(d)")
    self.dimension = d
    self.x = x
    self.columns = Self.coordinateMajor(x, count: y.count, dimension: d)
    self.y = y
    self.isCategorical = isCategorical
    self.hyperparameters = hyperparameters
    var covariance = Self.gram(
      x: x, count: y.count, isCategorical: isCategorical, hyperparameters: hyperparameters, withDerivative: false
    )
    .covariance
    for i in Swift.max(y.count - believed, 0)..<y.count {
      covariance[i, i] = hyperparameters.kernelScale + GPHyperparameters.minimumNoise
    }
    factor = try LinearAlgebra.cholesky(covariance)
    alpha = try factor.solve(y)
  }

  /// The squared scaled distance between row `i` of `a` and `b`.
  @inline(__always)
  static func scaledSquaredDistance(
    _ a: UnsafeBufferPointer<Double>, _ i: Int, _ b: UnsafeBufferPointer<Double>, _ j: Int,
    _ ils: UnsafeBufferPointer<Double>, _ isCategorical: UnsafeBufferPointer<Bool>
  ) -> Double {
    let d = ils.count
    var r2 = 0.0
    for k in 0..<d {
      let diff = a[i * d + k] - b[j * d + k]
      r2 += ils[k] * (isCategorical[k] ? (diff == 0 ? 0 : 1) : diff * diff)
    }
    return r2
  }

  /// `K = k(X, X) + σ² I` and `s · dm/dr²` at every pair (for the gradient), both n × n, lower
  /// triangles only (all that `dpotrf` and the gradient read); the strict upper triangles are 0.
  ///
  /// Works column by column on coordinate-major data so the inner loops run over contiguous
  /// memory and vectorize.
  static func gram(
    x: [Double], count n: Int, isCategorical: [Bool], hyperparameters h: GPHyperparameters,
    withDerivative: Bool = true
  ) -> (covariance: Matrix, derivative: Matrix) {
    let d = isCategorical.count
    let columns = coordinateMajor(x, count: n, dimension: d)
    var covariance = Matrix(rows: n, columns: n)
    // Without the derivative, a 1 × 1 placeholder stands in (never read).
    var derivative = withDerivative ? Matrix(rows: n, columns: n) : Matrix(rows: 1, columns: 1)
    let s = h.kernelScale
    let ils = h.inverseSquaredLengthscales
    covariance.storage.withUnsafeMutableBufferPointer { kk in
      derivative.storage.withUnsafeMutableBufferPointer { dd in
        let kk = SharedBuffer(kk)
        let dd = SharedBuffer(dd)
        columns.withUnsafeBufferPointer { xs in
          let xs = SharedBuffer(UnsafeMutableBufferPointer(mutating: xs))
          let ranges = triangleChunks(n)
          DispatchQueue.concurrentPerform(iterations: ranges.count) { chunk in
            var r2 = [Double](repeating: 0, count: n)
            for j in ranges[chunk] {
              // r²(i, j) for i > j, accumulated one coordinate at a time.
              for i in (j + 1)..<Swift.max(n, j + 1) { r2[i] = 0 }
              for k in 0..<d {
                let base = k * n
                let xj = xs[base + j]
                let l = ils[k]
                if isCategorical[k] {
                  for i in (j + 1)..<Swift.max(n, j + 1) { r2[i] += xs[base + i] == xj ? 0 : l }
                } else {
                  for i in (j + 1)..<Swift.max(n, j + 1) {
                    let diff = xs[base + i] - xj
                    r2[i] += l * diff * diff
                  }
                }
              }
              kk[j + j * n] = s + h.noiseVariance
              if withDerivative { dd[j + j * n] = s * Matern52.derivative(0) }
              for i in (j + 1)..<Swift.max(n, j + 1) {
                let root = (5 * r2[i]).squareRoot()
                let e = exp(-root)
                kk[i + j * n] = s * (1 + root + 5.0 / 3.0 * r2[i]) * e
                if withDerivative { dd[i + j * n] = s * (-5.0 / 6.0) * (1 + root) * e }
              }
            }
          }
        }
      }
    }
    return (covariance, derivative)
  }

  /// Row-major n × d data as d × n (coordinate k of all points contiguous).
  static func coordinateMajor(_ x: [Double], count n: Int, dimension d: Int) -> [Double] {
    var result = [Double](repeating: 0, count: n * d)
    for i in 0..<n {
      for k in 0..<d { result[k * n + i] = x[i * d + k] }
    }
    return result
  }

  /// `k(X, x_*)` for query points, n × m (column `c` is the kernel column of point `c`).
  func crossKernel(_ points: [Double]) -> Matrix {
    let d = dimension
    let m = d == 0 ? 0 : points.count / d
    let n = count
    var result = Matrix(rows: n, columns: m)
    let s = hyperparameters.kernelScale
    let ils = hyperparameters.inverseSquaredLengthscales
    let isCategorical = isCategorical
    let chunks = m >= 64 && n >= 64 ? 4 : 1
    result.storage.withUnsafeMutableBufferPointer { out in
      let out = SharedBuffer(out)
      columns.withUnsafeBufferPointer { xs in
        let xs = SharedBuffer(UnsafeMutableBufferPointer(mutating: xs))
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
          var r2 = [Double](repeating: 0, count: n)
          for c in stride(from: chunk, to: m, by: chunks) {
            for i in 0..<n { r2[i] = 0 }
            for k in 0..<d {
              let base = k * n
              let p = points[c * d + k]
              let l = ils[k]
              if isCategorical[k] {
                for i in 0..<n { r2[i] += xs[base + i] == p ? 0 : l }
              } else {
                for i in 0..<n {
                  let diff = xs[base + i] - p
                  r2[i] += l * diff * diff
                }
              }
            }
            for i in 0..<n { out[i + c * n] = s * Matern52.value(r2[i]) }
          }
        }
      }
    }
    return result
  }

  /// Posterior mean and latent variance at `m` points given row-major (m × d).
  func posterior(_ points: [Double]) throws -> (mean: [Double], variance: [Double]) {
    let kStar = crossKernel(points)
    let m = kStar.columns
    let n = count
    guard n > 0 else {
      return (Array(repeating: 0, count: m), Array(repeating: hyperparameters.kernelScale, count: m))
    }
    let v = try factor.solveTriangular(kStar)
    var mean = [Double](repeating: 0, count: m)
    var variance = [Double](repeating: 0, count: m)
    for c in 0..<m {
      var mu = 0.0
      var norm = 0.0
      for i in 0..<n {
        mu += kStar.storage[i + c * n] * alpha[i]
        let vi = v.storage[i + c * n]
        norm += vi * vi
      }
      mean[c] = mu
      variance[c] = Swift.max(hyperparameters.kernelScale - norm, 0)
    }
    return (mean, variance)
  }

  /// Posterior mean and variance at one point with their gradients along the numeric
  /// coordinates (zero along categorical ones).
  func posteriorWithGradient(_ point: [Double]) throws -> (
    mean: Double, variance: Double, meanGradient: [Double], varianceGradient: [Double]
  ) {
    let d = dimension
    let n = count
    let kStar = crossKernel(point)
    // K⁻¹ k_* through L then Lᵀ; ‖L⁻¹k_*‖² from the first solve.
    let v = try factor.solveTriangular(kStar)
    let w = try factor.solveTriangular(v, transposed: true)
    var mean = 0.0
    var norm = 0.0
    for i in 0..<n {
      mean += kStar.storage[i] * alpha[i]
      norm += v.storage[i] * v.storage[i]
    }
    // ∂k_i/∂x_k = s · m'(r²_i) · 2 ℓ⁻²_k (x_k − X_ik): with
    // c_i = s·m'(r²_i), ∂μ/∂x_k = Σ_i c_i 2ℓ⁻²_k (x_k − X_ik) α_i and
    // ∂v/∂x_k = −2 Σ_i c_i 2ℓ⁻²_k (x_k − X_ik) (K⁻¹k_*)_i.
    let ils = hyperparameters.inverseSquaredLengthscales
    let s = hyperparameters.kernelScale
    var r2 = [Double](repeating: 0, count: n)
    for k in 0..<d {
      let base = k * n
      let p = point[k]
      if isCategorical[k] {
        for i in 0..<n { r2[i] += columns[base + i] == p ? 0 : ils[k] }
      } else {
        for i in 0..<n {
          let diff = columns[base + i] - p
          r2[i] += ils[k] * diff * diff
        }
      }
    }
    var meanWeights = [Double](repeating: 0, count: n)
    var varianceWeights = [Double](repeating: 0, count: n)
    for i in 0..<n {
      let slope = s * Matern52.derivative(r2[i])
      meanWeights[i] = slope * alpha[i]
      varianceWeights[i] = slope * w.storage[i]
    }
    var meanGradient = [Double](repeating: 0, count: d)
    var varianceGradient = [Double](repeating: 0, count: d)
    for k in 0..<d where !isCategorical[k] {
      let base = k * n
      let p = point[k]
      var gm = 0.0
      var gv = 0.0
      for i in 0..<n {
        let diff = p - columns[base + i]
        gm += meanWeights[i] * diff
        gv += varianceWeights[i] * diff
      }
      meanGradient[k] = 2 * ils[k] * gm
      varianceGradient[k] = -4 * ils[k] * gv
    }
    let variance = s - norm
    if variance <= 0 { return (mean, 0, meanGradient, Array(repeating: 0, count: d)) }
    return (mean, variance, meanGradient, varianceGradient)
  }

  /// The log marginal likelihood of the training data.
  var logMarginalLikelihood: Double {
    var quadratic = 0.0
    for i in 0..<count { quadratic += y[i] * alpha[i] }
    return -0.5 * quadratic - 0.5 * factor.logDeterminant - 0.5 * Double(count) * log(2 * Double.pi)
  }
}

/// Splits the columns `0..<n` of a lower triangle into a fixed number of contiguous chunks of
/// about equal work (column j holds n − j pairs).
func triangleChunks(_ n: Int, parts: Int = 4) -> [Range<Int>] {
  guard n > 64 else { return [0..<n] }
  var ranges: [Range<Int>] = []
  var start = 0
  let total = Double(n) * Double(n + 1) / 2
  for part in 1...parts {
    // Columns before `end` hold part/parts of the pairs: solve n·e − e²/2 = total·part/parts.
    let target = total * Double(part) / Double(parts)
    let nn = Double(n) + 0.5
    let end = part == parts ? n : Swift.min(n, Int((nn - (nn * nn - 2 * target).squareRoot()).rounded()))
    if end > start { ranges.append(start..<end) }
    start = Swift.max(start, end)
  }
  return ranges
}

/// A buffer shared by the workers of one `concurrentPerform`, each writing disjoint entries.
struct SharedBuffer: @unchecked Sendable {
  let base: UnsafeMutableBufferPointer<Double>
  init(_ base: UnsafeMutableBufferPointer<Double>) { self.base = base }
  subscript(index: Int) -> Double {
    get { base[index] }
    nonmutating set { base[index] = newValue }
  }
}

/// Per-worker result slots of one `concurrentPerform`.
struct SharedArray: @unchecked Sendable {
  let base: UnsafeMutableBufferPointer<[Double]>
  init(_ base: UnsafeMutableBufferPointer<[Double]>) { self.base = base }
  subscript(index: Int) -> [Double] {
    get { base[index] }
    nonmutating set { base[index] = newValue }
  }
}
