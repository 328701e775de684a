import Foundation
import GRDB

// MLflow 3's logged models: what `log_model` records, kept as MLflow's server keeps them.
extension TrackingStore {
  /// The most params and tags one request may set on a model (the client sends 100 at a time).
  static let maxModelEntriesPerRequest = 1000

  /// Characters MLflow refuses in a logged model's name.
  static let forbiddenModelNameCharacters: [Character] = ["/", ":", ".", "%", "\"", "'"]

  public func createLoggedModel(
    experimentId: Int64, name: String?, modelType: String?, sourceRunId: String?, params: [(String, String)],
    tags: [(String, String)]
  ) throws -> TrackingLoggedModel {
    if let name {
      guard !name.isEmpty, !name.contains(where: Self.forbiddenModelNameCharacters.contains) else {
        throw TrackingError.invalid(
          "Invalid model name ('\(name)') provided. Model name must be a non-empty string and cannot contain the following characters: ('/', ':', '.', '%', '\"', \"'\")"
        )
      }
      try Validation.name(name, what: "model name", limit: 500)
    }
    try Self.checkModelEntries(params: params, tags: tags)
    let experiment = try experiment(id: experimentId)
    guard experiment.lifecycleStage == "active" else {
      throw TrackingError(
        .invalidState, "The experiment \(experimentId) must be in the 'active' state. Current state is deleted.")
    }
    let id = "m-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let now = Self.now()
    try database.writer.write { db in
      try db.execute(
        sql: """
          INSERT INTO loggedModel (id, experimentId, name, modelType, sourceRunId, status, createdAt, updatedAt)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          id, experimentId, name ?? "model-\(id.dropFirst(2).prefix(8))", modelType ?? "", sourceRunId ?? "",
          LoggedModelStatus.pending.rawValue, now, now,
        ])
      try Self.insertParams(db, modelId: id, params)
      for (key, value) in tags {
        try db.execute(
          sql: "INSERT OR REPLACE INTO loggedModelTag (modelId, key, value) VALUES (?, ?, ?)",
          arguments: [id, key, value])
      }
    }
    return try loggedModel(id)
  }

  /// A model; a deleted one only with `allowDeleted`.
  public func loggedModel(_ id: String, allowDeleted: Bool = false) throws -> TrackingLoggedModel {
    let found = try database.writer.read { db in
      try loggedModels(db, where: "id = ?", [id]).first
    }
    guard let found, allowDeleted || found.lifecycleStage != "deleted" else {
      throw TrackingError.missing("Logged model with ID '\(id)' not found.")
    }
    return found
  }

  /// Adds params; a param is never changed once logged (as a run's).
  public func logLoggedModelParams(_ id: String, params: [(String, String)]) throws {
    try Self.checkModelEntries(params: params, tags: [])
    _ = try loggedModel(id, allowDeleted: true)
    try database.writer.write { db in try Self.insertParams(db, modelId: id, params) }
  }

  public func finalizeLoggedModel(_ id: String, status: LoggedModelStatus) throws -> TrackingLoggedModel {
    _ = try loggedModel(id, allowDeleted: true)
    try database.writer.write { db in
      try db.execute(
        sql: "UPDATE loggedModel SET status = ?, updatedAt = ? WHERE id = ?",
        arguments: [status.rawValue, Self.now(), id])
    }
    return try loggedModel(id, allowDeleted: true)
  }

  /// Marks a model deleted: searches and reads no longer show it, its artifacts stay.
  public func deleteLoggedModel(_ id: String) throws {
    _ = try loggedModel(id, allowDeleted: true)
    try database.writer.write { db in
      try db.execute(
        sql: "UPDATE loggedModel SET lifecycleStage = 'deleted', updatedAt = ? WHERE id = ?",
        arguments: [Self.now(), id])
    }
  }

  public func setLoggedModelTags(_ id: String, tags: [(String, String)]) throws {
    try Self.checkModelEntries(params: [], tags: tags)
    _ = try loggedModel(id, allowDeleted: true)
    try database.writer.write { db in
      for (key, value) in tags {
        try db.execute(
          sql: "INSERT OR REPLACE INTO loggedModelTag (modelId, key, value) VALUES (?, ?, ?)",
          arguments: [id, key, value])
      }
    }
  }

  public func deleteLoggedModelTag(_ id: String, key: String) throws {
    _ = try loggedModel(id, allowDeleted: true)
    try database.writer.write { db in
      try db.execute(sql: "DELETE FROM loggedModelTag WHERE modelId = ? AND key = ?", arguments: [id, key])
      guard db.changesCount > 0 else {
        throw TrackingError.missing("No tag with key '\(key)' found for model with ID '\(id)'.")
      }
    }
  }

  /// The folder a model's artifacts are in, under hpod's home.
  public func loggedModelArtifactDirectory(_ id: String) throws -> String {
    let model = try loggedModel(id, allowDeleted: true)
    return "\(home.path)/logged-models/\(model.id)/artifacts"
  }

  /// Checks that every model the metrics name exists (a point for a missing model writes
  /// nothing), inside the batch's transaction.
  static func requireModels(_ db: Database, for metrics: [TrackingMetric]) throws {
    for modelId in Set(metrics.compactMap(\.modelId)) {
      guard try Row.fetchOne(db, sql: "SELECT 1 FROM loggedModel WHERE id = ?", arguments: [modelId]) != nil else {
        throw TrackingError.missing("Logged model with ID '\(modelId)' not found.")
      }
    }
  }

  /// Writes the points of a batch that name a model as that model's metrics too: once per
  /// model, metric, time, step and run, as MLflow keeps them.
  static func insertModelMetrics(_ db: Database, runId: String, _ metrics: [TrackingMetric]) throws {
    let insert = try db.cachedStatement(
      sql: """
        INSERT INTO loggedModelMetric (modelId, name, step, value, isNaN, timestamp, runId, datasetName, datasetDigest)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """)
    let existing = try db.cachedStatement(
      sql: """
        SELECT 1 FROM loggedModelMetric WHERE modelId = ? AND name = ? AND timestamp = ? AND step = ? AND runId = ?
        """)
    for metric in metrics {
      guard let modelId = metric.modelId else { continue }
      let key: StatementArguments = [modelId, metric.key, metric.timestamp, metric.step, runId]
      guard try Row.fetchOne(existing, arguments: key) == nil else { continue }
      let stored = StoredMetricValue.stored(metric.value)
      try insert.execute(arguments: [
        modelId, metric.key, metric.step, stored.value, stored.isNaN, metric.timestamp, runId, metric.datasetName,
        metric.datasetDigest,
      ])
    }
  }

  private static func checkModelEntries(params: [(String, String)], tags: [(String, String)]) throws {
    guard params.count + tags.count <= maxModelEntriesPerRequest else {
      throw TrackingError.invalid(
        "A request may set at most \(maxModelEntriesPerRequest) params and tags of a logged model; got \(params.count + tags.count)"
      )
    }
    for (key, value) in params { try Validation.param(key, value) }
    for (key, value) in tags { try Validation.tag(key, value) }
  }

  private static func insertParams(_ db: Database, modelId: String, _ params: [(String, String)]) throws {
    for (key, value) in params {
      if let logged = try String.fetchOne(
        db, sql: "SELECT value FROM loggedModelParam WHERE modelId = ? AND key = ?", arguments: [modelId, key])
      {
        guard logged == value else {
          throw TrackingError.invalid(
            "Changing param values is not allowed. Param with key='\(key)' was already logged with value='\(logged)' for logged model ID='\(modelId)'. Attempted logging new value '\(value)'."
          )
        }
        continue
      }
      try db.execute(
        sql: "INSERT INTO loggedModelParam (modelId, key, value) VALUES (?, ?, ?)", arguments: [modelId, key, value])
    }
  }

  /// The models `condition` selects, each with its params, tags and metrics (one query each).
  func loggedModels(_ db: Database, where condition: String, _ arguments: StatementArguments) throws
    -> [TrackingLoggedModel]
  {
    let selected = "SELECT id FROM loggedModel WHERE \(condition)"
    var params: [String: [String: String]] = [:]
    for row in try Row.fetchAll(
      db, sql: "SELECT modelId, key, value FROM loggedModelParam WHERE modelId IN (\(selected))", arguments: arguments)
    {
      params[row["modelId"], default: [:]][row["key"]] = row["value"]
    }
    var tags: [String: [String: String]] = [:]
    for row in try Row.fetchAll(
      db, sql: "SELECT modelId, key, value FROM loggedModelTag WHERE modelId IN (\(selected))", arguments: arguments)
    {
      tags[row["modelId"], default: [:]][row["key"]] = row["value"]
    }
    var metrics: [String: [LoggedModelMetric]] = [:]
    for row in try Row.fetchAll(
      db,
      sql: """
        SELECT modelId, name, \(StoredMetricValue.select()) AS value, timestamp, step, runId, datasetName, datasetDigest
        FROM loggedModelMetric WHERE modelId IN (\(selected)) ORDER BY rowid
        """, arguments: arguments)
    {
      metrics[row["modelId"], default: []].append(
        LoggedModelMetric(
          metric: TrackingMetric(
            key: row["name"], value: StoredMetricValue.read(row["value"]), timestamp: row["timestamp"],
            step: row["step"], modelId: row["modelId"], datasetName: row["datasetName"],
            datasetDigest: row["datasetDigest"]),
          runId: row["runId"], datasetName: row["datasetName"], datasetDigest: row["datasetDigest"]))
    }
    return try Row.fetchAll(db, sql: "SELECT * FROM loggedModel WHERE \(condition)", arguments: arguments).map { row in
      let id: String = row["id"]
      return TrackingLoggedModel(
        id: id, experimentId: row["experimentId"], name: row["name"], modelType: row["modelType"],
        sourceRunId: row["sourceRunId"], status: LoggedModelStatus(rawValue: row["status"]) ?? .unspecified,
        statusMessage: row["statusMessage"], lifecycleStage: row["lifecycleStage"], creationTime: row["createdAt"],
        lastUpdateTime: row["updatedAt"], tags: tags[id] ?? [:], params: params[id] ?? [:], metrics: metrics[id] ?? [])
    }
  }
}
