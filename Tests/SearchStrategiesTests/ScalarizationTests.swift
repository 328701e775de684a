import StudyModel
import Testing

@testable import SearchStrategies

@Suite("ParEGO scalarization of several objectives and constraints")
struct ScalarizationTests {
  @Test(
    "feasible observations get the augmented Chebyshev value of their normalized losses; infeasible ones rank behind them by violation"
  )
  func scalarizes() {
    var context = SearchContext(space: SearchSpace([]), direction: .maximize)
    func observation(_ losses: [Double], violation: Double = 0) -> Observation {
      var observation = Observation.completed(Configuration(), -losses[0])
      observation.losses = losses
      observation.violation = violation
      return observation
    }
    context.observations = [
      observation([0, 4]), observation([2, 0]), observation([1, 1]), observation([0, 0], violation: 0.3),
    ]
    let result = Scalarization.scalarized(context, seed: 9)
    let weights = Scalarization.weights(2, seed: 9, index: context.suggestedCount)
    #expect(abs(weights.reduce(0, +) - 1) < 1e-12 && weights.allSatisfy { $0 > 0 })
    // Normalized over the feasible three: f₁ / 2, f₂ / 4.
    let normalized: [[Double]] = [[0, 1], [1, 0], [0.5, 0.25]]
    let expected = normalized.map { f -> Double in
      let a = weights[0] * f[0]
      let b = weights[1] * f[1]
      return max(a, b) + 0.05 * (a + b)
    }
    for (index, value) in expected.enumerated() {
      #expect(abs(result.observations[index].value! - value) < 1e-12)
    }
    #expect(result.direction == .minimize)
    // Infeasible at (0, 0): its own value (0) is better than any feasible one, so it sits just
    // behind the worst feasible one, by its violation.
    #expect(
      abs(result.observations[3].value! - (expected.max()! + 0.3)) < 1e-12, "max(own, worst feasible) + min(v, 1)")
    // A context of one objective and no violation is left as it is.
    let single = SearchContext(
      space: SearchSpace([]), direction: .maximize, observations: [.completed(Configuration(), 2)])
    #expect(Scalarization.scalarized(single, seed: 9).observations[0].value == 2)
  }
}
