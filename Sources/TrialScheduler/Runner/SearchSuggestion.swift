import SearchStrategies
import StudyModel
import TrackingBridge

/// The search's next configuration, for the runner and for ask and tell alike: the spec's
/// queued configurations (`search.enqueue`) first, in order, then the strategy's. The strategy
/// sees the warm start's observations before the study's own; in a study of several objectives
/// or with constraints, `finalMetrics` (by trial id) gives each configuration's outcome.
struct SearchSuggestion {
  var configuration: Configuration
  /// The `search.enqueue` entry it comes from, if any.
  var queuedIndex: Int?

  /// nil when the strategy has nothing more to suggest (an exhausted space). The strategy
  /// computes on `ComputeWork`'s threads, never on the task pool.
  static func next(
    spec: StudySpec, strategy: any SearchStrategy, history: TrialHistory, warmStart: [Observation], retries: Int,
    finalMetrics: [Int64: [String: Double]] = [:], latency: SuggestionLatency? = nil
  ) async throws -> SearchSuggestion? {
    var context = history.searchContext(
      space: spec.space, direction: spec.objective.direction, retries: retries,
      outcome: spec.needsFinalMetrics ? { spec.outcome(of: $0, finalMetrics: finalMetrics) } : nil)
    context.observations = warmStart + context.observations
    let index = history.configurations.count
    let queued = index < spec.search.enqueue.count ? spec.search.enqueue[index] : nil
    if let queued, spec.space.isValid(queued) {
      return SearchSuggestion(configuration: queued, queuedIndex: index)
    }
    let asked = context
    let (suggested, took) = try await ComputeWork.run {
      let started = ContinuousClock.now
      let suggested = try strategy.suggest(1, in: asked).first
      return (suggested, ContinuousClock.now - started)
    }
    latency?.record(took)
    guard let queued else { return suggested.map { SearchSuggestion(configuration: $0, queuedIndex: nil) } }
    // A queued entry that leaves parameters out takes the strategy's values for them.
    return SearchSuggestion(
      configuration: spec.space.completing(queued, with: suggested ?? Configuration()), queuedIndex: index)
  }
}

extension SearchSpace {
  /// `partial` with every active parameter it lacks taken from `fallback` (or, when that
  /// lacks it too, the middle of its range), and no inactive one.
  func completing(_ partial: Configuration, with fallback: Configuration) -> Configuration {
    var result = Configuration()
    for parameter in parameters where isActive(parameter, in: result) {
      let value = partial[parameter.name] ?? fallback[parameter.name]
      result[parameter.name] = value.flatMap { parameter.contains($0) ? $0 : nil } ?? parameter.value(atUnit: 0.5)
    }
    return result
  }
}
