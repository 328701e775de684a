import Foundation

/// The search algorithms a study can name (`search.algorithm` in the study spec).
public enum StrategyKind: String, Sendable, CaseIterable {
  case grid
  case random
  case quasiRandom = "quasi_random"
  case bayes

  /// Reads a spec's algorithm name; accepts common aliases (`sobol`, `halton`, `quasirandom`,
  /// `gp`, `bayesian`, `bo`). Case-insensitive.
  public init?(name: String) {
    switch name.lowercased().replacingOccurrences(of: "-", with: "_") {
    case "grid": self = .grid
    case "random": self = .random
    case "quasi_random", "quasirandom", "sobol", "halton", "qmc": self = .quasiRandom
    case "bayes", "bayesian", "gp", "bo": self = .bayes
    default: return nil
    }
  }

  /// The strategy for this kind. `startupTrials` only matters for `bayes` (default 10); the
  /// seed shuffles nothing for `grid` (grid order is fixed).
  public func makeStrategy(seed: UInt64, startupTrials: Int? = nil) -> any SearchStrategy {
    switch self {
    case .grid: GridSearch()
    case .random: RandomSearch(seed: seed)
    case .quasiRandom: QuasiRandomSearch(seed: seed)
    case .bayes: BayesianOptimization(seed: seed, startupTrials: startupTrials ?? 10)
    }
  }
}

/// The strategy a study names, or nil for an unknown algorithm name (see `StrategyKind(name:)`).
public func makeStrategy(algorithm: String, seed: UInt64, startupTrials: Int? = nil) -> (any SearchStrategy)? {
  StrategyKind(name: algorithm)?.makeStrategy(seed: seed, startupTrials: startupTrials)
}
