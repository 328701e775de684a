import DidYouMean
import Foundation
import SearchStrategies
import StudyModel
import TrackingBridge
import Yams

// The `tiers:` and `promotion:` sections.
extension SpecParser {
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

  func parsePromotion(_ node: Node, tiers: [Tier: [String: ParameterValue]]) -> StudySpec.Promotion? {
    let hasFullTraining = tiers[.fullTraining] != nil
    guard
      let fields = reader.fields(
        node, "promotion",
        allowed: [
          "top_k", "min_value", "mode", "margin", "max_full_trainings", "repeats", "candidates", "significance",
          "pick", "continue_training",
        ])
    else { return nil }
    if !hasFullTraining {
      reader.report(
        at: node, "promotion", "promotion launches full-training trials: add `tiers: {full_training: {...}}`")
    }
    let topK = fields["top_k"].map { reader.int($0, "promotion.top_k", atLeast: 1) } ?? 1
    let minValue = reader.double(fields["min_value"], "promotion.min_value")
    let mode =
      fields["mode"].map { reader.choice($0, "promotion.mode", as: StudySpec.PromotionMode.self) } ?? .afterSearch
    let margin =
      fields["margin"].map { node -> Double? in
        guard let value = reader.double(node, "promotion.margin") else { return nil }
        guard value >= 0 else {
          reader.report(
            at: node, "promotion.margin",
            "expected a margin of 0 or more (how much better than the best promoted quick test), found \(value)")
          return nil
        }
        return value
      } ?? 0
    let maxFull = reader.int(fields["max_full_trainings"], "promotion.max_full_trainings", atLeast: 1)
    let significance = fields["significance"].flatMap { node -> Double? in
      guard let value = reader.double(node, "promotion.significance") else { return nil }
      guard value > 0, value < 1 else {
        reader.report(at: node, "promotion.significance", "expected a p-value threshold between 0 and 1, such as 0.05")
        return nil
      }
      return value
    }
    let repeats = reader.int(fields["repeats"], "promotion.repeats", atLeast: 1, atMost: 100)
    let candidates = reader.int(fields["candidates"], "promotion.candidates", atLeast: 1, atMost: 1000)
    guard let topK, let mode, let margin else { return nil }
    var promotion = StudySpec.Promotion(
      topK: topK, minValue: minValue, mode: mode, margin: margin, maxFullTrainings: maxFull ?? topK)
    promotion.significance = significance
    if let node = fields["pick"], let pick = parsePick(node) { promotion.pick = pick }
    if let node = fields["continue_training"], let continues = reader.bool(node, "promotion.continue_training") {
      promotion.continueTraining = continues
      // A checkpoint carries over only between trainings of the same data and model: the
      // tiers may differ in how long they train, nothing else.
      let quick = tiers[.quickTest] ?? [:]
      let full = tiers[.fullTraining] ?? [:]
      let differing = Set(quick.keys).union(full.keys).filter { quick[$0] != full[$0] }.sorted()
      if continues, differing.count > 1 {
        reader.report(
          at: node, "promotion.continue_training",
          "a full training continues its quick test's checkpoint only when the tiers differ in how long they train; they differ in \(differing.joined(separator: ", ")): make all but one equal, or remove continue_training"
        )
      }
    }
    // Evidence needs repeats to weigh: three each, and two candidates beyond the promoted.
    promotion.repeats = repeats ?? (significance == nil ? 1 : 3)
    promotion.candidates = max(candidates ?? (significance == nil ? topK : topK + 2), topK)
    if let node = fields["candidates"], let candidates, candidates < topK {
      reader.report(
        at: node, "promotion.candidates", "expected at least top_k (\(topK)) candidates, found \(candidates)")
    }
    if significance != nil, promotion.repeats < 2 {
      reader.report(
        at: fields["repeats"] ?? node, "promotion.repeats",
        "significance needs at least 2 repeats of each candidate to test; set promotion.repeats to 3 or more")
    }
    if significance != nil, mode == .continuous {
      reader.report(
        at: fields["mode"] ?? node, "promotion.mode",
        "significance weighs the candidates against each other once the search is done; use mode: after_search")
    }
    return promotion
  }

  /// `repeats: 3` (every tier) or `repeats: {quick_test: 1, full_training: 3}`.
  func parseRepeats(_ node: Node, tiers: [Tier: [String: ParameterValue]]) -> [Tier: Int] {
    if case .scalar = node {
      guard let count = reader.int(node, "repeats", atLeast: 1, atMost: 100) else { return [:] }
      return Dictionary(uniqueKeysWithValues: Tier.allCases.map { ($0, count) })
    }
    guard let fields = reader.fields(node, "repeats", allowed: Tier.allCases.map(\.rawValue)) else { return [:] }
    var repeats: [Tier: Int] = [:]
    for tier in Tier.allCases {
      guard let tierNode = fields[tier.rawValue] else { continue }
      if tier == .fullTraining, tiers[.fullTraining] == nil {
        reader.report(
          at: tierNode, "repeats.full_training", "the study has no full training: add `tiers: {full_training: {...}}`")
      }
      repeats[tier] = reader.int(tierNode, "repeats.\(tier.rawValue)", atLeast: 1, atMost: 100)
    }
    return repeats
  }

  static let ruleKeys: [String: [String]] = [
    "median": ["min_steps", "min_trials"],
    "patience": ["patience", "min_delta", "min_steps"],
    "threshold": ["lower", "upper", "min_steps"],
    "asha": ["min_resource", "max_resource", "reduction_factor", "pause"],
    "hyperband": ["min_resource", "max_resource", "reduction_factor", "pause"],
  ]

  /// `pick: hypervolume`, `pick: knee`, or `pick: {best: val_accuracy, where: ["latency_ms <= 3"]}`.
  func parsePick(_ node: Node) -> StudySpec.FrontPick? {
    if case .scalar(let scalar) = node {
      switch scalar.string {
      case "hypervolume": return .hypervolume
      case "knee": return .knee
      default:
        reader.report(
          at: node, "promotion.pick",
          "expected hypervolume, knee or {best: METRIC, where: [\"latency_ms <= 3\"]}, found \"\(scalar.string)\"")
        return nil
      }
    }
    guard let fields = reader.fields(node, "promotion.pick", allowed: ["best", "where"], required: ["best"]),
      let metric = reader.nonEmptyString(fields["best"], "promotion.pick.best")
    else { return nil }
    var conditions: [StudySpec.Threshold] = []
    for (index, item) in (reader.list(fields["where"], "promotion.pick.where", of: "conditions") ?? []).enumerated() {
      let path = "promotion.pick.where[\(index)]"
      guard let text = reader.string(item, path) else { continue }
      guard let condition = Self.parseThreshold(text) else {
        reader.report(at: item, path, "expected a condition like \"latency_ms <= 3\", found \"\(text)\"")
        continue
      }
      conditions.append(condition)
    }
    return .best(metric: metric, where: conditions)
  }
}
