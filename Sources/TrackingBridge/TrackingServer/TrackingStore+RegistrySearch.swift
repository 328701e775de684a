import Foundation

// Searching the registry as MLflow's server does: filters on names, runs, sources and tags,
// `order_by` on names, numbers and times (SearchModelUtils, SearchModelVersionUtils).
extension TrackingStore {
  /// Registered models `filter` keeps (`name`, `tags.<key>`), in `orderBy`'s order, then by
  /// name (MLflow orders every timestamp key by the last update).
  public func searchModels(filter: RunFilter?, orderBy: [String]) throws -> [TrackingModel] {
    let order = try Self.registryOrder(
      orderBy, valid: ["name", "timestamp", "last_updated_timestamp", "creation_timestamp"], tieBreak: ["name"])
    return try models().filter { model in
      try Self.registryMatches(
        filter,
        attribute: { key in
          switch key {
          case "name": .text(model.name)
          default:
            throw TrackingError.invalid(
              "Invalid attribute key '\(key)' specified. Valid keys are '{'name'}'")
          }
        }, tags: model.tags)
    }.sorted { left, right in
      for (key, ascending) in order {
        let compared: ComparisonResult =
          switch key {
          case "name":
            left.name == right.name ? .orderedSame : (left.name < right.name ? .orderedAscending : .orderedDescending)
          default: Self.compare(left.lastUpdateTime, right.lastUpdateTime)
          }
        if compared != .orderedSame { return (compared == .orderedAscending) == ascending }
      }
      return false
    }
  }

  /// Versions `filter` keeps (`name`, `run_id`, `source_path`, `version_number`, `tags.<key>`),
  /// by default the last updated first, then by name and the highest number.
  public func searchModelVersions(filter: RunFilter?, orderBy: [String]) throws -> [RegistryVersion] {
    let order = try Self.registryOrder(
      orderBy.isEmpty ? ["last_updated_timestamp DESC", "name ASC", "version_number DESC"] : orderBy,
      valid: ["name", "version_number", "creation_timestamp", "last_updated_timestamp"], tieBreak: [])
    return try models().flatMap(\.versions).filter { version in
      try Self.registryMatches(
        filter,
        attribute: { key in
          switch key {
          case "name": .text(version.modelName)
          case "run_id": .text(version.runId)
          case "source_path": .text(version.source)
          case "version_number": .number(Double(version.version))
          default:
            throw TrackingError.invalid(
              "Invalid attribute key '\(key)' specified. Valid keys are '{'name', 'run_id', 'source_path', 'version_number'}'"
            )
          }
        }, tags: version.tags)
    }.sorted { left, right in
      for (key, ascending) in order {
        let compared: ComparisonResult =
          switch key {
          case "name":
            left.modelName == right.modelName
              ? .orderedSame : (left.modelName < right.modelName ? .orderedAscending : .orderedDescending)
          case "version_number": Self.compare(Int64(left.version), Int64(right.version))
          case "creation_timestamp": Self.compare(left.creationTime, right.creationTime)
          default: Self.compare(left.lastUpdateTime, right.lastUpdateTime)
          }
        if compared != .orderedSame { return (compared == .orderedAscending) == ascending }
      }
      return false
    }
  }

  private static func compare(_ left: Int64, _ right: Int64) -> ComparisonResult {
    left == right ? .orderedSame : (left < right ? .orderedAscending : .orderedDescending)
  }

  /// `order_by` clauses (`key [ASC|DESC]`), each key once, then `tieBreak` ascending.
  static func registryOrder(_ clauses: [String], valid: Set<String>, tieBreak: [String]) throws -> [(String, Bool)] {
    var order: [(String, Bool)] = []
    for clause in clauses {
      let words = clause.split(whereSeparator: \.isWhitespace).map(String.init)
      guard (1...2).contains(words.count), words.count == 1 || ["ASC", "DESC"].contains(words[1].uppercased()) else {
        throw TrackingError.invalid("Invalid order_by clause '\(clause)'. Could not be parsed.")
      }
      var key = words[0]
      if key.hasPrefix("attribute.") || key.hasPrefix("attributes.") {
        key = String(key.split(separator: ".", maxSplits: 1)[1])
      }
      key = key.trimmingCharacters(in: CharacterSet(charactersIn: "`\""))
      guard valid.contains(key) else {
        throw TrackingError.invalid(
          "Invalid order by key '\(key)' specified. Valid keys are \(valid.sorted().map { "'\($0)'" }.joined(separator: ", "))"
        )
      }
      guard !order.contains(where: { $0.0 == key }) else {
        throw TrackingError.invalid("`order_by` contains duplicate fields: \(clauses)")
      }
      order.append((key, words.count == 1 || words[1].uppercased() == "ASC"))
    }
    for key in tieBreak where !order.contains(where: { $0.0 == key }) { order.append((key, true)) }
    return order
  }

  /// Whether a registry search's filter keeps an entry with these attributes and tags. An
  /// entry lacking a tag matches no clause on it, except the one the client itself adds to keep
  /// prompts out (`tags.\`mlflow.prompt.is_prompt\` != 'true'`), as MLflow's store treats it.
  static func registryMatches(
    _ filter: RunFilter?, attribute: (String) throws -> RunFilter.AttributeValue?, tags: [String: String]
  ) throws -> Bool {
    guard let filter else { return true }
    if let clause = filter.clauses.first(where: { $0.entity == .metric || $0.entity == .param }) {
      throw TrackingError.invalid(
        "Invalid clause(s) in filter string: '\(clause.entity.rawValue)s.\(clause.key)': the registry filters on attributes and tags"
      )
    }
    return try filter.matches(
      attribute: attribute, metric: { _ in nil }, param: { _ in nil },
      tag: { key in tags[key] ?? (key == "mlflow.prompt.is_prompt" ? "" : nil) })
  }
}
