import DidYouMean
import Foundation
import SearchStrategies
import TrackingBridge
import Yams

// The `early_stopping:` section: one rule and its settings.
extension SpecParser {
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
    let metric = reader.metricName(fields["metric"], "early_stopping.metric") ?? objective?.metric
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
    let pauses = fields["pause"].map { reader.bool($0, fields.path("pause")) } ?? false
    guard let parsed, let metric, let pauses else { return nil }
    return StudySpec.EarlyStopping(rule: parsed, metric: metric, pausesAtRungs: pauses)
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
