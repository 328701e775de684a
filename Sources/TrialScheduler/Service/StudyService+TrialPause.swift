import Foundation
public import TrackingBridge

// MARK: - Pausing one trial

extension StudyService {
  /// What a pause or resume of one trial did.
  public struct TrialPauseOutcome: Sendable {
    public var trial: TrialRecord
    public var message: String
  }

  /// Pauses a running trial of a study this daemon runs: it is stopped (saving what its
  /// checkpoints saved), its slot goes to the next trial, and its configuration is not run
  /// again until `resumeTrial`. The pause is stored first, as the trial's tag
  /// `hpod.paused_by_user: held`, so it survives a restart.
  public func pauseTrial(_ studyId: Int64, number: Int) throws -> TrialPauseOutcome {
    let study = try existing(studyId)
    guard let trial = try database.trial(studyId: studyId, number: number) else {
      throw ServiceError.notFound("study \(studyId) has no trial \(number)")
    }
    guard let run = runs[studyId] else {
      throw ServiceError.conflict(
        "study \(studyId) is \(study.state.rawValue), not running here: only a running trial can be paused")
    }
    guard trial.state == .running || trial.state == .pending else {
      throw ServiceError.conflict("trial \(number) is \(trial.state.rawValue); only a running trial can be paused")
    }
    try database.setTags(trialId: trial.id!, [HpodTag.pausedByUser: HpodTag.held])
    run.wakeup.signal()
    let message =
      "trial \(number) of study \(studyId) is pausing: it stops now and its slot goes to the next trial; `hpod resume \(studyId) \(number)` continues it from its last checkpoint"
    logger.info("\(message)")
    return TrialPauseOutcome(trial: trial, message: message)
  }

  /// Resumes a paused trial: its configuration runs again from its last checkpoint, in a new
  /// attempt; a study that stopped with nothing else to run (interrupted) runs again for it.
  public func resumeTrial(_ studyId: Int64, number: Int) throws -> TrialPauseOutcome {
    let study = try existing(studyId)
    guard let trial = try database.trial(studyId: studyId, number: number) else {
      throw ServiceError.notFound("study \(studyId) has no trial \(number)")
    }
    guard try database.tags(trialId: trial.id!)[HpodTag.pausedByUser] == HpodTag.held else {
      throw ServiceError.conflict("trial \(number) is not paused (`hpod pause \(studyId) \(number)` pauses it)")
    }
    try requireNotOwnedElsewhere(study)
    let spec = try specs.spec(of: study)
    let run = runs[studyId]
    if run == nil, study.state == .completed || study.state == .failed {
      throw ServiceError.conflict("study \(studyId) is \(study.state.rawValue); submit it again to run more")
    }
    try database.setTags(trialId: trial.id!, [HpodTag.pausedByUser: HpodTag.resumed])
    let message: String
    if let run {
      run.wakeup.signal()
      message = "trial \(number) of study \(studyId) resumes from its last checkpoint as soon as a trial slot is free"
    } else {
      launch(try existing(studyId), spec: spec)
      message = "study \(studyId) runs again: trial \(number) resumes from its last checkpoint"
    }
    logger.info("\(message)")
    return TrialPauseOutcome(trial: trial, message: message)
  }
}
