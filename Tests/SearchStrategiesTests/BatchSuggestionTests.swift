import Foundation
import StudyModel
import Testing

@testable import SearchStrategies

/// Batches as the daemon asks them with 8 free slots: `suggest(1, …)` eight times, each with
/// the round's earlier suggestions pending.
struct BatchSuggestionTests {
  /// A 3-level categorical, an int and a float, where the loss depends mostly on the
  /// discrete parameters (a near-plateau per combination, as model-tuning losses often are).
  static let space = SearchSpace([
    .categorical("kernel", [.string("rbf"), .string("poly"), .string("sigmoid")]),
    .int("depth", 1, 4),
    .float("c", 0, 1),
  ])

  static func loss(_ configuration: Configuration) -> Double {
    let kernels: [String: Double] = ["rbf": 0, "poly": 0.3, "sigmoid": 0.6]
    let kernel: Double = kernels[configuration["kernel"]!.description] ?? 1
    let depth: Double = configuration["depth"]!.numericValue!
    let c: Double = configuration["c"]!.numericValue!
    return kernel + 0.1 * abs(depth - 3) + 0.01 * c
  }

  /// Runs `rounds` rounds of `batch` suggestions, each round asked before any is evaluated.
  static func run(seed: UInt64, rounds: Int, batch: Int) throws -> (SearchContext, [[Configuration]]) {
    let strategy = BayesianOptimization(seed: seed, startupTrials: 8)
    var context = SearchContext(space: space)
    var batches: [[Configuration]] = []
    for _ in 0..<rounds {
      var round: [Configuration] = []
      for _ in 0..<batch {
        guard let next = try strategy.suggest(1, in: context).first else { break }
        round.append(next)
        context.pending.append(next)
      }
      context.pending.removeAll()
      context.observations += round.map { .completed($0, loss($0)) }
      batches.append(round)
    }
    return (context, batches)
  }

  @Test(arguments: [UInt64(1), 2, 3])
  func eightPendingSuggestionsAreAllDistinctConfigurations(seed: UInt64) throws {
    // Given 4 rounds of 8 suggestions on a space of a 3-level categorical, an int and a float
    let (context, batches) = try Self.run(seed: seed, rounds: 4, batch: 8)
    // Then every configuration is new: none repeats a pending one of its round or an earlier
    // round's evaluated one
    let all = context.observations.map { context.space.canonical($0.configuration) }
    #expect(all.count == 32)
    #expect(Set(all).count == all.count, "\(batches)")
  }
}
