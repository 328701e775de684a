import Foundation
import StudyModel

/// How a trial appears in MLflow: its run name, tags and status.
enum RunIdentity {
  /// "trial 20 · config-017 Quick Test #3", "trial 31 · config-017 Full Training #1", "… repeat
  /// 2" for a configuration's further repeats, "… (retry 1)" for re-runs. The trial's number
  /// leads: it is how the user names the run everywhere else (`hpod logs STUDY 20`).
  static func name(trial: TrialRecord, lineage: RunLineage) -> String {
    let tier = trial.tier == .quickTest ? "Quick Test" : "Full Training"
    let repeated = lineage.repeatIndex > 0 ? " repeat \(lineage.repeatIndex + 1)" : ""
    let retry = lineage.attempt > 0 ? " (retry \(lineage.attempt))" : ""
    return "trial \(trial.number) · \(configId(lineage)) \(tier) #\(lineage.ordinal)\(repeated)\(retry)"
  }

  static func configId(_ lineage: RunLineage) -> String {
    "config-" + String(format: "%03d", lineage.configNumber)
  }

  /// The tags a run is created with; `hpod.state` and the reasons are updated when it ends.
  static func tags(trial: TrialRecord, lineage: RunLineage, study: StudyRecord) -> [(String, String)] {
    var tags: [(String, String)] = [
      (HpodTag.tier, trial.tier.rawValue),
      (HpodTag.study, study.name),
      (HpodTag.studyId, String(study.id!)),
      (HpodTag.trial, String(trial.number)),
      (HpodTag.configId, configId(lineage)),
      (HpodTag.state, trial.state.rawValue),
      ("mlflow.source.name", "hpod"),
      ("mlflow.source.type", "JOB"),
    ]
    if let source = lineage.sourceTrialNumber { tags.append((HpodTag.sourceTrial, String(source))) }
    if lineage.attempt > 0 { tags.append((HpodTag.attempt, String(lineage.attempt))) }
    if trial.repeatOf != nil || trial.repeatIndex > 0 { tags.append((HpodTag.repeatIndex, String(trial.repeatIndex))) }
    if let seed = trial.seed { tags.append((HpodTag.seed, String(seed))) }
    return tags
  }

  static func endTags(of trial: TrialRecord) -> [(String, String)] {
    var tags: [(String, String)] = [(HpodTag.state, trial.state.rawValue)]
    switch trial.state {
    case .pruned:
      if let reason = trial.reason { tags.append((HpodTag.pruneReason, reason)) }
    case .failed, .timedOut, .cancelled:
      if let reason = trial.reason { tags.append((HpodTag.reason, reason)) }
    default: break
    }
    if let code = trial.exitCode { tags.append((HpodTag.exitCode, String(code))) }
    if let value = trial.value { tags.append((HpodTag.value, String(value))) }
    return tags
  }

  /// MLflow's run status for a finished trial: FINISHED, FAILED or KILLED.
  static func status(of state: TrialState) -> String {
    switch state {
    case .completed: "FINISHED"
    case .failed, .timedOut: "FAILED"
    case .pruned, .cancelled: "KILLED"
    case .pending, .running: "RUNNING"
    }
  }

  static func versionTags(_ version: ModelVersion) -> [(String, String)] {
    var tags: [(String, String)] = [
      (HpodTag.version, String(version.version)),
      (HpodTag.thresholds, version.conditions.isEmpty ? "none" : version.conditions),
      (HpodTag.metrics, version.metricsJSON),
    ]
    if let value = version.value { tags.append((HpodTag.value, String(value))) }
    return tags
  }
}
