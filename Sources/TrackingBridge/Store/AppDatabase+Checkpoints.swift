public import Foundation
public import GRDB

/// A checkpoint a trial reported (`hpod {"checkpoint": "epoch-7", "step": 7}`): a file or
/// folder of that name it saved in its checkpoint folder, holding its state at `step`.
public struct CheckpointRecord: Sendable, Hashable, Codable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "checkpoint"

  public var id: Int64?
  public var trialId: Int64
  public var name: String
  public var step: Int
  public var createdAt: Date
  /// Whether hpod deleted its file (`checkpoint.keep`, or the folder freed with its trial).
  public var freed: Bool

  public init(trialId: Int64, name: String, step: Int, createdAt: Date = Date(), freed: Bool = false) {
    self.trialId = trialId
    self.name = name
    self.step = step
    self.createdAt = createdAt
    self.freed = freed
  }

  public mutating func didInsert(_ inserted: InsertionSuccess) {
    id = inserted.rowID
  }
}

extension AppDatabase {
  /// The longest chain of re-runs followed back to a first attempt: far more than any spec's
  /// `retries` allows, so a cycle in a damaged store ends instead of looping.
  static let longestChain = 10_000

  /// The attempts of the trial's configuration up to `trial`, first attempt first (each
  /// re-run names the attempt it re-runs in `retryOf`).
  public func attempts(endingWith trial: TrialRecord) throws -> [TrialRecord] {
    try writer.read { db in
      var chain = [trial]
      while let previous = chain.last?.retryOf, chain.count < Self.longestChain,
        let record = try TrialRecord.fetchOne(db, key: previous)
      {
        chain.append(record)
      }
      return chain.reversed()
    }
  }

  /// How many configurations of the trial's study and tier were started before this first
  /// attempt: its place in the order configurations began. Re-runs take trial numbers too, so
  /// a configuration's trial number depends on how many re-runs came before it; this does not.
  public func firstAttemptsBefore(_ trial: TrialRecord) throws -> Int {
    try writer.read { db in
      try Int.fetchOne(
        db,
        sql: "SELECT COUNT(*) FROM trial WHERE studyId = ? AND tier = ? AND retryOf IS NULL AND number < ?",
        arguments: [trial.studyId, trial.tier.rawValue, trial.number]) ?? 0
    }
  }

  /// Records a checkpoint the trial reported.
  public func recordingCheckpoint(_ checkpoint: CheckpointRecord) -> StoreWrite<CheckpointRecord> {
    StoreWrite { db in
      var record = checkpoint
      try record.insert(db)
      return record
    }
  }

  /// The checkpoints of these trials (the attempts of one configuration), oldest first.
  public func checkpoints(trialIds: [Int64]) throws -> [CheckpointRecord] {
    try writer.read { db in
      try CheckpointRecord.filter(trialIds.contains(Column("trialId"))).order(Column("id")).fetchAll(db)
    }
  }

  public func markFreed(checkpointIds: [Int64]) throws {
    guard !checkpointIds.isEmpty else { return }
    try writer.write { db in
      try CheckpointRecord.filter(checkpointIds.contains(Column("id"))).updateAll(db, Column("freed").set(to: true))
    }
  }

  /// A resumed attempt's history starts with what an earlier attempt reported up to the step
  /// of the checkpoint it resumes from: no step is lost, and none is reported twice.
  public func copyingMetrics(from source: Int64, to trialId: Int64, upToStep step: Int) -> StoreWrite<Int> {
    StoreWrite { db in
      try db.execute(
        sql: """
          INSERT INTO metric (trialId, name, step, value, isNaN, timestamp)
          SELECT ?, name, step, value, isNaN, timestamp FROM metric WHERE trialId = ? AND step <= ?
          """, arguments: [trialId, source, step])
      return db.changesCount
    }
  }
}
