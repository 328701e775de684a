import Foundation
import SearchStrategies
import StudyAnalysis
import StudyModel
import TrackingBridge
import TrialScheduler

/// The metric, tier and method of an importance reading, checked: what `hpod importance`, the
/// API's importance endpoint and the study page share, so they give the same figures.
struct ImportanceRequest: Sendable, Hashable {
  var metric: String
  var direction: Direction
  var tier: Tier?
  var method: ImportanceMethod

  var tierName: String { tier?.rawValue ?? "all" }

  /// - Throws: `ImportanceRequest.Invalid` naming the option and what it accepts.
  init(
    metric: String?, tier: String?, method: String?, study: StudyRecord, spec: StudySpec?, metrics: [String]
  ) throws(Invalid) {
    let tierName = tier ?? "quick_test"
    if tierName == "all" {
      self.tier = nil
    } else if let parsed = Tier(rawValue: tierName) {
      self.tier = parsed
    } else {
      throw Invalid(option: "tier", message: "must be quick_test, full_training or all, found \"\(tierName)\"")
    }
    let methodName = method ?? ImportanceMethod.fanova.rawValue
    guard let parsed = ImportanceMethod(rawValue: methodName) else {
      throw Invalid(
        option: "method",
        message:
          "must be \(ImportanceMethod.allCases.map(\.rawValue).joined(separator: " or ")), found \"\(methodName)\"")
    }
    self.method = parsed
    let metric = metric ?? study.objectiveMetric
    guard metrics.contains(metric) else {
      throw Invalid(
        option: "metric",
        message: "must be one the trials reported: \(metrics.joined(separator: ", ")); found \"\(metric)\"")
    }
    self.metric = metric
    self.direction = Self.direction(of: metric, study: study, spec: spec)
  }

  /// An objective's declared direction; another metric's as `MetricDirection` guesses it.
  static func direction(of metric: String, study: StudyRecord, spec: StudySpec?) -> Direction {
    if let objective = spec?.objectives.first(where: { $0.metric == metric }) { return objective.direction }
    if metric == study.objectiveMetric { return study.direction }
    return MetricDirection.guess(metric)
  }

  /// The importance over `trials`, valued by `metric` (`finalMetrics` for another metric than the objective).
  func scores(
    trials: [TrialRecord], study: StudyRecord, finalMetrics: [Int64: [String: Double]],
    configurations: [Int64: Configuration]?, space: SearchSpace?
  ) -> [ParameterImportance] {
    var valued = trials
    if metric != study.objectiveMetric {
      valued = trials.map { trial in
        var trial = trial
        trial.value = finalMetrics[trial.id!]?[metric]
        return trial
      }
    }
    return ParameterImportance.compute(
      trials: valued, direction: direction, tier: tier, configurations: configurations, space: space, method: method)
  }

  /// A stored study's spec read again, for its search space's scales; nil when it no longer
  /// parses (the page's snapshot does the same), and importance then uses the observed ranges.
  static func storedSpec(of study: StudyRecord) -> StudySpec? {
    let base = study.specPath.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
    do {
      return try StudySpec.parse(yaml: study.specYAML, file: study.specPath ?? "study.yaml", baseDirectory: base)
    } catch {
      return nil
    }
  }

  struct Invalid: Error, CustomStringConvertible {
    var option: String
    var message: String
    var description: String { "\(option) \(message)" }
  }
}

extension StudySnapshot {
  /// Parameter importance over the completed quick tests (fANOVA, the objective).
  var importance: [ParameterImportance] {
    importance(ImportanceRequest.default(for: self))
  }

  func importance(_ request: ImportanceRequest) -> [ParameterImportance] {
    memo.value("importance \(request.metric) \(request.tierName) \(request.method.rawValue)") {
      request.scores(
        trials: trials, study: study, finalMetrics: finalMetrics, configurations: configurations, space: spec?.space)
    }
  }

  /// The metrics importance is shown for on the page: every objective.
  var objectiveMetrics: [String] {
    let declared = spec?.objectives.map(\.metric) ?? []
    return declared.isEmpty ? [objective] : declared
  }
}

extension ImportanceRequest {
  static func `default`(for snapshot: StudySnapshot, metric: String? = nil, method: ImportanceMethod = .fanova)
    -> ImportanceRequest
  {
    let metric = metric ?? snapshot.objective
    return ImportanceRequest(
      metric: metric,
      direction: direction(of: metric, study: snapshot.study, spec: snapshot.spec), tier: .quickTest, method: method)
  }

  init(metric: String, direction: Direction, tier: Tier?, method: ImportanceMethod) {
    self.metric = metric
    self.direction = direction
    self.tier = tier
    self.method = method
  }
}

/// The study page's importance part: per objective, each parameter's fANOVA share of the
/// variance over the completed quick tests, beside the old Spearman/η² reading for comparison.
struct ImportanceView {
  let snapshot: StudySnapshot

  func render() -> HTML {
    let tables: [HTML] = snapshot.objectiveMetrics.map(table)
    return "\(tables)"
  }

  func table(_ metric: String) -> HTML {
    let id = snapshot.id
    let scores = snapshot.importance(.default(for: snapshot, metric: metric))
    guard !scores.isEmpty else {
      return "<p class=\"empty\">\(metric): needs at least 4 completed quick tests, 3 with each parameter.</p>"
    }
    let spearman = Dictionary(
      snapshot.importance(.default(for: snapshot, metric: metric, method: .spearman)).map { ($0.parameter, $0.score) },
      uniquingKeysWith: { first, _ in first })
    let rows: [HTML] = scores.map { score in
      """
      <tr data-parameter="\(score.parameter)"><th scope="row">\(score.parameter)</th>\
      <td class="num">\(String(format: "%.2f", score.score))</td>\
      <td style="width:35%"><div class="bar" style="width:\(Int((score.score * 100).rounded()))%" \
      aria-hidden="true"></div></td><td>\(score.effect)</td>\
      <td class="num spearman">\(spearman[score.parameter].map { String(format: "%.2f", $0) } ?? "–")</td>\
      <td class="num">\(score.trials)</td></tr>
      """
    }
    let query = "metric=\(metric.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? metric)"
    return """
      <table class="importance" data-metric="\(metric)"><caption>What explains <strong>\(metric)</strong> over the \
      completed quick tests: each parameter's share of its variance alone (fANOVA of a random forest, 0–1), \
      beside |Spearman ρ| or η² (which misses an optimum inside a range). \
      <a href="/api/v1/studies/\(id)/importance?\(query)">JSON</a> · \
      <a href="/api/v1/studies/\(id)/importance?\(query)&amp;method=spearman">Spearman JSON</a></caption>
      <thead><tr><th scope="col">parameter</th><th scope="col" class="num">fANOVA</th><th scope="col">\
      <span class="visually-hidden">bar</span></th><th scope="col">effect</th>\
      <th scope="col" class="num">Spearman</th><th scope="col" class="num">trials</th></tr></thead>
      <tbody>\(rows)</tbody></table>
      """
  }
}
