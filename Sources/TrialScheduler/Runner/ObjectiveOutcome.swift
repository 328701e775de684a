import SearchStrategies
import StudyModel
import TrackingBridge

// What a search needs of a trial beyond its objective value, in a study of several objectives
// or with constraints: every objective's final value and the constraints' verdict.
extension StudySpec {
  /// Whether the search reads trials' final metrics, not only their objective value.
  public var needsFinalMetrics: Bool { isMultiObjective || !constraints.isEmpty }

  /// A configuration's objectives as losses (for several objectives) and its constraint
  /// violation, from the mean final metrics of its completed trials; nil when one of them
  /// never reported an objective.
  func outcome(of completed: [TrialRecord], finalMetrics: [Int64: [String: Double]]) -> TrialHistory.Outcome? {
    let metrics = FinalMetrics.mean(completed.compactMap { $0.id.flatMap { finalMetrics[$0] } })
    var losses: [Double] = []
    if isMultiObjective {
      for objective in objectives {
        guard let value = metrics[objective.metric], value.isFinite else { return nil }
        losses.append(objective.direction.loss(value))
      }
    }
    return TrialHistory.Outcome(
      losses: losses, violation: violation(of: metrics), constraints: constraints.map { $0.signedValue(metrics) })
  }

  /// How far final metrics are from meeting every constraint: for each one broken, its
  /// shortfall over the bound's size (at least 1), and 1 for a constraint whose metric is
  /// missing; 0 when all hold.
  public func violation(of metrics: [String: Double]) -> Double {
    constraints.reduce(0) { total, constraint in
      guard let value = metrics[constraint.metric], value.isFinite else { return total + 1 }
      guard !constraint.holds(for: value) else { return total }
      return total + Swift.max(abs(value - constraint.value) / Swift.max(abs(constraint.value), 1), 1e-9)
    }
  }

  /// The `hpod.feasible` tag of a completed trial with these final metrics: `yes`, or `no: `
  /// and the constraints it breaks.
  func feasibilityTag(_ metrics: [String: Double]) -> [String: String] {
    let broken = brokenConstraints(metrics)
    return [HpodTag.feasible: broken.isEmpty ? "yes" : "no: " + broken.joined(separator: "; ")]
  }

  /// The constraints final metrics break, worded for a user: `latency_ms = 7.2 breaks
  /// latency_ms <= 5.0`, or `latency_ms was not reported`.
  public func brokenConstraints(_ metrics: [String: Double]) -> [String] {
    constraints.compactMap { constraint in
      guard let value = metrics[constraint.metric], value.isFinite else {
        return "\(constraint.metric) was not reported (constraint \(constraint))"
      }
      return constraint.holds(for: value)
        ? nil : "\(constraint.metric) = \(ParameterValue.double(value)) breaks \(constraint)"
    }
  }
}

extension StudySpec.Threshold {
  /// The constraint's signed value for final metrics, ≤ 0 where it holds (up to the strict
  /// comparisons' boundary): how far the metric is on the wrong side of the bound, over the
  /// bound's size (at least 1), as in `violation(of:)`; 1 when the metric is missing. For `==`,
  /// the distance from the bound.
  func signedValue(_ metrics: [String: Double]) -> Double {
    guard let actual = metrics[metric], actual.isFinite else { return 1 }
    let scale = Swift.max(abs(value), 1)
    switch comparison {
    case .lessOrEqual, .less: return (actual - value) / scale
    case .greaterOrEqual, .greater: return (value - actual) / scale
    case .equal: return abs(actual - value) / scale
    }
  }
}
