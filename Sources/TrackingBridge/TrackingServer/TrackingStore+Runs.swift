public import Foundation
import GRDB
import StudyModel

// Runs: a study's trials, and the runs made through the API.
extension TrackingStore {
  /// What a run id names.
  enum RunOwner {
    case trial(TrialRecord, StudyRecord)
    case tracked(id: Int64, uuid: String)

    static let trialTables = (param: "param", metric: "metric", tag: "tag", key: "trialId")
    static let trackedTables = (param: "trackedParam", metric: "trackedMetric", tag: "trackedTag", key: "runId")

    /// The tables its params, metrics and tags are in, and the column that names the run.
    var tables: (param: String, metric: String, tag: String, key: String, id: Int64) {
      switch self {
      case .trial(let trial, _):
        (Self.trialTables.param, Self.trialTables.metric, Self.trialTables.tag, Self.trialTables.key, trial.id!)
      case .tracked(let id, _):
        (Self.trackedTables.param, Self.trackedTables.metric, Self.trackedTables.tag, Self.trackedTables.key, id)
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
    for (key, value) in tags { try Validation.userTag(key, value) }
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

  /// A run as the API shows it. Study experiments are made first, so that a trial's run
  /// names the same experiment from its first read on (its artifact URI holds the id).
  public func run(_ runId: String) throws -> TrackingRun {
    try syncStudyExperiments()
    return try withInputsOutputs([try run(of: try owner(runId))])[0]
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

  /// Every value of one metric, in step order.
  public func metricHistory(_ runId: String, key: String) throws -> [TrackingMetric] {
    let tables = try owner(runId).tables
    return try database.writer.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT name, \(StoredMetricValue.select()) AS value, timestamp, step FROM \(tables.metric)
          WHERE \(tables.key) = ? AND name = ?
          ORDER BY step, timestamp, rowid
          """, arguments: [tables.id, key]
      ).map {
        TrackingMetric(
          key: $0["name"], value: StoredMetricValue.read($0["value"]), timestamp: $0["timestamp"], step: $0["step"])
      }
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
      guard let location = try artifactLocation(ofTrackedRun: uuid),
        ExperimentArtifactLocation.proxyPath(of: location) == nil
      else {
        return "\(home.path)/tracked-runs/\(uuid)/artifacts"
      }
      guard let folder = ExperimentArtifactLocation.localFolder(of: location) else {
        throw TrackingError(
          .invalidState,
          "The artifacts of run \(uuid) are at \(location)/\(uuid)/artifacts, where the client writes them itself; hpod reads artifacts on its own machine only"
        )
      }
      return "\(folder)/\(uuid)/artifacts"
    }
  }

  /// The artifact location `experiments/create` gave the experiment of a run made through
  /// the API; nil for its default, for a trial's run, or for no such run.
  public func artifactLocation(ofTrackedRun uuid: String) throws -> String? {
    try database.writer.read { db in
      try String.fetchOne(
        db,
        sql: """
          SELECT artifactLocation FROM trackingExperiment
          WHERE id = (SELECT experimentId FROM trackedRun WHERE runUuid = ?)
          """, arguments: [uuid])
    }
  }

  func requireActive(_ owner: RunOwner) throws {
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

  /// Params, latest metrics and tags of the runs `ids` selects (SQL yielding run keys), each
  /// read with one query.
  private struct RunData {
    var params: [Int64: [String: String]] = [:]
    var metrics: [Int64: [String: TrackingMetric]] = [:]
    var tags: [Int64: [String: String]] = [:]
  }

  private func data(
    _ db: Database, tables: (param: String, metric: String, tag: String, key: String), ids: String,
    _ arguments: StatementArguments
  ) throws -> RunData {
    var data = RunData()
    for row in try Row.fetchAll(
      db, sql: "SELECT \(tables.key) AS run, name, value FROM \(tables.param) WHERE \(tables.key) IN (\(ids))",
      arguments: arguments)
    {
      data.params[row["run"], default: [:]][row["name"]] = row["value"]
    }
    // In step order, so the last one read is a metric's latest.
    for row in try Row.fetchAll(
      db,
      sql: """
        SELECT \(tables.key) AS run, name, \(StoredMetricValue.select()) AS value, timestamp, step FROM \(tables.metric)
        WHERE \(tables.key) IN (\(ids)) ORDER BY \(tables.key), name, step, timestamp, rowid
        """, arguments: arguments)
    {
      let name: String = row["name"]
      data.metrics[row["run"], default: [:]][name] = TrackingMetric(
        key: name, value: StoredMetricValue.read(row["value"]), timestamp: row["timestamp"], step: row["step"])
    }
    for row in try Row.fetchAll(
      db, sql: "SELECT \(tables.key) AS run, key, value FROM \(tables.tag) WHERE \(tables.key) IN (\(ids))",
      arguments: arguments)
    {
      data.tags[row["run"], default: [:]][row["key"]] = row["value"]
    }
    return data
  }

  func run(of owner: RunOwner) throws -> TrackingRun {
    switch owner {
    case .trial(let trial, let study):
      guard let run = try trialRuns(study, only: trial).first else {
        throw TrackingError.missing("Run with id=\(Self.runId(trialId: trial.id!)) not found")
      }
      return run
    case .tracked(let id, let uuid):
      guard let run = try trackedRuns(where: "id = ?", [id]).first else {
        throw TrackingError.missing("Run with id=\(uuid) not found")
      }
      return run
    }
  }

  /// A study's trials as runs (or only the one trial given).
  private func trialRuns(_ study: StudyRecord, only single: TrialRecord? = nil) throws -> [TrackingRun] {
    let trialId = single?.id
    let trials = try single.map { [$0] } ?? database.trials(studyId: study.id!)
    // One run's lineage is read for it alone; a whole study's comes from its trials in memory.
    let lineages =
      try single.map { trial in try database.runLineage(trialId: trial.id!).map { [trial.id!: $0] } ?? [:] }
      ?? Self.lineages(trials)
    let experimentName = experimentName(study)
    return try database.writer.read { db in
      let experimentId =
        try Int64.fetchOne(db, sql: "SELECT id FROM trackingExperiment WHERE name = ?", arguments: [experimentName])
        ?? 0
      let data =
        try trialId.map {
          try self.data(db, tables: RunOwner.trialTables, ids: "?", [$0])
        } ?? self.data(db, tables: RunOwner.trialTables, ids: "SELECT id FROM trial WHERE studyId = ?", [study.id!])
      return trials.map { trial in
        let id = trial.id!
        let lineage = lineages[id]
        let name = lineage.map { RunIdentity.name(trial: trial, lineage: $0) } ?? "trial \(trial.number)"
        var identity = lineage.map { RunIdentity.tags(trial: trial, lineage: $0, study: study) } ?? []
        if trial.state.isFinished { identity += RunIdentity.endTags(of: trial) }
        var tags = data.tags[id] ?? [:]
        for (key, value) in identity + [("mlflow.runName", name), ("mlflow.user", "hpod")] where tags[key] == nil {
          tags[key] = value
        }
        return TrackingRun(
          runId: Self.runId(trialId: id), experimentId: experimentId, name: name, userId: "hpod",
          status: trial.state == .pending ? "SCHEDULED" : RunIdentity.status(of: trial.state),
          startTime: (trial.startedAt ?? trial.createdAt).millisecondsSince1970,
          endTime: trial.finishedAt?.millisecondsSince1970, lifecycleStage: "active", params: data.params[id] ?? [:],
          metrics: data.metrics[id] ?? [:], tags: tags)
      }
    }
  }

  /// Runs made through the API that `condition` selects.
  private func trackedRuns(where condition: String, _ arguments: StatementArguments) throws -> [TrackingRun] {
    try database.writer.read { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT *, (SELECT artifactLocation FROM trackingExperiment WHERE id = trackedRun.experimentId) AS artifactRoot
          FROM trackedRun WHERE \(condition)
          """, arguments: arguments)
      let data = try self.data(
        db, tables: RunOwner.trackedTables, ids: "SELECT id FROM trackedRun WHERE \(condition)", arguments)
      return rows.map { row in
        let id: Int64 = row["id"]
        return TrackingRun(
          runId: row["runUuid"], experimentId: row["experimentId"], name: row["name"], userId: row["userId"],
          status: row["status"], startTime: row["startTime"], endTime: row["endTime"],
          lifecycleStage: row["lifecycleStage"], params: data.params[id] ?? [:], metrics: data.metrics[id] ?? [:],
          tags: data.tags[id] ?? [:], artifactRoot: row["artifactRoot"])
      }
    }
  }

  /// Each trial's place in its study, from the study's trials in memory (what
  /// `AppDatabase.runLineage` reads trial by trial).
  static func lineages(_ trials: [TrialRecord]) -> [Int64: RunLineage] {
    let byId = Dictionary(uniqueKeysWithValues: trials.map { ($0.id!, $0) })
    func root(_ trial: TrialRecord) -> (TrialRecord, Int) {
      var current = trial
      var depth = 0
      while let previous = current.retryOf, let record = byId[previous] {
        current = record
        depth += 1
      }
      return (current, depth)
    }
    // The ordinal of a first run: how many first runs of its tier came up to it.
    var ordinals: [Int64: Int] = [:]
    var counts: [Tier: Int] = [:]
    for trial in trials.sorted(by: { $0.number < $1.number }) where trial.retryOf == nil && trial.repeatOf == nil {
      counts[trial.tier, default: 0] += 1
      ordinals[trial.id!] = counts[trial.tier]
    }
    var lineages: [Int64: RunLineage] = [:]
    for trial in trials {
      let (firstAttempt, attempt) = root(trial)
      // Repeats and their re-runs point at their configuration's first trial.
      let first = firstAttempt.repeatOf.flatMap { byId[$0] } ?? firstAttempt
      var configNumber = first.number
      var sourceNumber: Int?
      if let sourceId = first.sourceTrialId, let source = byId[sourceId] {
        sourceNumber = source.number
        configNumber = root(source.repeatOf.flatMap { byId[$0] } ?? source).0.number
      }
      lineages[trial.id!] = RunLineage(
        configNumber: configNumber, ordinal: ordinals[first.id!] ?? 1, attempt: attempt,
        sourceTrialNumber: sourceNumber, repeatIndex: trial.repeatIndex)
    }
    return lineages
  }

  /// The runs of some experiments that match `filter`, in `orderBy` order (start time, newest
  /// first, by default), `maxResults` at a time from `offset`. A later page (offset > 0) is
  /// cut from the result its first page found, for five minutes (see `SearchCache`).
  public func searchRuns(
    experimentIds: [Int64], filter: RunFilter?, viewType: ViewType, orderBy: [RunOrder], maxResults: Int, offset: Int
  ) throws -> (runs: [TrackingRun], nextOffset: Int?) {
    let query = "\(experimentIds)|\(filter.map { "\($0)" } ?? "")|\(viewType)|\(orderBy)"
    let runs: [TrackingRun]
    if offset > 0, let earlier = searches.withLock({ $0.runs(for: query) }) {
      runs = earlier
    } else {
      runs = try search(experimentIds: experimentIds, filter: filter, viewType: viewType, orderBy: orderBy)
      // Only a result with a later page is kept: a single page is never asked for again.
      if maxResults < runs.count - offset { searches.withLock { $0.keep(runs, for: query) } }
    }
    let page = try withInputsOutputs(Array(runs.dropFirst(offset).prefix(maxResults)))
    let next = offset + page.count < runs.count ? offset + page.count : nil
    return (page, next)
  }

  private func search(experimentIds: [Int64], filter: RunFilter?, viewType: ViewType, orderBy: [RunOrder]) throws
    -> [TrackingRun]
  {
    var runs: [TrackingRun] = []
    for experimentId in experimentIds {
      let experiment = try experiment(id: experimentId)
      if viewType != .deletedOnly {
        for study in try studies(inExperiment: experiment.name) { runs += try trialRuns(study) }
      }
      let stages = viewType.stages.map { "'\($0)'" }.joined(separator: ", ")
      runs += try trackedRuns(where: "experimentId = ? AND lifecycleStage IN (\(stages))", [experimentId])
    }
    if let filter { runs = try runs.filter(filter.matches) }
    runs.sort { RunOrder.precedes($0, $1, by: orderBy) }
    return runs
  }
}
