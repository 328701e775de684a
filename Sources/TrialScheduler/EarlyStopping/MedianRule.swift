public import SearchStrategies
public import StudyModel

/// Stops a trial whose best value so far is worse than the median of the completed trials'
/// values at the same step (Optuna's MedianPruner). Nothing is stopped before `minSteps` or
/// before `minTrials` trials have completed.
public struct MedianRule: SingleMetricStoppingRule {
  public var minSteps: Int
  public var minTrials: Int

  public init(minSteps: Int = 1, minTrials: Int = 5) {
    self.minSteps = minSteps
    self.minTrials = minTrials
  }

  public var name: String { "median" }

  public func decide(_ trial: LearningCurve, at step: Int, peers: [LearningCurve], direction: Direction)
    -> StoppingDecision
  {
    guard step >= minSteps else { return .keepGoing }
    let completed = peers.filter(\.isComplete)
    guard completed.count >= minTrials else { return .keepGoing }
    let atStep = completed.compactMap { $0.values[step] }.sorted()
    guard !atStep.isEmpty, let best = trial.best(upTo: step, direction) else { return .keepGoing }
    let middle = atStep.count / 2
    let median = atStep.count % 2 == 1 ? atStep[middle] : (atStep[middle - 1] + atStep[middle]) / 2
    guard direction.isBetter(median, than: best) else { return .keepGoing }
    return .stop(
      reason:
        "best value \(describe(best)) by step \(step) is worse than the median \(describe(median)) of \(atStep.count) completed trials at that step"
    )
  }
}

extension EarlyStoppingRule where Self == MedianRule {
  public static func median(minSteps: Int = 1, minTrials: Int = 5) -> MedianRule {
    MedianRule(minSteps: minSteps, minTrials: minTrials)
  }
}
