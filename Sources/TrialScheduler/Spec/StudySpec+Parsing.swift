import DidYouMean
public import Foundation
public import SearchStrategies
public import TrackingBridge
import Yams

extension StudySpec {
  static let topLevelKeys = [
    "name", "description", "objective", "search", "parameters", "trial", "tiers", "promotion", "early_stopping",
    "registration", "tracking", "executor", "resources", "repeats", "objectives", "constraints", "checkpoint",
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
  ///   - environment: the variables a spec may fall back on (`MLFLOW_TRACKING_URI`).
  ///   - checkingScripts: whether a script an interpreter is given (`python3 train.py`) must
  ///     exist in the workdir: checked when a spec file is read to be validated or run, not
  ///     when a stored study's spec is read again (its files may have moved since).
  public static func parse(
    yaml: String, file: String, baseDirectory: String? = nil,
    environment: [String: String] = ProcessInfo.processInfo.environment, checkingScripts: Bool = false
  ) throws(SpecValidationError) -> StudySpec {
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
    let spec = SpecParser(
      reader: reader, baseDirectory: baseDirectory ?? FileManager.default.currentDirectoryPath,
      environment: environment, checksScripts: checkingScripts
    )
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
    let spec = try parse(
      yaml: yaml, file: path, baseDirectory: url.deletingLastPathComponent().path, checkingScripts: true)
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
  let environment: [String: String]
  var checksScripts = false

  func parse(_ root: Node) -> StudySpec? {
    guard
      let top = reader.fields(
        root, "", allowed: StudySpec.topLevelKeys, required: ["name", "parameters"])
    else { return nil }
    let name = parseName(top)
    let description = reader.string(top["description"], "description")
    let objectives = parseObjectives(top, root: root)
    let objective = objectives?.first
    let constraints = top["constraints"].map(parseConstraints) ?? []
    var search = parseSearch(top["search"])
    let space = top["parameters"].flatMap(parseParameters)
    let tiers = top["tiers"].map(parseTiers) ?? [:]
    // Without `trial`, the study's trials run outside hpod (ask and tell).
    let trial = top["trial"].map { parseTrial($0, space: space, tiers: tiers) } ?? Self.askAndTellTrial(baseDirectory)
    let promotion = top["promotion"].flatMap { parsePromotion($0, tiers: tiers) }
    checkMultiObjective(objectives, promotion: promotion, top: top)
    let repeats = top["repeats"].map { parseRepeats($0, tiers: tiers) } ?? [:]
    let earlyStopping = top["early_stopping"].flatMap { parseEarlyStopping($0, objective: objective) }
    let registration = top["registration"].flatMap { parseRegistration($0, tiers: tiers) }
    let tracking = parseTracking(top["tracking"], studyName: name)
    checkSearchAgainstSpace(search, space: space, searchNode: top["search"])
    checkPopulationBasedTraining(search, objectives: objectives, top: top)
    if var parsed = search, let space, let node = top["search"] {
      parsed.enqueue = parseEnqueue(node, space: space, maxTrials: parsed.maxTrials)
      search = parsed
    }
    if let search, search.algorithm != .grid, search.algorithm != .pbt, search.maxTrials == nil {
      reader.report(
        at: top["search"] ?? root, "search", "missing required key 'max_trials' (only grid search may leave it out)")
    }
    let executor = parseExecutor(top["executor"], tiers: tiers)
    checkProgram(top["trial"] == nil ? nil : trial, executor: executor, trialNode: top["trial"])
    let resources = parseResources(top["resources"], tiers: tiers)
    if top["trial"] == nil, let node = top["executor"] ?? top["resources"] {
      reader.report(
        at: node, top["executor"] != nil ? "executor" : "resources",
        "a study without `trial:` runs its trials outside hpod (ask and tell); add trial.command for hpod to run them")
    }
    if top["trial"] == nil, let node = top["promotion"] {
      reader.report(
        at: node, "promotion",
        "promotion starts full trainings, which hpod runs itself; a study without `trial:` (ask and tell) has none: add trial.command, or remove promotion"
      )
    }
    guard let name, let objective, let search, let space, let trial, let tracking else { return nil }
    var spec = StudySpec(
      name: name, description: description, objective: objective, search: search, space: space, trial: trial,
      tiers: tiers, promotion: promotion, earlyStopping: earlyStopping, registration: registration, tracking: tracking)
    spec.objectives = objectives ?? [objective]
    spec.constraints = constraints
    spec.executor = executor
    spec.resourcesByTier = resources
    spec.repeatsByTier = repeats
    if let node = top["checkpoint"] {
      guard let checkpoint = parseCheckpoint(node) else { return nil }
      spec.checkpoint = checkpoint
    }
    return spec
  }

  func parseName(_ top: Fields) -> String? {
    guard let node = top["name"], let name = reader.nonEmptyString(node, "name") else { return nil }
    guard name.count <= 100, name.allSatisfy({ $0.isLetter || $0.isNumber || "_.-".contains($0) }) else {
      reader.report(at: node, "name", "expected letters, digits, '-', '_' or '.' (at most 100), found \"\(name)\"")
      return nil
    }
    return name
  }
}
