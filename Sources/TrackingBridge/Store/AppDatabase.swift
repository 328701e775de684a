public import Foundation
public import GRDB
import Significance
public import StudyModel

#if canImport(Glibc)
  import Glibc
#endif

/// The embedded tracking store: one SQLite file in WAL mode, the source of truth for studies,
/// trials, parameters, metric points and tags.
///
/// Every state change is one transaction, so a crash at any moment leaves the file consistent.
/// Writes are named after what they mean (`startTrial`, `finishTrial`); a finished trial is
/// never changed again.
public struct AppDatabase: Sendable {
  public let writer: any DatabaseWriter

  public init(_ writer: any DatabaseWriter) throws {
    self.writer = writer
    try Migrations.migrator.migrate(writer)
  }

  /// A store that lives in memory, migrated like a file's: for unit tests of what reads and
  /// writes records, where the file's durability is not what is tested.
  public static func inMemory() throws -> AppDatabase {
    try AppDatabase(DatabaseQueue())
  }

  /// Opens (creating if needed) the store at `path`, creating its folder too.
  public static func open(at path: String) throws -> AppDatabase {
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    var configuration = GRDB.Configuration()
    configuration.busyMode = .timeout(10)
    configuration.prepareDatabase { db in
      // Durable enough (WAL survives a process crash) without an fsync per transaction.
      try db.execute(sql: "PRAGMA synchronous = NORMAL")
    }
    // Two hpod processes starting on a new store at once (hpod run and hpod serve) would both
    // see it unmigrated and both create its tables: the first to open migrates, the other
    // waits for it on an flock beside the store.
    // A lock that cannot be taken (a folder hpod cannot write) is said as such: the store
    // beside it could not be written either.
    let lock = try FileLock.lock("\(path).migrate-lock")
    defer { lock.release() }
    do {
      return try AppDatabase(DatabasePool(path: path, configuration: configuration))
    } catch let error as DatabaseError {
      throw StoreError.cannotOpen(path: path, underlying: error.description)
    }
  }
}

/// Store failures a user can act on.
public enum StoreError: Error, Sendable, CustomStringConvertible {
  case cannotOpen(path: String, underlying: String)
  case notFound(String)

  public var description: String {
    switch self {
    case .cannotOpen(let path, let underlying):
      "cannot open the hpod store at \(path): \(underlying). Check that the folder is writable, or set HPOD_HOME to another folder."
    case .notFound(let what):
      "\(what) not found in the store"
    }
  }
}

// MARK: - Studies

extension AppDatabase {
  public func createStudy(_ study: StudyRecord) throws -> StudyRecord {
    try writer.write { db in
      var study = study
      try study.insert(db)
      return study
    }
  }

  public func study(id: Int64) throws -> StudyRecord? {
    try writer.read { db in try StudyRecord.fetchOne(db, key: id) }
  }

  /// The most recently created study with this name; with `before`, the most recent one
  /// created before the study of that id.
  public func latestStudy(named name: String, before id: Int64? = nil) throws -> StudyRecord? {
    try writer.read { db in
      var request = StudyRecord.filter(StudyRecord.Columns.name == name)
      if let id { request = request.filter(StudyRecord.Columns.id < id) }
      return try request.order(StudyRecord.Columns.id.desc).fetchOne(db)
    }
  }

  public func studies() throws -> [StudyRecord] {
    try writer.read { db in try StudyRecord.order(StudyRecord.Columns.id.desc).fetchAll(db) }
  }

  /// Puts an edited spec on a study that goes on under it, in one transaction: the spec's
  /// text, path and digest; a finished study becomes `interrupted` (its next run goes on).
  /// With `rejudgeRegistration`, runs that were judged not to meet the registration
  /// thresholds lose that verdict, so the next run judges them by the new ones.
  public func continueStudy(
    id: Int64, specYAML: String, specPath: String?, specHash: String, rejudgeRegistration: Bool
  ) throws -> StudyRecord {
    try writer.write { db in
      guard var study = try StudyRecord.fetchOne(db, key: id) else { throw StoreError.notFound("study \(id)") }
      study.specYAML = specYAML
      study.specPath = specPath
      study.specHash = specHash
      study.updatedAt = Date()
      if study.state.isFinished {
        study.state = .interrupted
        study.stateReason = "continued under an edited spec"
        study.finishedAt = nil
      }
      try study.update(db)
      if rejudgeRegistration {
        try db.execute(
          sql: """
            DELETE FROM tag WHERE key = 'hpod.registration' AND value LIKE 'not registered%'
              AND trialId IN (SELECT id FROM trial WHERE studyId = ?)
            """,
          arguments: [id])
      }
      return study
    }
  }

  public func setStudyState(id: Int64, _ state: StudyState, reason: String? = nil) throws {
    try writer.write { db in
      let now = Date()
      try db.execute(
        sql: "UPDATE study SET state = ?, stateReason = ?, updatedAt = ?, finishedAt = ? WHERE id = ?",
        arguments: [state.rawValue, reason, now, state.isFinished ? now : nil, id])
    }
  }
}

// MARK: - Trials

extension AppDatabase {
  /// Creates a pending trial with its parameters, numbering it after the study's last trial.
  public func createTrial(
    studyId: Int64, tier: Tier, params: [(name: String, value: String, numeric: Double?)], paramsJSON: String,
    retryOf: Int64? = nil, sourceTrialId: Int64? = nil, repeatOf: Int64? = nil, repeatIndex: Int = 0,
    seed: Int64? = nil
  ) throws -> TrialRecord {
    try perform(
      creatingTrial(
        TrialRecord(
          studyId: studyId, number: 0, tier: tier, paramsJSON: paramsJSON, retryOf: retryOf,
          sourceTrialId: sourceTrialId, repeatOf: repeatOf, repeatIndex: repeatIndex, seed: seed),
        params: params.map { ParamRecord(trialId: 0, name: $0.name, value: $0.value, numericValue: $0.numeric) }))
  }

  /// The write that creates `trial` (numbered after the study's last trial) with its parameters.
  /// `tags`: set with the trial, in the same transaction (the queued configuration it runs).
  public func creatingTrial(_ trial: TrialRecord, params: [ParamRecord], tags: [String: String] = [:])
    -> StoreWrite<TrialRecord>
  {
    StoreWrite { db in
      var trial = trial
      trial.number =
        try Int.fetchOne(
          db, sql: "SELECT COALESCE(MAX(number) + 1, 0) FROM trial WHERE studyId = ?", arguments: [trial.studyId])
        ?? 0
      try trial.insert(db)
      for var param in params {
        param.trialId = trial.id!
        try param.insert(db)
      }
      try enqueueMirrorWrite(.createRun, trialId: trial.id!, db)
      for (key, value) in tags { try TagRecord(trialId: trial.id!, key: key, value: value).upsert(db) }
      if !tags.isEmpty { try enqueueMirrorWrite(.setTags, trialId: trial.id!, payload: Self.json(tags), db) }
      return trial
    }
  }

  /// Records that the trial's process started (or its job began to run); returns the updated
  /// trial (nil if it was not pending).
  @discardableResult
  public func startTrial(_ trial: TrialRecord, handle: String, runDirectory: String, at date: Date = Date()) throws
    -> TrialRecord?
  {
    try perform(startingTrial(trial, handle: handle, runDirectory: runDirectory, at: date))
  }

  /// The write that marks a pending trial running.
  public func startingTrial(_ trial: TrialRecord, handle: String, runDirectory: String, at date: Date = Date())
    -> StoreWrite<TrialRecord?>
  {
    StoreWrite { db in
      let statement = try db.cachedStatement(
        sql: """
          UPDATE trial SET state = 'running', startedAt = ?, handle = ?, runDirectory = ?, reason = NULL
          WHERE id = ? AND state = 'pending'
          """)
      try statement.execute(arguments: [date, handle, runDirectory, trial.id])
      guard db.changesCount > 0 else { return nil }
      var started = trial
      started.state = .running
      started.startedAt = date
      started.handle = handle
      started.runDirectory = runDirectory
      return started
    }
  }

  /// Saves where the executor runs an unfinished trial (a job submitted but not yet running,
  /// or a file offset it has read up to), so a restarted hpod finds it again.
  public func setHandle(trialId: Int64, _ handle: String, runDirectory: String) throws {
    try perform(settingHandle(trialId: trialId, handle, runDirectory: runDirectory))
  }

  public func settingHandle(trialId: Int64, _ handle: String, runDirectory: String) -> StoreWrite<Void> {
    StoreWrite { db in
      try db.execute(
        sql: "UPDATE trial SET handle = ?, runDirectory = ? WHERE id = ? AND state IN ('pending', 'running')",
        arguments: [handle, runDirectory, trialId])
    }
  }

  /// Why an unfinished trial waits (a cluster job held in its queue, a cluster that does not
  /// answer), shown as its reason until it runs or ends; nil once it no longer waits.
  public func settingWaitReason(trialId: Int64, _ reason: String?) -> StoreWrite<Void> {
    StoreWrite { db in
      try db.execute(
        sql: "UPDATE trial SET reason = ? WHERE id = ? AND state IN ('pending', 'running')",
        arguments: [reason, trialId])
    }
  }

  /// How a trial ended.
  public struct TrialOutcome: Sendable, Hashable {
    public var state: TrialState
    public var value: Double?
    public var exitCode: Int?
    public var signal: Int?
    public var reason: String?
    public var malformedLines: Int

    public init(
      state: TrialState, value: Double? = nil, exitCode: Int? = nil, signal: Int? = nil, reason: String? = nil,
      malformedLines: Int = 0
    ) {
      self.state = state
      self.value = value
      self.exitCode = exitCode
      self.signal = signal
      self.reason = reason
      self.malformedLines = malformedLines
    }
  }

  /// Records how a trial ended, with any metric points not yet written, in one transaction.
  /// Returns the finished trial, or nil (changing nothing) if it had already finished.
  @discardableResult
  public func finishTrial(id: Int64, _ outcome: TrialOutcome, metrics: [MetricPoint] = [], at date: Date = Date())
    throws -> TrialRecord?
  {
    try perform(finishingTrial(id: id, outcome, metrics: metrics, at: date))
  }

  /// The write that records how a trial ended (see `finishTrial`). With `whileStudyRuns`
  /// (a tell), a trial whose study has finished (cancelled, say) is not finished either. The points are
  /// written only once the trial is finished by this write: a refused finish writes nothing.
  public func finishingTrial(
    id: Int64, _ outcome: TrialOutcome, metrics: [MetricPoint] = [], at date: Date = Date(),
    whileStudyRuns: Bool = false
  ) -> StoreWrite<TrialRecord?> {
    precondition(outcome.state.isFinished, "finishTrial needs a finished state, got \(outcome.state)")
    return StoreWrite { db in
      let statement = try db.cachedStatement(
        sql: """
          UPDATE trial SET state = ?, value = ?, exitCode = ?, signal = ?, reason = ?, malformedLines = ?,
            finishedAt = ?
          WHERE id = ? AND state IN ('pending', 'running')
            AND (? = 0 OR (SELECT state FROM study WHERE study.id = trial.studyId) IN ('running', 'interrupted'))
          """)
      try statement.execute(arguments: [
        outcome.state.rawValue, outcome.value, outcome.exitCode, outcome.signal, outcome.reason,
        outcome.malformedLines, date, id, whileStudyRuns,
      ])
      guard db.changesCount > 0 else { return nil }
      try insert(metrics, db)
      try enqueueMirrorWrite(.endRun, trialId: id, db)
      try enqueueMirrorWrite(.uploadArtifacts, trialId: id, db)
      let finished = try TrialRecord.fetchOne(db, key: id)
      if let finished, finished.state == .completed { try tagRepeatSummary(of: finished, db) }
      return finished
    }
  }

  public func trial(id: Int64) throws -> TrialRecord? {
    try writer.read { db in try TrialRecord.fetchOne(db, key: id) }
  }

  /// How `trials(studyId:matching:)` orders trials.
  public enum TrialOrder: String, Sendable {
    case number
    case value
    case duration
  }

  /// A study's trials filtered, sorted and limited in SQL. `.value` sorts best first
  /// (trials without a value last) unless `descending` flips it.
  public func trials(
    studyId: Int64, state: TrialState? = nil, tier: Tier? = nil, order: TrialOrder = .number,
    higherIsBetter: Bool = false, descending: Bool = false, limit: Int? = nil
  ) throws -> [TrialRecord] {
    try writer.read { db in
      var request = TrialRecord.filter(TrialRecord.Columns.studyId == studyId)
      if let state { request = request.filter(TrialRecord.Columns.state == state.rawValue) }
      if let tier { request = request.filter(TrialRecord.Columns.tier == tier.rawValue) }
      let value = Column("value")
      switch order {
      case .number:
        request = request.order(descending ? TrialRecord.Columns.number.desc : TrialRecord.Columns.number.asc)
      case .value:
        // Valued trials in index order first, then the ones without a value.
        let bestFirst = higherIsBetter != descending
        let valued = try request.filter(value != nil).order(bestFirst ? value.desc : value.asc)
          .limit(limit ?? Int.max).fetchAll(db)
        guard valued.count < limit ?? Int.max else { return valued }
        let rest = try request.filter(value == nil).order(TrialRecord.Columns.number)
          .limit(limit.map { $0 - valued.count } ?? Int.max).fetchAll(db)
        return valued + rest
      case .duration:
        let duration = SQL("julianday(finishedAt) - julianday(startedAt)").sqlExpression
        request = request.order(descending ? duration.desc : duration.asc)
      }
      if let limit { request = request.limit(limit) }
      return try request.fetchAll(db)
    }
  }

  public func params(trialId: Int64) throws -> [ParamRecord] {
    try writer.read { db in
      try ParamRecord.filter(Column("trialId") == trialId).order(Column("name")).fetchAll(db)
    }
  }
}
