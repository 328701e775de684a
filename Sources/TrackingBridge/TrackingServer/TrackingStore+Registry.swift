public import Foundation
import GRDB

// The model registry: registered models, their tags and aliases. Versions are in
// TrackingStore+RegistryVersions.swift.
extension TrackingStore {
  public func model(named name: String) throws -> TrackingModel {
    guard let model = try models(named: name).first else {
      throw TrackingError.missing("Registered Model with name=\(name) not found")
    }
    return model
  }

  /// Every registered model (or the one `name` names), by name, with its live versions.
  public func models(named name: String? = nil) throws -> [TrackingModel] {
    let versions = Dictionary(grouping: try registryVersions(named: name), by: \.modelName)
    let aliases = Dictionary(grouping: try database.modelAliases(named: name), by: \.modelName)
    let (made, tags) = try database.writer.read { db in
      let condition = name == nil ? "" : "WHERE name = ?"
      let made = try Row.fetchAll(
        db, sql: "SELECT name, description, createdAt, updatedAt FROM registeredModel \(condition)",
        arguments: name.map { [$0] } ?? [])
      let tags = try Row.fetchAll(
        db, sql: "SELECT modelName, key, value FROM registeredModelTag \(name == nil ? "" : "WHERE modelName = ?")",
        arguments: name.map { [$0] } ?? [])
      return (made, tags)
    }
    var models: [String: TrackingModel] = [:]
    for row in made {
      let name: String = row["name"]
      let created: Int64 = row["createdAt"]
      models[name] = TrackingModel(
        name: name, description: row["description"], creationTime: created,
        lastUpdateTime: row["updatedAt"] ?? created, tags: [:], versions: [], aliases: [:])
    }
    for (name, list) in versions {
      let created = list.map(\.creationTime)
      var model =
        models[name]
        ?? TrackingModel(
          name: name, description: "", creationTime: created.min() ?? 0, lastUpdateTime: 0, tags: [:], versions: [],
          aliases: [:])
      model.versions = list.sorted { $0.version < $1.version }
      model.lastUpdateTime = max(model.lastUpdateTime, model.creationTime, created.max() ?? 0)
      models[name] = model
    }
    for row in tags {
      models[row["modelName"]]?.tags[row["key"]] = row["value"]
    }
    for (name, list) in aliases {
      guard var model = models[name] else { continue }
      model.aliases = Dictionary(list.map { ($0.alias, $0.version) }, uniquingKeysWith: { _, last in last })
      for index in model.versions.indices {
        model.versions[index].aliases = model.aliases.filter { $0.value == model.versions[index].version }.keys.sorted()
      }
      models[name] = model
    }
    return models.values.sorted { $0.name < $1.name }
  }

  public func createModel(name: String, description: String, tags: [(String, String)] = []) throws -> TrackingModel {
    try Validation.name(name, what: "registered model name", limit: 256)
    for (key, value) in tags { try Self.checkRegistryTag(key, value) }
    guard try models(named: name).isEmpty else {
      throw TrackingError(.resourceAlreadyExists, "Registered Model (name=\(name)) already exists.")
    }
    let now = Self.now()
    try database.writer.write { db in
      try db.execute(
        sql: "INSERT INTO registeredModel (name, description, createdAt, updatedAt) VALUES (?, ?, ?, ?)",
        arguments: [name, description, now, now])
      for (key, value) in tags {
        try db.execute(
          sql: "INSERT OR REPLACE INTO registeredModelTag (modelName, key, value) VALUES (?, ?, ?)",
          arguments: [name, key, value])
      }
    }
    return try model(named: name)
  }

  /// A model hpod's studies register versions of is named by their specs: it is neither
  /// renamed nor deleted through the API.
  private func requireNoHpodVersions(_ model: TrackingModel, doing what: String) throws {
    guard !model.holdsHpodVersions else {
      throw TrackingError(
        .invalidState,
        "Registered Model \(model.name) holds versions hpod's studies registered (their specs' registration.model names it) and cannot be \(what) through the MLflow API"
      )
    }
  }

  public func updateModel(name: String, description: String) throws -> TrackingModel {
    let model = try model(named: name)
    try writeModelRow(model) { db, now in
      try db.execute(
        sql: "UPDATE registeredModel SET description = ?, updatedAt = ? WHERE name = ?",
        arguments: [description, now, name])
    }
    return try self.model(named: name)
  }

  public func renameModel(name: String, to newName: String) throws -> TrackingModel {
    let model = try model(named: name)
    try Validation.name(newName, what: "registered model name", limit: 256)
    try requireNoHpodVersions(model, doing: "renamed")
    guard try models(named: newName).isEmpty else {
      throw TrackingError(.resourceAlreadyExists, "Registered Model (name=\(newName)) already exists.")
    }
    try database.writer.write { db in
      for table in ["registryVersion", "registryVersionTag", "registeredModelTag", "modelAlias"] {
        try db.execute(sql: "UPDATE \(table) SET modelName = ? WHERE modelName = ?", arguments: [newName, name])
      }
      try db.execute(
        sql: "UPDATE registeredModel SET name = ?, updatedAt = ? WHERE name = ?",
        arguments: [newName, Self.now(), name])
    }
    return try self.model(named: newName)
  }

  /// Deletes the model, its versions, tags and aliases.
  public func deleteModel(name: String) throws {
    let model = try model(named: name)
    try requireNoHpodVersions(model, doing: "deleted")
    try database.writer.write { db in
      for table in ["registryVersion", "registryVersionTag", "registeredModelTag", "modelAlias"] {
        try db.execute(sql: "DELETE FROM \(table) WHERE modelName = ?", arguments: [name])
      }
      try db.execute(sql: "DELETE FROM registeredModel WHERE name = ?", arguments: [name])
    }
  }

  public func setModelTag(name: String, key: String, value: String) throws {
    let model = try model(named: name)
    try Self.checkRegistryTag(key, value)
    try writeModelRow(model) { db, now in
      try db.execute(
        sql: "INSERT OR REPLACE INTO registeredModelTag (modelName, key, value) VALUES (?, ?, ?)",
        arguments: [name, key, value])
      try db.execute(sql: "UPDATE registeredModel SET updatedAt = ? WHERE name = ?", arguments: [now, name])
    }
  }

  /// Deleting a tag the model lacks is no error, as in MLflow.
  public func deleteModelTag(name: String, key: String) throws {
    let model = try model(named: name)
    try Validation.key(key, what: "tag key", limit: 250)
    try writeModelRow(model) { db, _ in
      try db.execute(sql: "DELETE FROM registeredModelTag WHERE modelName = ? AND key = ?", arguments: [name, key])
    }
  }

  /// Runs `change` with the model's own row made first (a model hpod registered has none
  /// until the API changes it).
  private func writeModelRow(_ model: TrackingModel, _ change: (Database, Int64) throws -> Void) throws {
    let now = Self.now()
    try database.writer.write { db in
      try db.execute(
        sql: "INSERT OR IGNORE INTO registeredModel (name, description, createdAt, updatedAt) VALUES (?, ?, ?, ?)",
        arguments: [model.name, model.description, model.creationTime, now])
      try change(db, now)
    }
  }

  static func checkRegistryTag(_ key: String, _ value: String) throws {
    try Validation.key(key, what: "tag key", limit: 250)
    // MLflow's MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH.
    guard value.count <= 100_000 else {
      throw TrackingError.invalid("'value' exceeds the maximum length of 100000 characters")
    }
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

  public func modelVersion(name: String, alias: String) throws -> RegistryVersion {
    guard let version = try model(named: name).aliases[alias] else {
      throw TrackingError.invalid("Registered model alias \(alias) not found.")
    }
    return try modelVersion(name: name, version: version)
  }
}
