import SearchStrategies
import StudyModel
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
  /// Repeats asked for by hand, by configuration id (the store's repeat requests).
  var requestedRepeats: [Int64: Int] = [:]
  /// Repeats the promotion asks of its candidates, by configuration id.
  var candidateRepeats: [Int64: Int] = [:]
  /// Search chains (their first attempt's id) whose latest attempt was paused at a rung
  /// (`early_stopping.pause`), with the step it was paused at: resumed when promoted.
  var paused: [Int64: Int] = [:]
  /// Chains (their first attempt's id) paused by hand: not run again until resumed.
  var held: Set<Int64> = []
  /// Population-based training: members exploited and not replaced yet.
  var replacements: [Replacement] = []
  /// How many replacements were created (they are configurations, but not the search's).
  var replacementsMade = 0
  /// Configurations whose promotion verdict was already published by this runner.
  var judged: Set<Int64> = []
  /// The warm start's observations (`search.warm_start`), which the strategy sees first.
  var warmStart: [Observation] = []
  /// Final metrics by trial id, kept only when the search reads them (several objectives or
  /// constraints).
  var finalMetrics: [Int64: [String: Double]] = [:]

  init(spec: StudySpec, trials: [TrialRecord]) {
    tier = spec.searchTier
    retries = spec.trial.retries
    search = TrialHistory(trials: trials.filter { $0.tier == spec.searchTier })
    full = TrialHistory(trials: trials.filter { $0.tier != spec.searchTier })
  }

  /// Quick-test configurations (their first trials' ids) that already have a full training;
  /// a full training made before repeats may name a re-run of the quick test as its source.
  var promotedSources: Set<Int64> {
    Set(full.chains.compactMap { $0.root.sourceTrialId.map { search.configuration(containing: $0)?.id ?? $0 } })
  }

  /// The next repeat a configuration still needs, with its tier: up to the tier's `repeats`
  /// (for a quick test, more when promotion or a user asks), unless a repeat of it was
  /// pruned (the configuration is hopeless).
  func missingRepeat(_ spec: StudySpec) -> (Tier, TrialHistory.ConfigurationGroup, index: Int)? {
    for (tier, history) in [(tier, search), (.fullTraining, full)] {
      for group in history.configurations {
        var target = spec.repeats(for: tier)
        if tier == self.tier {
          target = max(target, requestedRepeats[group.id] ?? 0, candidateRepeats[group.id] ?? 0)
        }
        let members = history.chains(of: group)
        guard members.count < target, !members.contains(where: { $0.latest.state == .pruned }) else { continue }
        return (tier, group, members.count)
      }
    }
    return nil
  }

  /// The quick-test configurations as the promotion sees them: each one's first trial, valued
  /// by the mean of its completed repeats (completed once any repeat completed), and by the
  /// mean of the repeats the search itself ran (the first `searchRepeats`), which picks the
  /// promotion's candidates once, however their later repeats turn out.
  func quickTestConfigurations(searchRepeats: Int) -> [(trial: TrialRecord, values: [Double], searchValue: Double?)] {
    search.configurations.map { group in
      let members = search.chains(of: group)
      let values = search.values(of: group)
      let searchValues = search.values(of: group, repeatsBelow: searchRepeats)
      var first = members[0].root
      if values.isEmpty {
        first.state = members[0].latest.state
        first.value = members[0].latest.value
      } else {
        first.state = .completed
        first.value = values.reduce(0, +) / Double(values.count)
      }
      let searchValue = searchValues.isEmpty ? nil : searchValues.reduce(0, +) / Double(searchValues.count)
      return (first, values, searchValue)
    }
  }

  /// Chains (with their tier) whose latest attempt calls for another run and is not running.
  func chainsToRerun() -> [(Tier, TrialHistory.Chain)] {
    let pick = { (tier: Tier, history: TrialHistory) in
      history.chains.filter {
        !inFlight.contains($0.latest.id!) && !held.contains($0.root.id!)
          && TrialHistory.needsRerun($0, retries: retries)
      }
      .map { (tier, $0) }
    }
    return pick(tier, search) + pick(.fullTraining, full)
  }

  /// The search has spent its budget (or the space is exhausted) and none of it is running
  /// or waiting for a re-run.
  func searchDone(_ spec: StudySpec) -> Bool {
    dry(spec) != nil
      && search.chains.allSatisfy {
        !inFlight.contains($0.latest.id!) && !TrialHistory.needsRerun($0, retries: retries)
      }
  }

  /// Why the search suggests nothing more, if it does not.
  enum Dry: Equatable {
    /// The search spent its `max_trials` (configurations: repeats and re-runs are not new ones).
    case budgetSpent(Int)
    /// The strategy has no configuration left to suggest.
    case spaceExhausted
  }

  func dry(_ spec: StudySpec) -> Dry? {
    // A population member's replacement is not a configuration the search drew.
    if let budget = spec.search.maxTrials, search.configurations.count - replacementsMade >= budget {
      return .budgetSpent(budget)
    }
    return exhausted ? .spaceExhausted : nil
  }

  /// The chains paused by hand, from the `hpod.paused_by_user` tags of the study's trials (a
  /// chain is held while its latest attempt's tag says `held`).
  mutating func hold(_ tags: [Int64: String]) {
    held = Set(
      (search.chains + full.chains).compactMap { chain in
        tags[chain.latest.id!] == HpodTag.held ? chain.root.id! : nil
      })
  }

  /// Records that a search trial was paused at `step` (its tag `hpod.paused_at_rung`).
  mutating func pause(_ trial: TrialRecord, at step: Int) {
    guard let id = trial.id, let chain = search.chain(containing: id), chain.latest.id == id else { return }
    paused[chain.root.id!] = step
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

/// A population member exploited and not replaced yet: the number of the trial whose
/// checkpoint its replacement copies, and the replacement's `hpod.pbt.checkpoint` tags: the
/// copy its exploit made (none when it could make none).
struct Replacement {
  var exploited: TrialRecord
  var donorNumber: Int
  var checkpointTags: [String: String]

  /// The replacement a replaced member's tags describe; nil for a member not replaced.
  init?(exploited: TrialRecord, tags: [String: String]) {
    guard let donor = tags[HpodTag.pbtReplacedBy].flatMap({ Int($0) }) else { return nil }
    self.exploited = exploited
    donorNumber = donor
    checkpointTags = [:]
    checkpointTags[HpodTag.pbtCheckpoint] = tags[HpodTag.pbtReplacementCheckpoint]
    checkpointTags[HpodTag.pbtCheckpointStep] = tags[HpodTag.pbtReplacementCheckpointStep]
  }
}

extension Replacement {
  /// The members a study replaced whose replacement was never created (the study stopped in
  /// between), as the store's `hpod.pbt` tags tell: a resumed study creates them first.
  static func pending(studyId: Int64, trials: [TrialRecord], database: AppDatabase) throws -> [Replacement] {
    let replaced = try database.tagValues(studyId: studyId, key: HpodTag.pbtReplacedBy)
    let parents = Set(try database.tagValues(studyId: studyId, key: HpodTag.pbtParent).values)
    return try trials.filter { trial in
      guard let id = trial.id, replaced[id] != nil, trial.state == .pruned else { return false }
      return !parents.contains(String(trial.number))
    }
    .sorted { $0.number < $1.number }
    .compactMap { try Replacement(exploited: $0, tags: database.tags(trialId: $0.id!)) }
  }
}
