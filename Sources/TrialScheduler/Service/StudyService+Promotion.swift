import Foundation
import TrackingBridge

// MARK: - Full training by hand

extension StudyService {
  /// Asks for the full training of a completed quick test, whatever `top_k` and
  /// `max_full_trainings` say. The request is stored first (it survives a restart); a running
  /// study's runner is woken to start it, and a study that has ended runs again for it (an
  /// interrupted or cancelled study resumes its search too).
  public func promote(_ studyId: Int64, trialNumber: Int) throws -> PromotionOutcome {
    let study = try existing(studyId)
    let spec = try specs.spec(of: study)
    guard !spec.isAskAndTell else {
      throw ServiceError.conflict(
        "study \(studyId) runs its trials outside hpod (ask and tell): start the full training yourself")
    }
    guard spec.tiers[.fullTraining] != nil else {
      throw ServiceError.conflict(
        "study \(studyId) has no full_training tier: add `tiers: {full_training: {...}}` to its spec to train in full")
    }
    guard let trial = try database.trial(studyId: studyId, number: trialNumber) else {
      throw ServiceError.notFound("study \(studyId) has no trial \(trialNumber)")
    }
    guard trial.tier == spec.searchTier else {
      throw ServiceError.conflict("trial \(trialNumber) is a full training; promote the quick test it came from")
    }
    guard trial.state == .completed, trial.value != nil else {
      throw ServiceError.conflict(
        "trial \(trialNumber) is \(trial.state.rawValue); only a completed quick test can be trained in full")
    }
    if let full = try database.fullTraining(of: trial.id!) {
      return PromotionOutcome(
        quickTest: trial, fullTraining: full, requested: false,
        message: "trial \(trialNumber) already has a full training: trial \(full.number) (\(full.state.rawValue))")
    }
    guard study.state != .failed else {
      throw ServiceError.conflict(
        "study \(studyId) failed (\(study.stateReason ?? "no reason")) and runs no new trial; submit its spec again")
    }
    let message: String
    if let run = runs[studyId] {
      try database.requestPromotion(trialId: trial.id!, studyId: studyId, reopenStudy: false)
      run.wakeup.signal()
      message = "full training of trial \(trialNumber) requested: it starts as soon as a trial slot is free"
    } else {
      try database.requestPromotion(trialId: trial.id!, studyId: studyId, reopenStudy: true)
      launch(try existing(studyId), spec: spec)
      message =
        study.state == .completed
        ? "full training of trial \(trialNumber) requested: study \(studyId) runs again for it"
        : "full training of trial \(trialNumber) requested: study \(studyId) resumes (its search too) and runs it"
    }
    logger.info("study \(studyId): \(message)")
    return PromotionOutcome(quickTest: trial, fullTraining: nil, requested: true, message: message)
  }
}

// MARK: - More repeats by hand

extension StudyService {
  /// Asks for `repeats` repeats in all of a trial's configuration (the compare page's "run
  /// more repeats"; nil: two more than it has): stored first, then a running study's runner
  /// is woken, and an ended one runs again for it, as a full training asked for by hand.
  public func requestRepeats(_ studyId: Int64, trialNumber: Int, repeats asked: Int?) throws -> RepeatOutcome {
    let study = try existing(studyId)
    let spec = try specs.spec(of: study)
    guard !spec.isAskAndTell else {
      throw ServiceError.conflict(
        "study \(studyId) runs its trials outside hpod (ask and tell): run the repeats yourself and tell their values")
    }
    if let asked, !(1...100).contains(asked) {
      throw ServiceError.badRequest("repeats must be a whole number from 1 to 100, found \(asked)")
    }
    guard let trial = try database.trial(studyId: studyId, number: trialNumber) else {
      throw ServiceError.notFound("study \(studyId) has no trial \(trialNumber)")
    }
    guard trial.tier == spec.searchTier else {
      throw ServiceError.conflict("trial \(trialNumber) is a full training; repeat the quick test it came from")
    }
    guard study.state != .failed else {
      throw ServiceError.conflict(
        "study \(studyId) failed (\(study.stateReason ?? "no reason")) and runs no new trial; submit its spec again")
    }
    let configurationId = trial.configurationId!
    let members = try database.configurationTrials(configurationId: configurationId)
    let existing = Set(members.map(\.repeatIndex)).count
    let repeats = min(asked ?? existing + 2, 100)
    guard repeats > existing else {
      return RepeatOutcome(
        trial: trial, requested: false,
        message: "trial \(trialNumber)'s configuration has \(existing) repeats already (\(repeats) asked for)")
    }
    let running = runs[studyId]
    try database.requestRepeats(
      configurationId: configurationId, repeats: repeats, studyId: studyId, reopenStudy: running == nil)
    if let running {
      running.wakeup.signal()
    } else {
      launch(try self.existing(studyId), spec: spec)
    }
    let message =
      "\(repeats - existing) more repeat(s) of trial \(trialNumber)'s configuration requested (\(repeats) in all)"
    logger.info("study \(studyId): \(message)")
    return RepeatOutcome(trial: trial, requested: true, message: message)
  }
}
