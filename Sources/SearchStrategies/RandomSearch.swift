/// Independent uniform sampling of every parameter (log-uniform where `log`).
///
/// Suggestion number `i` depends only on the seed and `i`, so a study that is interrupted
/// and resumed draws the same configurations it would have drawn without the interruption.
public struct RandomSearch: SearchStrategy {
  public var seed: UInt64

  public init(seed: UInt64 = 0) {
    self.seed = seed
  }

  public var name: String { "random" }

  public func suggest(_ count: Int, in context: SearchContext) throws -> [Configuration] {
    let first = context.suggestedCount
    return (0..<count).map { offset in
      var rng = SplitMix64(seed: seed, stream: 0, index: UInt64(first + offset))
      let point = context.space.parameters.map { _ in rng.nextUnit() }
      return context.space.configuration(atUnit: point)
    }
  }
}

extension SearchStrategy where Self == RandomSearch {
  /// Uniform random search, reproducible for a seed.
  public static func random(seed: UInt64 = 0) -> RandomSearch { RandomSearch(seed: seed) }
}
