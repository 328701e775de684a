import Foundation
import SearchStrategies
public import TrackingBridge

/// Ask and tell: trials that run outside hpod, asked for and finished through the API. They
/// take the runner's path: the same planner chooses the next trial (re-runs, repeats, new
/// suggestions within the budget), the same verdict judges a tell, and the same aftermath
/// records its constraints and registers it.
extension StudyService {
  /// The study's next trial, recorded as running for a client to run and `tell`: a missing
  /// repeat of a configuration, else the strategy's next configuration.
  public func ask(_ studyId: Int64) async throws -> TrialRecord {
    let study = try existing(studyId)
    let spec = try specs.spec(of: study)
    guard spec.isAskAndTell else {
      throw ServiceError.conflict(
        "study \(studyId) runs its own trials (it has a trial command); ask works on studies without one")
    }
    guard !study.state.isFinished else { throw ServiceError.conflict("study \(studyId) is \(study.state.rawValue)") }
    let strategy = try askStrategies[studyId] ?? spec.makeStrategy()
    askStrategies[studyId] = strategy
    let warmStart =
      try askWarmStarts[studyId]
      ?? spec.search.warmStart.map { try WarmStartHistory.load($0, for: spec, study: study, database: database) }?
      .observations ?? []
    askWarmStarts[studyId] = warmStart
    var state = try TrialPlanner.state(of: studyId, spec: spec, database: database, warmStart: warmStart)
    let lifecycle = lifecycle(of: studyId)
    let planner = TrialPlanner(
      spec: spec, database: database, strategy: strategy, logger: logger, lifecycle: lifecycle,
      suggestionLatency: suggestionLatency, onEvent: events(of: studyId))
    guard let (trial, _) = try await planner.next(studyId, &state) else {
      if case .budgetSpent(let budget) = state.dry(spec) {
        throw ServiceError.conflict("study \(studyId) has used its budget of \(budget) trials")
      }
      throw ServiceError.conflict("study \(studyId): the search space is exhausted")
    }
    return try await lifecycle.start(trial) ?? trial
  }

  /// Where the events of the trials the daemon makes itself (ask and tell) go, as a runner's
  /// events do (see `launch`): each refreshes the study's summary, reaches its event streams
  /// and wakes the mirror.
  nonisolated func events(of studyId: Int64) -> @Sendable (StudyEvent) -> Void {
    let summaries = summaries
    let publish = publish
    let mirror = mirror
    return { event in
      summaries.invalidate(studyId)
      publish(event, studyId)
      mirror.wake()
    }
  }

  /// The lifecycle of the trials the daemon makes itself, the one a runner's trials go through.
  nonisolated func lifecycle(of studyId: Int64) -> TrialLifecycle {
    TrialLifecycle(database: database, outage: nil, emit: events(of: studyId))
  }

  /// Finishes an asked trial with its result; completes the study when its budget is spent
  /// and every trial it asked for is told.
  public func tell(_ trialId: Int64, _ tell: TrialReport) async throws -> TrialRecord {
    guard let trial = try database.trial(id: trialId) else {
      throw ServiceError.notFound("trial id \(trialId) not found")
    }
    guard trial.state == .running, trial.executorHandle == .external else {
      throw ServiceError.conflict(
        "trial id \(trialId) (trial \(trial.number) of study \(trial.studyId)) is \(trial.state.rawValue) and was not asked for; tell finishes asked trials"
      )
    }
    let outcome: AppDatabase.TrialOutcome
    switch TrialVerdict.told(state: tell.state, value: tell.value, reason: tell.reason) {
    case .success(let told): outcome = told
    case .failure(let refusal): throw ServiceError.badRequest(refusal.message)
    }
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    // NaN and ±Infinity points are stored, as MLflow stores them.
    var points = tell.metrics.map {
      MetricPoint(trialId: trialId, name: $0.name, step: $0.step, value: $0.value, timestamp: now)
    }
    // The told value is the objective's final point, as a trial process reports it: the
    // thresholds, constraints and the run's metrics in MLflow see it.
    let spec = try specs.spec(of: try existing(trial.studyId))
    let objective = spec.objective.metric
    if let value = outcome.value, !points.contains(where: { $0.name == objective }) {
      let step = points.map(\.step).max() ?? 0
      points.append(MetricPoint(trialId: trialId, name: objective, step: step, value: value, timestamp: now))
    }
    // One transaction: a tell refused (the trial told already, its study not running) writes
    // nothing, its points included.
    guard
      let finished = try await lifecycle(of: trial.studyId).finish(
        trialId, outcome, metrics: points, whileStudyRuns: true)
    else {
      let study = try existing(trial.studyId)
      guard !study.state.isFinished else {
        throw ServiceError.conflict(
          "study \(study.id!) is \(study.state.rawValue): its trials are not told; resume it first")
      }
      throw ServiceError.conflict("trial id \(trialId) already finished")
    }
    var state = try TrialPlanner.state(of: trial.studyId, spec: spec, database: database, warmStart: [])
    let aftermath = TrialAftermath(spec: spec, database: database, logger: logger, onEvent: events(of: trial.studyId))
    aftermath.settle(finished, &state)
    if Self.askedAll(spec, state) {
      try aftermath.conclude(state, completed: true)
      try database.setStudyState(id: trial.studyId, .completed)
      if let final = try database.study(id: trial.studyId) {
        let summary = try database.summary(studyId: final.id!, higherIsBetter: spec.objective.direction == .maximize)
        publish(.studyFinished(final, summary: summary), trial.studyId)
      }
    }
    return finished
  }

  /// Whether an ask-and-tell study is done: its budget is spent, every trial asked for is
  /// told, and none needs a re-run or a repeat.
  static func askedAll(_ spec: StudySpec, _ state: RunState) -> Bool {
    state.searchDone(spec) && state.inFlight.isEmpty && state.chainsToRerun().isEmpty
      && state.missingRepeat(spec) == nil
  }
}
