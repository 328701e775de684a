import Foundation
import GRDB

// A run's inputs (datasets, models it read) and outputs (models it logged).
extension TrackingStore {
  /// The most datasets or models one request may name.
  static let maxInputsPerRequest = 1000
  /// MLflow's limits on a dataset's fields (mlflow/utils/validation.py).
  static let datasetLimits = (name: 500, digest: 36, source: 65535, schema: 1_048_575, profile: 16_777_215)
  static let inputTagLimits = (key: 255, value: 500)

  /// Records that a run logged models (`log_outputs`), each at a step.
  public func logOutputs(_ runId: String, models: [RunInputsOutputs.ModelOutput]) throws {
    guard models.count <= Self.maxInputsPerRequest else {
      throw TrackingError.invalid("A request may name at most \(Self.maxInputsPerRequest) models; got \(models.count)")
    }
    let owner = try owner(runId)
    try requireActive(owner)
    try database.writer.write { db in
      try Self.requireModels(db, ids: models.map(\.modelId))
      for model in models {
        try db.execute(
          sql: "INSERT INTO runModelOutput (runId, modelId, step) VALUES (?, ?, ?)",
          arguments: [runId, model.modelId, model.step])
      }
    }
  }

  /// Records the datasets a run used (`log_input`) and the models it read. A dataset is kept
  /// once per experiment by name and digest; a run names it once, with the tags it first gave.
  public func logInputs(_ runId: String, datasets: [RunInputsOutputs.DatasetInput], models: [String]) throws {
    guard datasets.count + models.count <= Self.maxInputsPerRequest else {
      throw TrackingError.invalid(
        "A request may name at most \(Self.maxInputsPerRequest) datasets and models; got \(datasets.count + models.count)"
      )
    }
    for input in datasets { try Self.check(input) }
    let owner = try owner(runId)
    try requireActive(owner)
    let experimentId = try run(of: owner).experimentId
    try database.writer.write { db in
      try Self.requireModels(db, ids: models)
      for input in datasets {
        let dataset = input.dataset
        try db.execute(
          sql: """
            INSERT OR IGNORE INTO trackingDataset (experimentId, name, digest, sourceType, source, schema, profile)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
          arguments: [
            experimentId, dataset.name, dataset.digest, dataset.sourceType, dataset.source, dataset.schema,
            dataset.profile,
          ])
        let datasetId = try Int64.fetchOne(
          db, sql: "SELECT id FROM trackingDataset WHERE experimentId = ? AND name = ? AND digest = ?",
          arguments: [experimentId, dataset.name, dataset.digest])
        let tags = String(decoding: try JSONEncoder().encode(input.tags), as: UTF8.self)
        try db.execute(
          sql: "INSERT OR IGNORE INTO runDatasetInput (runId, datasetId, tags) VALUES (?, ?, ?)",
          arguments: [runId, datasetId, tags])
      }
      for model in models {
        try db.execute(
          sql: "INSERT OR IGNORE INTO runModelInput (runId, modelId) VALUES (?, ?)", arguments: [runId, model])
      }
    }
  }

  /// The inputs and outputs of some runs, by run id (runs with none are left out).
  func inputsOutputs(_ db: Database, runIds: [String]) throws -> [String: RunInputsOutputs] {
    var result: [String: RunInputsOutputs] = [:]
    // SQLite takes at most 999 arguments in a statement: the ids go in chunks.
    for start in stride(from: 0, to: runIds.count, by: 500) {
      let chunk = Array(runIds[start..<min(start + 500, runIds.count)])
      let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
      let arguments = StatementArguments(chunk)
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT i.runId, i.tags, d.name, d.digest, d.sourceType, d.source, d.schema, d.profile
          FROM runDatasetInput i JOIN trackingDataset d ON d.id = i.datasetId
          WHERE i.runId IN (\(marks)) ORDER BY i.rowid
          """, arguments: arguments)
      {
        let tagsText: String = row["tags"]
        let tags = try JSONDecoder().decode([RunInputsOutputs.InputTag].self, from: Data(tagsText.utf8))
        let dataset = TrackingDataset(
          name: row["name"], digest: row["digest"], sourceType: row["sourceType"], source: row["source"],
          schema: row["schema"], profile: row["profile"])
        result[row["runId"], default: RunInputsOutputs()].datasets.append(.init(dataset: dataset, tags: tags))
      }
      for row in try Row.fetchAll(
        db, sql: "SELECT runId, modelId FROM runModelInput WHERE runId IN (\(marks)) ORDER BY rowid",
        arguments: arguments)
      {
        result[row["runId"], default: RunInputsOutputs()].modelInputs.append(row["modelId"])
      }
      for row in try Row.fetchAll(
        db, sql: "SELECT runId, modelId, step FROM runModelOutput WHERE runId IN (\(marks)) ORDER BY rowid",
        arguments: arguments)
      {
        result[row["runId"], default: RunInputsOutputs()].modelOutputs.append(
          .init(modelId: row["modelId"], step: row["step"]))
      }
    }
    return result
  }

  /// Gives runs their inputs and outputs (for the runs an answer shows, not a whole search).
  func withInputsOutputs(_ runs: [TrackingRun]) throws -> [TrackingRun] {
    guard !runs.isEmpty else { return runs }
    let io = try database.writer.read { db in try inputsOutputs(db, runIds: runs.map(\.runId)) }
    return runs.map { run in
      var run = run
      run.io = io[run.runId] ?? RunInputsOutputs()
      return run
    }
  }

  static func requireModels(_ db: Database, ids: [String]) throws {
    for id in Set(ids) {
      guard try Row.fetchOne(db, sql: "SELECT 1 FROM loggedModel WHERE id = ?", arguments: [id]) != nil else {
        throw TrackingError.missing("Logged model with ID '\(id)' not found.")
      }
    }
  }

  private static func check(_ input: RunInputsOutputs.DatasetInput) throws {
    let dataset = input.dataset
    for (field, value, limit) in [
      ("name", dataset.name, datasetLimits.name), ("digest", dataset.digest, datasetLimits.digest),
      ("source", dataset.source, datasetLimits.source), ("schema", dataset.schema ?? "", datasetLimits.schema),
      ("profile", dataset.profile ?? "", datasetLimits.profile),
    ] where value.count > limit {
      throw TrackingError.invalid("'\(field)' exceeds the maximum length of \(limit)")
    }
    for tag in input.tags {
      guard tag.key.count <= inputTagLimits.key else {
        throw TrackingError.invalid("'key' exceeds the maximum length of \(inputTagLimits.key)")
      }
      guard tag.value.count <= inputTagLimits.value else {
        throw TrackingError.invalid("'value' exceeds the maximum length of \(inputTagLimits.value)")
      }
    }
  }
}
