import DidYouMean
import Foundation
import SearchStrategies
import StudyModel
import TrackingBridge
import Yams

// The `registration:` section: the model, its thresholds, artifact and alias.
extension SpecParser {
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
        SpecReader.metricNameProblem(metric) == nil,
        let value = Double(parts[1].trimmingCharacters(in: .whitespaces)), value.isFinite
      else { return nil }
      return StudySpec.Threshold(metric: metric, comparison: comparison, value: value)
    }
    return nil
  }
}

extension StudySpec.Threshold {
  /// Whether some value of the metric meets this condition and `other` (always, for
  /// conditions on different metrics): `x >= 10` and `x <= 5` cannot both hold.
  func canHoldTogether(with other: StudySpec.Threshold) -> Bool {
    guard metric == other.metric else { return true }
    let bounds = [self, other]
    let lower = bounds.filter { $0.comparison == .greater || $0.comparison == .greaterOrEqual }
      .max { $0.value < $1.value }
    let upper = bounds.filter { $0.comparison == .less || $0.comparison == .lessOrEqual }
      .min { $0.value < $1.value }
    guard let lower, let upper else { return true }
    if lower.value < upper.value { return true }
    return lower.value == upper.value && lower.comparison == .greaterOrEqual && upper.comparison == .lessOrEqual
  }

  /// A condition as the spec writes it (`latency_ms <= 5`); nil when the text is not a metric
  /// name, a comparison and a finite number.
  public init?(parsing text: String) {
    guard let threshold = SpecParser.parseThreshold(text) else { return nil }
    self = threshold
  }
}
