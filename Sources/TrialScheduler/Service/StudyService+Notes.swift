public import TrackingBridge

/// Notes on studies and runs (`Note`): read and set through the API, the CLI and the dashboard.
extension StudyService {
  /// The note of a study, or of one of its trials (by number).
  nonisolated public func note(_ studyId: Int64, trialNumber: Int?) throws -> String? {
    _ = try existing(studyId)
    guard let trialNumber else { return try database.studyNote(studyId: studyId) }
    return try database.trialNote(trialId: try trial(studyId, number: trialNumber).id!)
  }

  /// Sets (an empty text: removes) the note of a study or of one of its trials; a note over
  /// `Note.maxLength` is a bad request and changes nothing. The study's pages show it at once.
  nonisolated public func setNote(_ studyId: Int64, trialNumber: Int?, text: String) throws -> String? {
    _ = try existing(studyId)
    do {
      if let trialNumber {
        try database.setTrialNote(trialId: try trial(studyId, number: trialNumber).id!, text: text)
        mirror.wake()
      } else {
        try database.setStudyNote(studyId: studyId, text: text)
      }
    } catch let refusal as Note.Refusal {
      throw ServiceError.badRequest(refusal.description)
    }
    summaries.invalidate(studyId)
    return try note(studyId, trialNumber: trialNumber)
  }

  nonisolated private func trial(_ studyId: Int64, number: Int) throws -> TrialRecord {
    guard let trial = try database.trial(studyId: studyId, number: number) else {
      throw ServiceError.notFound("study \(studyId) has no trial \(number)")
    }
    return trial
  }
}
