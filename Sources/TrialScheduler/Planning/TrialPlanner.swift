import Logging
import SearchStrategies
import StudyModel
import TrackingBridge

/// Decides and creates a study's next trial, the same for the runner (which launches it) and
/// for ask and tell (which hands it to a client): a re-run of a chain that needs one, then a
/// configuration's missing repeat, then a promotion, then a new suggestion while budget
/// remains. One suggestion at a time, with the running trials as pending, so each suggestion
/// sees every result that arrived before it.
struct TrialPlanner: Sendable {
  let spec: StudySpec
  let database: AppDatabase
  let strategy: any SearchStrategy
  let logger: Logger
  /// Creates the trial's row (and publishes it).
  let lifecycle: TrialLifecycle
  /// Where the time of each suggestion is added up (the daemon's /metrics); nil: nowhere.
  let suggestionLatency: SuggestionLatency?
  /// Picks the paused chain to resume (`early_stopping.pause`); nil: trials are never paused.
  var pausedPromotion: RungPromotion?
  let onEvent: @Sendable (StudyEvent) -> Void

  /// The next trial, recorded in `state` as started; nil when there is none for now (the
  /// budget is spent, the space exhausted with trials still running, or nothing to re-run).
  func next(_ studyId: Int64, _ state: inout RunState) async throws -> (TrialRecord, Configuration)? {
    if let (tier, chain) = state.chainsToRerun().first {
      return try await rerun(chain, tier: tier, studyId, &state)
    }
    if let trial = try await nextReplacement(studyId, &state) { return trial }
    if let trial = try await nextRepeat(studyId, &state) { return trial }
    if let promotion = pausedPromotion, let root = promotion.next(among: state.paused),
      let chain = state.search.chain(containing: root)
    {
      let step = state.paused.removeValue(forKey: root) ?? 0
      logger.info(
        "trial \(chain.latest.number), paused at step \(step), is promoted: it resumes from its checkpoint",
        metadata: ["study": "\(spec.name)"])
      return try await rerun(chain, tier: spec.searchTier, studyId, &state)
    }
    if let trial = try await nextPromotion(studyId, &state) { return trial }
    guard state.dry(spec) == nil else { return nil }
    guard
      let suggestion = try await SearchSuggestion.next(
        spec: spec, strategy: strategy, history: state.search, warmStart: state.warmStart,
        retries: spec.trial.retries, finalMetrics: state.finalMetrics, latency: suggestionLatency)
    else {
      guard state.inFlight.isEmpty else { return nil }
      // The space is exhausted: what follows the search (promotion) may start now.
      state.exhausted = true
      return try await next(studyId, &state)
    }
    let configuration = suggestion.configuration
    let trial = try await lifecycle.create(
      studyId: studyId, configuration, tier: spec.searchTier, placement: .init(seed: spec.seed(repeat: 0)),
      tags: suggestion.queuedIndex.map { [HpodTag.enqueued: "search.enqueue[\($0)]"] } ?? [:])
    state.start(trial, configuration: configuration)
    return (trial, configuration)
  }

  /// Population-based training: the member that replaces an exploited one, with its donor's
  /// parameters explored; it continues the donor's checkpoint (`CheckpointFolder.continued`).
  private func nextReplacement(_ studyId: Int64, _ state: inout RunState) async throws -> (TrialRecord, Configuration)?
  {
    guard let training = spec.search.populationBasedTraining, !state.replacements.isEmpty else { return nil }
    let replacement = state.replacements.removeFirst()
    let (exploited, donorNumber) = (replacement.exploited, replacement.donorNumber)
    guard let donor = state.search.chains.first(where: { $0.attempts.contains { $0.number == donorNumber } }) else {
      logger.warning(
        "trial \(exploited.number) copies trial \(donorNumber), which this study does not have; it is not replaced",
        metadata: ["study": "\(spec.name)"])
      return nil
    }
    // The draw depends on the member replaced only: a resumed study explores the same way.
    var rng = SplitMix64(seed: spec.search.seed, stream: 0x9B8, index: UInt64(exploited.number))
    let (configuration, changes) = training.explore(donor.configuration, in: spec.space, using: &rng)
    let trial = try await lifecycle.create(
      studyId: studyId, configuration, tier: spec.searchTier, placement: .init(seed: spec.seed(repeat: 0)),
      tags: replacement.checkpointTags.merging([
        HpodTag.pbtParent: String(exploited.number), HpodTag.pbtDonor: String(donorNumber),
        HpodTag.pbtExplore: changes.isEmpty ? "unchanged" : changes.joined(separator: "; "),
      ]) { _, new in new })
    state.start(trial, configuration: configuration)
    state.replacementsMade += 1
    logger.info(
      "trial \(trial.number) replaces trial \(exploited.number): it continues trial \(donorNumber)'s checkpoint\(replacement.checkpointTags[HpodTag.pbtCheckpoint].map { " \($0)" } ?? "") with \(changes.isEmpty ? "its parameters" : changes.joined(separator: ", "))",
      metadata: ["study": "\(spec.name)"])
    return (trial, configuration)
  }

  /// Another attempt of the chain's configuration, after its latest (same folder, same seed).
  private func rerun(_ chain: TrialHistory.Chain, tier: Tier, _ studyId: Int64, _ state: inout RunState) async throws
    -> (TrialRecord, Configuration)
  {
    let root = chain.root
    let trial = try await lifecycle.create(
      studyId: studyId, chain.configuration, tier: tier, retryOf: chain.latest.id, source: root.sourceTrialId,
      placement: .init(repeatOf: root.repeatOf ?? root.id, repeatIndex: root.repeatIndex, seed: root.seed))
    state.start(trial, configuration: chain.configuration)
    return (trial, chain.configuration)
  }

  /// A study's state as the planner reads it from the store: its trials, which of them run,
  /// the final metrics the search reads and the users' requests; `warmStart`: the warm
  /// start's observations (`WarmStartHistory`), which the caller loads once; `trials`: the
  /// study's trials when the caller read them already.
  static func state(
    of studyId: Int64, spec: StudySpec, database: AppDatabase, warmStart: [Observation], trials: [TrialRecord]? = nil
  ) throws -> RunState {
    let trials = try trials ?? database.trials(studyId: studyId)
    var state = RunState(spec: spec, trials: trials)
    state.inFlight = Set(trials.filter { !$0.state.isFinished }.compactMap(\.id))
    state.warmStart = warmStart
    if spec.needsFinalMetrics { state.finalMetrics = try database.finalMetricValues(studyId: studyId) }
    state.requestedPromotions = try database.promotionRequests(studyId: studyId)
    state.requestedRepeats = try database.repeatRequests(studyId: studyId)
    return state
  }
}
