public import Foundation
public import GRDB

/// A registered version of a model: the trial that produced it, its final metrics, the
/// thresholds it met and where its file is.
public struct ModelVersion: Sendable, Hashable, Codable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "modelVersion"

  public var id: Int64?
  public var modelName: String
  public var version: Int
  public var trialId: Int64
  public var studyId: Int64
  /// The study's objective value for the run.
  public var value: Double?
  public var metricsJSON: String
  public var paramsJSON: String
  /// The conditions it met, as written in the spec, joined by " and ".
  public var conditions: String
  public var artifactPath: String?
  public var createdAt: Date

  public init(
    modelName: String, version: Int = 0, trialId: Int64, studyId: Int64, value: Double?, metricsJSON: String,
    paramsJSON: String, conditions: String, artifactPath: String?, createdAt: Date = Date()
  ) {
    self.modelName = modelName
    self.version = version
    self.trialId = trialId
    self.studyId = studyId
    self.value = value
    self.metricsJSON = metricsJSON
    self.paramsJSON = paramsJSON
    self.conditions = conditions
    self.artifactPath = artifactPath
    self.createdAt = createdAt
  }

  public mutating func didInsert(_ inserted: InsertionSuccess) {
    id = inserted.rowID
  }
}

/// An alias (`champion`) pointing at one version of a model.
public struct ModelAlias: Sendable, Hashable, Codable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "modelAlias"

  public var modelName: String
  public var alias: String
  public var version: Int
  public var updatedAt: Date
}

extension AppDatabase {
  /// Registers a new version of `version.modelName` (numbered after the last one) and, when
  /// `alias` is given, points it at the best registered version of the model: the highest
  /// `value` when `higherIsBetter`, else the lowest; or, with `aliasTrialId`, the version
  /// registered from that trial (a study's own choice, such as the Pareto front's pick), when
  /// there is one. `tagging` trials (the run and its repeats) get the `hpod.registration` tag
  /// `registered as NAME vN` and `note`; `extra` writes what the caller adds. One transaction.
  public func registerModel(
    _ version: ModelVersion, alias: String?, higherIsBetter: Bool, aliasTrialId: Int64? = nil,
    tagging trialIds: [Int64] = [], note: String = "",
    alsoWriting extra: ((Database, ModelVersion) throws -> Void)? = nil
  ) throws -> ModelVersion {
    try writer.write { db in
      var version = version
      version.version = try Self.nextVersion(of: version.modelName, db)
      try version.insert(db)
      try extra?(db, version)
      try enqueueMirrorWrite(.registerModel, trialId: version.trialId, payload: String(version.id!), db)
      let tag = [HpodTag.registration: "registered as \(version.modelName) v\(version.version)\(note)"]
      for trialId in trialIds {
        try TagRecord(trialId: trialId, key: HpodTag.registration, value: tag[HpodTag.registration]!).upsert(db)
        try enqueueMirrorWrite(.setTags, trialId: trialId, payload: Self.json(tag), db)
      }
      if let alias {
        let order = higherIsBetter ? "DESC" : "ASC"
        let chosen = try aliasTrialId.flatMap { trialId in
          try Int.fetchOne(
            db, sql: "SELECT MAX(version) FROM modelVersion WHERE modelName = ? AND trialId = ?",
            arguments: [version.modelName, trialId])
        }
        let best =
          try chosen
          ?? Int.fetchOne(
            db,
            sql: """
              SELECT version FROM modelVersion WHERE modelName = ? AND value IS NOT NULL
              ORDER BY value \(order), version ASC LIMIT 1
              """, arguments: [version.modelName]) ?? version.version
        try ModelAlias(modelName: version.modelName, alias: alias, version: best, updatedAt: Date()).upsert(db)
      }
      return version
    }
  }

  public func modelVersions(named name: String? = nil) throws -> [ModelVersion] {
    try writer.read { db in
      var request = ModelVersion.order(Column("modelName"), Column("version"))
      if let name { request = request.filter(Column("modelName") == name) }
      return try request.fetchAll(db)
    }
  }

  public func modelAliases(named name: String? = nil) throws -> [ModelAlias] {
    try writer.read { db in
      var request = ModelAlias.order(Column("modelName"), Column("alias"))
      if let name { request = request.filter(Column("modelName") == name) }
      return try request.fetchAll(db)
    }
  }

  /// The last value of each metric of a trial: a `final` report when there is one (it is
  /// stored last), else the value at the highest step.
  public func finalMetrics(trialId: Int64) throws -> [String: Double] {
    try writer.read { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT name, \(StoredMetricValue.select()) AS value FROM metric WHERE trialId = ?
          ORDER BY name, step, rowid
          """, arguments: [trialId])
      var metrics: [String: Double] = [:]
      for row in rows { metrics[row["name"]] = StoredMetricValue.read(row["value"]) }
      return metrics
    }
  }

  /// The last value of every metric of every trial of a study, in one read.
  public func lastMetricValues(studyId: Int64) throws -> [Int64: [String: Double]] {
    try writer.read { db in
      let rows = try Row.fetchCursor(
        db,
        sql: """
          SELECT metric.trialId, metric.name, \(StoredMetricValue.select("metric")) FROM metric
          JOIN trial ON trial.id = metric.trialId
          WHERE trial.studyId = ? ORDER BY metric.trialId, metric.name, metric.step, metric.rowid
          """, arguments: [studyId])
      var values: [Int64: [String: Double]] = [:]
      while let row = try rows.next() { values[row[0], default: [:]][row[1]] = StoredMetricValue.read(row[2]) }
      return values
    }
  }
}
