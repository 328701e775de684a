public import SearchStrategies
public import StudyModel

/// Stops a trial that went `patience` steps without improving its best value by at least
/// `minDelta` (Keras' EarlyStopping, Optuna's PatientPruner). Judged from `minSteps` on.
public struct PatienceRule: SingleMetricStoppingRule {
  public var patience: Int
  public var minDelta: Double
  public var minSteps: Int

  public init(patience: Int, minDelta: Double = 0, minSteps: Int = 0) {
    self.patience = patience
    self.minDelta = minDelta
    self.minSteps = minSteps
  }

  public var name: String { "patience" }

  public func decide(_ trial: LearningCurve, at step: Int, peers: [LearningCurve], direction: Direction)
    -> StoppingDecision
  {
    guard step >= minSteps else { return .keepGoing }
    let steps = trial.values.keys.filter { $0 <= step }.sorted()
    guard steps.count > patience else { return .keepGoing }
    // The best value before the last `patience` reports, and the best within them.
    let before = steps.dropLast(patience).map { trial.values[$0]! }
    let recent = steps.suffix(patience).map { trial.values[$0]! }
    let bestBefore = direction == .minimize ? before.min()! : before.max()!
    let bestRecent = direction == .minimize ? recent.min()! : recent.max()!
    let improvement = direction == .minimize ? bestBefore - bestRecent : bestRecent - bestBefore
    guard improvement < minDelta else { return .keepGoing }
    return .stop(
      reason:
        "no improvement of at least \(describe(minDelta)) over the best \(describe(bestBefore)) in the last \(patience) reports (step \(step))"
    )
  }
}

extension EarlyStoppingRule where Self == PatienceRule {
  public static func patience(_ patience: Int, minDelta: Double = 0, minSteps: Int = 0) -> PatienceRule {
    PatienceRule(patience: patience, minDelta: minDelta, minSteps: minSteps)
  }
}
