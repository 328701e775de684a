import Foundation
import StudyModel
import Testing

@testable import SearchStrategies

/// Every strategy, run through the same contract (like Optuna's `testing/pytest_samplers.py`).
struct ConformanceTests {
  /// A named strategy, so test arguments print readably.
  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var make: @Sendable (UInt64) -> any SearchStrategy
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "random") { RandomSearch(seed: $0) },
    Case(name: "quasi_random") { QuasiRandomSearch(seed: $0) },
    Case(name: "grid") { _ in GridSearch() },
    Case(name: "grid shuffled") { GridSearch(shuffled: true, seed: $0) },
    Case(name: "bayes") { BayesianOptimization(seed: $0, startupTrials: 4, candidates: 128) },
  ]

  /// Runs a sequential study of `trials` suggestions, returning the final context.
  static func study(_ strategy: any SearchStrategy, trials: Int, batch: Int = 1) throws -> SearchContext {
    var context = SearchContext(space: Fixtures.mixedSpace)
    while context.observations.count < trials {
      let suggestions = try strategy.suggest(batch, in: context)
      guard !suggestions.isEmpty else { break }
      for configuration in suggestions {
        context.observations.append(.completed(configuration, Fixtures.loss(configuration)))
      }
    }
    return context
  }

  @Test(arguments: cases)
  func suggestionsAreValidConfigurations(_ strategy: Case) throws {
    // Given a mixed space with log, step, int, categorical and conditional parameters
    // When a strategy runs a 14-trial study, two suggestions at a time
    let context = try Self.study(strategy.make(7), trials: 14, batch: 2)
    // Then every suggestion has exactly the active parameters, each inside its bounds, on its
    // step or integer grid, with its domain's type
    #expect(context.observations.count == 14)
    for observation in context.observations {
      let configuration = observation.configuration
      #expect(Fixtures.mixedSpace.isValid(configuration), "\(configuration)")
      if case .int = configuration["layers"] {} else { Issue.record("layers is not an int: \(configuration)") }
      if case .double = configuration["lr"] {} else { Issue.record("lr is not a double: \(configuration)") }
      let sgd = configuration["optimizer"] == .string("sgd")
      #expect((configuration["momentum"] != nil) == sgd, "momentum must be present exactly for sgd")
    }
  }

  @Test(arguments: cases)
  func sameSeedAndHistoryGiveSameSuggestions(_ strategy: Case) throws {
    // Given a history of finished trials (one failed, one pruned) and a pending one
    var context = try Self.study(RandomSearch(seed: 99), trials: 6)
    context.observations[1].state = .failed
    context.observations[1].value = nil
    context.observations[2].state = .pruned
    context.pending = [context.observations[5].configuration]
    context.observations.removeLast()
    // When two instances with the same seed suggest on it, and one suggests twice
    let first = try strategy.make(3).suggest(3, in: context)
    let second = try strategy.make(3).suggest(3, in: context)
    let again = try strategy.make(3).suggest(3, in: context)
    // Then the suggestions are identical
    #expect(first == second)
    #expect(first == again)
    #expect(first.count == 3)
  }

  @Test(arguments: cases)
  func pendingAndObservedConfigurationsAreNotRepeated(_ strategy: Case) throws {
    // Given a small discrete space where repeats are likely, with history and pending trials
    let space = SearchSpace([.int("a", 0, 3), .categorical("b", [.string("x"), .string("y")])])
    var context = SearchContext(space: space)
    let all = (0...3).flatMap { a in ["x", "y"].map { Configuration(["a": .int(a), "b": .string($0)]) } }
    context.observations = [.completed(all[0], 1.0), .completed(all[5], 0.5)]
    context.pending = [all[2], all[3]]
    // When the strategy suggests three configurations at once
    let suggestions = try strategy.make(11).suggest(3, in: context)
    // Then none repeats a pending or observed one, and they are distinct
    #expect(suggestions.count == 3)
    #expect(Set(suggestions).count == 3)
    for configuration in suggestions {
      #expect(!context.pending.contains(configuration))
      #expect(!context.observations.map(\.configuration).contains(configuration))
    }
  }

  @Test(arguments: cases)
  func emptyRequestSuggestsNothing(_ strategy: Case) throws {
    // Given any context / When zero suggestions are asked / Then none come back
    #expect(try strategy.make(1).suggest(0, in: SearchContext(space: Fixtures.mixedSpace)).isEmpty)
  }

  @Test(arguments: cases)
  func maximizingIsAccepted(_ strategy: Case) throws {
    // Given a maximized objective with some history
    var context = try Self.study(RandomSearch(seed: 5), trials: 6)
    context.direction = .maximize
    // When the strategy suggests / Then it returns valid configurations
    let suggestions = try strategy.make(2).suggest(2, in: context)
    #expect(suggestions.count == 2)
    #expect(suggestions.allSatisfy(Fixtures.mixedSpace.isValid))
  }
}
