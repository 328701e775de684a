import Foundation
import SearchStrategies
public import TrackingBridge

/// Ask and tell: trials that run outside hpod, asked for and finished through the API.
extension StudyService {
  /// The strategy's next configuration for a study whose trials run outside hpod: a running
  /// trial that `tell` finishes.
  public func ask(_ studyId: Int64) async throws -> TrialRecord {
    let study = try existing(studyId)
    let spec = try specs.spec(of: study)
    guard spec.isAskAndTell else {
      throw ServiceError.conflict(
        "study \(studyId) runs its own trials (it has a trial command); ask works on studies without one")
    }
    guard !study.state.isFinished else { throw ServiceError.conflict("study \(studyId) is \(study.state.rawValue)") }
    let trials = try database.trials(studyId: studyId)
    let history = TrialHistory(trials: trials.filter { $0.tier == spec.searchTier })
    guard history.chains.count < spec.search.maxTrials ?? Int.max else {
      throw ServiceError.conflict("study \(studyId) has used its budget of \(spec.search.maxTrials!) trials")
    }
    let strategy = try askStrategies[studyId] ?? spec.makeStrategy()
    askStrategies[studyId] = strategy
    let warmStart =
      try askWarmStarts[studyId]
      ?? spec.search.warmStart.map { try WarmStartHistory.load($0, for: spec, study: study, database: database) }?
      .observations ?? []
    askWarmStarts[studyId] = warmStart
    guard
      let suggestion = try await SearchSuggestion.next(
        spec: spec, strategy: strategy, history: history, warmStart: warmStart, retries: 0,
        finalMetrics: spec.needsFinalMetrics ? try database.finalMetricValues(studyId: studyId) : [:],
        latency: suggestionLatency)
    else {
      throw ServiceError.conflict("study \(studyId): the search space is exhausted")
    }
    let lifecycle = lifecycle(of: studyId)
    let trial = try await lifecycle.create(studyId: studyId, suggestion.configuration, tier: spec.searchTier)
    if let index = suggestion.queuedIndex {
      try database.setTags(trialId: trial.id!, [SearchSuggestion.queuedTag: "search.enqueue[\(index)]"])
    }
    return try await lifecycle.start(trial) ?? trial
  }

  /// The lifecycle of the trials the daemon makes itself (ask and tell), the one a runner's
  /// trials go through: each step then refreshes the study's summary, reaches its event
  /// streams and wakes the mirror, as a runner's events do (see `launch`).
  nonisolated func lifecycle(of studyId: Int64) -> TrialLifecycle {
    let summaries = summaries
    let publish = publish
    let mirror = mirror
    return TrialLifecycle(database: database, outage: nil) { event in
      summaries.invalidate(studyId)
      publish(event, studyId)
      mirror.wake()
    }
  }

  /// Finishes an asked trial with its result; completes the study when its budget is spent.
  public func tell(_ trialId: Int64, _ tell: TrialReport) async throws -> TrialRecord {
    guard let trial = try database.trial(id: trialId) else { throw ServiceError.notFound("trial \(trialId) not found") }
    guard trial.state == .running, trial.executorHandle == .external else {
      throw ServiceError.conflict(
        "trial \(trialId) is \(trial.state.rawValue) and was not asked for; tell finishes asked trials")
    }
    let state = tell.state ?? (tell.value == nil ? .failed : .completed)
    guard state.isFinished else {
      throw ServiceError.badRequest("state must be one of completed, failed, pruned; found \"\(state.rawValue)\"")
    }
    if state == .completed, tell.value == nil || tell.value?.isNaN == true {
      throw ServiceError.badRequest(
        "a completed trial needs a \"value\" (a NaN objective is a failed evaluation: tell it as failed)")
    }
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    // NaN and ±Infinity points are stored, as MLflow stores them.
    let points = tell.metrics.map {
      MetricPoint(trialId: trialId, name: $0.name, step: $0.step, value: $0.value, timestamp: now)
    }
    // One transaction: a tell refused (the trial told already, its study not running) writes
    // nothing, its points included.
    guard
      let finished = try await lifecycle(of: trial.studyId).finish(
        trialId, .init(state: state, value: tell.value, reason: tell.reason), metrics: points, whileStudyRuns: true)
    else {
      let study = try existing(trial.studyId)
      guard !study.state.isFinished else {
        throw ServiceError.conflict(
          "study \(study.id!) is \(study.state.rawValue): its trials are not told; resume it first")
      }
      throw ServiceError.conflict("trial \(trialId) already finished")
    }
    let study = try existing(trial.studyId)
    let spec = try specs.spec(of: study)
    if !spec.constraints.isEmpty, finished.state == .completed {
      try database.setTags(trialId: trialId, spec.feasibilityTag(try database.finalMetrics(trialId: trialId)))
    }
    let trials = try database.trials(studyId: trial.studyId)
    if let budget = spec.search.maxTrials, trials.count >= budget, trials.allSatisfy(\.state.isFinished) {
      try database.setStudyState(id: trial.studyId, .completed)
      if let final = try database.study(id: trial.studyId) {
        let summary = try database.summary(studyId: final.id!, higherIsBetter: spec.objective.direction == .maximize)
        publish(.studyFinished(final, summary: summary), trial.studyId)
      }
    }
    return finished
  }
}
