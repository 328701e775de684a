import DidYouMean
import Foundation
import SearchStrategies
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
}
