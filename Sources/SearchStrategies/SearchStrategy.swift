public import StudyModel

/// Suggests the configurations to try next (like Optuna's sampler).
///
/// A strategy is a pure function of its settings (seed included) and the context: the same
/// history always yields the same suggestions, so a resumed study continues exactly where it
/// stopped. Strategies hold no mutable state between calls.
public protocol SearchStrategy: Sendable {
  /// A short name for logs and the store (`random`, `grid`, `bayes`).
  var name: String { get }

  /// Suggests up to `count` configurations, none equal to a pending one where the strategy can
  /// avoid it. Returning fewer than `count` means the space is exhausted for now: when nothing
  /// is pending either, the study ends.
  func suggest(_ count: Int, in context: SearchContext) throws -> [Configuration]
}

/// Why a strategy cannot work with the given space or settings.
public struct SearchStrategyError: Error, Sendable, Hashable, CustomStringConvertible {
  public enum Code: String, Sendable {
    case invalidSpace = "invalid_space"
    case gridTooLarge = "grid_too_large"
    case numerical = "numerical"
  }

  public var code: Code
  public var message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }
}

extension SearchContext {
  /// The configurations already observed or pending, canonicalized (see
  /// `SearchSpace.canonical(_:)`), which a strategy should not suggest again.
  public var seenConfigurations: Set<Configuration> {
    Set((observations.map(\.configuration) + pending).map { space.canonical($0) })
  }

  /// Draws `count` configurations for suggestion indices `suggestedCount ..< suggestedCount +
  /// count`, redrawing (attempt 1, 2, …, up to 64) when a draw repeats a seen or just-drawn
  /// configuration. In a space too small to avoid repeats, the last draw is kept.
  func drawDistinct(_ count: Int, point: (_ index: Int, _ attempt: Int) -> [Double]) -> [Configuration] {
    var seen = seenConfigurations
    var result: [Configuration] = []
    for offset in 0..<Swift.max(count, 0) {
      let index = suggestedCount + offset
      var configuration = space.configuration(atUnit: point(index, 0))
      var attempt = 1
      while seen.contains(configuration), attempt < 64 {
        configuration = space.configuration(atUnit: point(index, attempt))
        attempt += 1
      }
      seen.insert(configuration)
      result.append(configuration)
    }
    return result
  }
}
