public import Foundation
import GRDB

// Runs: a study's trials, and the runs made through the API.
extension TrackingStore {
  /// What a run id names.
  enum RunOwner {
    case trial(TrialRecord, StudyRecord)
    case tracked(id: Int64, uuid: String)

    /// The tables its params, metrics and tags are in, and the column that names the run.
    var tables: (param: String, metric: String, tag: String, key: String, id: Int64) {
      switch self {
      case .trial(let trial, _): ("param", "metric", "tag", "trialId", trial.id!)
      case .tracked(let id, _): ("trackedParam", "trackedMetric", "trackedTag", "runId", id)
      }
    }
  }

  func owner(_ runId: String) throws -> RunOwner {
    if runId.hasPrefix(Self.trialRunPrefix), let id = Int64(runId.dropFirst(Self.trialRunPrefix.count)),
      let trial = try database.trial(id: id), let study = try database.study(id: trial.studyId)
    {
      return .trial(trial, study)
    }
    let row = try database.writer.read { db in
      try Row.fetchOne(db, sql: "SELECT id FROM trackedRun WHERE runUuid = ?", arguments: [runId])
    }
    guard let row else { throw TrackingError.missing("Run with id=\(runId) not found") }
    return .tracked(id: row["id"], uuid: runId)
  }

  public func createRun(
    experimentId: Int64, name: String?, startTime: Int64?, tags: [String: String], userId: String?
  ) throws -> TrackingRun {
    let experiment = try experiment(id: experimentId)
    guard experiment.lifecycleStage == "active" else {
      throw TrackingError(
        .invalidState, "The experiment \(experimentId) must be in the 'active' state. Current state is deleted.")
    }
    for (key, value) in tags { try Validation.tag(key, value) }
    let uuid = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let runName = name ?? tags["mlflow.runName"] ?? "run-\(uuid.prefix(8))"
    try database.writer.write { db in
      try db.execute(
        sql: """
          INSERT INTO trackedRun (runUuid, experimentId, name, userId, status, startTime)
          VALUES (?, ?, ?, ?, 'RUNNING', ?)
          """, arguments: [uuid, experimentId, runName, userId ?? "", startTime ?? Self.now()])
      let id = db.lastInsertedRowID
      for (key, value) in tags.merging(["mlflow.runName": runName], uniquingKeysWith: { _, name in name }) {
        try db.execute(
          sql: "INSERT OR REPLACE INTO trackedTag (runId, key, value) VALUES (?, ?, ?)", arguments: [id, key, value])
      }
    }
    return try run(uuid)
  }

  public func run(_ runId: String) throws -> TrackingRun {
    try run(of: try owner(runId))
  }

  /// A run made through the API takes the status and end time it is given; a trial's run keeps
  /// the state hpod records (a trial's own `mlflow.end_run()` does not end it), and only its
  /// name is never changed either.
  public func updateRun(_ runId: String, status: String?, endTime: Int64?, name: String?) throws -> TrackingRun {
    if let status, !["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"].contains(status) {
      throw TrackingError.invalid(
        "Invalid value \"\(status)\" for parameter 'status': expected one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED"
      )
    }
    let owner = try owner(runId)
    if case .tracked(let id, _) = owner {
      try requireActive(owner)
      try database.writer.write { db in
        if let status {
          let ended = ["FINISHED", "FAILED", "KILLED"].contains(status)
          try db.execute(
            sql: "UPDATE trackedRun SET status = ?, endTime = ? WHERE id = ?",
            arguments: [status, ended ? (endTime ?? Self.now()) : nil, id])
        }
        if let name {
          try db.execute(sql: "UPDATE trackedRun SET name = ? WHERE id = ?", arguments: [name, id])
          try db.execute(
            sql: "INSERT OR REPLACE INTO trackedTag (runId, key, value) VALUES (?, 'mlflow.runName', ?)",
            arguments: [id, name])
        }
      }
    }
    return try run(of: owner)
  }

  public func setRunLifecycle(_ runId: String, deleted: Bool) throws {
    guard case .tracked(let id, _) = try owner(runId) else {
      throw TrackingError(
        .invalidState, "Run \(runId) is a trial of an hpod study: it is kept with its study and cannot be deleted alone"
      )
    }
    try database.writer.write { db in
      try db.execute(
        sql: "UPDATE trackedRun SET lifecycleStage = ? WHERE id = ?", arguments: [deleted ? "deleted" : "active", id])
    }
  }

  /// Logs metrics, params and tags in one transaction, checked as MLflow checks them: batch
  /// limits, names, lengths, and params that are never changed once logged.
  public func logBatch(
    _ runId: String, metrics: [TrackingMetric], params: [(String, String)], tags: [(String, String)]
  ) throws {
    try Validation.batch(metrics: metrics.count, params: params.count, tags: tags.count)
    for metric in metrics { try Validation.metric(metric) }
    for (key, value) in params { try Validation.param(key, value) }
    for (key, value) in tags { try Validation.tag(key, value) }
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
    try database.writer.write { db in
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
      for metric in metrics {
        try db.execute(
          sql: "INSERT INTO \(tables.metric) (\(tables.key), name, step, value, timestamp) VALUES (?, ?, ?, ?, ?)",
          arguments: [tables.id, metric.key, metric.step, metric.value, metric.timestamp])
      }
      for (key, value) in tags {
        try db.execute(
          sql: "INSERT OR REPLACE INTO \(tables.tag) (\(tables.key), key, value) VALUES (?, ?, ?)",
          arguments: [tables.id, key, value])
      }
    }
    if case .trial(let trial, _) = owner, !metrics.isEmpty {
      onTrialMetrics(
        trial.id!,
        metrics.map {
          MetricPoint(trialId: trial.id!, name: $0.key, step: $0.step, value: $0.value, timestamp: $0.timestamp)
        })
    }
  }

  public func deleteTag(_ runId: String, key: String) throws {
    let owner = try owner(runId)
    try requireActive(owner)
    let tables = owner.tables
    try database.writer.write { db in
      try db.execute(
        sql: "DELETE FROM \(tables.tag) WHERE \(tables.key) = ? AND key = ?", arguments: [tables.id, key])
      guard db.changesCount > 0 else {
        throw TrackingError.missing("No tag with name: \(key) in run with id \(runId)")
      }
    }
  }

  /// Every value of one metric, in step order.
  public func metricHistory(_ runId: String, key: String) throws -> [TrackingMetric] {
    let tables = try owner(runId).tables
    return try database.writer.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT name, value, timestamp, step FROM \(tables.metric) WHERE \(tables.key) = ? AND name = ?
          ORDER BY step, timestamp, rowid
          """, arguments: [tables.id, key]
      ).map { TrackingMetric(key: $0["name"], value: $0["value"], timestamp: $0["timestamp"], step: $0["step"]) }
    }
  }

  /// The folder a run's artifacts are in: a trial's artifact folder, or one under hpod's home.
  public func artifactDirectory(_ runId: String) throws -> String {
    switch try owner(runId) {
    case .trial(let trial, let study):
      return
        (trial.runDirectory.flatMap { $0.isEmpty ? nil : $0 }
        ?? home.runDirectory(studyId: study.id!, trialNumber: trial.number)) + "/artifacts"
    case .tracked(_, let uuid):
      return "\(home.path)/tracked-runs/\(uuid)/artifacts"
    }
  }

  private func requireActive(_ owner: RunOwner) throws {
    guard case .tracked(let id, let uuid) = owner else { return }
    let stage = try database.writer.read { db in
      try String.fetchOne(db, sql: "SELECT lifecycleStage FROM trackedRun WHERE id = ?", arguments: [id])
    }
    guard stage == "active" else {
      throw TrackingError(
        .invalidState, "The run \(uuid) must be in the 'active' state. Current state is \(stage ?? "unknown").")
    }
  }

  // MARK: Reading runs

  func run(of owner: RunOwner) throws -> TrackingRun {
    let tables = owner.tables
    return try database.writer.read { db in
      let params = try Row.fetchAll(
        db, sql: "SELECT name, value FROM \(tables.param) WHERE \(tables.key) = ?", arguments: [tables.id])
      var metrics: [String: TrackingMetric] = [:]
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT name, value, timestamp, step FROM \(tables.metric) WHERE \(tables.key) = ?
          ORDER BY step, timestamp, rowid
          """, arguments: [tables.id])
      {
        let name: String = row["name"]
        metrics[name] = TrackingMetric(key: name, value: row["value"], timestamp: row["timestamp"], step: row["step"])
      }
      var tags = Dictionary(
        try Row.fetchAll(
          db, sql: "SELECT key, value FROM \(tables.tag) WHERE \(tables.key) = ?", arguments: [tables.id]
        )
        .map { ($0["key"] as String, $0["value"] as String) }, uniquingKeysWith: { _, last in last })
      let paramValues = Dictionary(
        params.map { ($0["name"] as String, $0["value"] as String) }, uniquingKeysWith: { _, last in last })
      switch owner {
      case .trial(let trial, let study):
        let lineage = try database.runLineage(trialId: trial.id!, db)
        let name = lineage.map { RunIdentity.name(trial: trial, lineage: $0) } ?? "trial \(trial.number)"
        var identity = lineage.map { RunIdentity.tags(trial: trial, lineage: $0, study: study) } ?? []
        if trial.state.isFinished { identity += RunIdentity.endTags(of: trial) }
        for (key, value) in identity + [("mlflow.runName", name), ("mlflow.user", "hpod")] where tags[key] == nil {
          tags[key] = value
        }
        let experimentId =
          try Int64.fetchOne(
            db, sql: "SELECT id FROM trackingExperiment WHERE name = ?", arguments: [experimentName(study)]) ?? 0
        return TrackingRun(
          runId: Self.runId(trialId: trial.id!), experimentId: experimentId, name: name, userId: "hpod",
          status: trial.state == .pending ? "SCHEDULED" : RunIdentity.status(of: trial.state),
          startTime: (trial.startedAt ?? trial.createdAt).millisecondsSince1970,
          endTime: trial.finishedAt?.millisecondsSince1970, lifecycleStage: "active", params: paramValues,
          metrics: metrics, tags: tags)
      case .tracked(let id, let uuid):
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM trackedRun WHERE id = ?", arguments: [id]) else {
          throw TrackingError.missing("Run with id=\(uuid) not found")
        }
        return TrackingRun(
          runId: uuid, experimentId: row["experimentId"], name: row["name"], userId: row["userId"],
          status: row["status"], startTime: row["startTime"], endTime: row["endTime"],
          lifecycleStage: row["lifecycleStage"], params: paramValues, metrics: metrics, tags: tags)
      }
    }
  }

  /// The runs of some experiments that match `filter`, in `orderBy` order (start time, newest
  /// first, by default), `maxResults` at a time from `offset`.
  public func searchRuns(
    experimentIds: [Int64], filter: RunFilter?, viewType: ViewType, orderBy: [RunOrder], maxResults: Int, offset: Int
  ) throws -> (runs: [TrackingRun], nextOffset: Int?) {
    var owners: [RunOwner] = []
    for experimentId in experimentIds {
      let experiment = try experiment(id: experimentId)
      if viewType != .deletedOnly {
        for study in try studies(inExperiment: experiment.name) {
          owners += try database.trials(studyId: study.id!).map { .trial($0, study) }
        }
      }
      let stages = viewType.stages.map { "'\($0)'" }.joined(separator: ", ")
      owners += try database.writer.read { db in
        try Row.fetchAll(
          db, sql: "SELECT id, runUuid FROM trackedRun WHERE experimentId = ? AND lifecycleStage IN (\(stages))",
          arguments: [experimentId]
        ).map { RunOwner.tracked(id: $0["id"], uuid: $0["runUuid"]) }
      }
    }
    var runs = try owners.map(run(of:))
    if let filter { runs = try runs.filter(filter.matches) }
    runs.sort { RunOrder.precedes($0, $1, by: orderBy) }
    let page = Array(runs.dropFirst(offset).prefix(maxResults))
    let next = offset + page.count < runs.count ? offset + page.count : nil
    return (page, next)
  }
}
