import Foundation
import SearchStrategies
import StudyModel
import Yams

// `objective:` or `objectives:`, and `constraints:` on final metrics.
extension SpecParser {
  /// The most objectives a study may trade off: the hypervolume of a front costs
  /// O(n^(m−1) log n) in m objectives.
  static let maximumObjectives = 4

  /// The study's objectives, the first one ordering trials where one order is needed.
  func parseObjectives(_ top: Fields, root: Node) -> [StudySpec.Objective]? {
    switch (top["objective"], top["objectives"]) {
    case (nil, nil):
      reader.report(
        at: root, "",
        "missing required key 'objective' (or 'objectives: [{metric: ..., direction: ...}, ...]' for several)")
      return nil
    case (.some, .some):
      reader.report(
        at: top.keys["objectives"], "objectives",
        "give either objective (one) or objectives (several), not both")
      return nil
    case (let node?, nil):
      return parseObjective(node, path: "objective").map { [$0] }
    case (nil, let node?):
      guard
        let items = reader.list(
          node, "objectives", of: "objectives such as {metric: val_accuracy, direction: maximize}")
      else { return nil }
      guard items.count >= 2 else {
        reader.report(
          at: node, "objectives",
          "expected at least 2 objectives; for one, write objective: {metric: ..., direction: ...}")
        return nil
      }
      guard items.count <= Self.maximumObjectives else {
        reader.report(
          at: node, "objectives", "expected at most \(Self.maximumObjectives) objectives, found \(items.count)")
        return nil
      }
      var objectives: [StudySpec.Objective] = []
      var failed = false
      for (index, item) in items.enumerated() {
        let path = "objectives[\(index)]"
        guard let objective = parseObjective(item, path: path) else {
          failed = true
          continue
        }
        if objectives.contains(where: { $0.metric == objective.metric }) {
          reader.report(at: item, "\(path).metric", "\(objective.metric) is already an objective")
          failed = true
        }
        objectives.append(objective)
      }
      return failed ? nil : objectives
    }
  }

  func parseObjective(_ node: Node, path: String) -> StudySpec.Objective? {
    guard
      let fields = reader.fields(node, path, allowed: ["metric", "direction"], required: ["metric", "direction"])
    else { return nil }
    let metric = reader.metricName(fields["metric"], fields.path("metric"))
    let direction = reader.choice(fields["direction"], fields.path("direction"), as: Direction.self)
    guard let metric, let direction else { return nil }
    return StudySpec.Objective(metric: metric, direction: direction)
  }

  /// `constraints: ["latency_ms <= 5", "cost_usd < 0.1"]`: inequalities on final metrics.
  func parseConstraints(_ node: Node) -> [StudySpec.Threshold] {
    guard let items = reader.list(node, "constraints", of: "inequalities such as \"latency_ms <= 5\"") else {
      return []
    }
    var constraints: [StudySpec.Threshold] = []
    var texts: [String] = []
    for (index, item) in items.enumerated() {
      let path = "constraints[\(index)]"
      guard let text = reader.string(item, path) else { continue }
      guard let constraint = Self.parseThreshold(text), constraint.comparison != .equal else {
        reader.report(
          at: item, path,
          "expected an inequality like \"latency_ms <= 5\" (metric, one of <= < >= >, number), found \"\(text)\"")
        continue
      }
      if let contradicted = constraints.indices.first(where: { !constraints[$0].canHoldTogether(with: constraint) }) {
        reader.report(
          at: item, path,
          "no value of \(constraint.metric) can meet both \"\(texts[contradicted])\" and \"\(text)\"")
        continue
      }
      constraints.append(constraint)
      texts.append(text)
    }
    return constraints
  }

  /// What a study of several objectives cannot have yet, reported where the spec asks for it.
  func checkMultiObjective(_ objectives: [StudySpec.Objective]?, promotion: StudySpec.Promotion?, top: Fields) {
    guard let objectives else { return }
    guard objectives.count > 1 else {
      if case .mapping(let mapping) = top["promotion"], let node = mapping["pick"] {
        reader.report(at: node, "promotion.pick", "pick orders a Pareto front: it needs several objectives")
      }
      return
    }
    if let promotion, case .mapping(let mapping) = top["promotion"] {
      for key in ["repeats", "significance", "candidates", "margin"] where mapping[key] != nil {
        reader.report(
          at: mapping[key], "promotion.\(key)",
          "with several objectives promotion picks from the quick tests' Pareto front (promotion.pick); \(key) weighs one objective"
        )
      }
      if promotion.mode == .continuous {
        reader.report(
          at: mapping["mode"], "promotion.mode",
          "with several objectives the front is known once the search is done; use mode: after_search")
      }
      if case .best(let metric, _) = promotion.pick, !objectives.contains(where: { $0.metric == metric }) {
        reader.report(
          at: mapping["pick"], "promotion.pick.best",
          "\(metric) is not an objective (objectives: \(objectives.map(\.metric).joined(separator: ", ")))")
      }
    }
    if let node = top["early_stopping"], case .mapping(let mapping) = node {
      let rule = mapping["rule"].flatMap { node -> String? in
        if case .scalar(let scalar) = node { return scalar.string }
        return nil
      }
      if let rule, rule != "asha" {
        reader.report(
          at: mapping["rule"], "early_stopping.rule",
          "with several objectives only asha can stop trials (it ranks them at each rung by non-dominated sorting and crowding); found \(rule)"
        )
      }
      if let metric = mapping["metric"] {
        reader.report(
          at: metric, "early_stopping.metric", "with several objectives the rule watches every objective; remove metric"
        )
      }
      if let pause = mapping["pause"] {
        reader.report(
          at: pause, "early_stopping.pause",
          "with several objectives a trial cut at a rung is stopped for good; pausing needs one objective: remove pause"
        )
      }
    }
  }
}
