import SearchStrategies
import StudyModel
import TrackingBridge

/// Which quick tests to train in full: the best completed ones that meet `min_value`, not
/// yet promoted, within the full-training budget. Derived from the trials alone, so a resumed
/// study promotes exactly what an uninterrupted one would.
///
/// Full trainings requested by hand come first, whatever `top_k` and the budget say, and do
/// not use the budget of the automatic ones.
struct PromotionPolicy {
  let promotion: StudySpec.Promotion?
  let direction: Direction
  /// With several objectives: the quick tests' Pareto front in `promotion.pick`'s order, as
  /// configuration ids; only they are promoted automatically, in that order.
  var frontOrder: [Int64]?

  /// Completed quick tests whose full training was requested by hand and does not exist yet,
  /// in trial order.
  static func requested(quickTests: [TrialRecord], requested: Set<Int64>, promotedSources: Set<Int64>)
    -> [TrialRecord]
  {
    quickTests.filter { trial in
      requested.contains(trial.id!) && !promotedSources.contains(trial.id!) && trial.state == .completed
    }.sorted { $0.number < $1.number }
  }

  /// - Parameters:
  ///   - quickTests: the search tier's trials.
  ///   - promotedSources: the quick tests already promoted (their full trainings exist).
  ///   - searchDone: the search has spent its budget and nothing of it is running.
  ///   - requested: the quick tests whose full training was requested by hand.
  ///   - withheld: quick tests their repeats did not show better enough (`significance`).
  func candidates(
    quickTests: [TrialRecord], promotedSources: Set<Int64>, searchDone: Bool, requested: Set<Int64> = [],
    withheld: Set<Int64> = []
  ) -> [TrialRecord] {
    let manual = Self.requested(quickTests: quickTests, requested: requested, promotedSources: promotedSources)
    let automatic = automaticCandidates(
      quickTests: quickTests, promotedSources: promotedSources, searchDone: searchDone, requested: requested)
    return manual + automatic.filter { !requested.contains($0.id!) && !withheld.contains($0.id!) }
  }

  /// The completed quick tests that meet `min_value`, best first (ties by trial number).
  func ranked(_ quickTests: [TrialRecord]) -> [TrialRecord] {
    if let frontOrder {
      return frontOrder.compactMap { id in quickTests.first { $0.id == id && $0.state == .completed } }.filter {
        trial in
        promotion?.minValue.map { trial.value == $0 || direction.isBetter(trial.value ?? .nan, than: $0) } ?? true
      }
    }
    return quickTests.filter { trial in
      guard trial.state == .completed, let value = trial.value, value.isFinite else { return false }
      guard let minimum = promotion?.minValue else { return true }
      return value == minimum || direction.isBetter(value, than: minimum)
    }.sorted { a, b in
      a.value! == b.value! ? a.number < b.number : direction.isBetter(a.value!, than: b.value!)
    }
  }

  private func automaticCandidates(
    quickTests: [TrialRecord], promotedSources: Set<Int64>, searchDone: Bool, requested: Set<Int64>
  ) -> [TrialRecord] {
    guard let promotion else { return [] }
    let budget = promotion.maxFullTrainings - promotedSources.subtracting(requested).count
    guard budget > 0 else { return [] }
    let qualifying = ranked(quickTests)
    switch promotion.mode {
    case .afterSearch:
      guard searchDone else { return [] }
      return Array(qualifying.prefix(promotion.topK).filter { !promotedSources.contains($0.id!) }.prefix(budget))
    case .continuous:
      // The best quick test goes as soon as it beats every promoted one by the margin.
      let promotedValues = qualifying.filter { promotedSources.contains($0.id!) }.compactMap(\.value)
      guard let best = qualifying.first, !promotedSources.contains(best.id!) else { return [] }
      let bar = promotedValues.reduce(nil as Double?) { current, value in
        guard let current else { return value }
        return direction.isBetter(value, than: current) ? value : current
      }
      guard let bar else { return [best] }
      let improvement = direction == .maximize ? best.value! - bar : bar - best.value!
      return improvement > promotion.margin ? [best] : []
    }
  }
}
