import SearchStrategies
import TrackingBridge

/// Which quick tests to train in full: the best completed ones that meet `min_value`, not
/// yet promoted, within the full-training budget. Derived from the trials alone, so a resumed
/// study promotes exactly what an uninterrupted one would.
struct PromotionPolicy {
  let promotion: StudySpec.Promotion
  let direction: Direction

  /// - Parameters:
  ///   - quickTests: the search tier's trials.
  ///   - promotedSources: the quick tests already promoted (their full trainings exist).
  ///   - searchDone: the search has spent its budget and nothing of it is running.
  func candidates(quickTests: [TrialRecord], promotedSources: Set<Int64>, searchDone: Bool) -> [TrialRecord] {
    let budget = promotion.maxFullTrainings - promotedSources.count
    guard budget > 0 else { return [] }
    let qualifying = quickTests.filter { trial in
      guard trial.state == .completed, let value = trial.value, value.isFinite else { return false }
      guard let minimum = promotion.minValue else { return true }
      return value == minimum || direction.isBetter(value, than: minimum)
    }.sorted { a, b in
      a.value! == b.value! ? a.number < b.number : direction.isBetter(a.value!, than: b.value!)
    }
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
