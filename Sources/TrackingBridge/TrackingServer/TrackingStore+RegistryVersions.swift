public import Foundation
import GRDB

// Versions of registered models: those hpod's studies registered (`modelVersion`, shown with
// where their files are) and those made through the API of any run or logged model
// (`registryVersion`). One numbering per model across both.
extension TrackingStore {
  /// Every live version (of the model `name` names, or of all), by model and number.
  func registryVersions(named name: String?) throws -> [RegistryVersion] {
    try syncStudyExperiments()
    let hpodVersions = try database.modelVersions(named: name)
    let (rows, tagRows) = try database.writer.read { db in
      let condition = name == nil ? "" : "WHERE modelName = ?"
      let arguments: StatementArguments = name.map { [$0] } ?? []
      return (
        try Row.fetchAll(db, sql: "SELECT * FROM registryVersion \(condition)", arguments: arguments),
        try Row.fetchAll(db, sql: "SELECT * FROM registryVersionTag \(condition)", arguments: arguments)
      )
    }
    var tags: [VersionKey: [String: String]] = [:]
    for row in tagRows { tags[VersionKey(row), default: [:]][row["key"]] = row["value"] }
    var overlays: [VersionKey: Row] = [:]
    var versions: [RegistryVersion] = []
    for row in rows {
      if row["isHpodVersion"] {
        overlays[VersionKey(row)] = row
      } else if row["stage"] != RegistryVersion.deletedStage {
        versions.append(
          RegistryVersion(
            modelName: row["modelName"], version: row["version"], runId: row["runId"], source: row["source"],
            storageLocation: row["storageLocation"], modelId: row["modelId"], description: row["description"],
            stage: row["stage"], creationTime: row["createdAt"], lastUpdateTime: row["updatedAt"],
            tags: tags[VersionKey(row)] ?? [:], hpodVersion: nil))
      }
    }
    var experiments: [Int64: Int64] = [:]
    for version in hpodVersions {
      let key = VersionKey(name: version.modelName, version: version.version)
      versions.append(
        try registryVersion(of: version, overlay: overlays[key], tags: tags[key] ?? [:], experiments: &experiments))
    }
    return versions.sorted { ($0.modelName, $0.version) < ($1.modelName, $1.version) }
  }

  struct VersionKey: Hashable {
    var name: String
    var version: Int

    init(name: String, version: Int) {
      self.name = name
      self.version = version
    }

    init(_ row: Row) {
      self.init(name: row["modelName"], version: row["version"])
    }
  }

  /// A version a study registered, as MLflow shows it. Its files: the model file the spec's
  /// `registration.artifact` names in the trial's artifacts, else the last MLflow model the
  /// trial logged (`log_model`), else the trial's artifacts folder.
  private func registryVersion(
    of version: ModelVersion, overlay: Row?, tags extra: [String: String], experiments: inout [Int64: Int64]
  ) throws -> RegistryVersion {
    let runId = Self.runId(trialId: version.trialId)
    let created = version.createdAt.millisecondsSince1970
    var made = RegistryVersion(
      modelName: version.modelName, version: version.version, runId: runId, source: overlay?["source"] ?? "",
      storageLocation: overlay?["storageLocation"] ?? "", modelId: overlay?["modelId"],
      description: overlay?["description"] ?? "", stage: overlay?["stage"] ?? "None", creationTime: created,
      lastUpdateTime: overlay?["updatedAt"] ?? created,
      tags: Self.tags(of: version).merging(extra, uniquingKeysWith: { _, set in set }), hpodVersion: version)
    guard made.source.isEmpty else { return made }
    if experiments[version.studyId] == nil, let study = try database.study(id: version.studyId) {
      experiments[version.studyId] = try experiment(named: experimentName(study)).id
    }
    let artifacts = "mlflow-artifacts:/\(experiments[version.studyId] ?? 0)/\(runId)/artifacts"
    let folder = try database.trial(id: version.trialId).flatMap { try? artifactDirectory(Self.runId(trialId: $0.id!)) }
    if let path = version.artifactPath, let folder, path.hasPrefix(folder + "/") {
      let inside = String(path.dropFirst(folder.count + 1))
      made.source = "runs:/\(runId)/\(inside)"
      made.storageLocation = "\(artifacts)/\(inside)"
    } else if let logged = try lastLoggedModel(ofRun: runId) {
      made.source = "models:/\(logged.id)"
      made.storageLocation = logged.artifactURI
      made.modelId = logged.id
    } else {
      made.source = artifacts
      made.storageLocation = artifacts
    }
    return made
  }

  /// The ready MLflow model a run logged last (at the highest step), if any.
  func lastLoggedModel(ofRun runId: String) throws -> TrackingLoggedModel? {
    try database.writer.read { db in
      guard
        let id = try String.fetchOne(
          db,
          sql: """
            SELECT loggedModel.id FROM runModelOutput JOIN loggedModel ON loggedModel.id = runModelOutput.modelId
            WHERE runModelOutput.runId = ? AND loggedModel.status = ? AND loggedModel.lifecycleStage = 'active'
            ORDER BY runModelOutput.step DESC, loggedModel.createdAt DESC, runModelOutput.rowid DESC LIMIT 1
            """, arguments: [runId, LoggedModelStatus.ready.rawValue])
      else { return nil }
      return try loggedModels(db, where: "id = ?", [id]).first
    }
  }

  public func modelVersion(name: String, version: Int) throws -> RegistryVersion {
    guard let found = try model(named: name).versions.first(where: { $0.version == version }) else {
      throw TrackingError.missing("Model Version (name=\(name), version=\(version)) not found")
    }
    return found
  }

  /// A new version of `name` from `source`: `runs:/<run>/<path>`, an artifact URI, a logged
  /// model (`models:/m-<id>`, or `modelId`) or another version (`models:/<name>/<version>`,
  /// `models:/<name>@<alias>`). A version of a trial's run joins hpod's registry (as a study's
  /// registration would make it); any other is kept for the API.
  public func createModelVersion(
    name: String, source: String, runId: String?, modelId: String?, tags: [(String, String)], description: String
  ) throws -> RegistryVersion {
    _ = try model(named: name)
    for (key, value) in tags { try Self.checkRegistryTag(key, value) }
    let resolved = try resolveSource(
      source, runId: runId.flatMap { $0.isEmpty ? nil : $0 }, modelId: modelId.flatMap { $0.isEmpty ? nil : $0 })
    let (source, storage, runId, modelId) = (resolved.source, resolved.storage, resolved.runId, resolved.modelId)
    // A run id MLflow's server does not check: a version may name a run this store lacks.
    var trialRun: TrialRecord?
    if let runId, runId.hasPrefix(Self.trialRunPrefix), case .trial(let trial, _) = try owner(runId) {
      trialRun = trial
    }
    let now = Self.now()
    var fields: [String: DatabaseValue] = [:]
    fields["source"] = source.databaseValue
    fields["storageLocation"] = storage.databaseValue
    fields["modelId"] = modelId?.databaseValue ?? .null
    fields["description"] = description.databaseValue
    fields["createdAt"] = now.databaseValue
    fields["updatedAt"] = now.databaseValue
    fields["runId"] = (runId ?? "").databaseValue
    if let trial = trialRun {
      let folder = try artifactDirectory(runId!)
      let path = Self.artifactPath(source, runId: runId!).map { "\(folder)/\($0)" }
      let version = try database.registerModel(
        ModelVersion(
          modelName: name, trialId: trial.id!, studyId: trial.studyId, value: trial.value,
          metricsJSON: JSONCoding.text(try database.finalMetrics(trialId: trial.id!)), paramsJSON: trial.paramsJSON,
          conditions: "", artifactPath: path),
        alias: nil, higherIsBetter: true
      ) { db, version in
        try Self.insertVersionRow(db, name: name, version: version.version, hpod: true, fields: fields, tags: tags)
      }
      return try modelVersion(name: name, version: version.version)
    }
    let number = try database.writer.write { db in
      let number = try AppDatabase.nextVersion(of: name, db)
      try Self.insertVersionRow(db, name: name, version: number, hpod: false, fields: fields, tags: tags)
      return number
    }
    return try modelVersion(name: name, version: number)
  }

  private static func insertVersionRow(
    _ db: Database, name: String, version: Int, hpod: Bool, fields: [String: DatabaseValue],
    tags: [(String, String)]
  ) throws {
    let columns = fields.keys.sorted()
    try db.execute(
      sql: """
        INSERT INTO registryVersion (modelName, version, isHpodVersion, \(columns.joined(separator: ", ")))
        VALUES (?, ?, ?, \(columns.map { _ in "?" }.joined(separator: ", ")))
        """,
      arguments: StatementArguments(
        [name.databaseValue, version.databaseValue, hpod.databaseValue] + columns.map { fields[$0]! }))
    for (key, value) in tags {
      try db.execute(
        sql: "INSERT OR REPLACE INTO registryVersionTag (modelName, version, key, value) VALUES (?, ?, ?, ?)",
        arguments: [name, version, key, value])
    }
  }

  /// The artifact path a version's source names inside its run's artifacts, if it names one.
  static func artifactPath(_ source: String, runId: String) -> String? {
    for prefix in ["runs:/\(runId)/", "/\(runId)/artifacts/"] {
      if let range = source.range(of: prefix) {
        let rest = String(source[range.upperBound...])
        return rest.isEmpty || rest.split(separator: "/").contains("..") ? nil : rest
      }
    }
    return nil
  }

  /// The latest live version in each of `stages` (all of MLflow's stages when empty).
  public func latestVersions(name: String, stages: [String]) throws -> [RegistryVersion] {
    let model = try model(named: name)
    let wanted = try stages.isEmpty ? RegistryVersion.stages : stages.map(Self.canonicalStage)
    return wanted.compactMap { stage in model.versions.last { $0.stage == stage } }
  }

  static func canonicalStage(_ text: String) throws -> String {
    guard let stage = RegistryVersion.stage(text) else {
      throw TrackingError.invalid(
        "Invalid Model Version stage: \(text). Value must be one of \(RegistryVersion.stages.joined(separator: ", ")).")
    }
    return stage
  }
}

extension AppDatabase {
  /// The number a new version of `name` gets: one past the highest ever given, by a study or
  /// through the API (a deleted version's number is not given again).
  static func nextVersion(of name: String, _ db: Database) throws -> Int {
    try Int.fetchOne(
      db,
      sql: """
        SELECT COALESCE(MAX(version), 0) + 1 FROM (
          SELECT version FROM modelVersion WHERE modelName = ?
          UNION ALL SELECT version FROM registryVersion WHERE modelName = ?)
        """, arguments: [name, name]) ?? 1
  }
}

extension TrackingStore {
  /// The tags a version a study registered carries in MLflow's registry (thresholds met,
  /// metrics), as the mirror writes them.
  public static func tags(of version: ModelVersion) -> [String: String] {
    Dictionary(RunIdentity.versionTags(version), uniquingKeysWith: { _, last in last })
  }
}
