public import StudyModel

/// Independent uniform sampling of every parameter (log-uniform where `log`).
///
/// Suggestion number `i` depends only on the seed and `i`, so a study that is interrupted
/// and resumed draws the same configurations it would have drawn without the interruption.
/// A draw that repeats an observed or pending configuration is redrawn (see `drawDistinct`).
public struct RandomSearch: SearchStrategy {
  public var seed: UInt64

  public init(seed: UInt64 = 0) {
    self.seed = seed
  }

  public var name: String { "random" }

  public func suggest(_ count: Int, in context: SearchContext) throws -> [Configuration] {
    context.drawDistinct(count) { index, attempt in
      // Attempt 0 is the historical stream, so earlier studies draw what they always drew.
      var rng = SplitMix64(seed: seed, stream: UInt64(attempt) &* 0x100, index: UInt64(index))
      return context.space.parameters.map { _ in rng.nextUnit() }
    }
  }
}

extension SearchStrategy where Self == RandomSearch {
  /// Uniform random search, reproducible for a seed.
  public static func random(seed: UInt64 = 0) -> RandomSearch { RandomSearch(seed: seed) }
}
