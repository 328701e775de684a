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
  public let executor: any TrialExecutor
  public let strategy: any SearchStrategy
  public let logger: Logger
  public let onEvent: @Sendable (StudyEvent) -> Void

  public init(
    spec: StudySpec, database: AppDatabase, home: HpodHome, executor: any TrialExecutor = LocalProcessExecutor(),
    strategy: any SearchStrategy, logger: Logger = Logger(label: "hpod.runner"),
    onEvent: @escaping @Sendable (StudyEvent) -> Void = { _ in }
  ) {
    self.spec = spec
    self.database = database
    self.home = home
    self.executor = executor
    self.strategy = strategy
    self.logger = logger
    self.onEvent = onEvent
  }

  /// Runs (or resumes) the study until it ends or `stopSignal` trips; returns its final row.
  public func run(_ study: StudyRecord, stopSignal: StopSignal = StopSignal()) async throws -> StudyRecord {
    let studyId = study.id!
    try recoverInterruptedTrials(studyId: studyId)
    try database.setStudyState(id: studyId, .running)

    let running = RunningTrials()
    stopSignal.observe(stop: { running.stopAll(reason: $0) }, force: { running.killAll() })
    let trialRun = TrialRun(
      spec: spec, study: study, home: home, database: database, executor: executor, emit: onEvent)

    var history = TrialHistory(trials: try database.trials(studyId: studyId).filter { $0.tier == spec.searchTier })
    let reruns = history.chains.filter { TrialHistory.needsRerun($0, retries: spec.trial.retries) }.count
    let kept = history.chains.filter { $0.latest.state.isFinished }.count - reruns
    onEvent(.studyStarted(try database.study(id: studyId) ?? study, keptTrials: kept, rerunTrials: reruns))
    var endState: (StudyState, String?) = (.completed, nil)
    var exhausted = false
    var inFlight = Set<Int>()  // chain indexes with an attempt running

    await withTaskGroup(of: TrialRecord.self) { group in
      var active = 0
      while true {
        if let reason = stopSignal.reason {
          endState = (.interrupted, reason)
        } else if let limit = spec.trial.maxFailedTrials, history.failedForGood(retries: spec.trial.retries) > limit {
          endState = (.failed, "more than \(limit) trials failed (max_failed_trials); see their reasons with the trials' logs")
          running.stopAll(reason: "cancelled: the study failed")
        } else {
          do {
            while active < spec.search.parallelism,
              let (trial, configuration) = try nextTrial(studyId, &history, inFlight: inFlight, exhausted: &exhausted)
            {
              inFlight.insert(history.chainIndex(of: trial.id!)!)
              active += 1
              group.addTask { await trialRun.run(trial, configuration: configuration, registry: running) }
            }
          } catch {
            logger.error("the search strategy failed: \(error)", metadata: ["study": "\(spec.name)"])
            endState = (.failed, "the \(strategy.name) search failed: \(error)")
            running.stopAll(reason: "cancelled: the study failed")
          }
        }
        guard active > 0, let finished = await group.next() else { break }
        active -= 1
        if let id = finished.id, let index = history.chainIndex(of: id) { inFlight.remove(index) }
        history.record(finished)
        if finished.state == .failed || finished.state == .timedOut {
          logger.warning(
            "trial \(finished.number) \(finished.state.rawValue): \(finished.reason ?? "no reason")",
            metadata: ["study": "\(spec.name)"])
        }
      }
    }
    if endState.0 == .completed, stopSignal.reason != nil { endState = (.interrupted, stopSignal.reason) }
    try database.setStudyState(id: studyId, endState.0, reason: endState.1)
    let final = try database.study(id: studyId) ?? study
    onEvent(.studyFinished(final))
    return final
  }

  /// The next trial to start: a re-run of a chain that needs one, else a new suggestion while
  /// budget remains. One suggestion at a time, with the running trials as pending, so each
  /// suggestion sees every result that arrived before it.
  private func nextTrial(
    _ studyId: Int64, _ history: inout TrialHistory, inFlight: Set<Int>, exhausted: inout Bool
  ) throws -> (TrialRecord, Configuration)? {
    for (index, chain) in history.chains.enumerated()
    where !inFlight.contains(index) && TrialHistory.needsRerun(chain, retries: spec.trial.retries) {
      let trial = try createTrial(studyId, chain.configuration, retryOf: chain.latest.id)
      history.record(trial, configuration: chain.configuration)
      return (trial, chain.configuration)
    }
    let budget = (spec.search.maxTrials ?? Int.max) - history.chains.count
    guard !exhausted, budget > 0 else { return nil }
    let context = history.searchContext(space: spec.space, direction: spec.objective.direction, retries: spec.trial.retries)
    let started = ContinuousClock.now
    let suggestions = try strategy.suggest(1, in: context)
    logger.debug("suggested in \(ContinuousClock.now - started)", metadata: ["study": "\(spec.name)"])
    guard let configuration = suggestions.first else {
      if inFlight.isEmpty { exhausted = true }
      return nil
    }
    let trial = try createTrial(studyId, configuration, retryOf: nil)
    history.record(trial, configuration: configuration)
    return (trial, configuration)
  }

  private func createTrial(_ studyId: Int64, _ configuration: Configuration, retryOf: Int64?) throws -> TrialRecord {
    let params = configuration.map { (name: $0.key, value: $0.value.description, numeric: $0.value.numericValue) }
    return try database.createTrial(
      studyId: studyId, tier: spec.searchTier, params: params,
      paramsJSON: Self.json(configuration), retryOf: retryOf)
  }

  static func json(_ configuration: Configuration) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? String(decoding: encoder.encode(configuration), as: UTF8.self)) ?? "{}"
  }

  /// Trials left pending or running by an hpod that stopped without finishing them: their
  /// leftover processes are killed and they are recorded as cancelled, to be re-run.
  private func recoverInterruptedTrials(studyId: Int64) throws {
    for trial in try database.trials(studyId: studyId) where !trial.state.isFinished {
      if let pid = trial.pid, ProcessTable.killLeftover(pid: pid, startTicks: trial.processStartTicks) {
        logger.warning("killed leftover processes of trial \(trial.number) (pid \(pid))")
      }
      try database.finishTrial(
        id: trial.id!,
        .init(state: .cancelled, reason: "interrupted: hpod stopped while the trial was \(trial.state.rawValue)"))
    }
  }
}
