import SearchStrategies
import TrackingBridge

/// What the runner knows of a study between trials: the quick-test and full-training chains,
/// which chains have an attempt running, and whether the strategy ran dry.
struct RunState {
  let tier: Tier
  let retries: Int
  var search: TrialHistory
  var full: TrialHistory
  /// Trial ids of the attempts running now.
  var inFlight: Set<Int64> = []
  var exhausted = false
  /// Quick tests whose full training was requested by hand (the store's promotion requests).
  var requestedPromotions: Set<Int64> = []

  init(spec: StudySpec, trials: [TrialRecord]) {
    tier = spec.searchTier
    retries = spec.trial.retries
    search = TrialHistory(trials: trials.filter { $0.tier == spec.searchTier })
    full = TrialHistory(trials: trials.filter { $0.tier != spec.searchTier })
  }

  /// Quick tests that already have a full training.
  var promotedSources: Set<Int64> { Set(full.chains.compactMap(\.root.sourceTrialId)) }

  /// Chains (with their tier) whose latest attempt calls for another run and is not running.
  func chainsToRerun() -> [(Tier, TrialHistory.Chain)] {
    let pick = { (tier: Tier, history: TrialHistory) in
      history.chains.filter { !inFlight.contains($0.latest.id!) && TrialHistory.needsRerun($0, retries: retries) }
        .map { (tier, $0) }
    }
    return pick(tier, search) + pick(.fullTraining, full)
  }

  /// The search has spent its budget (or the space is exhausted) and none of it is running
  /// or waiting for a re-run.
  func searchDone(_ spec: StudySpec) -> Bool {
    let budgetSpent = exhausted || search.chains.count >= (spec.search.maxTrials ?? Int.max)
    return budgetSpent
      && search.chains.allSatisfy {
        !inFlight.contains($0.latest.id!) && !TrialHistory.needsRerun($0, retries: retries)
      }
  }

  mutating func start(_ trial: TrialRecord, configuration: Configuration) {
    inFlight.insert(trial.id!)
    if trial.tier == tier {
      search.record(trial, configuration: configuration)
    } else {
      full.record(trial, configuration: configuration)
    }
  }

  mutating func finish(_ trial: TrialRecord) {
    if let id = trial.id { inFlight.remove(id) }
    if trial.tier == tier { search.record(trial) } else { full.record(trial) }
  }
}
