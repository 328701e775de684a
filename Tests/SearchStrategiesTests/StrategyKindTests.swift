import StudyModel
import Testing

@testable import SearchStrategies

struct StrategyKindTests {
  @Test(arguments: [
    ("grid", "grid"), ("random", "random"), ("quasi_random", "quasi_random"), ("Sobol", "quasi_random"),
    ("bayes", "bayes"), ("gp", "bayes"),
  ])
  func namesMapToStrategies(_ name: String, _ expected: String) throws {
    // Given an algorithm name from a spec / When the factory builds it / Then the right strategy comes back
    let strategy = try #require(makeStrategy(algorithm: name, seed: 1, startupTrials: 5))
    #expect(strategy.name == expected)
  }

  @Test func unknownNameIsNil() {
    #expect(makeStrategy(algorithm: "hyperband", seed: 1) == nil)
  }

  @Test func startupTrialsReachBayes() throws {
    let strategy = try #require(makeStrategy(algorithm: "bayes", seed: 1, startupTrials: 7) as? BayesianOptimization)
    #expect(strategy.startupTrials == 7)
  }

  @Test func canonicalTurnsJSONRoundTrippedValuesBackIntoDomainTypes() {
    // Given an int and a float parameter whose values came back from JSON with the other type
    let space = SearchSpace([.int("n", 1, 10), .float("f", 0, 5), .categorical("c", [.int(1), .string("a")])])
    // When canonicalized / Then each value has its domain's type
    let canonical = space.canonical(Configuration(["n": .double(3), "f": .int(2), "c": .double(1)]))
    #expect(canonical == Configuration(["n": .int(3), "f": .double(2), "c": .int(1)]))
  }
}
