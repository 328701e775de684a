public import Foundation
import GRDB
import Synchronization

/// The store behind hpod's MLflow tracking API: studies appear as experiments and their
/// trials as runs (named and tagged as the MLflow mirror names and tags them); experiments and
/// runs a user creates through the API are kept as plain tracked runs outside any study.
/// MLflow's validation rules apply, so its client behaves as against an MLflow server.
public final class TrackingStore: Sendable {
  public let database: AppDatabase
  public let home: HpodHome
  /// The experiment a study's trials appear in (its spec's `tracking.experiment`).
  private let nameOfExperiment: @Sendable (StudyRecord) -> String
  /// The experiment names found so far, by study id (a study's spec never changes).
  private let experimentNames = Mutex<[Int64: String]>([:])
  /// Told of the metric points a trial's own run was given (its runner judges them).
  let onTrialMetrics: @Sendable (_ trialId: Int64, [MetricPoint]) -> Void
  /// The result of each recent search, so that its later pages (a page token) continue the
  /// same result instead of searching again; a first page always searches afresh.
  let searches = Mutex(SearchCache())
  /// Studies whose experiment row exists already.
  private let knownStudies = Mutex<Set<Int64>>([])

  /// A trial's run id: `hpod-trial-<trial id>`. Runs made through the API get a uuid.
  public static let trialRunPrefix = "hpod-trial-"

  public init(
    database: AppDatabase, home: HpodHome,
    experimentName: @escaping @Sendable (StudyRecord) -> String = { $0.name },
    onTrialMetrics: @escaping @Sendable (_ trialId: Int64, [MetricPoint]) -> Void = { _, _ in }
  ) {
    self.onTrialMetrics = onTrialMetrics
    self.database = database
    self.home = home
    nameOfExperiment = experimentName
  }

  public static func runId(trialId: Int64) -> String { "\(trialRunPrefix)\(trialId)" }

  func experimentName(_ study: StudyRecord) -> String {
    if let name = experimentNames.withLock({ $0[study.id!] }) { return name }
    let name = nameOfExperiment(study)
    experimentNames.withLock { $0[study.id!] = name }
    return name
  }

  static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

  // MARK: Experiments

  /// Makes sure every study's experiment exists (by name), once per study.
  func syncStudyExperiments() throws {
    let studies = try database.studies()
    let known = knownStudies.withLock { $0 }
    let missing = studies.filter { !known.contains($0.id!) }
    guard !missing.isEmpty else { return }
    let now = Self.now()
    try database.writer.write { db in
      for study in missing {
        try db.execute(
          sql: "INSERT OR IGNORE INTO trackingExperiment (name, createdAt, updatedAt) VALUES (?, ?, ?)",
          arguments: [experimentName(study), study.createdAt.millisecondsSince1970, now])
      }
    }
    knownStudies.withLock { $0.formUnion(missing.map { $0.id! }) }
  }

  /// Makes an experiment; its runs' artifacts go to `artifactLocation` when one is given
  /// (checked and resolved as MLflow does, see `ExperimentArtifactLocation`).
  public func createExperiment(name: String, tags: [String: String] = [:], artifactLocation: String? = nil) throws
    -> Int64
  {
    try Validation.name(name, what: "experiment name", limit: 500)
    let location = try artifactLocation.flatMap { location in
      location.isEmpty
        ? nil
        : try ExperimentArtifactLocation.validated(
          location, workingDirectory: FileManager.default.currentDirectoryPath)
    }
    try syncStudyExperiments()
    let now = Self.now()
    return try database.writer.write { db in
      if try Row.fetchOne(db, sql: "SELECT 1 FROM trackingExperiment WHERE name = ?", arguments: [name]) != nil {
        throw TrackingError(.resourceAlreadyExists, "Experiment '\(name)' already exists.")
      }
      try db.execute(
        sql: "INSERT INTO trackingExperiment (name, createdAt, updatedAt, artifactLocation) VALUES (?, ?, ?, ?)",
        arguments: [name, now, now, location])
      let id = db.lastInsertedRowID
      for (key, value) in tags {
        try db.execute(
          sql: "INSERT OR REPLACE INTO trackingExperimentTag (experimentId, key, value) VALUES (?, ?, ?)",
          arguments: [id, key, value])
      }
      return id
    }
  }

  public func experiment(id: Int64) throws -> TrackingExperiment {
    try syncStudyExperiments()
    guard let experiment = try experiments(where: "id = ?", [id]).first else {
      throw TrackingError.missing("No Experiment with id=\(id) exists")
    }
    return experiment
  }

  public func experiment(named name: String) throws -> TrackingExperiment {
    try syncStudyExperiments()
    guard let experiment = try experiments(where: "name = ?", [name]).first else {
      throw TrackingError.missing("Could not find experiment with name '\(name)'")
    }
    return experiment
  }

  /// Experiments in id order: active ones, deleted ones, or all (`viewType`).
  public func searchExperiments(viewType: ViewType, filter: RunFilter?) throws -> [TrackingExperiment] {
    try syncStudyExperiments()
    let stage = viewType.stages.map { "'\($0)'" }.joined(separator: ", ")
    let all = try experiments(where: "lifecycleStage IN (\(stage))", [])
    guard let filter else { return all }
    return try all.filter { experiment in
      try filter.matches(
        attribute: { name in
          switch name {
          case "name": .text(experiment.name)
          case "creation_time": .number(Double(experiment.creationTime))
          case "last_update_time": .number(Double(experiment.lastUpdateTime))
          default: throw TrackingError.invalid("Invalid attribute key '\(name)' for experiments")
          }
        }, metric: { _ in nil }, param: { _ in nil }, tag: { experiment.tags[$0] })
    }
  }

  public func renameExperiment(id: Int64, to name: String) throws {
    let experiment = try experiment(id: id)
    try requireNotStudyExperiment(experiment, doing: "renamed")
    try Validation.name(name, what: "experiment name", limit: 500)
    try database.writer.write { db in
      if try Row.fetchOne(
        db, sql: "SELECT 1 FROM trackingExperiment WHERE name = ? AND id != ?", arguments: [name, id])
        != nil
      {
        throw TrackingError(.resourceAlreadyExists, "Experiment '\(name)' already exists.")
      }
      try db.execute(
        sql: "UPDATE trackingExperiment SET name = ?, updatedAt = ? WHERE id = ?", arguments: [name, Self.now(), id])
    }
  }

  public func setExperimentLifecycle(id: Int64, deleted: Bool) throws {
    let experiment = try experiment(id: id)
    if deleted {
      guard id != 0 else { throw TrackingError.invalid("Cannot delete the default experiment '0'.") }
      try requireNotStudyExperiment(experiment, doing: "deleted")
    }
    try database.writer.write { db in
      try db.execute(
        sql: "UPDATE trackingExperiment SET lifecycleStage = ?, updatedAt = ? WHERE id = ?",
        arguments: [deleted ? "deleted" : "active", Self.now(), id])
    }
  }

  public func setExperimentTag(id: Int64, key: String, value: String) throws {
    _ = try experiment(id: id)
    try Validation.key(key, what: "tag key", limit: 250)
    try database.writer.write { db in
      try db.execute(
        sql: "INSERT OR REPLACE INTO trackingExperimentTag (experimentId, key, value) VALUES (?, ?, ?)",
        arguments: [id, key, value])
    }
  }

  /// Deletes a tag the experiment has (a missing one is RESOURCE_DOES_NOT_EXIST, as in MLflow).
  public func deleteExperimentTag(id: Int64, key: String) throws {
    _ = try experiment(id: id)
    try database.writer.write { db in
      try db.execute(sql: "DELETE FROM trackingExperimentTag WHERE experimentId = ? AND key = ?", arguments: [id, key])
      guard db.changesCount > 0 else {
        throw TrackingError.missing("No tag with name: \(key) in experiment with id \(id)")
      }
    }
  }

  private func requireNotStudyExperiment(_ experiment: TrackingExperiment, doing what: String) throws {
    let studies = try studies(inExperiment: experiment.name)
    guard studies.isEmpty else {
      throw TrackingError(
        .invalidState,
        "Experiment '\(experiment.name)' holds hpod's studies (\(studies.map(\.name).joined(separator: ", "))) and cannot be \(what) through the MLflow API; change tracking.experiment in their specs, or delete the studies in hpod"
      )
    }
  }

  private func experiments(where condition: String, _ arguments: StatementArguments) throws -> [TrackingExperiment] {
    try database.writer.read { db in
      let rows = try Row.fetchAll(
        db, sql: "SELECT * FROM trackingExperiment WHERE \(condition) ORDER BY id", arguments: arguments)
      return try rows.map { row in
        let id: Int64 = row["id"]
        let tags = try Row.fetchAll(
          db, sql: "SELECT key, value FROM trackingExperimentTag WHERE experimentId = ?", arguments: [id])
        return TrackingExperiment(
          id: id, name: row["name"], lifecycleStage: row["lifecycleStage"], creationTime: row["createdAt"],
          lastUpdateTime: row["updatedAt"],
          tags: Dictionary(tags.map { ($0["key"], $0["value"]) }, uniquingKeysWith: { _, last in last }),
          artifactLocation: row["artifactLocation"])
      }
    }
  }

  func studies(inExperiment name: String) throws -> [StudyRecord] {
    try database.studies().filter { experimentName($0) == name }
  }

  /// Which runs a search or a list shows: `ACTIVE_ONLY` (the default), `DELETED_ONLY`, `ALL`.
  public enum ViewType: String, Sendable {
    case activeOnly = "ACTIVE_ONLY"
    case deletedOnly = "DELETED_ONLY"
    case all = "ALL"

    var stages: [String] {
      switch self {
      case .activeOnly: ["active"]
      case .deletedOnly: ["deleted"]
      case .all: ["active", "deleted"]
      }
    }
  }
}

extension Date {
  var millisecondsSince1970: Int64 { Int64(timeIntervalSince1970 * 1000) }
}
