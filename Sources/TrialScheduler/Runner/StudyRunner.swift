import Foundation
public import Logging
public import SearchStrategies
import StudyModel
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
  /// Where the study's trials are tracked besides the store (`TrackingSinks.sink(for:)`: its
  /// MLflow server, or hpod's own MLflow API); nil: in the store only.
  public let tracking: (any TrackingSink)?
  /// Signalled when a full training is requested by hand while the study runs.
  public let wakeup: Wakeup?
  /// Where the time of each suggestion is added up (the daemon's /metrics); nil: nowhere.
  public let suggestionLatency: SuggestionLatency?
  public let onEvent: @Sendable (StudyEvent) -> Void

  public init(
    spec: StudySpec, database: AppDatabase, home: HpodHome, executor: (any TrialExecutor)? = nil,
    strategy: any SearchStrategy, logger: Logger = Logger(label: "hpod.runner"), slots: TrialSlots? = nil,
    resources: ResourcePool? = nil, tracking: (any TrackingSink)? = nil, wakeup: Wakeup? = nil,
    suggestionLatency: SuggestionLatency? = nil,
    onEvent: @escaping @Sendable (StudyEvent) -> Void = { _ in }
  ) {
    self.suggestionLatency = suggestionLatency
    self.slots = slots
    self.resources = resources
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
    guard case .process(let command) = spec.trial.driver else {
      throw RunRefusal(
        description:
          "study '\(spec.name)' runs its trials outside hpod (its spec has no `trial:` section): ask for them and tell their results through the API"
      )
    }
    let lease = try lease ?? StudyLease.acquire(home: home, studyId: studyId, studyName: study.name)
    defer { lease.release() }
    // Store writes from here on wait on a blocking thread (`BlockingWork`), not on the task pool.
    let database = database
    try await tracking?.attach(studyId: studyId)
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
      let (rule, watched) = earlyStopping.makeRule(for: spec)
      var stopper = EarlyStopper(
        rule: rule, metrics: watched.map(\.metric), directions: watched.map(\.direction),
        boards: try watched.map { try CurveBoard(trials: searchTrials, metric: $0.metric, database: database) })
      stopper.pausesAtRungs = earlyStopping.pausesAtRungs
      return stopper
    }
    let population = spec.search.populationBasedTraining.map { training in
      PopulationSchedule(
        training: training, metric: spec.objective.metric, direction: spec.objective.direction, seed: spec.search.seed)
    }
    let tracking = tracking
    let trialRun = TrialRun(
      spec: spec, command: command, study: study, home: home, database: database, executor: executor, stopper: stopper,
      population: population,
      slots: slots,
      resources: resources, tracking: tracking,
      outage: outage, logger: logger,
      emit: { event in
        tracking?.wake()
        onEvent(event)
      })

    let warmStart = try spec.search.warmStart.map {
      try WarmStartHistory.load($0, for: spec, study: study, database: database)
    }
    var state = try TrialPlanner.state(
      of: studyId, spec: spec, database: database, warmStart: warmStart?.observations ?? [], trials: all)
    let planner = TrialPlanner(
      spec: spec, database: database, strategy: strategy, logger: logger,
      lifecycle: TrialLifecycle(database: database, outage: outage, emit: onEvent),
      suggestionLatency: suggestionLatency,
      pausedPromotion: stopper.flatMap { stopper in
        stopper.pausesAtRungs
          ? RungPromotion(rule: stopper.rule, direction: stopper.direction, board: stopper.board) : nil
      },
      onEvent: onEvent)
    if planner.pausedPromotion != nil {
      for (trialId, step) in try database.tagValues(studyId: studyId, key: HpodTag.pausedAtRung) {
        if let trial = all.first(where: { $0.id == trialId }), let step = Int(step) { state.pause(trial, at: step) }
      }
    }
    state.hold(try database.tagValues(studyId: studyId, key: HpodTag.pausedByUser))
    if population != nil {
      state.replacementsMade = try database.tagValues(studyId: studyId, key: HpodTag.pbtDonor).count
      state.replacements = try Replacement.pending(studyId: studyId, trials: all, database: database)
      for replacement in state.replacements {
        logger.info(
          "trial \(replacement.exploited.number) was replaced before the study stopped; its replacement, a copy of trial \(replacement.donorNumber), starts now",
          metadata: ["study": "\(spec.name)"])
      }
    }
    let aftermath = TrialAftermath(spec: spec, database: database, logger: logger, onEvent: onEvent)
    let reruns = state.chainsToRerun().count
    let kept = state.search.chains.filter { $0.latest.state.isFinished }.count + state.full.chains.count - reruns
    onEvent(.studyStarted(try database.study(id: studyId) ?? study, keptTrials: max(kept, 0), rerunTrials: reruns))
    if let history = warmStart {
      logger.info(
        "warm start: \(history.observations.count) configurations of study '\(history.source.name)' (id \(history.source.id!)) feed the search\(history.outsideSpace > 0 ? "; \(history.outsideSpace) outside this space are left out" : "")",
        metadata: ["study": "\(spec.name)"])
      onEvent(.warmStarted(history))
    }
    try aftermath.registrar.registerPending(
      all, history: spec.registration?.tier == spec.searchTier ? state.search : state.full)

    var endState: (StudyState, String?) = (.completed, nil)
    var calledOut = false
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
      // Fail fast judges the trials of this run (a resumed study's old failures are why it stopped).
      let startedAt = Date()
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
          let reason = FailFast.verdict(state.search, retries: spec.trial.retries, studyId: studyId, since: startedAt)
        {
          endState = (.failed, reason)
          running.stopAll(reason: "cancelled: the study failed")
        } else {
          do {
            while active < spec.search.parallelism,
              let (trial, configuration) = try await planner.next(studyId, &state)
            {
              active += 1
              group.addTask { await trialRun.run(trial, configuration: configuration, registry: running) }
            }
          } catch  where StoreOutage.isStoreError(error) {
            // Not one that waiting mends (those pause the study inside nextTrial).
            logger.error("the store failed: \(error)", metadata: ["study": "\(spec.name)"])
            endState = (
              .failed,
              "the store failed: \(error); mend it, then `hpod run` the spec again (or `hpod resume \(studyId)` on the daemon) to go on"
            )
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
            state.hold(try database.tagValues(studyId: studyId, key: HpodTag.pausedByUser))
          } catch {
            logger.error(
              "reading promotion, repeat and pause requests failed: \(error)", metadata: ["study": "\(spec.name)"])
          }
          // A trial paused by hand stops now; its configuration waits until it is resumed.
          for chain in (state.search.chains + state.full.chains) where state.held.contains(chain.root.id!) {
            guard let latest = chain.latest.id, state.inFlight.contains(latest) else { continue }
            running.stop(
              latest, reason: "paused by the user; `hpod resume \(studyId) \(chain.latest.number)` continues it")
          }
          continue
        }
        active -= 1
        aftermath.settle(finished, &state)
        if planner.pausedPromotion != nil || population != nil, finished.state == .pruned, let finishedId = finished.id
        {
          do {
            let tags = try database.tags(trialId: finishedId)
            if let step = tags[HpodTag.pausedAtRung].flatMap({ Int($0) }) { state.pause(finished, at: step) }
            if let replacement = Replacement(exploited: finished, tags: tags) {
              state.replacements.append(replacement)
            }
          } catch {
            logger.warning(
              "cannot read whether trial \(finished.number) was paused or replaced: \(error); it stays pruned",
              metadata: ["study": "\(spec.name)"])
          }
        }
        // A trial whose end could not be recorded (the store failed) has no id to follow.
        if spec.checkpoint.free == .unused, let finishedId = finished.id,
          let chain = (finished.tier == spec.searchTier ? state.search : state.full).chain(containing: finishedId),
          CheckpointFolder.isUnused(chain, retries: spec.trial.retries), state.paused[chain.root.id!] == nil,
          population == nil  // a replacement copies the checkpoint of a member pruned since
        {
          await freeCheckpoints(of: chain)
        }
        // Three completed trials that never reported a metric the spec acts on tell enough.
        if !calledOut, !spec.watchedMetrics.isEmpty,
          state.search.chains.filter({ $0.latest.state == .completed }).count >= 3
        {
          calledOut = true
          aftermath.callOutUnreportedMetrics(studyId: studyId)
        }
      }
      group.cancelAll()
    }
    if endState.0 == .completed, stopSignal.reason != nil { endState = (stopSignal.outcome, stopSignal.reason) }
    let held = (state.search.chains + state.full.chains).filter { state.held.contains($0.root.id!) }
    if endState.0 == .completed, !held.isEmpty {
      let numbers = held.map { String($0.latest.number) }.joined(separator: ", ")
      endState = (
        .interrupted,
        "nothing else to run while trial \(numbers) is paused by hand; `hpod resume \(studyId) \(held[0].latest.number)` continues it"
      )
    }
    // Trials still paused at a rung when the study is done are never resumed, and no member is
    // replaced any more: free their folders.
    if endState.0 == .completed, spec.checkpoint.free == .unused {
      let unused =
        population == nil
        ? state.paused.keys.compactMap { state.search.chain(containing: $0) }
        : state.search.chains.filter { CheckpointFolder.isUnused($0, retries: spec.trial.retries) }
      for chain in unused { await freeCheckpoints(of: chain) }
    }
    if spec.isMultiObjective {
      let ended = state
      let completed = endState.0 == .completed
      try await outage.retrying("tagging and registering the Pareto front") {
        try aftermath.conclude(ended, completed: completed)
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
        switch await executor.reclaim(handle) {
        case .adopted(let process):
          adopted.append((trial, process))
          continue
        case .cleanedUp(let what):
          logger.warning("trial \(trial.number) (\(handle)): \(what)", metadata: ["study": "\(spec.name)"])
        case .gone: break
        }
      }
      _ = try await lifecycle.finish(
        trial.id!,
        .init(state: .cancelled, reason: "interrupted: hpod stopped while the trial was \(trial.state.rawValue)"))
    }
    return adopted
  }
}

/// Why a study cannot run here.
public struct RunRefusal: Error, Sendable, CustomStringConvertible {
  public var description: String
}
