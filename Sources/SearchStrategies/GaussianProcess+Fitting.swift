import Foundation

// Fitting the GP's hyperparameters: the log marginal likelihood and its gradient (notation
// in GaussianProcess.swift's header), maximized with the prior by L-BFGS from several starts.
extension GaussianProcess {
  /// LML and its gradient with respect to the raw hyperparameters θ (see the header).
  static func logMarginalLikelihoodWithGradient(
    x: [Double], y: [Double], isCategorical: [Bool], hyperparameters h: GPHyperparameters
  ) throws -> (value: Double, gradient: [Double]) {
    let n = y.count
    let d = isCategorical.count
    let (covariance, slope) = gram(x: x, count: n, isCategorical: isCategorical, hyperparameters: h)
    let factor = try LinearAlgebra.cholesky(covariance)
    let alpha = try factor.solve(y)

    var quadratic = 0.0
    for i in 0..<n { quadratic += y[i] * alpha[i] }
    let value = -0.5 * quadratic - 0.5 * factor.logDeterminant - 0.5 * Double(n) * log(2 * Double.pi)
    // W = α αᵀ − K⁻¹. The trace terms need K⁻¹'s entries, of the lower triangle only (W is
    // symmetric): `dpotri` forms just those from the Cholesky factor.
    let kInverse = try factor.inverseLowerTriangle()
    var gradient = [Double](repeating: 0, count: d + 2)
    let columns = coordinateMajor(x, count: n, dimension: d)
    // Per chunk of columns: Σ W·∂K/∂log s, tr W and the lengthscale sums, with
    // g(i, j) = 2 W_ij · s m'(r²_ij) for i > j (off-diagonal pairs count twice). Chunks are
    // fixed by n alone and summed in order, so the result does not depend on the thread count.
    let ranges = triangleChunks(n)
    var partials = [[Double]](repeating: [], count: ranges.count)
    partials.withUnsafeMutableBufferPointer { partials in
      let partials = SharedArray(partials)
      columns.withUnsafeBufferPointer { xs in
        kInverse.storage.withUnsafeBufferPointer { kinv in
          covariance.storage.withUnsafeBufferPointer { kk in
            slope.storage.withUnsafeBufferPointer { sl in
              let xs = SharedBuffer(UnsafeMutableBufferPointer(mutating: xs))
              let kinv = SharedBuffer(UnsafeMutableBufferPointer(mutating: kinv))
              let kk = SharedBuffer(UnsafeMutableBufferPointer(mutating: kk))
              let sl = SharedBuffer(UnsafeMutableBufferPointer(mutating: sl))
              DispatchQueue.concurrentPerform(iterations: ranges.count) { chunk in
                var g = [Double](repeating: 0, count: n)
                var terms = [Double](repeating: 0, count: d)
                var scaleTerm = 0.0
                var traceW = 0.0
                for j in ranges[chunk] {
                  let wjj = alpha[j] * alpha[j] - kinv[j + j * n]
                  traceW += wjj
                  scaleTerm += wjj * h.kernelScale
                  let aj = alpha[j]
                  for i in (j + 1)..<Swift.max(n, j + 1) {
                    let wij = 2 * (alpha[i] * aj - kinv[i + j * n])
                    scaleTerm += wij * kk[i + j * n]
                    g[i] = wij * sl[i + j * n]
                  }
                  for k in 0..<d {
                    let base = k * n
                    let xj = xs[base + j]
                    var term = 0.0
                    if isCategorical[k] {
                      for i in (j + 1)..<Swift.max(n, j + 1) { term += xs[base + i] == xj ? 0 : g[i] }
                    } else {
                      for i in (j + 1)..<Swift.max(n, j + 1) {
                        let diff = xs[base + i] - xj
                        term += g[i] * diff * diff
                      }
                    }
                    terms[k] += term
                  }
                }
                partials[chunk] = terms + [scaleTerm, traceW]
              }
            }
          }
        }
      }
    }
    var lengthscaleTerms = [Double](repeating: 0, count: d)
    var scaleTerm = 0.0
    var traceW = 0.0
    for partial in partials {
      for k in 0..<d { lengthscaleTerms[k] += partial[k] }
      scaleTerm += partial[d]
      traceW += partial[d + 1]
    }
    for k in 0..<d { gradient[k] = 0.5 * lengthscaleTerms[k] * h.inverseSquaredLengthscales[k] }
    gradient[d] = 0.5 * scaleTerm
    gradient[d + 1] = 0.5 * traceW * (h.noiseVariance - GPHyperparameters.minimumNoise)
    return (value, gradient)
  }

  /// Maximizes LML + log prior over θ with L-BFGS from each start; returns the best optimum and
  /// its final L-BFGS curvature pairs, with the conditioned GP when one was built at the optimum.
  /// `curvature` warm-starts the first start's L-BFGS.
  /// Starts that fail numerically are skipped; when all fail, returns the first start.
  static func fitHyperparameters(
    x: [Double], y: [Double], isCategorical: [Bool], starts: [GPHyperparameters], maxIterations: Int = 200,
    gradientTolerance: Double = 1e-2, curvature: LBFGS.Curvature = LBFGS.Curvature()
  ) -> (hyperparameters: GPHyperparameters, objective: Double, curvature: LBFGS.Curvature, model: GaussianProcess?) {
    let d = isCategorical.count
    // Keeps θ in a box wide enough never to bind in practice but safe from overflow.
    let lower = Array(repeating: -12.0, count: d) + [-12, -30]
    let upper = Array(repeating: 12.0, count: d) + [8, 4]
    var best: (GPHyperparameters, Double, LBFGS.Curvature, GaussianProcess?)?
    for (number, start) in starts.enumerated() {
      // The GP a value-only evaluation built, reused as the fitted model when it is the optimum.
      var lastModel: (theta: [Double], gp: GaussianProcess)?
      let result = LBFGS.minimize(
        start: start.raw.enumerated().map { Swift.min(Swift.max($1, lower[$0]), upper[$0]) }, lower: lower,
        upper: upper, maxIterations: maxIterations, gradientTolerance: gradientTolerance,
        curvature: number == 0 ? curvature : LBFGS.Curvature(),
        value: { theta in
          let h = GPHyperparameters(raw: theta)
          guard
            let gp = try? GaussianProcess(x: x, y: y, isCategorical: isCategorical, hyperparameters: h)
          else { return .infinity }
          lastModel = (theta, gp)
          return -(gp.logMarginalLikelihood + h.logPrior().value)
        }
      ) { theta in
        let h = GPHyperparameters(raw: theta)
        guard
          let lml = try? logMarginalLikelihoodWithGradient(x: x, y: y, isCategorical: isCategorical, hyperparameters: h)
        else { return (.infinity, Array(repeating: 0, count: theta.count)) }
        let prior = h.logPrior()
        return (-(lml.value + prior.value), zip(lml.gradient, prior.gradient).map { -($0 + $1) })
      }
      if result.value.isFinite, best.map({ result.value < $0.1 }) ?? true {
        let model = lastModel.flatMap { $0.theta == result.point ? $0.gp : nil }
        best = (GPHyperparameters(raw: result.point), result.value, result.curvature, model)
      }
    }
    return best ?? (starts[0], .infinity, LBFGS.Curvature(), nil)
  }
}
