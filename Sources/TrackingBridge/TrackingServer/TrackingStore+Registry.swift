public import Foundation
import GRDB

/// A registered model as MLflow's registry API shows it: hpod's registry (the versions
/// registration made, and those made through the API from trials' runs).
public struct TrackingModel: Sendable, Hashable {
  public var name: String
  public var description: String
  public var creationTime: Int64
  public var lastUpdateTime: Int64
  public var versions: [ModelVersion]
  /// Alias → version.
  public var aliases: [String: Int]
}

// The model registry: registered models, their versions and aliases.
extension TrackingStore {
  public func model(named name: String) throws -> TrackingModel {
    guard let model = try models().first(where: { $0.name == name }) else {
      throw TrackingError.missing("Registered Model with name=\(name) not found")
    }
    return model
  }

  /// Every registered model, by name.
  public func models() throws -> [TrackingModel] {
    let versions = Dictionary(grouping: try database.modelVersions(), by: \.modelName)
    let aliases = Dictionary(grouping: try database.modelAliases(), by: \.modelName)
    let made = try database.writer.read { db in
      try Row.fetchAll(db, sql: "SELECT name, description, createdAt FROM registeredModel")
    }
    var models: [String: TrackingModel] = [:]
    for row in made {
      let name: String = row["name"]
      models[name] = TrackingModel(
        name: name, description: row["description"], creationTime: row["createdAt"], lastUpdateTime: row["createdAt"],
        versions: [], aliases: [:])
    }
    for (name, list) in versions {
      let created = list.map(\.createdAt.millisecondsSince1970)
      var model =
        models[name]
        ?? TrackingModel(
          name: name, description: "", creationTime: created.min() ?? 0, lastUpdateTime: 0, versions: [], aliases: [:])
      model.versions = list.sorted { $0.version < $1.version }
      model.lastUpdateTime = max(model.creationTime, created.max() ?? 0)
      models[name] = model
    }
    for (name, list) in aliases {
      models[name]?.aliases = Dictionary(list.map { ($0.alias, $0.version) }, uniquingKeysWith: { _, last in last })
    }
    return models.values.sorted { $0.name < $1.name }
  }

  public func createModel(name: String, description: String) throws -> TrackingModel {
    try Validation.name(name, what: "registered model name", limit: 256)
    guard (try? model(named: name)) == nil else {
      throw TrackingError(.resourceAlreadyExists, "Registered Model (name=\(name)) already exists.")
    }
    try database.writer.write { db in
      try db.execute(
        sql: "INSERT INTO registeredModel (name, description, createdAt) VALUES (?, ?, ?)",
        arguments: [name, description, Self.now()])
    }
    return try model(named: name)
  }

  /// A new version from a trial's run; `source` names the model file in its artifacts
  /// (`runs:/<run>/<path>` or the run's `mlflow-artifacts:` URI and a path).
  public func createModelVersion(name: String, source: String, runId: String?) throws -> ModelVersion {
    _ = try model(named: name)
    guard let runId else {
      throw TrackingError.invalid("hpod's registry keeps versions of runs' models: give run_id")
    }
    guard case .trial(let trial, _) = try owner(runId) else {
      throw TrackingError.invalid(
        "Run \(runId) is not a trial of an hpod study: hpod's registry keeps versions of trials' models")
    }
    let path = Self.artifactPath(source, runId: runId)
    let metrics = try database.finalMetrics(trialId: trial.id!)
    return try database.registerModel(
      ModelVersion(
        modelName: name, trialId: trial.id!, studyId: trial.studyId, value: trial.value,
        metricsJSON: JSONCoding.text(metrics), paramsJSON: trial.paramsJSON, conditions: "", artifactPath: path),
      alias: nil, higherIsBetter: true)
  }

  /// The artifact path a version's source names inside its run's artifacts, if it names one.
  static func artifactPath(_ source: String, runId: String) -> String? {
    for prefix in ["runs:/\(runId)/", "artifacts/"] {
      if let range = source.range(of: prefix) {
        let rest = String(source[range.upperBound...])
        return rest.isEmpty ? nil : rest
      }
    }
    return nil
  }

  public func modelVersion(name: String, version: Int) throws -> ModelVersion {
    guard let found = try model(named: name).versions.first(where: { $0.version == version }) else {
      throw TrackingError.missing("Model Version (name=\(name), version=\(version)) not found")
    }
    return found
  }

  public func setAlias(name: String, alias: String, version: Int) throws {
    _ = try modelVersion(name: name, version: version)
    try Validation.name(alias, what: "alias", limit: 256)
    guard alias.lowercased() != "latest", !(alias.first == "v" && Int(alias.dropFirst()) != nil) else {
      throw TrackingError.invalid("'\(alias)' is reserved and cannot be used as an alias")
    }
    try database.writer.write { db in
      try ModelAlias(modelName: name, alias: alias, version: version, updatedAt: Date()).upsert(db)
    }
  }

  public func deleteAlias(name: String, alias: String) throws {
    _ = try model(named: name)
    try database.writer.write { db in
      try db.execute(sql: "DELETE FROM modelAlias WHERE modelName = ? AND alias = ?", arguments: [name, alias])
    }
  }

  public func modelVersion(name: String, alias: String) throws -> ModelVersion {
    guard let version = try model(named: name).aliases[alias] else {
      throw TrackingError.invalid("Registered model alias \(alias) not found.")
    }
    return try modelVersion(name: name, version: version)
  }
}

extension TrackingStore {
  /// The tags a version carries in MLflow's registry (thresholds met, metrics), as the mirror
  /// writes them.
  public static func tags(of version: ModelVersion) -> [String: String] {
    Dictionary(RunIdentity.versionTags(version), uniquingKeysWith: { _, last in last })
  }

  /// Which models (or versions) a registry search's filter keeps: `name = 'x'`, `name LIKE
  /// 'x%'`, `run_id = '...'`.
  public static func registryMatches(_ filter: RunFilter?, name: String, runId: String?) throws -> Bool {
    guard let filter else { return true }
    return try filter.matches(
      attribute: { key in
        switch key {
        case "name": .text(name)
        case "run_id": runId.map { .text($0) }
        default: throw TrackingError.invalid("Invalid attribute key '\(key)' for a registry search")
        }
      },
      // hpod's registry keeps no model tags: a model lacks every one, which `!=` accepts (the
      // client itself adds `tag.\`mlflow.prompt.is_prompt\` != 'true'` to keep prompts out).
      metric: { _ in nil }, param: { _ in nil }, tag: { _ in "" })
  }
}
