import Foundation
import Logging
import TrackingBridge

extension TrialRun {
  /// Why a trial waits (a Slurm job held in its queue), or nil once it no longer does: saved
  /// as its reason (shown by `hpod trials`, the API and the dashboard while it waits), logged,
  /// and published as `trialWaiting` for the live views.
  func noteWaiting(_ trial: TrialRecord, _ reason: String?) async {
    let trialId = trial.id!
    if let reason { logger.info("trial \(trial.number) waits: \(reason)", metadata: ["study": "\(spec.name)"]) }
    do {
      try await outage.retrying("saving why trial \(trial.number) waits") {
        try await database.perform(database.settingWaitReason(trialId: trialId, reason))
      }
    } catch {
      logger.warning("cannot save why trial \(trial.number) waits: \(error)")
    }
    emit(.trialWaiting(trialId: trialId, number: trial.number, reason: reason))
  }
}
