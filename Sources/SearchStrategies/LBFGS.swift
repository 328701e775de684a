/// A small projected L-BFGS minimizer for box-constrained smooth problems: the GP's
/// hyperparameters and the local refinement of the acquisition function.
///
/// Each iteration takes the L-BFGS direction (the steepest descent one when that is not a
/// descent direction), projects the step onto the box and backtracks until the Armijo condition
/// holds (a value-only objective, when given, serves the last iteration's line search). It stops when the projected gradient's largest entry is below `gradientTolerance`,
/// when the objective stops decreasing, or after `maxIterations`.
enum LBFGS {
  /// Curvature pairs (s, y) = (x_{k+1} − x_k, g_{k+1} − g_k), oldest first.
  struct Curvature: Sendable, Hashable {
    var steps: [[Double]] = []
    var gradientChanges: [[Double]] = []
  }

  struct Result {
    var point: [Double]
    var value: Double
    var evaluations: Int
    /// The final curvature pairs, to warm-start a later, similar problem.
    var curvature: Curvature
  }

  static func minimize(
    start: [Double], lower: [Double], upper: [Double], maxIterations: Int, gradientTolerance: Double,
    memory: Int = 10, curvature: Curvature = Curvature(), value: (([Double]) -> Double)? = nil,
    objective: ([Double]) -> (value: Double, gradient: [Double])
  ) -> Result {
    let n = start.count
    func project(_ x: [Double]) -> [Double] {
      (0..<n).map { Swift.min(Swift.max(x[$0], lower[$0]), upper[$0]) }
    }
    func projectedGradientNorm(_ x: [Double], _ g: [Double]) -> Double {
      var norm = 0.0
      for i in 0..<n {
        let moved = Swift.min(Swift.max(x[i] - g[i], lower[i]), upper[i]) - x[i]
        norm = Swift.max(norm, abs(moved))
      }
      return norm
    }
    var x = project(start)
    var (f, g) = objective(x)
    var evaluations = 1
    var sHistory = curvature.steps.count == curvature.gradientChanges.count ? curvature.steps : []
    var yHistory = curvature.steps.count == curvature.gradientChanges.count ? curvature.gradientChanges : []
    guard f.isFinite else {
      return Result(
        point: x, value: f, evaluations: evaluations, curvature: Curvature(steps: sHistory, gradientChanges: yHistory))
    }
    for iteration in 0..<maxIterations {
      if projectedGradientNorm(x, g) < gradientTolerance { break }
      // In the last iteration the new gradient would only feed a curvature pair nobody uses:
      // when a cheaper value-only objective is given, the line search uses it.
      let valueOnly = iteration == maxIterations - 1 ? value : nil
      // Two-loop recursion for H·g.
      var q = g
      var alphas = [Double](repeating: 0, count: sHistory.count)
      for i in stride(from: sHistory.count - 1, through: 0, by: -1) {
        let rho = 1 / dot(yHistory[i], sHistory[i])
        alphas[i] = rho * dot(sHistory[i], q)
        for k in 0..<n { q[k] -= alphas[i] * yHistory[i][k] }
      }
      if let s = sHistory.last, let y = yHistory.last {
        let gamma = dot(s, y) / dot(y, y)
        for k in 0..<n { q[k] *= gamma }
      } else {
        let norm = dot(g, g).squareRoot()
        let scale = norm > 0 ? Swift.min(1, 1 / norm) : 1
        for k in 0..<n { q[k] *= scale }
      }
      for i in 0..<sHistory.count {
        let rho = 1 / dot(yHistory[i], sHistory[i])
        let beta = rho * dot(yHistory[i], q)
        for k in 0..<n { q[k] += sHistory[i][k] * (alphas[i] - beta) }
      }
      var direction = q.map { -$0 }
      if dot(direction, g) >= 0 {
        let norm = dot(g, g).squareRoot()
        direction = g.map { -$0 / Swift.max(norm, 1) }
        sHistory.removeAll()
        yHistory.removeAll()
      }
      // Backtracking line search along the projected path.
      var step = 1.0
      var accepted: (x: [Double], f: Double, g: [Double])?
      for _ in 0..<30 {
        let candidate = project((0..<n).map { x[$0] + step * direction[$0] })
        var decrease = 0.0
        for k in 0..<n { decrease += g[k] * (candidate[k] - x[k]) }
        let (fc, gc) = valueOnly.map { ($0(candidate), g) } ?? objective(candidate)
        evaluations += 1
        if fc.isFinite, fc <= f + 1e-4 * decrease, decrease < 0 {
          accepted = (candidate, fc, gc)
          break
        }
        step *= 0.5
      }
      guard let (xNew, fNew, gNew) = accepted else { break }
      if valueOnly != nil {
        (x, f) = (xNew, fNew)
        break
      }
      let s = (0..<n).map { xNew[$0] - x[$0] }
      let y = (0..<n).map { gNew[$0] - g[$0] }
      if dot(s, y) > 1e-12 * dot(y, y).squareRoot() * dot(s, s).squareRoot() {
        sHistory.append(s)
        yHistory.append(y)
        if sHistory.count > memory {
          sHistory.removeFirst()
          yHistory.removeFirst()
        }
      }
      let improvement = f - fNew
      (x, f, g) = (xNew, fNew, gNew)
      // scipy's L-BFGS-B default `ftol`.
      if improvement <= 2.2e-9 * Swift.max(abs(f), 1) { break }
    }
    return Result(
      point: x, value: f, evaluations: evaluations, curvature: Curvature(steps: sHistory, gradientChanges: yHistory))
  }

  @inline(__always) static func dot(_ a: [Double], _ b: [Double]) -> Double {
    var sum = 0.0
    for i in 0..<a.count { sum += a[i] * b[i] }
    return sum
  }
}
