public import Foundation
public import GRDB

/// A study mirrored to a remote tracking server (MLflow), and its experiment once resolved.
public struct MirrorTarget: Sendable, Hashable, Codable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "mirrorTarget"

  public var studyId: Int64
  public var uri: String
  public var experimentName: String
  public var experimentId: String?
  /// Random per store; with the trial id it names each run on the server (`hpod.run_key`).
  public var storeKey: String
}

/// One write waiting to be sent to the tracking server. Rows are written in the same
/// transaction as the change they mirror, so a crash can never lose one, and they are sent
/// in id order, which keeps the order of the writes within a run.
public struct OutboxEntry: Sendable, Hashable, Codable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "outbox"

  public enum Kind: String, Sendable, Hashable, Codable {
    /// Create the trial's run with its name, tags and params (found again if it exists).
    case createRun
    /// Set tags on the run; the payload is a JSON object of them.
    case setTags
    /// Send the run's remaining metric points, its final tags, status and end time.
    case endRun
    /// Upload the files the trial left in its artifact folder, and its logs.
    case uploadArtifacts
    /// Create the registered model version (payload: the local version id) and move the alias.
    case registerModel
    /// Metric points the server refused; recorded (already set aside) so status shows them.
    case refusedMetrics
  }

  public var id: Int64?
  public var studyId: Int64
  public var trialId: Int64?
  public var kind: Kind
  public var payload: String?
  public var createdAt: Date
  public var attempts: Int
  public var lastError: String?
  /// When the server refused this write for good; it is kept, with its error, for `hpod tracking status`.
  public var deadAt: Date?

  public mutating func didInsert(_ inserted: InsertionSuccess) {
    id = inserted.rowID
  }
}

/// A trial's run on the tracking server and how far its metric history has been sent.
public struct MirroredRun: Sendable, Hashable, Codable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "mirroredRun"

  public var trialId: Int64
  public var studyId: Int64
  public var runId: String
  public var artifactURI: String
  /// The rowid of the last metric point of the trial that the server has acknowledged.
  public var metricsSentThrough: Int64
  public var ended: Bool

  public init(trialId: Int64, studyId: Int64, runId: String, artifactURI: String) {
    self.trialId = trialId
    self.studyId = studyId
    self.runId = runId
    self.artifactURI = artifactURI
    self.metricsSentThrough = 0
    self.ended = false
  }
}

/// A metric point with its place in the append-only metric table.
public struct SequencedMetricPoint: Sendable, Hashable {
  public var sequence: Int64
  public var point: MetricPoint
}

/// Where a mirrored study stands: what is waiting and what was refused.
public struct MirrorStatus: Sendable, Hashable, Codable {
  public var studyId: Int64
  public var studyName: String
  public var uri: String
  public var experimentName: String
  public var experimentId: String?
  public var trials: Int
  public var runsCreated: Int
  public var pendingWrites: Int
  public var unsentMetricPoints: Int
  public var refusedWrites: Int
  public var lastError: String?

  public var backlog: Int { pendingWrites + unsentMetricPoints }
}

extension AppDatabase {
  /// Mirrors a study to `uri`. The first time (or when the server or experiment changed) every
  /// trial and registered version the study already has is queued, so the mirror is complete.
  public func mirror(studyId: Int64, uri: String, experimentName: String) throws {
    try perform(mirroring(studyId: studyId, uri: uri, experimentName: experimentName))
  }

  /// The write `mirror(studyId:uri:experimentName:)` makes, for async code.
  public func mirroring(studyId: Int64, uri: String, experimentName: String) -> StoreWrite<Void> {
    StoreWrite { db in
      let existing = try MirrorTarget.fetchOne(db, key: studyId)
      if let existing, existing.uri == uri, existing.experimentName == experimentName { return }
      try db.execute(sql: "DELETE FROM mirroredRun WHERE studyId = ?", arguments: [studyId])
      try db.execute(sql: "DELETE FROM outbox WHERE studyId = ?", arguments: [studyId])
      try db.execute(
        sql: "DELETE FROM mirroredModelVersion WHERE modelVersionId IN (SELECT id FROM modelVersion WHERE studyId = ?)",
        arguments: [studyId])
      try MirrorTarget(
        studyId: studyId, uri: uri, experimentName: experimentName, experimentId: nil,
        storeKey: existing?.storeKey ?? UUID().uuidString.lowercased()
      ).upsert(db)
      let trials = try TrialRecord.filter(TrialRecord.Columns.studyId == studyId).order(TrialRecord.Columns.id)
        .fetchAll(db)
      for trial in trials {
        try enqueueMirrorWrite(.createRun, trialId: trial.id!, db)
        let tags = try TagRecord.filter(Column("trialId") == trial.id!).fetchAll(db)
        if !tags.isEmpty {
          try enqueueMirrorWrite(
            .setTags, trialId: trial.id!, payload: Self.json(Dictionary(tags.map { ($0.key, $0.value) }) { $1 }), db)
        }
        if trial.state.isFinished {
          try enqueueMirrorWrite(.endRun, trialId: trial.id!, db)
          try enqueueMirrorWrite(.uploadArtifacts, trialId: trial.id!, db)
        }
      }
      for version in try ModelVersion.filter(Column("studyId") == studyId).order(Column("id")).fetchAll(db) {
        try enqueueMirrorWrite(.registerModel, trialId: version.trialId, payload: String(version.id!), db)
      }
    }
  }

  /// Queues a write for the trial's run when its study is mirrored; does nothing otherwise.
  /// Called inside the transaction of the change it mirrors.
  func enqueueMirrorWrite(_ kind: OutboxEntry.Kind, trialId: Int64, payload: String? = nil, _ db: Database) throws {
    let statement = try db.cachedStatement(
      sql: """
        INSERT INTO outbox (studyId, trialId, kind, payload, createdAt, attempts)
        SELECT trial.studyId, trial.id, ?, ?, ?, 0 FROM trial
        JOIN mirrorTarget ON mirrorTarget.studyId = trial.studyId WHERE trial.id = ?
        """)
    try statement.execute(arguments: [kind.rawValue, payload, Date(), trialId])
  }

  static func json(_ tags: [String: String]) -> String {
    JSONCoding.text(tags)
  }

  public func mirrorTarget(studyId: Int64) throws -> MirrorTarget? {
    try writer.read { db in try MirrorTarget.fetchOne(db, key: studyId) }
  }

  public func mirrorTargets() throws -> [MirrorTarget] {
    try writer.read { db in try MirrorTarget.order(Column("studyId")).fetchAll(db) }
  }

  public func setMirrorExperiment(studyId: Int64, experimentId: String) throws {
    try writer.write { db in
      try db.execute(
        sql: "UPDATE mirrorTarget SET experimentId = ? WHERE studyId = ?", arguments: [experimentId, studyId])
    }
  }

  /// The oldest writes still to send (refused ones are skipped), of one kind or all.
  public func pendingMirrorWrites(limit: Int, kind: OutboxEntry.Kind? = nil) throws -> [OutboxEntry] {
    try writer.read { db in
      var request = OutboxEntry.filter(Column("deadAt") == nil)
      if let kind { request = request.filter(Column("kind") == kind.rawValue) }
      return try request.order(Column("id")).limit(limit).fetchAll(db)
    }
  }

  /// What waits to be sent (of one study, or of all): writes not refused, and the metric
  /// points of runs that exist or are still to be created. Points of a run MLflow refused to
  /// create are not counted: nothing will send them until the write is retried.
  public func mirrorBacklog(studyId: Int64? = nil) throws -> Int {
    try writer.read { db in
      let pending = "SELECT COUNT(*) FROM outbox WHERE deadAt IS NULL" + (studyId.map { " AND studyId = \($0)" } ?? "")
      return try Int.fetchOne(
        db, sql: "SELECT (\(pending)) + \(Self.unsentPointsSQL(studyId: studyId.map(String.init)))") ?? 0
    }
  }

  /// Counts the metric points waiting for MLflow: those past their run's watermark, and all
  /// of trials whose run is still to be created (not those whose creation was refused).
  /// `studyId` is an SQL expression (a literal id, or a column of the enclosing query), nil
  /// for every study.
  static func unsentPointsSQL(studyId: String?) -> String {
    let run = studyId.map { "AND r.studyId = \($0)" } ?? ""
    let queued = studyId.map { "AND o.studyId = \($0)" } ?? ""
    return """
      ((SELECT COUNT(*) FROM mirroredRun r JOIN metric ON metric.trialId = r.trialId
          WHERE metric.rowid > r.metricsSentThrough \(run))
        + (SELECT COUNT(*) FROM outbox o JOIN metric ON metric.trialId = o.trialId
          WHERE o.kind = 'createRun' AND o.deadAt IS NULL \(queued)
          AND NOT EXISTS (SELECT 1 FROM mirroredRun r WHERE r.trialId = o.trialId)))
      """
  }

  /// The server has the write: it leaves the outbox.
  public func mirrorWriteSent(_ id: Int64) throws {
    try writer.write { db in _ = try OutboxEntry.deleteOne(db, key: id) }
  }

  /// Counts an attempt before it is made, so the next attempt knows an earlier one may have
  /// reached the server even if hpod died before hearing back.
  public func mirrorWriteAttempted(_ id: Int64) throws {
    try writer.write { db in
      try db.execute(sql: "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", arguments: [id])
    }
  }

  /// An attempt failed, with this error; `refused` sets the write aside for good.
  public func mirrorWriteFailed(_ id: Int64, error: String, refused: Bool) throws {
    try writer.write { db in
      try db.execute(
        sql: "UPDATE outbox SET lastError = ?, deadAt = ? WHERE id = ?",
        arguments: [String(error.prefix(2000)), refused ? Date() : nil, id])
    }
  }

  /// Puts refused writes back in line (after the cause was fixed: a restored experiment, a
  /// corrected setting); returns how many.
  @discardableResult
  public func retryRefusedMirrorWrites() throws -> Int {
    try writer.write { db in
      try db.execute(
        sql: "DELETE FROM outbox WHERE deadAt IS NOT NULL AND kind = ?",
        arguments: [OutboxEntry.Kind.refusedMetrics.rawValue])
      try db.execute(sql: "UPDATE outbox SET deadAt = NULL WHERE deadAt IS NOT NULL")
      return db.changesCount
    }
  }

  /// Records metric points the server refused, set aside with the error.
  public func recordRefusedMetrics(studyId: Int64, trialId: Int64, count: Int, error: String) throws {
    try writer.write { db in
      var entry = OutboxEntry(
        id: nil, studyId: studyId, trialId: trialId, kind: .refusedMetrics, payload: String(count),
        createdAt: Date(), attempts: 1, lastError: String(error.prefix(2000)), deadAt: Date())
      try entry.insert(db)
    }
  }

  public func mirroredRun(trialId: Int64) throws -> MirroredRun? {
    try writer.read { db in try MirroredRun.fetchOne(db, key: trialId) }
  }

  public func saveMirroredRun(_ run: MirroredRun) throws {
    try writer.write { db in try run.upsert(db) }
  }

  public func markMirroredRunEnded(trialId: Int64) throws {
    try writer.write { db in
      try db.execute(sql: "UPDATE mirroredRun SET ended = 1 WHERE trialId = ?", arguments: [trialId])
    }
  }

  /// The trial's metric points the server does not have yet, oldest first.
  public func unsentMetrics(trialId: Int64, limit: Int) throws -> [SequencedMetricPoint] {
    try writer.read { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT metric.rowid AS sequence, metric.name, metric.step, \(StoredMetricValue.select("metric")) AS value,
            metric.timestamp
          FROM metric JOIN mirroredRun ON mirroredRun.trialId = metric.trialId
          WHERE metric.trialId = ? AND metric.rowid > mirroredRun.metricsSentThrough
          ORDER BY metric.rowid LIMIT ?
          """, arguments: [trialId, limit])
      return rows.map { row in
        SequencedMetricPoint(
          sequence: row["sequence"],
          point: MetricPoint(
            trialId: trialId, name: row["name"], step: row["step"], value: StoredMetricValue.read(row["value"]),
            timestamp: row["timestamp"]))
      }
    }
  }

  /// Mirrored runs still open that have metric points to send, so live curves show on the
  /// server while trials run.
  public func runsWithUnsentMetrics() throws -> [Int64] {
    try writer.read { db in
      try Int64.fetchAll(
        db,
        sql: """
          SELECT mirroredRun.trialId FROM mirroredRun WHERE ended = 0 AND EXISTS (
            SELECT 1 FROM metric WHERE metric.trialId = mirroredRun.trialId
            AND metric.rowid > mirroredRun.metricsSentThrough)
          ORDER BY mirroredRun.trialId
          """)
    }
  }

  public func markMetricsSent(trialId: Int64, through sequence: Int64) throws {
    try writer.write { db in
      try db.execute(
        sql: "UPDATE mirroredRun SET metricsSentThrough = MAX(metricsSentThrough, ?) WHERE trialId = ?",
        arguments: [sequence, trialId])
    }
  }

  public func mirroredModelVersion(id: Int64) throws -> String? {
    try writer.read { db in
      try String.fetchOne(
        db, sql: "SELECT remoteVersion FROM mirroredModelVersion WHERE modelVersionId = ?", arguments: [id])
    }
  }

  public func saveMirroredModelVersion(id: Int64, remoteVersion: String) throws {
    try writer.write { db in
      try db.execute(
        sql: "INSERT OR REPLACE INTO mirroredModelVersion (modelVersionId, remoteVersion) VALUES (?, ?)",
        arguments: [id, remoteVersion])
    }
  }

  public func modelVersion(id: Int64) throws -> ModelVersion? {
    try writer.read { db in try ModelVersion.fetchOne(db, key: id) }
  }

  /// Every mirrored study's backlog, refused writes and last error.
  public func mirrorStatus() throws -> [MirrorStatus] {
    try writer.read { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT m.studyId, s.name, m.uri, m.experimentName, m.experimentId,
            (SELECT COUNT(*) FROM trial WHERE trial.studyId = m.studyId) AS trials,
            (SELECT COUNT(*) FROM mirroredRun r WHERE r.studyId = m.studyId) AS runs,
            (SELECT COUNT(*) FROM outbox o WHERE o.studyId = m.studyId AND o.deadAt IS NULL) AS pending,
            (SELECT COUNT(*) FROM outbox o WHERE o.studyId = m.studyId AND o.deadAt IS NOT NULL) AS refused,
            \(Self.unsentPointsSQL(studyId: "m.studyId")) AS unsent,
            (SELECT o.lastError FROM outbox o WHERE o.studyId = m.studyId AND o.lastError IS NOT NULL
              ORDER BY o.id LIMIT 1) AS lastError
          FROM mirrorTarget m JOIN study s ON s.id = m.studyId ORDER BY m.studyId
          """)
      return rows.map { row in
        MirrorStatus(
          studyId: row["studyId"], studyName: row["name"], uri: row["uri"], experimentName: row["experimentName"],
          experimentId: row["experimentId"], trials: row["trials"], runsCreated: row["runs"],
          pendingWrites: row["pending"], unsentMetricPoints: row["unsent"], refusedWrites: row["refused"],
          lastError: row["lastError"])
      }
    }
  }
}
