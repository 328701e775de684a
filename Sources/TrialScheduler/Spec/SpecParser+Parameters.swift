import DidYouMean
import Foundation
import SearchStrategies
import StudyModel
import TrackingBridge
import Yams

// The `parameters:` section: types, ranges, steps, values and `when` conditions.
extension SpecParser {
  func parseParameters(_ node: Node) -> SearchSpace? {
    guard let entries = reader.namedEntries(node, "parameters", what: "parameter names to definitions") else {
      return nil
    }
    guard !entries.isEmpty else {
      reader.report(at: node, "parameters", "expected at least one parameter")
      return nil
    }
    var parameters: [Parameter] = []
    var whenNodes: [String: Node] = [:]
    var failed = false
    for (name, keyNode, value) in entries {
      let path = "parameters.\(name)"
      guard CommandTemplate.isValidName(name), name != "tier", !name.hasPrefix("tier.") else {
        reader.report(
          at: keyNode, path,
          "'\(name)' cannot be a parameter name: use letters, digits and '_' (starting with a letter), and not 'tier'")
        failed = true
        continue
      }
      if let parameter = parseParameter(value, name: name, path: path) {
        parameters.append(parameter)
        if case .mapping(let mapping) = value, let when = mapping["when"] { whenNodes[name] = when }
      } else {
        failed = true
      }
    }
    guard let ordered = orderByConditions(parameters, whenNodes: whenNodes), !failed else { return nil }
    return SearchSpace(ordered)
  }

  static let parameterKeys = ["type", "min", "max", "log", "logit", "step", "values", "grid_points", "when"]

  func parseParameter(_ node: Node, name: String, path: String) -> Parameter? {
    guard let fields = reader.fields(node, path, allowed: Self.parameterKeys) else { return nil }
    let explicitType = fields["type"].flatMap { reader.choice($0, "\(path).type", as: ParameterType.self) }
    if fields["type"] != nil, explicitType == nil { return nil }
    let type = explicitType ?? (fields["values"] != nil && fields["min"] == nil ? .categorical : nil)
    guard let type else {
      reader.report(
        at: node, path,
        "missing required key 'type' (float, int or categorical); or give `values: [...]` for a categorical parameter")
      return nil
    }
    let values: [ParameterValue]? = reader.list(fields["values"], fields.path("values"), of: "values").flatMap {
      nodes in
      let parsed = nodes.enumerated().compactMap { reader.parameterValue($1, "\(fields.path("values"))[\($0)]") }
      return parsed.count == nodes.count ? parsed : nil
    }
    let conditions = fields["when"].flatMap { parseConditions($0, path: fields.path("when")) } ?? []
    let gridPoints = reader.int(fields["grid_points"], fields.path("grid_points"), atLeast: 2, atMost: 1_000_000)

    switch type {
    case .categorical:
      for key in ["min", "max", "log", "logit", "step", "grid_points"] where fields[key] != nil {
        reader.report(at: fields.keys[key], fields.path(key), "'\(key)' does not apply to a categorical parameter")
      }
      guard let values else {
        if fields["values"] == nil {
          reader.report(at: node, path, "missing required key 'values' for a categorical parameter")
        }
        return nil
      }
      guard !values.isEmpty else {
        reader.report(at: fields["values"], fields.path("values"), "expected at least one value")
        return nil
      }
      if Set(values).count != values.count {
        reader.report(at: fields["values"], fields.path("values"), "values must be distinct")
        return nil
      }
      return Parameter(name: name, domain: .categorical(values), conditions: conditions)
    case .float, .int:
      let minimum = reader.double(fields["min"], fields.path("min"))
      let maximum = reader.double(fields["max"], fields.path("max"))
      let log = fields["log"].map { reader.bool($0, fields.path("log")) } ?? false
      let logit = fields["logit"].map { reader.bool($0, fields.path("logit")) } ?? false
      let step = reader.double(fields["step"], fields.path("step"))
      for key in ["min", "max"] where fields[key] == nil {
        reader.report(at: node, path, "missing required key '\(key)' for a \(type.rawValue) parameter")
      }
      guard let minimum, let maximum, let log, let logit else { return nil }
      if fields["step"] != nil, step == nil { return nil }
      guard minimum < maximum else {
        reader.report(
          at: fields["max"], fields.path("max"), "max must be greater than min (\(minimum)), found \(maximum)")
        return nil
      }
      if log, minimum <= 0 {
        reader.report(at: fields["min"], fields.path("min"), "a log-scaled parameter needs min > 0, found \(minimum)")
        return nil
      }
      if logit, !checkLogit(fields, type: type, log: log, minimum: minimum, maximum: maximum) { return nil }
      guard (maximum - minimum).isFinite else {
        reader.report(
          at: fields["max"], fields.path("max"),
          "max - min must be a finite number; found the range [\(minimum), \(maximum)]")
        return nil
      }
      if let step, step <= 0 || step > maximum - minimum {
        reader.report(
          at: fields["step"], fields.path("step"),
          "step must be positive and at most max - min (\(maximum - minimum)), found \(step)")
        return nil
      }
      if let step, (maximum - minimum) / step > Double(SpecReader.largestWholeNumber) {
        reader.report(
          at: fields["step"], fields.path("step"),
          "step \(step) splits [\(minimum), \(maximum)] into more than 2^53 values; use a larger step or no step")
        return nil
      }
      let domain: Domain
      if type == .int {
        let limit = Double(SpecReader.largestWholeNumber)
        for (key, value) in [("min", minimum), ("max", maximum)] where abs(value) > limit {
          reader.report(
            at: fields[key], fields.path(key),
            "an int parameter's bounds must lie within ±2^53 (±\(SpecReader.largestWholeNumber)), found \(value)")
          return nil
        }
        for (key, value) in [("min", minimum), ("max", maximum), ("step", step ?? 1)] where value != value.rounded() {
          reader.report(at: fields[key], fields.path(key), "an int parameter needs a whole number, found \(value)")
          return nil
        }
        domain = .int(min: Int(minimum), max: Int(maximum), log: log, step: Int(step ?? 1))
      } else {
        domain = .float(min: minimum, max: maximum, log: log, step: step)
      }
      var parameter = Parameter(
        name: name, domain: domain, conditions: conditions, gridPoints: gridPoints, logit: logit)
      if let values {
        let converted = values.map { value -> ParameterValue in
          guard type == .float, let number = value.numericValue else { return value }
          return .double(number)
        }
        for (index, value) in converted.enumerated() where !parameter.contains(value) {
          reader.report(
            at: fields["values"], "\(fields.path("values"))[\(index)]",
            "grid value \(value) is outside [\(minimum), \(maximum)] or off the parameter's step")
          return nil
        }
        parameter.gridValues = converted
      }
      return parameter
    }
  }

  /// `logit: true`: a float parameter without `log` or `step`, with 0 < min < max < 1 (the
  /// logit of 0 or 1 is infinite). Reports what is wrong where; false when something is.
  func checkLogit(_ fields: Fields, type: ParameterType, log: Bool, minimum: Double, maximum: Double)
    -> Bool
  {
    guard type == .float else {
      reader.report(
        at: fields.keys["logit"], fields.path("logit"),
        "'logit' applies to float parameters only (fractions strictly between 0 and 1)")
      return false
    }
    for key in ["log", "step"] where fields[key] != nil && (key != "log" || log) {
      reader.report(
        at: fields.keys[key], fields.path(key),
        "'\(key)' does not combine with 'logit: true'; use one scale or the other")
      return false
    }
    if minimum <= 0 {
      reader.report(
        at: fields["min"], fields.path("min"), "a logit-scaled parameter needs 0 < min < max < 1, found min \(minimum)")
      return false
    }
    if maximum >= 1 {
      reader.report(
        at: fields["max"], fields.path("max"), "a logit-scaled parameter needs 0 < min < max < 1, found max \(maximum)")
      return false
    }
    return true
  }

  enum ParameterType: String, CaseIterable {
    case float
    case int
    case categorical
  }

  func parseConditions(_ node: Node, path: String) -> [Condition]? {
    guard let entries = reader.namedEntries(node, path, what: "parent parameters to their values") else { return nil }
    var conditions: [Condition] = []
    for (parent, _, value) in entries {
      let valuePath = "\(path).\(parent)"
      if case .sequence(let sequence) = value {
        let values = sequence.enumerated().compactMap { reader.parameterValue($1, "\(valuePath)[\($0)]") }
        guard values.count == sequence.count, !values.isEmpty else { return nil }
        conditions.append(Condition(parameter: parent, values: values))
      } else {
        guard let single = reader.parameterValue(value, valuePath) else { return nil }
        conditions.append(Condition(parameter: parent, values: [single]))
      }
    }
    return conditions
  }

  /// Orders parameters so every parent precedes the parameters conditioned on it, and checks
  /// that each condition names an existing parameter with a possible value, without cycles.
  func orderByConditions(_ parameters: [Parameter], whenNodes: [String: Node]) -> [Parameter]? {
    let byName = Dictionary(parameters.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    var ok = true
    for parameter in parameters {
      for condition in parameter.conditions {
        let path = "parameters.\(parameter.name).when.\(condition.parameter)"
        guard let parent = byName[condition.parameter] else {
          var message = "condition names unknown parameter '\(condition.parameter)'"
          if let near = DidYouMean.nearest(to: condition.parameter, in: Array(byName.keys)) {
            message += "; did you mean '\(near)'?"
          }
          reader.report(at: whenNodes[parameter.name], path, message)
          ok = false
          continue
        }
        if parent.name == parameter.name {
          reader.report(at: whenNodes[parameter.name], path, "a parameter cannot be conditioned on itself")
          ok = false
        }
        for value in condition.values where !Self.canTake(parent, value) {
          reader.report(
            at: whenNodes[parameter.name], path,
            "'\(parent.name)' never takes the value \(value), so this condition never holds")
          ok = false
        }
      }
    }
    guard ok else { return nil }
    var ordered: [Parameter] = []
    var placed = Set<String>()
    var remaining = parameters
    while !remaining.isEmpty {
      let ready = remaining.filter { $0.conditions.allSatisfy { placed.contains($0.parameter) } }
      guard !ready.isEmpty else {
        let names = remaining.map(\.name).joined(separator: ", ")
        reader.report(at: whenNodes[remaining[0].name], "parameters", "conditions form a cycle among \(names)")
        return nil
      }
      ordered += ready
      placed.formUnion(ready.map(\.name))
      remaining.removeAll { placed.contains($0.name) }
    }
    return ordered
  }

  static func canTake(_ parameter: Parameter, _ value: ParameterValue) -> Bool {
    if case .categorical(let values) = parameter.domain {
      return values.contains { $0 == value || ($0.numericValue != nil && $0.numericValue == value.numericValue) }
    }
    guard let number = value.numericValue else { return false }
    switch parameter.domain {
    case .float(let lo, let hi, _, _): return number >= lo && number <= hi
    case .int(let lo, let hi, _, _): return number >= Double(lo) && number <= Double(hi)
    case .categorical: return false
    }
  }
}
