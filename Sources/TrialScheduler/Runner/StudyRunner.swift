import Foundation
public import Logging
public import SearchStrategies
public import TrackingBridge

/// Drives one study to its end: asks the strategy for configurations, runs up to
/// `parallelism` trials at once, re-runs crashed and interrupted ones, and stops at the
/// budget, an exhausted space, too many failures, or a stop request.
///
/// Everything it decides is derived from the store, so running it again on an unfinished
/// study resumes it: no finished trial runs twice and the strategy continues its sequence.
public struct StudyRunner: Sendable {
  public let spec: StudySpec
  public let database: AppDatabase
  public let home: HpodHome
  /// Runs the trials; the spec's (`executor:`) unless the caller gives one.
  public let executor: any TrialExecutor
  public let strategy: any SearchStrategy
  public let logger: Logger
  /// The daemon's limit on trial processes across studies; nil runs up to `parallelism`.
  public let slots: TrialSlots?
  /// The GPUs and CPUs local trials are placed on (the daemon's, across its studies); nil:
  /// trials declare none, or hpod places none.
  public let resources: ResourcePool?
  /// hpod's MLflow API for the trials' own mlflow calls (when the spec mirrors to no server),
  /// and where the points they log there arrive.
  public let trackingEndpoint: TrackingEndpoint?
  public let externalMetrics: ExternalMetrics?
  /// Mirrors the study to MLflow when its spec names a server; nil keeps it in the store only
  /// (its outbox still fills, to be sent by the next hpod that mirrors).
  public let tracking: (any TrackingSink)?
  /// Signalled when a full training is requested by hand while the study runs.
  public let wakeup: Wakeup?
  /// Where the time of each suggestion is added up (the daemon's /metrics); nil: nowhere.
  public let suggestionLatency: SuggestionLatency?
  public let onEvent: @Sendable (StudyEvent) -> Void

  public init(
    spec: StudySpec, database: AppDatabase, home: HpodHome, executor: (any TrialExecutor)? = nil,
    strategy: any SearchStrategy, logger: Logger = Logger(label: "hpod.runner"), slots: TrialSlots? = nil,
    resources: ResourcePool? = nil, trackingEndpoint: TrackingEndpoint? = nil, externalMetrics: ExternalMetrics? = nil,
    tracking: (any TrackingSink)? = nil, wakeup: Wakeup? = nil, suggestionLatency: SuggestionLatency? = nil,
    onEvent: @escaping @Sendable (StudyEvent) -> Void = { _ in }
  ) {
    self.suggestionLatency = suggestionLatency
    self.slots = slots
    self.resources = resources
    self.trackingEndpoint = trackingEndpoint
    self.externalMetrics = externalMetrics
    self.tracking = tracking
    self.wakeup = wakeup
    self.spec = spec
    self.database = database
    self.home = home
    self.executor = executor ?? spec.makeExecutor()
    self.strategy = strategy
    self.logger = logger
    self.onEvent = onEvent
  }

  /// Runs (or resumes) the study until it ends or `stopSignal` trips; returns its final row.
  ///
  /// The study's lease is taken first (or `lease` is the one the caller took): while another
  /// live process holds it, this throws `StudyLease.Held` and touches nothing, so trials that
  /// process runs are never killed or run twice.
  public func run(_ study: StudyRecord, stopSignal: StopSignal = StopSignal(), lease: StudyLease? = nil)
    async throws -> StudyRecord
  {
    let studyId = study.id!
    let lease = try lease ?? StudyLease.acquire(home: home, studyId: studyId, studyName: study.name)
    defer { lease.release() }
    // Store writes from here on wait on a blocking thread (`BlockingWork`), not on the task pool.
    let database = database
    if let uri = spec.tracking.mlflowURI {
      let experiment = spec.tracking.experiment
      try await BlockingWork.run { try database.mirror(studyId: studyId, uri: uri, experimentName: experiment) }
    }
    let outage = StoreOutage(emit: onEvent)
    let adopted = try await recoverInterruptedTrials(studyId: studyId, outage: outage)
    try await outage.retrying("marking the study running") {
      try await BlockingWork.run { try database.setStudyState(id: studyId, .running) }
    }

    let running = RunningTrials()
    // A daemon that shuts down (and resumes the study when it restarts) leaves cluster jobs
    // running for its next start to adopt.
    stopSignal.observe(
      stop: {
        outage.abandon()
        running.stopAll(reason: $0, detaching: stopSignal.outcome == .running)
      },
      force: {
        outage.abandon()
        running.killAll()
      })
    let all = try database.trials(studyId: studyId)
    let searchTrials = all.filter { $0.tier == spec.searchTier }
    let stopper = try spec.earlyStopping.map { earlyStopping in
      var stopper = EarlyStopper(
        rule: earlyStopping.makeRule(), metric: earlyStopping.metric, direction: spec.objective.direction,
        board: try CurveBoard(trials: searchTrials, metric: earlyStopping.metric, database: database))
      if let rule = earlyStopping.makeParetoRule(spec.objectives) {
        let metrics = spec.objectives.map(\.metric)
        stopper.pareto = (
          rule, metrics, try metrics.map { try CurveBoard(trials: searchTrials, metric: $0, database: database) }
        )
      }
      return stopper
    }
    let tracking = tracking
    let trialRun = TrialRun(
      spec: spec, study: study, home: home, database: database, executor: executor, stopper: stopper, slots: slots,
      resources: resources, tracking: tracking, trackingEndpoint: trackingEndpoint, externalMetrics: externalMetrics,
      outage: outage, logger: logger,
      emit: { event in
        tracking?.wake()
        onEvent(event)
      })

    var state = RunState(spec: spec, trials: all)
    let warmStart = try spec.search.warmStart.map {
      try WarmStartHistory.load($0, for: spec, study: study, database: database)
    }
    state.warmStart = warmStart?.observations ?? []
    if spec.needsFinalMetrics { state.finalMetrics = try database.finalMetricValues(studyId: studyId) }
    state.requestedPromotions = try database.promotionRequests(studyId: studyId)
    state.requestedRepeats = try database.repeatRequests(studyId: studyId)
    let reruns = state.chainsToRerun().count
    let kept = state.search.chains.filter { $0.latest.state.isFinished }.count + state.full.chains.count - reruns
    onEvent(.studyStarted(try database.study(id: studyId) ?? study, keptTrials: max(kept, 0), rerunTrials: reruns))
    if let history = warmStart {
      logger.info(
        "warm start: \(history.observations.count) configurations of study '\(history.source.name)' (id \(history.source.id!)) feed the search\(history.outsideSpace > 0 ? "; \(history.outsideSpace) outside this space are left out" : "")",
        metadata: ["study": "\(spec.name)"])
      onEvent(.warmStarted(history))
    }
    try registerPendingRuns(all, history: spec.registration?.tier == spec.searchTier ? state.search : state.full)

    var endState: (StudyState, String?) = (.completed, nil)
    // A child task returns nil when the wakeup fires: a full training was requested by hand.
    await withTaskGroup(of: TrialRecord?.self) { group in
      var active = 0
      for (trial, process) in adopted {
        logger.info("adopted trial \(trial.number) (\(process.handle))", metadata: ["study": "\(spec.name)"])
        state.inFlight.insert(trial.id!)
        active += 1
        group.addTask { await trialRun.adopt(trial, process, registry: running) }
      }
      var listening = false
      while true {
        if let reason = stopSignal.reason {
          endState = (stopSignal.outcome, reason)
        } else if let limit = spec.trial.maxFailedTrials,
          state.search.failedForGood(retries: spec.trial.retries) > limit
        {
          endState = (
            .failed, "more than \(limit) trials failed (max_failed_trials); see their reasons with the trials' logs"
          )
          running.stopAll(reason: "cancelled: the study failed")
        } else if spec.trial.failFast,
          let reason = FailFast.verdict(state.search, retries: spec.trial.retries, study: spec.name)
        {
          endState = (.failed, reason)
          running.stopAll(reason: "cancelled: the study failed")
        } else {
          do {
            while active < spec.search.parallelism,
              let (trial, configuration) = try await nextTrial(studyId, &state, outage: outage)
            {
              active += 1
              group.addTask { await trialRun.run(trial, configuration: configuration, registry: running) }
            }
          } catch  where StoreOutage.isStoreError(error) {
            // Not one that waiting mends (those pause the study inside nextTrial).
            logger.error("the store failed: \(error)", metadata: ["study": "\(spec.name)"])
            endState = (.failed, "the store failed: \(error); mend it, then `hpod resume` (or hpod run) goes on")
            running.stopAll(reason: "cancelled: the study failed")
          } catch {
            logger.error("the search strategy failed: \(error)", metadata: ["study": "\(spec.name)"])
            endState = (.failed, "the \(strategy.name) search failed: \(error)")
            running.stopAll(reason: "cancelled: the study failed")
          }
        }
        if let wakeup, !listening, active > 0 {
          listening = true
          group.addTask {
            await wakeup.wait()
            return nil
          }
        }
        guard active > 0, let next = await group.next() else { break }
        guard let finished = next else {
          listening = false
          do {
            state.requestedPromotions = try database.promotionRequests(studyId: studyId)
            state.requestedRepeats = try database.repeatRequests(studyId: studyId)
          } catch {
            logger.error("reading promotion and repeat requests failed: \(error)", metadata: ["study": "\(spec.name)"])
          }
          continue
        }
        active -= 1
        state.finish(finished)
        if spec.needsFinalMetrics, finished.state == .completed, let id = finished.id {
          do { try judgeConstraints(finished, id: id, &state) } catch {
            logger.error(
              "reading the final metrics of trial \(finished.number) failed: \(error)",
              metadata: ["study": "\(spec.name)"])
          }
        }
        if finished.state == .failed || finished.state == .timedOut {
          // A notice, not a warning: the daemon's log has it, and hpod run's own view already
          // prints the trial's end once.
          logger.notice(
            "trial \(finished.number) \(finished.state.rawValue): \(finished.reason ?? "no reason")",
            metadata: ["study": "\(spec.name)"])
        }
        do { try register(finished, history: finished.tier == spec.searchTier ? state.search : state.full) } catch {
          logger.error("registering trial \(finished.number) failed: \(error)", metadata: ["study": "\(spec.name)"])
        }
      }
      group.cancelAll()
    }
    if endState.0 == .completed, stopSignal.reason != nil { endState = (stopSignal.outcome, stopSignal.reason) }
    if spec.isMultiObjective {
      let ended = state
      try await outage.retrying("tagging the Pareto front") { try tagFront(ended) }
      if endState.0 == .completed {
        try await outage.retrying("registering the final Pareto front") { try registerFront(ended) }
      }
    }
    try await outage.retrying("recording the end of the study") {
      let (state, reason) = endState
      try await BlockingWork.run { try database.setStudyState(id: studyId, state, reason: reason) }
    }
    let final = try database.study(id: studyId) ?? study
    let summary: AppDatabase.StudySummary?
    do {
      summary = try database.summary(studyId: studyId, higherIsBetter: spec.objective.direction == .maximize)
    } catch {
      logger.warning("cannot read the study's counts for its end: \(error)", metadata: ["study": "\(spec.name)"])
      summary = nil
    }
    onEvent(.studyFinished(final, summary: summary))
    return final
  }

  /// The next trial to start: a re-run of a chain that needs one, then a promotion, then a
  /// new suggestion while budget remains. One suggestion at a time, with the running trials
  /// as pending, so each suggestion sees every result that arrived before it.
  private func nextTrial(_ studyId: Int64, _ state: inout RunState, outage: StoreOutage) async throws
    -> (TrialRecord, Configuration)?
  {
    let lifecycle = TrialLifecycle(database: database, outage: outage, emit: onEvent)
    if let (tier, chain) = state.chainsToRerun().first {
      let root = chain.root
      let trial = try await lifecycle.create(
        studyId: studyId, chain.configuration, tier: tier, retryOf: chain.latest.id, source: root.sourceTrialId,
        placement: .init(repeatOf: root.repeatOf ?? root.id, repeatIndex: root.repeatIndex, seed: root.seed))
      state.start(trial, configuration: chain.configuration)
      return (trial, chain.configuration)
    }
    if let trial = try await nextRepeat(studyId, &state, lifecycle: lifecycle) { return trial }
    if let trial = try await nextPromotion(studyId, &state, lifecycle: lifecycle) { return trial }
    let budget = (spec.search.maxTrials ?? Int.max) - state.search.configurations.count
    guard !state.exhausted, budget > 0 else { return nil }
    guard
      let suggestion = try await SearchSuggestion.next(
        spec: spec, strategy: strategy, history: state.search, warmStart: state.warmStart,
        retries: spec.trial.retries, finalMetrics: state.finalMetrics, latency: suggestionLatency)
    else {
      guard state.inFlight.isEmpty else { return nil }
      // The space is exhausted: what follows the search (promotion) may start now.
      state.exhausted = true
      return try await nextTrial(studyId, &state, outage: outage)
    }
    let configuration = suggestion.configuration
    let trial = try await lifecycle.create(
      studyId: studyId, configuration, tier: spec.searchTier, placement: .init(seed: spec.seed(repeat: 0)))
    if let index = suggestion.queuedIndex {
      try await outage.retrying("tagging trial \(trial.number) as queued") {
        try database.setTags(trialId: trial.id!, [SearchSuggestion.queuedTag: "search.enqueue[\(index)]"])
      }
    }
    state.start(trial, configuration: configuration)
    return (trial, configuration)
  }

  /// Registers a finished run that meets the thresholds; records why one does not. A
  /// configuration with repeats is judged once all of them finished for good, by the mean
  /// of each final metric over its completed repeats (the first completed one's artifact).
  /// With several objectives a run is judged only when the study completed and only if it is
  /// on its tier's final Pareto front (`onFinalFront`, from `registerFront`).
  func register(_ trial: TrialRecord, history: TrialHistory, onFinalFront: Bool = false) throws {
    guard let registration = spec.registration, trial.tier == registration.tier, trial.state.isFinished,
      !spec.isMultiObjective || onFinalFront
    else {
      return
    }
    var judged = trial
    var metrics: [String: Double]
    var members = [trial]
    if spec.repeats(for: trial.tier) > 1, let group = history.configuration(containing: trial.id!) {
      let chains = history.chains(of: group)
      guard chains.count >= spec.repeats(for: trial.tier),
        chains.allSatisfy({ $0.latest.state.isFinished && !TrialHistory.needsRerun($0, retries: spec.trial.retries) })
      else { return }
      members = chains.map(\.latest)
      let completed = members.filter { $0.state == .completed }
      guard let first = completed.first, try database.tags(trialId: first.id!)["hpod.registration"] == nil else {
        return
      }
      let finals = try completed.map { try database.finalMetrics(trialId: $0.id!) }
      metrics = Self.meanMetrics(finals)
      judged = first
      judged.value = RepeatGroups.summaries(completed)[group.id]?.mean ?? first.value
    } else {
      guard trial.state == .completed else { return }
      metrics = try database.finalMetrics(trialId: trial.id!)
    }
    switch RegistrationPolicy(registration: registration).judge(judged, finalMetrics: metrics) {
    case .reject(let reason):
      for member in members {
        try database.setTags(trialId: member.id!, ["hpod.registration": "not registered: \(reason)"])
      }
      onEvent(.registrationSkipped(judged, reason: reason))
    case .register(let artifactPath):
      let version = try database.registerModel(
        ModelVersion(
          modelName: registration.model, trialId: judged.id!, studyId: judged.studyId, value: judged.value,
          metricsJSON: Self.json(metrics), paramsJSON: judged.paramsJSON,
          conditions: registration.conditions.map(\.description).joined(separator: " and "), artifactPath: artifactPath),
        alias: registration.alias, higherIsBetter: spec.objective.direction == .maximize,
        aliasTrialId: try frontPick(registering: judged, history: history))
      for member in members {
        try database.setTags(
          trialId: member.id!, ["hpod.registration": "registered as \(version.modelName) v\(version.version)"])
      }
      onEvent(.modelRegistered(version, trial: judged))
    }
  }

  /// Keeps a completed trial's final metrics for the search and, with constraints, tags it
  /// feasible or not (`hpod.feasible`: `yes`, or `no: latency_ms = 7.2 breaks latency_ms <= 5.0`).
  private func judgeConstraints(_ trial: TrialRecord, id: Int64, _ state: inout RunState) throws {
    let metrics = try database.finalMetrics(trialId: id)
    state.finalMetrics[id] = metrics
    guard !spec.constraints.isEmpty else { return }
    try database.setTags(trialId: id, spec.feasibilityTag(metrics))
  }

  /// The tag that says whether a completed trial meets the study's constraints.
  public static let feasibleTag = TagRecord.feasibleKey

  /// Each metric's mean over the runs that reported it.
  public static func meanMetrics(_ runs: [[String: Double]]) -> [String: Double] {
    var sums: [String: (Double, Int)] = [:]
    for run in runs {
      for (name, value) in run {
        let (sum, count) = sums[name] ?? (0, 0)
        sums[name] = (sum + value, count + 1)
      }
    }
    return sums.mapValues { $0.0 / Double($0.1) }
  }

  /// Runs that completed but were never judged for registration (hpod stopped in between).
  private func registerPendingRuns(_ trials: [TrialRecord], history: TrialHistory) throws {
    guard spec.registration != nil else { return }
    for trial in trials where trial.state == .completed && trial.tier == spec.registration?.tier {
      if try database.tags(trialId: trial.id!)["hpod.registration"] == nil { try register(trial, history: history) }
    }
  }

  static func json<T: Encodable>(_ value: T) -> String {
    JSONCoding.text(value)
  }

  /// Trials left pending or running by an hpod that stopped without finishing them: the
  /// executor re-adopts those it can (a Slurm job keeps running without hpod); the others'
  /// leftover processes are killed and they are recorded as cancelled, to be re-run.
  /// They are finished through the `TrialLifecycle`, so their end is published (streams,
  /// caches and the mirror hear of it) like any other trial's.
  private func recoverInterruptedTrials(studyId: Int64, outage: StoreOutage) async throws -> [(
    TrialRecord, any RunningTrial
  )] {
    let lifecycle = TrialLifecycle(database: database, outage: outage, emit: onEvent)
    var adopted: [(TrialRecord, any RunningTrial)] = []
    for trial in try database.trials(studyId: studyId) where !trial.state.isFinished {
      if let handle = trial.executorHandle {
        if let process = await executor.reclaim(handle) {
          adopted.append((trial, process))
          continue
        }
        if LocalProcessExecutor.killLeftover(handle) {
          logger.warning("killed leftover processes of trial \(trial.number) (\(handle))")
        }
      }
      _ = try await lifecycle.finish(
        trial.id!,
        .init(state: .cancelled, reason: "interrupted: hpod stopped while the trial was \(trial.state.rawValue)"))
    }
    return adopted
  }
}
