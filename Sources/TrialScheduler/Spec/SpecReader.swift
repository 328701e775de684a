import DidYouMean
import Foundation
import NumberText
import SearchStrategies
import StudyModel
import Yams

/// Walks a composed YAML tree and collects every problem instead of stopping at the first,
/// each located at its node (`file:line:column`) and named by its key path.
final class SpecReader {
  let file: String
  private(set) var issues: [SpecIssue] = []

  init(file: String) {
    self.file = file
  }

  // MARK: Reporting

  func report(at node: Node?, _ path: String, _ message: String) {
    let mark = node?.mark
    issues.append(SpecIssue(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, path: path, message: message))
  }

  func report(line: Int, column: Int, _ path: String, _ message: String) {
    issues.append(SpecIssue(file: file, line: line, column: column, path: path, message: message))
  }

  func expected(_ what: String, at node: Node, _ path: String) {
    report(at: node, path, "expected \(what), found \(Self.describe(node))")
  }

  /// How a node reads to a user: `"abc"`, `42`, `a list`, `a mapping`, `nothing`.
  static func describe(_ node: Node) -> String {
    switch node {
    case .scalar(let scalar):
      if isNull(scalar) { return "nothing" }
      if scalar.style == .plain, Double(scalar.string) != nil || ["true", "false"].contains(scalar.string) {
        return scalar.string
      }
      return "\"\(scalar.string)\""
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .alias: return "an alias"
    }
  }

  static func isNull(_ scalar: Node.Scalar) -> Bool {
    scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
  }

  // MARK: Mappings

  /// The entries of a mapping whose keys are all among `allowed`; an unknown key is reported
  /// with the nearest allowed one, a missing required key at the mapping itself.
  func fields(_ node: Node, _ path: String, allowed: [String], required: [String] = []) -> Fields? {
    guard case .mapping(let mapping) = node else {
      expected("a mapping with keys \(allowed.joined(separator: ", "))", at: node, path)
      return nil
    }
    var fields = Fields(node: node, path: path)
    for (keyNode, value) in mapping {
      guard case .scalar(let key) = keyNode else {
        expected("a text key", at: keyNode, path)
        continue
      }
      let keyPath = Self.join(path, key.string)
      if !allowed.contains(key.string) {
        var message = "unknown key '\(key.string)'"
        if let suggestion = DidYouMean.nearest(to: key.string, in: allowed) {
          message += "; did you mean '\(suggestion)'?"
        } else {
          message += "; expected one of \(allowed.joined(separator: ", "))"
        }
        report(at: keyNode, keyPath, message)
        continue
      }
      fields.values[key.string] = value
      fields.keys[key.string] = keyNode
    }
    for key in required where fields.values[key] == nil {
      report(at: node, path, "missing required key '\(key)'")
    }
    return fields
  }

  /// The entries of a mapping whose keys are names chosen by the user (parameters, env vars).
  func namedEntries(_ node: Node, _ path: String, what: String) -> [(key: String, keyNode: Node, value: Node)]? {
    guard case .mapping(let mapping) = node else {
      expected("a mapping of \(what)", at: node, path)
      return nil
    }
    var entries: [(key: String, keyNode: Node, value: Node)] = []
    for (keyNode, value) in mapping {
      guard case .scalar(let key) = keyNode, !Self.isNull(key) else {
        expected("a name", at: keyNode, path)
        continue
      }
      entries.append((key.string, keyNode, value))
    }
    return entries
  }

  static func join(_ path: String, _ key: String) -> String {
    path.isEmpty ? key : "\(path).\(key)"
  }

  // MARK: Scalars

  func string(_ node: Node?, _ path: String) -> String? {
    guard let node else { return nil }
    guard case .scalar(let scalar) = node, !Self.isNull(scalar) else {
      expected("text", at: node, path)
      return nil
    }
    return scalar.string
  }

  func nonEmptyString(_ node: Node?, _ path: String) -> String? {
    guard let text = string(node, path) else { return nil }
    if text.trimmingCharacters(in: .whitespaces).isEmpty {
      report(at: node, path, "expected non-empty text")
      return nil
    }
    // A name with a NUL (YAML's "\0") reaches SQLite, C strings and MLflow cut short.
    if text.unicodeScalars.contains("\0") {
      report(at: node, path, "expected text without a NUL character (\\0)")
      return nil
    }
    return text
  }

  /// A metric's name as trials report it and MLflow stores it: non-empty, at most 250
  /// characters (MLflow's limit for a key), no control characters (a NUL ends a C string).
  func metricName(_ node: Node?, _ path: String) -> String? {
    guard let text = nonEmptyString(node, path) else { return nil }
    if let problem = Self.metricNameProblem(text) {
      report(at: node, path, problem)
      return nil
    }
    return text
  }

  /// What is wrong with a metric's name, or nil.
  static func metricNameProblem(_ name: String) -> String? {
    if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
      return "a metric's name cannot contain control characters (such as NUL or a line break)"
    }
    if name.count > 250 { return "a metric's name is at most 250 characters, found \(name.count)" }
    return nil
  }

  func double(_ node: Node?, _ path: String) -> Double? {
    guard let node else { return nil }
    guard case .scalar(let scalar) = node, let value = Double(scalar.string.trimmingCharacters(in: .whitespaces))
    else {
      expected("a number", at: node, path)
      return nil
    }
    guard value.isFinite else {
      report(at: node, path, "expected a finite number, found \(scalar.string)")
      return nil
    }
    return value
  }

  /// The largest whole number a spec may give: every spec number is also used as a Double
  /// (by the search space and the store), and integers beyond 2^53 are not all representable.
  static let largestWholeNumber = 1 << 53

  func int(_ node: Node?, _ path: String, atLeast minimum: Int? = nil, atMost maximum: Int = largestWholeNumber)
    -> Int?
  {
    guard let node else { return nil }
    guard case .scalar(let scalar) = node else {
      expected("a whole number", at: node, path)
      return nil
    }
    let text = scalar.string.trimmingCharacters(in: .whitespaces)
    // Parsed as a Double first so `1e3` reads as 1000 and a number too large for an Int is
    // reported instead of trapping.
    guard let number = Int(text).map(Double.init) ?? Double(text), number.isFinite, number == number.rounded() else {
      expected("a whole number", at: node, path)
      return nil
    }
    if let minimum, number < Double(minimum) {
      report(at: node, path, "expected a whole number of at least \(minimum), found \(text)")
      return nil
    }
    guard number <= Double(maximum), number >= -Double(Self.largestWholeNumber) else {
      report(at: node, path, "expected a whole number of at most \(maximum), found \(text)")
      return nil
    }
    return Int(text) ?? Int(number)
  }

  func bool(_ node: Node?, _ path: String) -> Bool? {
    guard let node else { return nil }
    if case .scalar(let scalar) = node {
      switch scalar.string.lowercased() {
      case "true", "yes", "on": return true
      case "false", "no", "off": return false
      default: break
      }
    }
    expected("true or false", at: node, path)
    return nil
  }

  /// One of a fixed set of words, with a suggestion when it is close to one.
  func choice<T: RawRepresentable & CaseIterable>(_ node: Node?, _ path: String, as: T.Type) -> T?
  where T.RawValue == String {
    guard let node, let text = string(node, path) else { return nil }
    if let value = T(rawValue: text) { return value }
    let options = T.allCases.map(\.rawValue)
    var message = "expected one of \(options.joined(separator: ", ")), found \"\(text)\""
    if let suggestion = DidYouMean.nearest(to: text, in: options) { message += "; did you mean '\(suggestion)'?" }
    report(at: node, path, message)
    return nil
  }

  /// A scalar as the parameter value it denotes: plain `3` is an int, `0.5` a double,
  /// `true` a bool; anything quoted stays text.
  func parameterValue(_ node: Node, _ path: String) -> ParameterValue? {
    guard case .scalar(let scalar) = node, !Self.isNull(scalar) else {
      expected("a single value (text, number or true/false)", at: node, path)
      return nil
    }
    return Self.typedValue(scalar)
  }

  static func typedValue(_ scalar: Node.Scalar) -> ParameterValue {
    let text = scalar.string
    guard scalar.style == .plain else { return .string(text) }
    if let value = Int(text) { return .int(value) }
    if let value = Double(text), value.isFinite, text.rangeOfCharacter(from: .decimalDigits) != nil {
      return .double(value)
    }
    switch text {
    case "true", "True", "TRUE": return .bool(true)
    case "false", "False", "FALSE": return .bool(false)
    default: return .string(text)
    }
  }

  func list(_ node: Node?, _ path: String, of what: String) -> [Node]? {
    guard let node else { return nil }
    guard case .sequence(let sequence) = node else {
      expected("a list of \(what)", at: node, path)
      return nil
    }
    return Array(sequence)
  }

  /// The longest duration a spec may give (366 days): a trial's timeout and grace period
  /// become nanosecond counts, which overflow past about 292 years.
  static let longestDuration: Double = 366 * 86_400

  /// `90`, `90s`, `10m`, `1h30m`, `500ms`.
  func duration(_ node: Node?, _ path: String) -> Duration? {
    guard let node else { return nil }
    guard case .scalar(let scalar) = node, let seconds = Self.parseSeconds(scalar.string), seconds > 0 else {
      expected("a positive duration such as 90s, 10m or 1h30m", at: node, path)
      return nil
    }
    guard seconds <= Self.longestDuration else {
      report(
        at: node, path,
        "\(scalar.string) (\(NumberText.of(seconds, digits: 3)) s) is longer than the largest supported duration (366 days, 8784h)"
      )
      return nil
    }
    return .milliseconds(Int64((seconds * 1000).rounded()))
  }

  static func parseSeconds(_ text: String) -> Double? {
    let text = text.trimmingCharacters(in: .whitespaces).lowercased()
    if let plain = Double(text) { return plain.isFinite ? plain : nil }
    let units: [(String, Double)] = [("ms", 0.001), ("h", 3600), ("m", 60), ("s", 1)]
    var total = 0.0
    var rest = Substring(text)
    while !rest.isEmpty {
      let digits = rest.prefix { $0.isNumber || $0 == "." }
      guard let amount = Double(digits), !digits.isEmpty else { return nil }
      rest = rest.dropFirst(digits.count)
      guard let (unit, factor) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
      rest = rest.dropFirst(unit.count)
      total += amount * factor
    }
    return total.isFinite ? total : nil
  }

  /// The largest size a spec may give (1 TB).
  static let largestByteSize: Double = 1e12

  /// `10MB`, `512KB`, `1GB`, or a byte count.
  func byteSize(_ node: Node?, _ path: String) -> Int? {
    guard let node else { return nil }
    guard case .scalar(let scalar) = node, let bytes = Self.parseBytes(scalar.string), bytes >= 1 else {
      expected("a size such as 512KB, 10MB or 1GB", at: node, path)
      return nil
    }
    guard bytes <= Self.largestByteSize else {
      report(at: node, path, "\(scalar.string) is larger than the largest supported size (1TB)")
      return nil
    }
    return Int(bytes)
  }

  /// The size in bytes, as a Double so that no written size can overflow an integer.
  static func parseBytes(_ text: String) -> Double? {
    let text = text.trimmingCharacters(in: .whitespaces).uppercased()
    let units: [(String, Double)] = [
      ("KIB", 1024), ("MIB", 1_048_576), ("GIB", 1_073_741_824), ("KB", 1000), ("MB", 1e6), ("GB", 1e9), ("B", 1),
    ]
    var amount = text
    var factor = 1.0
    if let (unit, unitFactor) = units.first(where: { text.hasSuffix($0.0) }) {
      amount = String(text.dropLast(unit.count)).trimmingCharacters(in: .whitespaces)
      factor = unitFactor
    }
    guard let value = Double(amount), value.isFinite else { return nil }
    let bytes = (value * factor).rounded()
    return bytes.isFinite ? bytes : nil
  }
}

/// The recognised entries of one mapping, with its node for locating "missing key" errors.
struct Fields {
  let node: Node
  let path: String
  var values: [String: Node] = [:]
  var keys: [String: Node] = [:]

  subscript(key: String) -> Node? { values[key] }

  func path(_ key: String) -> String { SpecReader.join(path, key) }
}
