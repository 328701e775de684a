import Foundation
import GRDB

// What the API changes on a version: its description, stage and tags, or deletes it. For a
// version a study registered the change is kept beside it (`registryVersion`, isHpodVersion).
extension TrackingStore {
  public func updateModelVersion(name: String, version: Int, description: String) throws -> RegistryVersion {
    let found = try modelVersion(name: name, version: version)
    try change(found) { db, now in
      try db.execute(
        sql: "UPDATE registryVersion SET description = ?, updatedAt = ? WHERE modelName = ? AND version = ?",
        arguments: [description, now, name, version])
    }
    return try modelVersion(name: name, version: version)
  }

  /// MLflow's (deprecated) stage transition; `archiveExisting` moves the model's other versions
  /// in that stage to `Archived`, for `Staging` and `Production` only, as MLflow does.
  public func transitionStage(name: String, version: Int, stage text: String, archiveExisting: Bool) throws
    -> RegistryVersion
  {
    let stage = try Self.canonicalStage(text)
    guard !archiveExisting || ["Staging", "Production"].contains(stage) else {
      throw TrackingError.invalid(
        "Model version transition cannot archive existing model versions because '\(text)' is not an Active stage. Valid stages are ['Staging', 'Production']"
      )
    }
    let found = try modelVersion(name: name, version: version)
    let others =
      archiveExisting ? try model(named: name).versions.filter { $0.stage == stage && $0.version != version } : []
    try database.writer.write { db in
      let now = Self.now()
      for (each, newStage) in [(found, stage)] + others.map({ ($0, "Archived") }) {
        try Self.ensureRow(db, each, now: now)
        try db.execute(
          sql: "UPDATE registryVersion SET stage = ?, updatedAt = ? WHERE modelName = ? AND version = ?",
          arguments: [newStage, now, name, each.version])
      }
    }
    return try modelVersion(name: name, version: version)
  }

  public func setVersionTag(name: String, version: Int, key: String, value: String) throws {
    let found = try modelVersion(name: name, version: version)
    try Self.checkRegistryTag(key, value)
    try change(found) { db, _ in
      try db.execute(
        sql: "INSERT OR REPLACE INTO registryVersionTag (modelName, version, key, value) VALUES (?, ?, ?, ?)",
        arguments: [name, version, key, value])
    }
  }

  /// Deleting a tag the version lacks is no error, as in MLflow.
  public func deleteVersionTag(name: String, version: Int, key: String) throws {
    let found = try modelVersion(name: name, version: version)
    try Validation.key(key, what: "tag key", limit: 250)
    try change(found) { db, _ in
      try db.execute(
        sql: "DELETE FROM registryVersionTag WHERE modelName = ? AND version = ? AND key = ?",
        arguments: [name, version, key])
    }
  }

  /// Deletes a version made through the API (its number is not given again) with its tags and
  /// the aliases naming it. A version a study registered stays: hpod's own record of the study.
  public func deleteModelVersion(name: String, version: Int) throws {
    let found = try modelVersion(name: name, version: version)
    guard found.hpodVersion == nil else {
      throw TrackingError(
        .invalidState,
        "Model Version (name=\(name), version=\(version)) was registered by hpod (from \(found.runId)) and cannot be deleted through the MLflow API"
      )
    }
    try database.writer.write { db in
      try db.execute(
        sql: "UPDATE registryVersion SET stage = ?, updatedAt = ? WHERE modelName = ? AND version = ?",
        arguments: [RegistryVersion.deletedStage, Self.now(), name, version])
      try db.execute(
        sql: "DELETE FROM registryVersionTag WHERE modelName = ? AND version = ?", arguments: [name, version])
      try db.execute(sql: "DELETE FROM modelAlias WHERE modelName = ? AND version = ?", arguments: [name, version])
    }
  }

  /// Runs `write` once the version has its row (a study's version has none until changed).
  private func change(_ version: RegistryVersion, _ write: (Database, Int64) throws -> Void) throws {
    try database.writer.write { db in
      let now = Self.now()
      try Self.ensureRow(db, version, now: now)
      try write(db, now)
      try db.execute(
        sql: "UPDATE registryVersion SET updatedAt = ? WHERE modelName = ? AND version = ?",
        arguments: [now, version.modelName, version.version])
    }
  }

  private static func ensureRow(_ db: Database, _ version: RegistryVersion, now: Int64) throws {
    try db.execute(
      sql: """
        INSERT OR IGNORE INTO registryVersion (modelName, version, isHpodVersion, createdAt, updatedAt)
        VALUES (?, ?, 1, ?, ?)
        """, arguments: [version.modelName, version.version, version.creationTime, now])
  }
}
