import Foundation
import MultiObjective
import StudyModel
import Testing

@testable import SearchStrategies

@Suite("Bayesian search of several objectives and constraints (EHVI × probability of feasibility)")
struct HypervolumeSearchTests {
  static let space = SearchSpace([.float("x0", 0, 1), .float("x1", 0, 1), .float("x2", 0, 1)])

  static func point(_ configuration: Configuration) -> [Double] {
    space.parameters.map { configuration[$0.name]!.numericValue! }
  }

  /// ZDT1 in three variables: the front is f₂ = 1 − √f₁ at x₁ = x₂ = 0.
  static func zdt1(_ x: [Double]) -> [Double] {
    let g = 1 + 9 * (x[1] + x[2]) / 2
    return [x[0], g * (1 - (x[0] / g).squareRoot())]
  }

  /// Runs `trials` sequential suggestions, each observation valued as the runner values it.
  static func run(
    _ strategy: any SearchStrategy, trials: Int,
    evaluate: ([Double]) -> (losses: [Double], constraints: [Double])
  ) throws -> SearchContext {
    var context = SearchContext(space: space)
    for _ in 0..<trials {
      let configuration = try strategy.suggest(1, in: context)[0]
      let (losses, constraints) = evaluate(point(configuration))
      var observation = Observation.completed(configuration, losses[0])
      if losses.count > 1 { observation.losses = losses }
      observation.constraints = constraints
      observation.violation = constraints.map { Swift.max($0, 0) }.reduce(0, +)
      context.observations.append(observation)
    }
    return context
  }

  static func hypervolume(_ context: SearchContext, reference: [Double]) -> Double {
    Hypervolume.of(context.observations.filter { $0.violation == 0 }.map(\.losses), reference: reference)
  }

  @Test("two objectives: after 30 trials the front covers more hypervolume than random search's, on 3 seeds")
  func beatsRandomOnZDT1() throws {
    for seed: UInt64 in [0, 1, 2] {
      let bayes = try Self.run(BayesianOptimization(seed: seed), trials: 30) { (Self.zdt1($0), []) }
      let random = try Self.run(RandomSearch(seed: seed), trials: 30) { (Self.zdt1($0), []) }
      let reference = [1.1, 1.1]
      let (ours, theirs) = (
        Self.hypervolume(bayes, reference: reference), Self.hypervolume(random, reference: reference)
      )
      // The true front's hypervolume is 1.1² − 1/3 ≈ 0.877.
      #expect(ours > theirs && ours > 0.7, "seed \(seed): bayes \(ours), random \(theirs)")
    }
  }

  @Test("one objective under a constraint: constrained EI reaches the optimum on the boundary")
  func constrainedSingleObjective() throws {
    // Minimize (x₀ − 0.8)² + (x₁ − 0.8)² + x₂² subject to x₀ + x₁ ≤ 1: optimum 0.18 at (0.5, 0.5, 0).
    let evaluate = { (x: [Double]) -> (losses: [Double], constraints: [Double]) in
      ([(x[0] - 0.8) * (x[0] - 0.8) + (x[1] - 0.8) * (x[1] - 0.8) + x[2] * x[2]], [x[0] + x[1] - 1])
    }
    let context = try Self.run(BayesianOptimization(seed: 3), trials: 30, evaluate: evaluate)
    let feasible = context.observations.filter { $0.violation == 0 }.compactMap(\.value)
    let best = try #require(feasible.min())
    #expect(best < 0.19, "best feasible \(best)")
    // Most suggestions after the startup keep to the feasible side.
    let later = context.observations.suffix(20).filter { $0.violation == 0 }.count
    #expect(later >= 12, "\(later) of the last 20 feasible")
  }

  @Test("nothing feasible yet: the next suggestion heads where the constraint model expects feasibility")
  func headsForFeasibility() throws {
    // Feasible only where x₀ ≥ 0.8; every observation so far has x₀ ≤ 0.5.
    var context = SearchContext(space: Self.space)
    var rng = SplitMix64(seed: 5, stream: 0, index: 0)
    for _ in 0..<12 {
      let x = [0.5 * rng.nextUnit(), rng.nextUnit(), rng.nextUnit()]
      let configuration = Configuration(
        Dictionary(uniqueKeysWithValues: x.enumerated().map { ("x\($0)", ParameterValue.double($1)) }))
      var observation = Observation.completed(configuration, x[1])
      observation.losses = [x[1], x[2]]
      observation.constraints = [0.8 - x[0]]
      observation.violation = 0.8 - x[0]
      context.observations.append(observation)
    }
    let next = try BayesianOptimization(seed: 5).suggest(1, in: context)[0]
    #expect(Self.point(next)[0] > 0.6, "x₀ = \(Self.point(next)[0])")
  }

  @Test("pending trials: a batch of four is distinct and spread out")
  func batchesSpread() throws {
    let context = try Self.run(BayesianOptimization(seed: 7), trials: 14) { (Self.zdt1($0), []) }
    let batch = try BayesianOptimization(seed: 7).suggest(4, in: context).map(Self.point)
    #expect(batch.count == 4)
    for i in batch.indices {
      for j in batch.indices where j > i {
        let distance = zip(batch[i], batch[j]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        #expect(distance > 0.01, "suggestions \(i) and \(j) \(distance) apart")
      }
    }
  }

  @Test("ParEGO stays available; both are deterministic for a seed and history")
  func deterministic() throws {
    for acquisition in MultiObjectiveAcquisition.allCases {
      var strategy = BayesianOptimization(seed: 2)
      strategy.multiObjectiveAcquisition = acquisition
      let context = try Self.run(strategy, trials: 13) { (Self.zdt1($0), []) }
      // Two fresh instances (a restarted daemon) agree, and the same instance asked twice.
      var fresh = BayesianOptimization(seed: 2)
      fresh.multiObjectiveAcquisition = acquisition
      var other = BayesianOptimization(seed: 2)
      other.multiObjectiveAcquisition = acquisition
      let first = try fresh.suggest(1, in: context)
      #expect(try other.suggest(1, in: context) == first, "\(acquisition)")
      #expect(try fresh.suggest(1, in: context) == first, "\(acquisition)")
    }
  }
}
