import Foundation
import GRDB

/// One key of a logged-model search's `order_by`: an attribute (`name`, `creation_time`, …)
/// or `metrics.<key>` (the model's latest point, optionally on one dataset), as MLflow orders.
public struct LoggedModelOrder: Sendable, Hashable {
  public enum Field: Sendable, Hashable {
    case attribute(String)
    case metric(String)
  }

  public var field: Field
  public var ascending: Bool
  public var datasetName: String?
  public var datasetDigest: String?

  public init(fieldName: String, ascending: Bool, datasetName: String?, datasetDigest: String?) throws {
    self.ascending = ascending
    self.datasetName = datasetName
    self.datasetDigest = datasetDigest
    guard let dot = fieldName.firstIndex(of: ".") else {
      let name = LoggedModelFields.aliases[fieldName] ?? fieldName
      guard LoggedModelFields.attributes.contains(name) else {
        throw TrackingError.invalid("Invalid order by field name: \(fieldName)")
      }
      field = .attribute(name)
      return
    }
    guard fieldName[..<dot] == "metrics" else {
      throw TrackingError.invalid("Invalid order by field name: \(fieldName). Only metrics are supported.")
    }
    field = .metric(String(fieldName[fieldName.index(after: dot)...]))
  }
}

/// A search's `datasets`: models with metrics on one of them (a digest narrows a name).
public struct LoggedModelDatasetFilter: Sendable, Hashable {
  public var name: String
  public var digest: String?

  public init(name: String, digest: String?) {
    self.name = name
    self.digest = digest
  }

  func matches(_ point: LoggedModelMetric) -> Bool {
    point.datasetName == name && (digest == nil || point.datasetDigest == digest)
  }
}

/// The attributes a logged-model filter or order may name (MLflow's logged_models columns).
enum LoggedModelFields {
  static let aliases = [
    "creation_time": "creation_timestamp_ms", "creation_timestamp": "creation_timestamp_ms",
    "last_updated_timestamp": "last_updated_timestamp_ms",
  ]
  static let numeric: Set<String> = ["creation_timestamp_ms", "last_updated_timestamp_ms"]
  static let attributes: Set<String> = numeric.union([
    "model_id", "experiment_id", "name", "artifact_location", "status", "lifecycle_stage", "model_type",
    "source_run_id", "status_message",
  ])
  static let numericComparators: [RunFilter.Comparator] = [
    .less, .lessOrEqual, .greater, .greaterOrEqual, .equal, .notEqual,
  ]
  static let textComparators: [RunFilter.Comparator] = [.equal, .notEqual, .like, .ilike, .isIn, .notIn]

  static func value(_ model: TrackingLoggedModel, _ name: String) -> RunFilter.AttributeValue? {
    switch name {
    case "model_id": .text(model.id)
    case "experiment_id": .text(String(model.experimentId))
    case "name": .text(model.name)
    case "artifact_location": .text(model.artifactURI)
    // A number column: MLflow's SQL compares the text given with it.
    case "status": .text(String(model.status.rawValue))
    case "lifecycle_stage": .text(model.lifecycleStage)
    case "model_type": .text(model.modelType)
    case "source_run_id": .text(model.sourceRunId)
    case "status_message": model.statusMessage.map { .text($0) }
    case "creation_timestamp_ms": .number(Double(model.creationTime))
    case "last_updated_timestamp_ms": .number(Double(model.lastUpdateTime))
    default: nil
    }
  }
}

extension TrackingStore {
  /// The active models of some experiments that match `filter` (clauses joined by AND; a
  /// metric clause holds when any point of that metric does, on `datasets` if given), in
  /// `orderBy` order then newest first, `maxResults` at a time from `offset`.
  public func searchLoggedModels(
    experimentIds: [Int64], filter: RunFilter?, datasets: [LoggedModelDatasetFilter], orderBy: [LoggedModelOrder],
    maxResults: Int, offset: Int
  ) throws -> (models: [TrackingLoggedModel], nextOffset: Int?) {
    let clauses = filter?.clauses ?? []
    for clause in clauses { try Self.checkModelClause(clause) }
    guard !experimentIds.isEmpty else { return ([], nil) }
    let ids = experimentIds.map(String.init).joined(separator: ", ")
    var models = try database.writer.read { db in
      try loggedModels(db, where: "experimentId IN (\(ids)) AND lifecycleStage = 'active'", [])
    }
    let hasMetricClause = clauses.contains { $0.entity == .metric }
    models = try models.filter { model in
      if !datasets.isEmpty, !hasMetricClause,
        !model.metrics.contains(where: { point in datasets.contains { $0.matches(point) } })
      {
        return false
      }
      return try clauses.allSatisfy { try Self.holds($0, for: model, datasets: datasets) }
    }
    models.sort { Self.precedes($0, $1, by: orderBy) }
    let page = Array(models.dropFirst(offset).prefix(maxResults))
    return (page, offset + page.count < models.count ? offset + page.count : nil)
  }

  /// MLflow's check of a clause: the comparators its entity takes, a number for a number.
  static func checkModelClause(_ clause: RunFilter.Clause) throws {
    let name = entityName(clause)
    let numeric = clause.entity == .metric || (clause.entity == .attribute && LoggedModelFields.numeric.contains(name))
    let allowed = numeric ? LoggedModelFields.numericComparators : LoggedModelFields.textComparators
    guard allowed.contains(clause.comparator) else {
      let prefix = clause.entity == .attribute ? "attributes" : "\(clause.entity.rawValue)s"
      throw TrackingError.invalid(
        "Invalid comparison operator for \(prefix).\(name): '\(clause.comparator.rawValue)'. Expected one of (\(allowed.map { "'\($0.rawValue)'" }.joined(separator: ", ")))."
      )
    }
    if clause.entity == .attribute, !LoggedModelFields.attributes.contains(name) {
      throw TrackingError.invalid(
        "Invalid attribute key '\(clause.key)' for logged models. Valid keys are \(LoggedModelFields.attributes.union(LoggedModelFields.aliases.keys).sorted())"
      )
    }
    if numeric {
      guard case .number = clause.value else {
        throw TrackingError.invalid("Expected a number to compare \(name) with. Found \(clause.value)")
      }
    }
  }

  private static func entityName(_ clause: RunFilter.Clause) -> String {
    clause.entity == .attribute ? LoggedModelFields.aliases[clause.key] ?? clause.key : clause.key
  }

  private static func holds(
    _ clause: RunFilter.Clause, for model: TrackingLoggedModel, datasets: [LoggedModelDatasetFilter]
  ) throws -> Bool {
    let wanted: RunFilter.Value =
      switch clause.value {
      // A bare number compared with text is the number's text, as MLflow's parser keeps it.
      case .number(let number) where clause.entity != .metric:
        number == number.rounded() && abs(number) < 1e15 ? .text(String(Int64(number))) : .text(String(number))
      default: clause.value
      }
    switch clause.entity {
    case .metric:
      guard case .number(let target) = clause.value else { return false }
      return model.metrics.contains { point in
        point.metric.key == clause.key && (datasets.isEmpty || datasets.contains { $0.matches(point) })
          && RunFilter.compare(point.metric.value, clause.comparator, target)
      }
    case .param:
      return try model.params[clause.key].map { try RunFilter.compare($0, clause.comparator, wanted) } ?? false
    case .tag: return try model.tags[clause.key].map { try RunFilter.compare($0, clause.comparator, wanted) } ?? false
    case .attribute:
      switch LoggedModelFields.value(model, entityName(clause)) {
      case .text(let text)?: return try RunFilter.compare(text, clause.comparator, wanted)
      case .number(let number)?:
        guard case .number(let target) = clause.value else { return false }
        return RunFilter.compare(number, clause.comparator, target)
      case nil: return false
      }
    }
  }

  /// The model's latest point of a metric (newest timestamp, then highest step, then the
  /// first run id), on the order's dataset if it names one.
  private static func latest(_ key: String, of model: TrackingLoggedModel, _ order: LoggedModelOrder) -> Double? {
    model.metrics.filter { point in
      point.metric.key == key && (order.datasetName == nil || point.datasetName == order.datasetName)
        && (order.datasetDigest == nil || point.datasetDigest == order.datasetDigest)
    }.max { a, b in
      (a.metric.timestamp, a.metric.step, b.runId) < (b.metric.timestamp, b.metric.step, a.runId)
    }?.metric.value
  }

  /// Whether `a` comes before `b`: each order key in turn (missing values last), then newest
  /// first, then by id, as MLflow adds those two unless the order names them.
  static func precedes(_ a: TrackingLoggedModel, _ b: TrackingLoggedModel, by orders: [LoggedModelOrder]) -> Bool {
    for order in orders {
      let values: (RunFilter.AttributeValue?, RunFilter.AttributeValue?) =
        switch order.field {
        case .attribute(let name): (LoggedModelFields.value(a, name), LoggedModelFields.value(b, name))
        case .metric(let key):
          (
            latest(key, of: a, order).map { RunFilter.AttributeValue.number($0) },
            latest(key, of: b, order).map { RunFilter.AttributeValue.number($0) }
          )
        }
      switch values {
      case (nil, nil): continue
      case (nil, _): return false
      case (_, nil): return true
      case (.number(let x)?, .number(let y)?) where x != y: return order.ascending ? x < y : x > y
      case (.text(let x)?, .text(let y)?) where x != y: return order.ascending ? x < y : x > y
      default: continue
      }
    }
    var named = Set<String>()
    for order in orders {
      if case .attribute(let name) = order.field { named.insert(name) }
    }
    if !named.contains("creation_timestamp_ms"), a.creationTime != b.creationTime {
      return a.creationTime > b.creationTime
    }
    return !named.contains("model_id") && a.id < b.id
  }
}
