import Foundation
import SearchStrategies
import TrackingBridge

/// The one owner of a study's automatic registration: judges finished runs against the
/// spec's `registration` thresholds (`RegistrationPolicy`), registers those that meet them
/// (a version, its alias and the runs' `hpod.registration` tag in one transaction) and tags
/// the others with why not. The runner and ask and tell both register through it, after a
/// trial ends (`TrialAftermath`) and, with several objectives, when the study completes.
struct ModelRegistrar: Sendable {
  let spec: StudySpec
  let database: AppDatabase
  let onEvent: @Sendable (StudyEvent) -> Void

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
      guard let first = completed.first, try !isJudged(first) else { return }
      metrics = FinalMetrics.mean(try completed.map { try database.finalMetrics(trialId: $0.id!) })
      judged = first
      judged.value = RepeatGroups.summaries(completed)[group.id]?.mean ?? first.value
    } else {
      guard trial.state == .completed else { return }
      metrics = try database.finalMetrics(trialId: trial.id!)
    }
    switch RegistrationPolicy(registration: registration).judge(judged, finalMetrics: metrics) {
    case .reject(let reason):
      try reject(members, judged: judged, reason: reason)
    case .register(let artifactPath):
      let version = try database.registerModel(
        ModelVersion(
          modelName: registration.model, trialId: judged.id!, studyId: judged.studyId, value: judged.value,
          metricsJSON: JSONCoding.text(metrics), paramsJSON: judged.paramsJSON,
          conditions: registration.conditions.map(\.description).joined(separator: " and "), artifactPath: artifactPath),
        alias: registration.alias, higherIsBetter: spec.objective.direction == .maximize,
        aliasTrialId: try frontPick(registering: judged, history: history), tagging: members.map { $0.id! })
      onEvent(.modelRegistered(version, trial: judged))
    }
  }

  /// Runs that completed but were never judged (hpod stopped in between, or they were told).
  func registerPending(_ trials: [TrialRecord], history: TrialHistory) throws {
    guard let registration = spec.registration, !spec.isMultiObjective else { return }
    for trial in trials where trial.state == .completed && trial.tier == registration.tier {
      if try !isJudged(trial) { try register(trial, history: history) }
    }
  }

  /// Whether the run has its registration verdict already.
  func isJudged(_ trial: TrialRecord) throws -> Bool {
    try database.tags(trialId: trial.id!)[HpodTag.registration] != nil
  }

  /// Tags the runs of a configuration with why it is not registered, in one write each.
  func reject(_ members: [TrialRecord], judged: TrialRecord, reason: String) throws {
    for member in members {
      try database.setTags(trialId: member.id!, [HpodTag.registration: "not registered: \(reason)"])
    }
    onEvent(.registrationSkipped(judged, reason: reason))
  }
}
