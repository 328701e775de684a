public import Foundation
public import GRDB

/// Full trainings a user asked for by hand (the dashboard's "run full training" button):
/// a tag on the quick test, so the request is as durable as the trial itself and a runner
/// that starts later (after a restart) still honours it.
extension AppDatabase {

  /// Records a request to train `trialId` in full, and with `reopenStudy` puts its study back
  /// to `running` in the same transaction, so a daemon that dies before the runner starts
  /// resumes the study (and the request) when it starts again.
  public func requestPromotion(trialId: Int64, studyId: Int64, reopenStudy: Bool, at date: Date = Date()) throws {
    try writer.write { db in
      let stamp = ISO8601DateFormatter().string(from: date)
      try TagRecord(trialId: trialId, key: HpodTag.promotionRequest, value: "requested by the user at \(stamp)")
        .upsert(db)
      if reopenStudy { try Self.reopen(studyId: studyId, at: date, db) }
    }
  }

  /// Puts an ended study back to `running`, for a runner to pick up a request.
  static func reopen(studyId: Int64, at date: Date, _ db: Database) throws {
    try db.execute(
      sql: "UPDATE study SET state = 'running', stateReason = NULL, updatedAt = ?, finishedAt = NULL WHERE id = ?",
      arguments: [date, studyId])
  }

  /// Ids of the quick tests of a study whose full training was requested by hand.
  public func promotionRequests(studyId: Int64) throws -> Set<Int64> {
    try promotionRequests(studyId: studyId, unanswered: false)
  }

  /// Requests that no full training answers yet.
  public func pendingPromotionRequests(studyId: Int64) throws -> Set<Int64> {
    try promotionRequests(studyId: studyId, unanswered: true)
  }

  private func promotionRequests(studyId: Int64, unanswered: Bool) throws -> Set<Int64> {
    let pending = "AND NOT EXISTS (SELECT 1 FROM trial AS full WHERE full.sourceTrialId = tag.trialId)"
    return try writer.read { db in
      Set(
        try Int64.fetchAll(
          db,
          sql: """
            SELECT tag.trialId FROM tag JOIN trial ON trial.id = tag.trialId
            WHERE trial.studyId = ? AND tag.key = ? \(unanswered ? pending : "")
            """, arguments: [studyId, HpodTag.promotionRequest]))
    }
  }

  /// The first full training promoted from a quick test, if there is one.
  public func fullTraining(of quickTestId: Int64) throws -> TrialRecord? {
    try writer.read { db in
      try TrialRecord.filter(Column("sourceTrialId") == quickTestId).order(TrialRecord.Columns.number).fetchOne(db)
    }
  }

  /// A trial by its number within its study.
  public func trial(studyId: Int64, number: Int) throws -> TrialRecord? {
    try writer.read { db in
      try TrialRecord.filter(TrialRecord.Columns.studyId == studyId && TrialRecord.Columns.number == number)
        .fetchOne(db)
    }
  }
}

/// More repeats of a configuration asked for by hand (the compare page's "run more repeats"):
/// a tag on the configuration's first trial holding how many repeats it should have.
extension AppDatabase {

  /// Asks for `repeats` repeats in all of the configuration whose first trial is
  /// `configurationId`; with `reopenStudy`, puts the study back to `running` in the same
  /// transaction (as `requestPromotion`).
  public func requestRepeats(configurationId: Int64, repeats: Int, studyId: Int64, reopenStudy: Bool) throws {
    try writer.write { db in
      try TagRecord(trialId: configurationId, key: HpodTag.repeatRequest, value: String(repeats)).upsert(db)
      if reopenStudy { try Self.reopen(studyId: studyId, at: Date(), db) }
    }
  }

  /// How many repeats each configuration of a study was asked to have, by configuration id.
  public func repeatRequests(studyId: Int64) throws -> [Int64: Int] {
    try writer.read { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT tag.trialId, tag.value FROM tag JOIN trial ON trial.id = tag.trialId
          WHERE trial.studyId = ? AND tag.key = ?
          """, arguments: [studyId, HpodTag.repeatRequest])
      var requests: [Int64: Int] = [:]
      for row in rows {
        let value: String = row["value"]
        if let count = Int(value) { requests[row["trialId"]] = count }
      }
      return requests
    }
  }
}
