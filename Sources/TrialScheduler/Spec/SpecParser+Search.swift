import DidYouMean
import Foundation
import SearchStrategies
import StudyModel
import Yams

// The `search:` section: algorithm, budget, parallelism, and where the search starts from
// (`enqueue`, `warm_start`).
extension SpecParser {
  static let searchKeys =
    [
      "algorithm", "seed", "max_trials", "parallelism", "startup_trials", "enqueue", "warm_start",
    ] + populationKeys

  func parseSearch(_ node: Node?) -> StudySpec.Search? {
    guard let node else {
      return StudySpec.Search(algorithm: .random, seed: 0, maxTrials: nil, parallelism: 1, startupTrials: nil)
    }
    guard let fields = reader.fields(node, "search", allowed: Self.searchKeys) else { return nil }
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
    let warmStart = fields["warm_start"].flatMap(parseWarmStart)
    let population = parsePopulationBasedTraining(fields, algorithm: algorithm)
    guard let algorithm, let seed, let parallelism else { return nil }
    if fields["max_trials"] != nil, maxTrials == nil { return nil }
    if fields["warm_start"] != nil, warmStart == nil { return nil }
    if algorithm == .pbt, population == nil { return nil }
    var search = StudySpec.Search(
      algorithm: algorithm, seed: UInt64(seed), maxTrials: maxTrials, parallelism: parallelism,
      startupTrials: startupTrials)
    search.warmStart = warmStart
    if let population {
      // The population is drawn at random, then trained to the end together.
      search.populationBasedTraining = population
      search.maxTrials = population.population
      if fields["parallelism"] == nil { search.parallelism = population.population }
    }
    return search
  }

  /// `warm_start: {study: NAME}`. Whether that study exists and searched a compatible space is
  /// checked against the store when the study is created (`StudySpec.warmStartObservations`).
  func parseWarmStart(_ node: Node) -> StudySpec.WarmStart? {
    guard let fields = reader.fields(node, "search.warm_start", allowed: ["study"], required: ["study"]),
      let studyNode = fields["study"], let study = reader.nonEmptyString(studyNode, "search.warm_start.study")
    else { return nil }
    let mark = studyNode.mark
    return StudySpec.WarmStart(
      study: study,
      site: SpecIssue(
        file: reader.file, line: mark?.line ?? 1, column: mark?.column ?? 1, path: "search.warm_start.study",
        message: ""))
  }

  /// `enqueue: [{lr: 0.01, layers: 3}, ...]`: each entry a mapping of parameters to legal
  /// values. A parameter an entry leaves out is chosen by the strategy; one whose condition
  /// the entry's own values rule out is an error (it would be ignored).
  func parseEnqueue(_ searchNode: Node, space: SearchSpace, maxTrials: Int?) -> [Configuration] {
    guard case .mapping(let mapping) = searchNode, let node = mapping["enqueue"],
      let entries = reader.list(node, "search.enqueue", of: "configurations (mappings of parameter values)")
    else { return [] }
    let names = space.parameters.map(\.name)
    var configurations: [Configuration] = []
    var firstIndex: [Configuration: Int] = [:]
    for (index, entry) in entries.enumerated() {
      let path = "search.enqueue[\(index)]"
      guard let values = reader.namedEntries(entry, path, what: "parameter values") else { continue }
      var configuration = Configuration()
      var valid = true
      for (name, keyNode, valueNode) in values {
        let valuePath = "\(path).\(name)"
        guard let parameter = space.parameter(named: name) else {
          var message = "unknown parameter '\(name)'"
          if let nearest = DidYouMean.nearest(to: name, in: names) { message += "; did you mean '\(nearest)'?" }
          reader.report(at: keyNode, valuePath, message + " (parameters: \(names.joined(separator: ", ")))")
          valid = false
          continue
        }
        guard let value = reader.parameterValue(valueNode, valuePath) else {
          valid = false
          continue
        }
        let canonical = space.canonical(Configuration([name: value]))[name] ?? value
        guard parameter.contains(canonical) else {
          reader.report(
            at: valueNode, valuePath,
            "expected \(parameter.domainDescription), found \(SpecReader.describe(valueNode))")
          valid = false
          continue
        }
        configuration[name] = canonical
      }
      guard valid else { continue }
      for parameter in space.parameters where configuration[parameter.name] != nil {
        guard !space.isActive(parameter, in: configuration) else { continue }
        let conditions = parameter.conditions.map {
          "\($0.parameter) in [\($0.values.map(\.description).joined(separator: ", "))]"
        }
        reader.report(
          at: entry, "\(path).\(parameter.name)",
          "'\(parameter.name)' applies only when \(conditions.joined(separator: " and ")); remove it from this entry or change the parent's value"
        )
        valid = false
      }
      guard valid else { continue }
      if let earlier = firstIndex[configuration] {
        reader.report(at: entry, path, "the same configuration as search.enqueue[\(earlier)]; each runs once")
        continue
      }
      firstIndex[configuration] = index
      configurations.append(configuration)
    }
    if let maxTrials, entries.count > maxTrials {
      reader.report(
        at: node, "search.enqueue",
        "\(entries.count) configurations are queued but search.max_trials is \(maxTrials); raise max_trials or queue fewer"
      )
    }
    return configurations
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
}

extension Parameter {
  /// The legal values, as an error message names them: `a number from 0.0001 to 0.1`,
  /// `an integer from 1 to 9 in steps of 2`, `one of adam, sgd`.
  var domainDescription: String {
    switch domain {
    case .float(let lo, let hi, _, let step):
      let range = "a number from \(ParameterValue.double(lo)) to \(ParameterValue.double(hi))"
      return step.map { "\(range) in steps of \(ParameterValue.double($0))" } ?? range
    case .int(let lo, let hi, _, let step):
      let range = "an integer from \(lo) to \(hi)"
      return step == 1 ? range : "\(range) in steps of \(step)"
    case .categorical(let values):
      return "one of \(values.map(\.description).joined(separator: ", "))"
    }
  }
}
