public import SearchStrategies
public import StudyModel

/// Stops a trial whose value leaves `[lower, upper]` (or is not a number) from `minSteps` on
/// (Optuna's ThresholdPruner): a diverging loss, an accuracy stuck at chance.
public struct ThresholdRule: SingleMetricStoppingRule {
  public var lower: Double?
  public var upper: Double?
  public var minSteps: Int

  public init(lower: Double? = nil, upper: Double? = nil, minSteps: Int = 0) {
    self.lower = lower
    self.upper = upper
    self.minSteps = minSteps
  }

  public var name: String { "threshold" }

  public func decide(_ trial: LearningCurve, at step: Int, peers: [LearningCurve], direction: Direction)
    -> StoppingDecision
  {
    guard step >= minSteps, let value = trial.values[step] else { return .keepGoing }
    if let lower, value < lower {
      return .stop(reason: "value \(describe(value)) at step \(step) is below the lower bound \(describe(lower))")
    }
    if let upper, value > upper {
      return .stop(reason: "value \(describe(value)) at step \(step) is above the upper bound \(describe(upper))")
    }
    return .keepGoing
  }
}

extension EarlyStoppingRule where Self == ThresholdRule {
  public static func threshold(lower: Double? = nil, upper: Double? = nil, minSteps: Int = 0) -> ThresholdRule {
    ThresholdRule(lower: lower, upper: upper, minSteps: minSteps)
  }
}
