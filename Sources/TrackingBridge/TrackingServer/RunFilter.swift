import Foundation

/// MLflow's search filter: clauses joined by AND, each an entity's key, a comparator and a
/// value: `metrics.accuracy > 0.9 and params.optimizer = 'adam' and tags."hpod.tier" LIKE 'quick%'
/// and attributes.status IN ('FINISHED', 'KILLED')`. A bare name (`status`, `run_name`) is an
/// attribute; keys with spaces or dots are quoted with backticks or double quotes. A run that
/// lacks the key matches no comparison, as in MLflow.
public struct RunFilter: Sendable, Hashable {
  public enum Entity: String, Sendable, Hashable {
    case metric, param, tag, attribute
  }

  public enum Comparator: String, Sendable, Hashable {
    case equal = "=", notEqual = "!=", greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<="
    case like = "LIKE", ilike = "ILIKE", isIn = "IN", notIn = "NOT IN"
  }

  public enum Value: Sendable, Hashable {
    case number(Double)
    case text(String)
    case list([String])
  }

  public struct Clause: Sendable, Hashable {
    public var entity: Entity
    public var key: String
    public var comparator: Comparator
    public var value: Value
  }

  public var clauses: [Clause]

  /// What a run has under an attribute name.
  public enum AttributeValue {
    case text(String)
    case number(Double)
  }

  static let numericAttributes: Set<String> = ["start_time", "end_time", "created", "Created"]
  static let textAttributes: Set<String> = [
    "run_id", "run_name", "status", "artifact_uri", "user_id", "lifecycle_stage",
  ]

  /// The longest filter read (any value up to MLflow's longest, a tag's 8,000 characters, fits
  /// in a clause) and the most clauses in one: the filter comes from anyone who can reach the
  /// API, and every run searched is matched against every clause.
  public static let maxLength = 20_000
  public static let maxClauses = 100

  public init(_ text: String) throws {
    guard text.utf8.count <= Self.maxLength || text.count <= Self.maxLength else {
      throw TrackingError.invalid(
        "The filter is \(text.count) characters long; a filter may be at most \(Self.maxLength) characters")
    }
    var scanner = FilterScanner(text)
    clauses = []
    guard !scanner.atEnd else { return }
    repeat {
      guard clauses.count < Self.maxClauses else {
        throw TrackingError.invalid(
          "The filter has more than \(Self.maxClauses) clauses; a filter may have at most \(Self.maxClauses)")
      }
      clauses.append(try scanner.clause())
    } while try scanner.and()
    guard scanner.atEnd else { throw scanner.error("expected AND or the end of the filter") }
  }

  /// Whether a run matches every clause.
  public func matches(_ run: TrackingRun) throws -> Bool {
    try matches(
      attribute: { name in
        switch name {
        case "run_id": .text(run.runId)
        case "run_name": .text(run.name)
        case "status": .text(run.status)
        case "artifact_uri": .text(run.artifactURI)
        case "user_id": .text(run.userId)
        case "lifecycle_stage": .text(run.lifecycleStage)
        case "start_time", "created", "Created": run.startTime.map { .number(Double($0)) }
        case "end_time": run.endTime.map { .number(Double($0)) }
        default:
          throw TrackingError.invalid(
            "Invalid attribute key '\(name)' specified. Valid keys are \(Self.textAttributes.union(Self.numericAttributes).sorted())"
          )
        }
      }, metric: { run.metrics[$0]?.value }, param: { run.params[$0] }, tag: { run.tags[$0] })
  }

  func matches(
    attribute: (String) throws -> AttributeValue?, metric: (String) -> Double?, param: (String) -> String?,
    tag: (String) -> String?
  ) throws -> Bool {
    for clause in clauses {
      let holds: Bool
      switch clause.entity {
      case .metric:
        guard case .number(let wanted) = clause.value else {
          throw TrackingError.invalid("Expected numeric value type for metric. Found \(clause.value)")
        }
        holds = metric(clause.key).map { Self.compare($0, clause.comparator, wanted) } ?? false
      case .param:
        holds = try param(clause.key).map { try Self.compare($0, clause.comparator, clause.value) } ?? false
      case .tag:
        holds = try tag(clause.key).map { try Self.compare($0, clause.comparator, clause.value) } ?? false
      case .attribute:
        switch try attribute(clause.key) {
        case .text(let text)?: holds = try Self.compare(text, clause.comparator, clause.value)
        case .number(let number)?:
          guard case .number(let wanted) = clause.value else {
            throw TrackingError.invalid(
              "Expected numeric value type for attribute \(clause.key). Found \(clause.value)")
          }
          holds = Self.compare(number, clause.comparator, wanted)
        case nil: holds = false
        }
      }
      if !holds { return false }
    }
    return true
  }

  static func compare(_ actual: Double, _ comparator: Comparator, _ wanted: Double) -> Bool {
    switch comparator {
    case .equal: actual == wanted
    case .notEqual: actual != wanted
    case .greater: actual > wanted
    case .greaterOrEqual: actual >= wanted
    case .less: actual < wanted
    case .lessOrEqual: actual <= wanted
    case .like, .ilike, .isIn, .notIn: false
    }
  }

  static func compare(_ actual: String, _ comparator: Comparator, _ value: Value) throws -> Bool {
    switch (comparator, value) {
    case (.isIn, .list(let options)): return options.contains(actual)
    case (.notIn, .list(let options)): return !options.contains(actual)
    case (_, .text(let wanted)):
      switch comparator {
      case .equal: return actual == wanted
      case .notEqual: return actual != wanted
      case .like: return like(actual, wanted, caseSensitive: true)
      case .ilike: return like(actual, wanted, caseSensitive: false)
      default: break
      }
    default: break
    }
    throw TrackingError.invalid(
      "Invalid comparator '\(comparator.rawValue)' for a string value. Only '=', '!=', 'LIKE', 'ILIKE', 'IN' and 'NOT IN' compare strings"
    )
  }

  static func like(_ text: String, _ pattern: String, caseSensitive: Bool) -> Bool {
    LikePattern.matches(text, pattern, caseSensitive: caseSensitive)
  }
}

/// One `order_by` entry: `metrics.accuracy DESC`, `attributes.start_time`, `params.lr ASC`.
public struct RunOrder: Sendable, Hashable {
  public var entity: RunFilter.Entity
  public var key: String
  public var ascending: Bool

  public init(_ text: String) throws {
    var scanner = FilterScanner(text)
    (entity, key) = try scanner.identifier()
    ascending = true
    if let word = scanner.word() {
      switch word.uppercased() {
      case "ASC": ascending = true
      case "DESC": ascending = false
      default: throw scanner.error("expected ASC or DESC after the key, found '\(word)'")
      }
    }
    guard scanner.atEnd else { throw scanner.error("expected the end of the order_by clause") }
  }

  /// MLflow's default: the newest first, then by run id.
  static func precedes(_ a: TrackingRun, _ b: TrackingRun, by orders: [RunOrder]) -> Bool {
    for order in orders {
      let (x, y) = (order.sortValue(a), order.sortValue(b))
      switch (x, y) {
      case (nil, nil): continue
      case (nil, _): return false  // a run without the key goes last
      case (_, nil): return true
      case (let x?, let y?):
        if x == y { continue }
        return order.ascending ? x < y : y < x
      }
    }
    if a.startTime != b.startTime { return (a.startTime ?? 0) > (b.startTime ?? 0) }
    return a.runId < b.runId
  }

  enum SortValue: Comparable {
    case number(Double)
    case text(String)
  }

  func sortValue(_ run: TrackingRun) -> SortValue? {
    switch entity {
    case .metric: run.metrics[key].map { .number($0.value) }
    case .param: run.params[key].map { .text($0) }
    case .tag: run.tags[key].map { .text($0) }
    case .attribute:
      switch key {
      case "start_time", "created", "Created": run.startTime.map { .number(Double($0)) }
      case "end_time": run.endTime.map { .number(Double($0)) }
      case "run_name": .text(run.name)
      case "status": .text(run.status)
      case "run_id": .text(run.runId)
      case "user_id": .text(run.userId)
      default: nil
      }
    }
  }
}

/// Reads filter and order_by text.
struct FilterScanner {
  let text: String
  private let characters: [Character]
  private var position = 0

  init(_ text: String) {
    self.text = text
    characters = Array(text)
  }

  var atEnd: Bool {
    mutating get {
      skipSpaces()
      return position >= characters.count
    }
  }

  func error(_ message: String) -> TrackingError {
    TrackingError.invalid("Error on parsing filter '\(text)': \(message) at position \(position)")
  }

  private mutating func skipSpaces() {
    while position < characters.count, characters[position].isWhitespace { position += 1 }
  }

  /// A bare word (letters, digits, `_`, `.`), or nil.
  mutating func word() -> String? {
    skipSpaces()
    let start = position
    while position < characters.count,
      characters[position].isLetter || characters[position].isNumber
        || "_.".contains(characters[position])
    {
      position += 1
    }
    return position > start ? String(characters[start..<position]) : nil
  }

  private mutating func quoted(_ quote: Character) throws -> String {
    position += 1
    var value = ""
    while position < characters.count, characters[position] != quote {
      value.append(characters[position])
      position += 1
    }
    guard position < characters.count else { throw error("unterminated \(quote)quoted\(quote) text") }
    position += 1
    return value
  }

  /// `entity.key`, `entity.\`quoted key\``, `entity."quoted key"`, or a bare attribute name.
  mutating func identifier() throws -> (RunFilter.Entity, String) {
    skipSpaces()
    let start = position
    while position < characters.count, characters[position].isLetter || characters[position] == "_" {
      position += 1
    }
    let head = String(characters[start..<position])
    guard !head.isEmpty else { throw error("expected a key such as metrics.accuracy or params.lr") }
    guard position < characters.count, characters[position] == "." else {
      return (.attribute, head)
    }
    position += 1
    let entity: RunFilter.Entity
    switch head.lowercased() {
    case "metric", "metrics": entity = .metric
    case "param", "params", "parameter", "parameters": entity = .param
    case "tag", "tags": entity = .tag
    case "attribute", "attributes", "attr", "run": entity = .attribute
    default:
      throw error("invalid entity type '\(head)'; valid ones are metrics, params, tags and attributes")
    }
    guard position < characters.count else { throw error("expected a key after '\(head).'") }
    if characters[position] == "`" || characters[position] == "\"" {
      return (entity, try quoted(characters[position]))
    }
    let keyStart = position
    while position < characters.count, !characters[position].isWhitespace,
      !"=!<>(),".contains(characters[position])
    {
      position += 1
    }
    guard position > keyStart else { throw error("expected a key after '\(head).'") }
    return (entity, String(characters[keyStart..<position]))
  }

  mutating func comparator() throws -> RunFilter.Comparator {
    skipSpaces()
    for symbol in ["!=", ">=", "<=", "=", ">", "<"]
    where characters[position...].starts(with: symbol) {
      position += symbol.count
      return RunFilter.Comparator(rawValue: symbol)!
    }
    let save = position
    switch word()?.uppercased() {
    case "LIKE": return .like
    case "ILIKE": return .ilike
    case "IN": return .isIn
    case "NOT":
      if word()?.uppercased() == "IN" { return .notIn }
    default: break
    }
    position = save
    throw error("expected a comparator (=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN)")
  }

  mutating func value() throws -> RunFilter.Value {
    skipSpaces()
    guard position < characters.count else { throw error("expected a value") }
    let character = characters[position]
    if character == "'" || character == "\"" { return .text(try quoted(character)) }
    if character == "(" {
      position += 1
      var items: [String] = []
      while true {
        skipSpaces()
        guard position < characters.count, characters[position] == "'" || characters[position] == "\"" else {
          throw error("expected a quoted value in the list")
        }
        items.append(try quoted(characters[position]))
        skipSpaces()
        guard position < characters.count else { throw error("unterminated list") }
        if characters[position] == ")" {
          position += 1
          return .list(items)
        }
        guard characters[position] == "," else { throw error("expected ',' or ')' in the list") }
        position += 1
      }
    }
    let start = position
    while position < characters.count, !characters[position].isWhitespace { position += 1 }
    let literal = String(characters[start..<position])
    guard let number = Double(literal), number.isFinite else {
      throw error("expected a number or a quoted string, found '\(literal)'")
    }
    return .number(number)
  }

  mutating func clause() throws -> RunFilter.Clause {
    let (entity, key) = try identifier()
    let comparator = try comparator()
    let value = try value()
    if case .list = value, comparator != .isIn, comparator != .notIn {
      throw error("a list of values goes with IN or NOT IN")
    }
    if comparator == .isIn || comparator == .notIn, case .list = value {
    } else if comparator == .isIn || comparator == .notIn {
      throw error("IN and NOT IN take a list such as ('a', 'b')")
    }
    return RunFilter.Clause(entity: entity, key: key, comparator: comparator, value: value)
  }

  /// Consumes an AND; false at the end.
  mutating func and() throws -> Bool {
    skipSpaces()
    guard position < characters.count else { return false }
    let save = position
    if word()?.uppercased() == "AND" { return true }
    position = save
    throw error("expected AND between clauses (MLflow's filter has no OR)")
  }
}
