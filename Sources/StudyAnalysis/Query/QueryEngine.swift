public import Foundation
public import SearchStrategies
public import StudyModel
public import TrackingBridge

/// The answer to a question: how it was understood (names resolved), and the result.
public struct QueryAnswer: Codable, Sendable {
  /// The intent with the study's own names in place of the question's words.
  public var intent: QueryIntent
  /// One line that says how the question was understood (`best trial by f1 (max)`).
  public var understood: String
  public var result: QueryResult
}

/// What an intent found in the store.
public enum QueryResult: Codable, Sendable {
  /// Trials ranked by a metric, best first for the question (`values` in the same order).
  case ranking(metric: String, direction: Direction, trials: [TrialRecord], values: [Double])
  case comparison(RunComparison)
  case curve(MetricCurve)
  case heatmap(Heatmap)
  case importance(metric: String, tier: String, scores: [ParameterImportance])
  /// The trials in a state (and tier), out of `total` in the tier.
  case count(state: TrialState?, tier: Tier?, matching: [TrialRecord], total: Int)
  case trials([TrialRecord])
  case trial(TrialDetail)
  case log(LogTail)
  /// `trialNumbers[i]`: the number of the trial of `versions[i]`.
  case models(versions: [ModelVersion], aliases: [ModelAlias], trialNumbers: [Int?])
  case summary(StudyOverview)
  case help([String])
}

/// The history of one metric of one trial.
public struct MetricCurve: Codable, Sendable, Hashable {
  public var trial: Int
  public var metric: String
  public var steps: [Int]
  public var values: [Double]
}

/// One trial in full: configuration, state, final metrics, where it came from and, for a
/// trial that did not complete, the end of its stderr.
public struct TrialDetail: Codable, Sendable {
  public var trial: TrialRecord
  public var finalMetrics: [String: Double]
  /// The number of the quick test a full training was promoted from.
  public var sourceTrial: Int?
  public var logTail: [String]
}

/// The end of a trial's stdout or stderr log.
public struct LogTail: Codable, Sendable, Hashable {
  public var trial: Int
  public var stream: String
  public var path: String
  public var lines: [String]
}

/// A study at a glance.
public struct StudyOverview: Codable, Sendable {
  public var study: StudyRecord
  public var counts: [String: Int]
  public var quickTests: Int
  public var fullTrainings: Int
  public var best: TrialRecord?
  public var models: [ModelVersion]
}

/// Answers `QueryIntent`s from a study of the store. The same intent on the same store gives
/// the same answer.
public struct QueryEngine: Sendable {
  public let database: AppDatabase
  public let study: StudyRecord
  public let home: HpodHome
  let trials: [TrialRecord]
  let lastValues: [Int64: [String: Double]]
  /// The study's search space, whose scales importance uses (nil: the observed ranges).
  let space: SearchSpace?

  public init(database: AppDatabase, study: StudyRecord, home: HpodHome, space: SearchSpace? = nil) throws {
    self.database = database
    self.space = space
    self.study = study
    self.home = home
    trials = try database.trials(studyId: study.id!)
    lastValues = try database.lastMetricValues(studyId: study.id!)
  }

  var objectiveDirection: Direction { study.direction }

  /// Every metric any trial reported, and the objective.
  public var metricNames: [String] {
    Array(Set(lastValues.values.flatMap(\.keys)).union([study.objectiveMetric])).sorted()
  }

  /// Every parameter any trial has.
  public var parameterNames: [String] {
    Set(trials.flatMap { Self.configuration($0).names }).sorted()
  }

  static func configuration(_ trial: TrialRecord) -> Configuration {
    (try? JSONDecoder().decode(Configuration.self, from: Data(trial.paramsJSON.utf8))) ?? Configuration()
  }

  /// The direction a metric is better in: the study's for its objective; for another metric
  /// a guess from its name (losses, errors, latencies and costs go down, the rest up).
  public func direction(of metric: String) -> Direction {
    if metric == study.objectiveMetric { return objectiveDirection }
    return MetricDirection.guess(metric)
  }

  func value(of trial: TrialRecord, _ metric: String) -> Double? {
    if metric == study.objectiveMetric, let value = trial.value { return value }
    return lastValues[trial.id!]?[metric]
  }

  func resolveMetric(_ phrase: String?) throws(QueryFailure) -> String {
    guard let phrase else { return study.objectiveMetric }
    return try NameResolver(kind: "metric", names: metricNames).resolve(phrase)
  }

  func resolveParameter(_ phrase: String?) throws(QueryFailure) -> String? {
    guard let phrase else { return nil }
    return try NameResolver(kind: "parameter", names: parameterNames).resolve(phrase)
  }

  func trial(_ ref: QueryIntent.TrialRef) throws -> TrialRecord {
    switch ref {
    case .number(let number):
      guard let trial = trials.first(where: { $0.number == number }) else {
        throw QueryFailure(
          trials.isEmpty
            ? "study '\(study.name)' has no trials yet"
            : "study '\(study.name)' has no trial \(number) (it has 0...\(trials.map(\.number).max()!))")
      }
      return trial
    case .best:
      guard let best = try database.summary(studyId: study.id!, higherIsBetter: objectiveDirection == .maximize).best
      else { throw QueryFailure("no trial of study '\(study.name)' has completed yet") }
      return best
    case .last:
      guard let last = trials.max(by: { $0.number < $1.number }) else {
        throw QueryFailure("study '\(study.name)' has no trials yet")
      }
      return last
    }
  }

  /// Completed trials with a value of `metric`, best first for `direction`.
  func ranked(_ metric: String, _ direction: Direction, tier: Tier?) -> [(trial: TrialRecord, value: Double)] {
    trials.compactMap { trial in
      guard trial.state == .completed, tier == nil || trial.tier == tier,
        let value = value(of: trial, metric), value.isFinite
      else { return nil }
      return (trial, value)
    }.sorted { a, b in
      direction.isBetter(a.value, than: b.value) || (a.value == b.value && a.trial.number < b.trial.number)
    }
  }

  public func answer(_ intent: QueryIntent) throws -> QueryAnswer {
    switch intent {
    case .best(let phrase, let extreme, let count, let tier):
      let metric = try resolveMetric(phrase)
      let natural = direction(of: metric)
      let direction: Direction =
        switch extreme {
        case .best: natural
        case .worst: natural == .maximize ? .minimize : .maximize
        case .highest: .maximize
        case .lowest: .minimize
        }
      let top = ranked(metric, direction, tier: tier).prefix(max(count, 1))
      guard !top.isEmpty else {
        throw QueryFailure("no completed trial\(tier.map { " (\($0.rawValue))" } ?? "") reported '\(metric)' yet")
      }
      let resolved = QueryIntent.best(metric: metric, extreme: extreme, count: count, tier: tier)
      return QueryAnswer(
        intent: resolved,
        understood: [.best, .worst].contains(extreme)
          ? "\(resolved) (\(direction == .maximize ? "max" : "min"))" : "\(resolved)",
        result: .ranking(metric: metric, direction: direction, trials: top.map(\.trial), values: top.map(\.value)))

    case .compare(let set):
      let numbers: [Int]
      switch set {
      case .numbers(let given): numbers = given
      case .last(let count): numbers = trials.map(\.number).sorted().suffix(count).map { $0 }
      case .first(let count): numbers = trials.map(\.number).sorted().prefix(count).map { $0 }
      case .best(let count):
        numbers = ranked(study.objectiveMetric, objectiveDirection, tier: nil).prefix(count).map(\.trial.number)
      case .worst(let count):
        numbers = ranked(study.objectiveMetric, objectiveDirection, tier: nil).suffix(count).reversed()
          .map(\.trial.number)
      }
      guard (2...4).contains(numbers.count) else {
        throw QueryFailure(
          "compare takes 2 to 4 trials; \(set) \(numbers.count == 1 ? "is" : "are") \(numbers.count) "
            + "(the study has \(trials.count) trials)")
      }
      do {
        let comparison = try RunComparison.load(database: database, study: study, numbers: numbers)
        return QueryAnswer(
          intent: intent,
          understood: "compare \(QueryIntent.TrialSet.numbers(numbers))"
            + (set == .numbers(numbers) ? "" : " (\(set))"),
          result: .comparison(comparison))
      } catch let failure as RunComparison.Failure {
        throw QueryFailure(failure.description)
      }

    case .curve(let ref, let phrase):
      let trial = try trial(ref)
      let points = try database.metrics(trialId: trial.id!)
      let names = Set(points.map(\.name)).sorted()
      guard !names.isEmpty else { throw QueryFailure("trial \(trial.number) reported no metrics") }
      let metric: String
      if let phrase {
        metric = try NameResolver(kind: "metric", names: names).resolve(phrase)
      } else {
        metric = names.contains(study.objectiveMetric) ? study.objectiveMetric : names[0]
      }
      let history = points.filter { $0.name == metric }
      let resolved = QueryIntent.curve(trial: .number(trial.number), metric: metric)
      return QueryAnswer(
        intent: resolved,
        understood: "\(metric) curve of trial \(trial.number)" + (ref == .number(trial.number) ? "" : " (\(ref))"),
        result: .curve(
          MetricCurve(trial: trial.number, metric: metric, steps: history.map(\.step), values: history.map(\.value))))

    case .heatmap(let phrase, let xPhrase, let yPhrase, let tier):
      let metric = try resolveMetric(phrase)
      var x = try resolveParameter(xPhrase)
      var y = try resolveParameter(yPhrase)
      if x == nil || y == nil {
        // The missing axes: the parameters that matter most for the metric, then by name.
        let ranking = try ParameterImportance.load(
          database: database, study: study, metric: metric, direction: direction(of: metric), tier: tier,
          space: space
        ).map(\.parameter)
        let candidates = (ranking + parameterNames).filter { $0 != x && $0 != y }
        var unique: [String] = []
        for name in candidates where !unique.contains(name) { unique.append(name) }
        if x == nil, !unique.isEmpty { x = unique.removeFirst() }
        if y == nil, !unique.isEmpty { y = unique.removeFirst() }
      }
      guard let x, let y else {
        throw QueryFailure(
          "a heatmap needs two parameters. \(NameResolver(kind: "parameter", names: parameterNames).available)")
      }
      do {
        let map = try Heatmap.load(
          database: database, study: study, x: x, y: y, metric: metric, tier: tier?.rawValue ?? "all")
        let resolved = QueryIntent.heatmap(metric: metric, x: x, y: y, tier: tier)
        return QueryAnswer(intent: resolved, understood: "\(resolved)", result: .heatmap(map))
      } catch let failure as Heatmap.Failure {
        throw QueryFailure(failure.description)
      }

    case .importance(let phrase, let tier):
      let metric = try resolveMetric(phrase)
      let chosen = tier ?? (trials.contains { $0.tier == .quickTest } ? .quickTest : nil)
      let scores = try ParameterImportance.load(
        database: database, study: study, metric: metric, direction: direction(of: metric), tier: chosen,
        space: space)
      let resolved = QueryIntent.importance(metric: metric, tier: tier)
      return QueryAnswer(
        intent: resolved, understood: "\(resolved)",
        result: .importance(metric: metric, tier: chosen?.rawValue ?? "all", scores: scores))

    case .count(let state, let tier):
      let matching = trials.filter { (state == nil || $0.state == state) && (tier == nil || $0.tier == tier) }
      return QueryAnswer(
        intent: intent, understood: "\(intent)",
        result: .count(
          state: state, tier: tier, matching: matching, total: trials.filter { tier == nil || $0.tier == tier }.count))

    case .trials(let state, let tier, let selection):
      var matching = trials.filter { (state == nil || $0.state == state) && (tier == nil || $0.tier == tier) }
        .sorted { $0.number < $1.number }
      switch selection {
      case .last(let count)?: matching = Array(matching.suffix(count))
      case .first(let count)?: matching = Array(matching.prefix(count))
      case .numbers(let numbers)?: matching = matching.filter { numbers.contains($0.number) }
      case .best(let count)?, .worst(let count)?:
        let ranked = ranked(study.objectiveMetric, objectiveDirection, tier: tier).map(\.trial)
        matching = selection == .best(count) ? Array(ranked.prefix(count)) : Array(ranked.suffix(count))
      case nil: break
      }
      return QueryAnswer(intent: intent, understood: "\(intent)", result: .trials(matching))

    case .trial(let ref):
      let trial = try trial(ref)
      let source = trial.sourceTrialId.flatMap { id in trials.first { $0.id == id }?.number }
      let tail = trial.state == .completed ? [] : (try? logTail(trial, stream: "stderr", lines: 8).lines) ?? []
      let resolved = QueryIntent.trial(.number(trial.number))
      return QueryAnswer(
        intent: resolved, understood: "\(resolved)" + (ref == .number(trial.number) ? "" : " (\(ref))"),
        result: .trial(
          TrialDetail(
            trial: trial, finalMetrics: try database.finalMetrics(trialId: trial.id!), sourceTrial: source,
            logTail: tail)))

    case .log(let ref, let stream):
      let trial = try trial(ref)
      let resolved = QueryIntent.log(trial: .number(trial.number), stream: stream)
      return QueryAnswer(
        intent: resolved, understood: "\(resolved)" + (ref == .number(trial.number) ? "" : " (\(ref))"),
        result: .log(try logTail(trial, stream: stream, lines: 40)))

    case .model:
      let versions = try database.modelVersions().filter { $0.studyId == study.id }
      let aliases = try database.modelAliases().filter { alias in versions.contains { $0.modelName == alias.modelName }
      }
      let numbers = versions.map { version in trials.first { $0.id == version.trialId }?.number }
      return QueryAnswer(
        intent: intent, understood: "\(intent)",
        result: .models(versions: versions, aliases: aliases, trialNumbers: numbers))

    case .summary:
      let summary = try database.summary(studyId: study.id!, higherIsBetter: objectiveDirection == .maximize)
      return QueryAnswer(
        intent: intent, understood: "\(intent)",
        result: .summary(
          StudyOverview(
            study: study, counts: Dictionary(uniqueKeysWithValues: summary.counts.map { ($0.key.rawValue, $0.value) }),
            quickTests: summary.quickTests, fullTrainings: summary.fullTrainings, best: summary.best,
            models: try database.modelVersions().filter { $0.studyId == study.id })))

    case .help:
      return QueryAnswer(intent: intent, understood: "\(intent)", result: .help(QueryParser.examples))
    }
  }

  func logTail(_ trial: TrialRecord, stream: String, lines count: Int) throws -> LogTail {
    let folder = trial.runDirectory ?? home.runDirectory(studyId: study.id!, trialNumber: trial.number)
    let path = "\(folder)/\(stream).log"
    guard let data = FileManager.default.contents(atPath: path) else {
      throw QueryFailure("trial \(trial.number) has no \(stream) log (\(path))")
    }
    var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
      .map(String.init)
    if lines.last == "" { lines.removeLast() }
    return LogTail(trial: trial.number, stream: stream, path: path, lines: Array(lines.suffix(count)))
  }
}
