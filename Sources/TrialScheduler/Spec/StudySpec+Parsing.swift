import DidYouMean
import Foundation
public import SearchStrategies
public import TrackingBridge
import Yams

extension StudySpec {
  static let topLevelKeys = [
    "name", "description", "objective", "search", "parameters", "trial", "tiers", "promotion", "early_stopping",
    "registration", "tracking",
  ]
  /// Larger documents than this are refused before parsing (a spec is a page, not a data set).
  static let maximumBytes = 1 << 20
  /// Node and depth limits that stop alias bombs and pathological nesting.
  static let maximumNodes = 20_000
  static let maximumDepth = 32

  /// Parses and validates a study spec, reporting every problem at once.
  ///
  /// - Parameters:
  ///   - yaml: the spec text.
  ///   - file: the name used in messages (`study.yaml:3:5: ...`).
  ///   - baseDirectory: where a relative `trial.workdir` is resolved (the spec's folder).
  public static func parse(yaml: String, file: String, baseDirectory: String? = nil) throws(SpecValidationError)
    -> StudySpec
  {
    let reader = SpecReader(file: file)
    guard yaml.utf8.count <= maximumBytes else {
      reader.report(
        line: 1, column: 1, "", "the spec is \(yaml.utf8.count) bytes; at most \(maximumBytes) are accepted")
      throw SpecValidationError(issues: reader.issues)
    }
    let root: Node
    do {
      guard let node = try Yams.compose(yaml: yaml) else {
        reader.report(
          line: 1, column: 1, "",
          "the spec is empty; expected a mapping with keys name, objective, search, parameters, trial")
        throw SpecValidationError(issues: reader.issues)
      }
      root = node
    } catch let error as SpecValidationError {
      throw error
    } catch {
      reader.reportYAMLError(error)
      throw SpecValidationError(issues: reader.issues)
    }
    guard reader.checkSize(root) else { throw SpecValidationError(issues: reader.issues) }
    let spec = SpecParser(reader: reader, baseDirectory: baseDirectory ?? FileManager.default.currentDirectoryPath)
      .parse(root)
    guard let spec, reader.issues.isEmpty else { throw SpecValidationError(issues: reader.issues) }
    return spec
  }

  /// Reads and parses a spec file; relative workdirs resolve against the file's folder.
  public static func load(path: String) throws(SpecValidationError) -> (spec: StudySpec, yaml: String) {
    let url = URL(fileURLWithPath: path)
    let yaml: String
    do {
      yaml = try String(contentsOf: url, encoding: .utf8)
    } catch {
      throw SpecValidationError(issues: [
        SpecIssue(
          file: path, line: 1, column: 1, path: "", message: "cannot read the spec: \(error.localizedDescription)")
      ])
    }
    let spec = try parse(yaml: yaml, file: path, baseDirectory: url.deletingLastPathComponent().path)
    return (spec, yaml)
  }
}

extension SpecReader {
  func reportYAMLError(_ error: any Error) {
    guard let error = error as? YamlError else {
      report(line: 1, column: 1, "", "not valid YAML: \(error)")
      return
    }
    switch error {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      let where_ = context.map { " \($0.text)" } ?? ""
      report(line: mark.line, column: mark.column, "", "not valid YAML: \(problem)\(where_)")
    case .duplicatedKeysInMapping(let duplicates, let context):
      let keys = duplicates.sorted().joined(separator: ", ")
      let mark = context.mark
      report(
        line: mark.line, column: mark.column, "", "duplicate key(s) \(keys): each key may appear once in a mapping")
    default:
      report(line: 1, column: 1, "", "not valid YAML: \(error)")
    }
  }

  /// Refuses documents whose expanded tree is too large or too deep (YAML alias bombs).
  func checkSize(_ root: Node) -> Bool {
    var count = 0
    func visit(_ node: Node, depth: Int) -> Bool {
      count += 1
      if count > StudySpec.maximumNodes || depth > StudySpec.maximumDepth { return false }
      switch node {
      case .mapping(let mapping):
        for (key, value) in mapping where !visit(key, depth: depth + 1) || !visit(value, depth: depth + 1) {
          return false
        }
      case .sequence(let sequence):
        for item in sequence where !visit(item, depth: depth + 1) { return false }
      case .scalar, .alias: break
      }
      return true
    }
    if visit(root, depth: 0) { return true }
    report(
      at: root, "",
      "the spec expands to more than \(StudySpec.maximumNodes) values or nests deeper than \(StudySpec.maximumDepth) levels; a study spec is much smaller (check for runaway aliases)"
    )
    return false
  }
}

/// Builds a `StudySpec` section by section; sections that fail leave issues and a `nil`.
struct SpecParser {
  let reader: SpecReader
  let baseDirectory: String

  func parse(_ root: Node) -> StudySpec? {
    guard
      let top = reader.fields(
        root, "", allowed: StudySpec.topLevelKeys, required: ["name", "objective", "parameters"])
    else { return nil }
    let name = parseName(top)
    let description = reader.string(top["description"], "description")
    let objective = top["objective"].flatMap(parseObjective)
    let search = parseSearch(top["search"])
    let space = top["parameters"].flatMap(parseParameters)
    let tiers = top["tiers"].map(parseTiers) ?? [:]
    // Without `trial`, the study's trials run outside hpod (ask and tell).
    let trial = top["trial"].map { parseTrial($0, space: space, tiers: tiers) } ?? Self.askAndTellTrial(baseDirectory)
    let promotion = top["promotion"].flatMap { parsePromotion($0, hasFullTraining: tiers[.fullTraining] != nil) }
    let earlyStopping = top["early_stopping"].flatMap { parseEarlyStopping($0, objective: objective) }
    let registration = top["registration"].flatMap { parseRegistration($0, tiers: tiers) }
    let tracking = parseTracking(top["tracking"], studyName: name)
    checkSearchAgainstSpace(search, space: space, searchNode: top["search"])
    if let search, search.algorithm != .grid, search.maxTrials == nil {
      reader.report(
        at: top["search"] ?? root, "search", "missing required key 'max_trials' (only grid search may leave it out)")
    }
    guard let name, let objective, let search, let space, let trial, let tracking else { return nil }
    return StudySpec(
      name: name, description: description, objective: objective, search: search, space: space, trial: trial,
      tiers: tiers, promotion: promotion, earlyStopping: earlyStopping, registration: registration, tracking: tracking)
  }

  func parseName(_ top: Fields) -> String? {
    guard let node = top["name"], let name = reader.nonEmptyString(node, "name") else { return nil }
    guard name.count <= 100, name.allSatisfy({ $0.isLetter || $0.isNumber || "_.-".contains($0) }) else {
      reader.report(at: node, "name", "expected letters, digits, '-', '_' or '.' (at most 100), found \"\(name)\"")
      return nil
    }
    return name
  }

  func parseObjective(_ node: Node) -> StudySpec.Objective? {
    guard
      let fields = reader.fields(
        node, "objective", allowed: ["metric", "direction"], required: ["metric", "direction"])
    else { return nil }
    let metric = reader.nonEmptyString(fields["metric"], "objective.metric")
    let direction = reader.choice(fields["direction"], "objective.direction", as: Direction.self)
    guard let metric, let direction else { return nil }
    return StudySpec.Objective(metric: metric, direction: direction)
  }

  func parseSearch(_ node: Node?) -> StudySpec.Search? {
    guard let node else {
      return StudySpec.Search(algorithm: .random, seed: 0, maxTrials: nil, parallelism: 1, startupTrials: nil)
    }
    guard
      let fields = reader.fields(
        node, "search", allowed: ["algorithm", "seed", "max_trials", "parallelism", "startup_trials"])
    else { return nil }
    let algorithm =
      fields["algorithm"].map { reader.choice($0, "search.algorithm", as: StudySpec.Algorithm.self) } ?? .random
    let seed = fields["seed"].map { reader.int($0, "search.seed", atLeast: 0) } ?? 0
    let maxTrials = reader.int(fields["max_trials"], "search.max_trials", atLeast: 1, atMost: 10_000_000)
    let parallelism =
      fields["parallelism"].map { reader.int($0, "search.parallelism", atLeast: 1, atMost: 10_000) } ?? 1
    let startupTrials = reader.int(fields["startup_trials"], "search.startup_trials", atLeast: 1)
    if let parallelism, parallelism > 256 {
      reader.report(
        at: fields["parallelism"], "search.parallelism", "at most 256 trials can run at once, found \(parallelism)")
    }
    if fields["startup_trials"] != nil, let algorithm, algorithm != .bayes {
      reader.report(
        at: fields.keys["startup_trials"], "search.startup_trials",
        "startup_trials applies to bayes search only (algorithm is \(algorithm.rawValue))")
    }
    guard let algorithm, let seed, let parallelism else { return nil }
    if fields["max_trials"] != nil, maxTrials == nil { return nil }
    return StudySpec.Search(
      algorithm: algorithm, seed: UInt64(seed), maxTrials: maxTrials, parallelism: parallelism,
      startupTrials: startupTrials)
  }

  func checkSearchAgainstSpace(_ search: StudySpec.Search?, space: SearchSpace?, searchNode: Node?) {
    guard let search, let space, search.algorithm == .grid else { return }
    for parameter in space.parameters where parameter.gridValues == nil && parameter.gridPoints == nil {
      if case .float = parameter.domain {
        let algorithmNode = searchNode.flatMap { node -> Node? in
          if case .mapping(let mapping) = node { return mapping["algorithm"] }
          return nil
        }
        reader.report(
          at: algorithmNode ?? searchNode, "search.algorithm",
          "grid search needs the values of continuous parameter '\(parameter.name)': add `values: [...]` or `grid_points: N` to parameters.\(parameter.name)"
        )
      }
    }
  }

  // MARK: Parameters

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

  static let parameterKeys = ["type", "min", "max", "log", "step", "values", "grid_points", "when"]

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
      for key in ["min", "max", "log", "step", "grid_points"] where fields[key] != nil {
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
      let step = reader.double(fields["step"], fields.path("step"))
      for key in ["min", "max"] where fields[key] == nil {
        reader.report(at: node, path, "missing required key '\(key)' for a \(type.rawValue) parameter")
      }
      guard let minimum, let maximum, let log else { return nil }
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
      var parameter = Parameter(name: name, domain: domain, conditions: conditions, gridPoints: gridPoints)
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

  // MARK: Trial

  static let trialKeys = [
    "command", "workdir", "env", "timeout", "retries", "max_failed_trials", "cost_per_hour", "log_limit",
    "stop_grace_period",
  ]

  func parseTrial(_ node: Node, space: SearchSpace?, tiers: [Tier: [String: ParameterValue]]) -> StudySpec
    .TrialTemplate?
  {
    guard let fields = reader.fields(node, "trial", allowed: Self.trialKeys, required: ["command"]) else { return nil }
    let command = fields["command"].flatMap { parseCommand($0, space: space, tiers: tiers) }
    var workdir = baseDirectory
    if let dir = reader.nonEmptyString(fields["workdir"], "trial.workdir") {
      workdir =
        dir.hasPrefix("/") ? dir : URL(fileURLWithPath: baseDirectory).appendingPathComponent(dir).standardized.path
      var isDirectory: ObjCBool = false
      if !FileManager.default.fileExists(atPath: workdir, isDirectory: &isDirectory) || !isDirectory.boolValue {
        reader.report(
          at: fields["workdir"], "trial.workdir",
          "no such directory: \(workdir) (relative paths start at the spec's folder)")
      }
    }
    var environment: [String: String] = [:]
    if let envNode = fields["env"],
      let entries = reader.namedEntries(envNode, "trial.env", what: "variable names to values")
    {
      for (key, keyNode, value) in entries {
        guard !key.isEmpty, !key.contains("="), !key.contains("\0") else {
          reader.report(at: keyNode, "trial.env.\(key)", "not a valid environment variable name")
          continue
        }
        if let text = reader.string(value, "trial.env.\(key)") { environment[key] = text }
      }
    }
    let timeout = reader.duration(fields["timeout"], "trial.timeout")
    let retries = fields["retries"].map { reader.int($0, "trial.retries", atLeast: 0, atMost: 1000) } ?? 0
    let maxFailed = reader.int(fields["max_failed_trials"], "trial.max_failed_trials", atLeast: 0)
    let cost = reader.double(fields["cost_per_hour"], "trial.cost_per_hour")
    if let cost, cost < 0 {
      reader.report(at: fields["cost_per_hour"], "trial.cost_per_hour", "expected a cost of 0 or more")
    }
    let logLimit = fields["log_limit"].map { reader.byteSize($0, "trial.log_limit") } ?? 10_000_000
    let grace = fields["stop_grace_period"].map { reader.duration($0, "trial.stop_grace_period") } ?? .seconds(10)
    guard let command, let retries, let logLimit, let grace else { return nil }
    return StudySpec.TrialTemplate(
      command: command, workdir: workdir, environment: environment, timeout: timeout, retries: retries,
      maxFailedTrials: maxFailed, costPerHour: cost, logLimitBytes: logLimit, stopGracePeriod: grace)
  }

  static func askAndTellTrial(_ workdir: String) -> StudySpec.TrialTemplate {
    StudySpec.TrialTemplate(
      command: [], workdir: workdir, environment: [:], timeout: nil, retries: 0, maxFailedTrials: nil, costPerHour: nil,
      logLimitBytes: 10_000_000, stopGracePeriod: .seconds(10))
  }

  func parseCommand(_ node: Node, space: SearchSpace?, tiers: [Tier: [String: ParameterValue]]) -> [String]? {
    guard case .sequence(let sequence) = node else {
      reader.expected(
        "the command as a list of arguments, e.g. [python3, train.py, \"--lr={lr}\"]", at: node, "trial.command")
      return nil
    }
    guard !sequence.isEmpty else {
      reader.report(at: node, "trial.command", "expected at least the program to run")
      return nil
    }
    var argv: [String] = []
    let names = space?.parameters.map(\.name) ?? []
    for (index, item) in sequence.enumerated() {
      let path = "trial.command[\(index)]"
      guard case .scalar(let scalar) = item, !SpecReader.isNull(scalar) else {
        reader.expected("an argument (text)", at: item, path)
        continue
      }
      argv.append(scalar.string)
      for piece in CommandTemplate.pieces(of: scalar.string) {
        switch piece {
        case .literal: break
        case .parameter(let name) where space != nil && !names.contains(name):
          var message = "placeholder {\(name)} names no parameter"
          if let near = DidYouMean.nearest(to: name, in: names) { message += "; did you mean {\(near)}?" }
          reader.report(at: item, path, message)
        case .tierKey(let key):
          if tiers.isEmpty {
            reader.report(at: item, path, "placeholder {tier.\(key)} needs a `tiers:` section defining '\(key)'")
          }
          for (tier, values) in tiers.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where values[key] == nil {
            reader.report(at: item, path, "placeholder {tier.\(key)}: tier \(tier.rawValue) has no key '\(key)'")
          }
        case .parameter: break
        }
      }
    }
    return argv.count == sequence.count ? argv : nil
  }

  // MARK: Tiers, promotion, early stopping, registration, tracking

  func parseTiers(_ node: Node) -> [Tier: [String: ParameterValue]] {
    guard let fields = reader.fields(node, "tiers", allowed: Tier.allCases.map(\.rawValue), required: ["quick_test"])
    else {
      return [:]
    }
    var tiers: [Tier: [String: ParameterValue]] = [:]
    for tier in Tier.allCases {
      guard let tierNode = fields[tier.rawValue] else { continue }
      let path = "tiers.\(tier.rawValue)"
      guard let entries = reader.namedEntries(tierNode, path, what: "keys to values") else { continue }
      var values: [String: ParameterValue] = [:]
      for (key, keyNode, value) in entries {
        guard CommandTemplate.isValidName(key) else {
          reader.report(at: keyNode, "\(path).\(key)", "tier keys are names (letters, digits, '_')")
          continue
        }
        if let parsed = reader.parameterValue(value, "\(path).\(key)") { values[key] = parsed }
      }
      tiers[tier] = values
    }
    return tiers
  }

  func parsePromotion(_ node: Node, hasFullTraining: Bool) -> StudySpec.Promotion? {
    guard
      let fields = reader.fields(
        node, "promotion", allowed: ["top_k", "min_value", "mode", "margin", "max_full_trainings"])
    else { return nil }
    if !hasFullTraining {
      reader.report(
        at: node, "promotion", "promotion launches full-training trials: add `tiers: {full_training: {...}}`")
    }
    let topK = fields["top_k"].map { reader.int($0, "promotion.top_k", atLeast: 1) } ?? 1
    let minValue = reader.double(fields["min_value"], "promotion.min_value")
    let mode =
      fields["mode"].map { reader.choice($0, "promotion.mode", as: StudySpec.PromotionMode.self) } ?? .afterSearch
    let margin = fields["margin"].map { reader.double($0, "promotion.margin") } ?? 0
    let maxFull = reader.int(fields["max_full_trainings"], "promotion.max_full_trainings", atLeast: 1)
    guard let topK, let mode, let margin else { return nil }
    return StudySpec.Promotion(
      topK: topK, minValue: minValue, mode: mode, margin: margin, maxFullTrainings: maxFull ?? topK)
  }

  static let ruleKeys: [String: [String]] = [
    "median": ["min_steps", "min_trials"],
    "patience": ["patience", "min_delta", "min_steps"],
    "threshold": ["lower", "upper", "min_steps"],
    "asha": ["min_resource", "max_resource", "reduction_factor"],
    "hyperband": ["min_resource", "max_resource", "reduction_factor"],
  ]

  func parseEarlyStopping(_ node: Node, objective: StudySpec.Objective?) -> StudySpec.EarlyStopping? {
    guard case .mapping(let mapping) = node else {
      reader.expected("a mapping such as {rule: median, min_steps: 3}", at: node, "early_stopping")
      return nil
    }
    let rules = Self.ruleKeys.keys.sorted()
    guard let ruleNode = mapping["rule"] else {
      reader.report(at: node, "early_stopping", "missing required key 'rule' (one of \(rules.joined(separator: ", ")))")
      return nil
    }
    guard let rule = reader.string(ruleNode, "early_stopping.rule") else { return nil }
    guard let keys = Self.ruleKeys[rule] else {
      var message = "expected one of \(rules.joined(separator: ", ")), found \"\(rule)\""
      if let near = DidYouMean.nearest(to: rule, in: rules) { message += "; did you mean '\(near)'?" }
      reader.report(at: ruleNode, "early_stopping.rule", message)
      return nil
    }
    guard let fields = reader.fields(node, "early_stopping", allowed: ["rule", "metric"] + keys) else { return nil }
    let metric = reader.nonEmptyString(fields["metric"], "early_stopping.metric") ?? objective?.metric
    func int(_ key: String, _ fallback: Int?, atLeast minimum: Int) -> Int? {
      fields[key].map { reader.int($0, fields.path(key), atLeast: minimum) } ?? fallback
    }
    let parsed: StudySpec.StoppingRule?
    switch rule {
    case "median":
      parsed = zip2(int("min_steps", 1, atLeast: 0), int("min_trials", 5, atLeast: 1)).map {
        .median(minSteps: $0, minTrials: $1)
      }
    case "patience":
      let delta = fields["min_delta"].map { reader.double($0, fields.path("min_delta")) } ?? 0
      if fields["patience"] == nil { reader.report(at: node, "early_stopping", "missing required key 'patience'") }
      parsed = zip3(int("patience", nil, atLeast: 1), delta, int("min_steps", 0, atLeast: 0)).map {
        .patience(patience: $0, minDelta: $1, minSteps: $2)
      }
    case "threshold":
      let lower = reader.double(fields["lower"], fields.path("lower"))
      let upper = reader.double(fields["upper"], fields.path("upper"))
      if fields["lower"] == nil, fields["upper"] == nil {
        reader.report(at: node, "early_stopping", "the threshold rule needs 'lower', 'upper' or both")
      }
      if let lower, let upper, lower >= upper {
        reader.report(at: fields["upper"], fields.path("upper"), "upper must be greater than lower (\(lower))")
      }
      parsed = int("min_steps", 0, atLeast: 0).map { .threshold(lower: lower, upper: upper, minSteps: $0) }
    default:
      let minResource = int("min_resource", 1, atLeast: 1)
      let maxResource = int("max_resource", nil, atLeast: 1)
      let factor = int("reduction_factor", 3, atLeast: 2)
      if rule == "hyperband", fields["max_resource"] == nil {
        reader.report(
          at: node, "early_stopping", "missing required key 'max_resource' (the most steps a trial runs) for hyperband")
      }
      if let minResource, let maxResource, maxResource <= minResource {
        reader.report(
          at: fields["max_resource"], fields.path("max_resource"),
          "max_resource must exceed min_resource (\(minResource))")
      }
      parsed = zip2(minResource, factor).map { minimum, factor in
        rule == "asha"
          ? .asha(minResource: minimum, maxResource: maxResource, reductionFactor: factor)
          : .hyperband(minResource: minimum, maxResource: maxResource, reductionFactor: factor)
      }
    }
    guard let parsed, let metric else { return nil }
    return StudySpec.EarlyStopping(rule: parsed, metric: metric)
  }

  func parseRegistration(_ node: Node, tiers: [Tier: [String: ParameterValue]]) -> StudySpec.Registration? {
    guard
      let fields = reader.fields(
        node, "registration", allowed: ["model", "when", "artifact", "alias", "tier"], required: ["model", "when"])
    else { return nil }
    let model = reader.nonEmptyString(fields["model"], "registration.model")
    var conditions: [StudySpec.Threshold] = []
    if let items = reader.list(fields["when"], "registration.when", of: "conditions such as \"val_accuracy >= 0.95\"") {
      for (index, item) in items.enumerated() {
        let path = "registration.when[\(index)]"
        guard let text = reader.string(item, path) else { continue }
        if let condition = Self.parseThreshold(text) {
          conditions.append(condition)
        } else {
          reader.report(
            at: item, path,
            "expected a condition like \"val_accuracy >= 0.95\" (metric, one of >= > <= < ==, number), found \"\(text)\""
          )
        }
      }
      if items.isEmpty { reader.report(at: fields["when"], "registration.when", "expected at least one condition") }
    }
    let artifact = reader.nonEmptyString(fields["artifact"], "registration.artifact")
    if let artifact, artifact.hasPrefix("/") || artifact.split(separator: "/").contains("..") {
      reader.report(
        at: fields["artifact"], "registration.artifact",
        "expected a path inside the trial's artifact directory, found \"\(artifact)\"")
    }
    let alias = reader.nonEmptyString(fields["alias"], "registration.alias")
    let defaultTier: Tier = tiers[.fullTraining] != nil ? .fullTraining : .quickTest
    let tier = fields["tier"].map { reader.choice($0, "registration.tier", as: Tier.self) } ?? defaultTier
    guard let model, let tier else { return nil }
    return StudySpec.Registration(model: model, conditions: conditions, artifact: artifact, alias: alias, tier: tier)
  }

  static func parseThreshold(_ text: String) -> StudySpec.Threshold? {
    for comparison in StudySpec.Threshold.Comparison.allCases {
      let parts = text.components(separatedBy: comparison.rawValue)
      guard parts.count == 2 else { continue }
      let metric = parts[0].trimmingCharacters(in: .whitespaces)
      guard !metric.isEmpty, !metric.contains(where: { "<>=!".contains($0) || $0.isWhitespace }),
        let value = Double(parts[1].trimmingCharacters(in: .whitespaces)), value.isFinite
      else { return nil }
      return StudySpec.Threshold(metric: metric, comparison: comparison, value: value)
    }
    return nil
  }

  func parseTracking(_ node: Node?, studyName: String?) -> StudySpec.Tracking? {
    // Only a tracking server can be mirrored to; a local MLFLOW_TRACKING_URI (file:, sqlite:)
    // is the trials' own business.
    let environmentURI = ProcessInfo.processInfo.environment["MLFLOW_TRACKING_URI"].flatMap { text in
      text.hasPrefix("http://") || text.hasPrefix("https://") ? text : nil
    }
    guard let node else { return StudySpec.Tracking(experiment: studyName ?? "hpod", mlflowURI: environmentURI) }
    guard let fields = reader.fields(node, "tracking", allowed: ["experiment", "mlflow"]) else { return nil }
    let experiment = reader.nonEmptyString(fields["experiment"], "tracking.experiment") ?? studyName ?? "hpod"
    var uri = environmentURI
    if let mlflow = fields["mlflow"],
      let mlflowFields = reader.fields(mlflow, "tracking.mlflow", allowed: ["uri"], required: ["uri"])
    {
      if let text = reader.nonEmptyString(mlflowFields["uri"], "tracking.mlflow.uri") {
        if let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil {
          uri = text
        } else {
          reader.report(
            at: mlflowFields["uri"], "tracking.mlflow.uri",
            "expected an http(s) URL such as http://127.0.0.1:5000, found \"\(text)\"")
        }
      }
    }
    return StudySpec.Tracking(experiment: experiment, mlflowURI: uri)
  }
}

private func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
  guard let a, let b else { return nil }
  return (a, b)
}

private func zip3<A, B, C>(_ a: A?, _ b: B?, _ c: C?) -> (A, B, C)? {
  guard let a, let b, let c else { return nil }
  return (a, b, c)
}
