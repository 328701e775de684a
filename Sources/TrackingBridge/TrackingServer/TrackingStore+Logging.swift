import Foundation
import GRDB

// What a run logs through the API: metrics, params and tags.
extension TrackingStore {

  /// Logs metrics, params and tags in one transaction, checked as MLflow checks them: batch
  /// limits, names, lengths, and params that are never changed once logged; `hpod.*` tags
  /// are hpod's own. A refused request writes nothing; a trial's run notes why it was refused
  /// (`HpodTag.trackingRefusal`), so that the trial's failure says why its script died.
  public func logBatch(
    _ runId: String, metrics: [TrackingMetric], params: [(String, String)], tags: [(String, String)]
  ) throws {
    do {
      try checkedLogBatch(runId, metrics: metrics, params: params, tags: tags)
    } catch let refusal as TrackingError {
      try noteRefusal(refusal, runId: runId)
      throw refusal
    }
  }

  private func checkedLogBatch(
    _ runId: String, metrics: [TrackingMetric], params: [(String, String)], tags: [(String, String)]
  ) throws {
    try Validation.batch(metrics: metrics.count, params: params.count, tags: tags.count)
    for metric in metrics { try Validation.metric(metric) }
    for (key, value) in params { try Validation.param(key, value) }
    for (key, value) in tags { try Validation.userTag(key, value) }
    var batchParams: [String: String] = [:]
    for (key, value) in params {
      if let earlier = batchParams[key], earlier != value {
        throw TrackingError.invalid(
          "Duplicate parameter keys have been submitted: [\(key)]. Please ensure the request contains only one param value per param key."
        )
      }
      batchParams[key] = value
    }
    let owner = try owner(runId)
    try requireActive(owner)
    let tables = owner.tables
    let logged = try database.writer.write { db in
      try Self.requireModels(db, for: metrics)
      for (key, value) in batchParams.sorted(by: { $0.key < $1.key }) {
        if let logged = try String.fetchOne(
          db, sql: "SELECT value FROM \(tables.param) WHERE \(tables.key) = ? AND name = ?",
          arguments: [tables.id, key])
        {
          guard logged == value else {
            throw TrackingError.invalid(
              "Changing param values is not allowed. Param with key='\(key)' was already logged with value='\(logged)' for run ID='\(runId)'. Attempted logging new value '\(value)'."
            )
          }
          continue
        }
        if case .trial = owner {
          try ParamRecord(trialId: tables.id, name: key, value: value, numericValue: Double(value)).insert(db)
        } else {
          try db.execute(
            sql: "INSERT INTO trackedParam (runId, name, value) VALUES (?, ?, ?)", arguments: [tables.id, key, value])
        }
      }
      let insert = try db.cachedStatement(
        sql:
          "INSERT INTO \(tables.metric) (\(tables.key), name, step, value, isNaN, timestamp) VALUES (?, ?, ?, ?, ?, ?)")
      // A point logged again exactly (key, value, step and time) is kept once, as MLflow keeps
      // it: autolog logs its metrics for the run and again for the model it logged.
      let existing = try db.cachedStatement(
        sql: """
          SELECT 1 FROM \(tables.metric)
          WHERE \(tables.key) = ? AND name = ? AND step = ? AND timestamp = ? AND value = ? AND isNaN = ?
          """)
      var added: [TrackingMetric] = []
      for metric in metrics {
        let stored = StoredMetricValue.stored(metric.value)
        let point: StatementArguments = [
          tables.id, metric.key, metric.step, metric.timestamp, stored.value, stored.isNaN,
        ]
        guard try Row.fetchOne(existing, arguments: point) == nil else { continue }
        try insert.execute(
          arguments: [tables.id, metric.key, metric.step, stored.value, stored.isNaN, metric.timestamp])
        added.append(metric)
      }
      try Self.insertModelMetrics(db, runId: runId, metrics)
      for (key, value) in tags {
        try db.execute(
          sql: "INSERT OR REPLACE INTO \(tables.tag) (\(tables.key), key, value) VALUES (?, ?, ?)",
          arguments: [tables.id, key, value])
      }
      // A trial's note set through the API is its note: the mirror sends it on.
      if case .trial = owner, let note = tags.last(where: { $0.0 == Note.tagKey }) {
        try database.enqueueMirrorWrite(
          .setTags, trialId: tables.id, payload: AppDatabase.json([Note.tagKey: note.1]), db)
      }
      return added
    }
    if case .trial(let trial, _) = owner, !logged.isEmpty {
      onTrialMetrics(
        trial.id!,
        logged.map {
          MetricPoint(trialId: trial.id!, name: $0.key, step: $0.step, value: $0.value, timestamp: $0.timestamp)
        })
    }
  }

  public func deleteTag(_ runId: String, key: String) throws {
    try Validation.requireNotReserved(key)
    let owner = try owner(runId)
    try requireActive(owner)
    let tables = owner.tables
    try database.writer.write { db in
      try db.execute(
        sql: "DELETE FROM \(tables.tag) WHERE \(tables.key) = ? AND key = ?", arguments: [tables.id, key])
      guard db.changesCount > 0 else {
        throw TrackingError.missing("No tag with name: \(key) in run with id \(runId)")
      }
      if case .trial = owner, key == Note.tagKey {
        try database.enqueueMirrorWrite(.setTags, trialId: tables.id, payload: AppDatabase.json([Note.tagKey: ""]), db)
      }
    }
  }

  /// Keeps what was refused on the trial whose run it was (nothing for other runs, or for a
  /// run that does not exist), in its own transaction: the refused request wrote nothing.
  private func noteRefusal(_ refusal: TrackingError, runId: String) throws {
    guard runId.hasPrefix(Self.trialRunPrefix), let trialId = Int64(runId.dropFirst(Self.trialRunPrefix.count)),
      refusal.code != .resourceDoesNotExist
    else { return }
    try database.writer.write { db in
      try db.execute(
        sql: "INSERT OR REPLACE INTO tag (trialId, key, value) SELECT id, ?, ? FROM trial WHERE id = ?",
        arguments: [HpodTag.trackingRefusal, refusal.description, trialId])
    }
  }
}
