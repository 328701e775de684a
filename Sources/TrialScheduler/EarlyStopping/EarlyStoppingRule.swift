import Foundation
import NumberText
public import SearchStrategies
public import StudyModel

/// The intermediate values one trial reported for the watched metric, by step.
public struct LearningCurve: Sendable, Hashable {
  /// The configuration's number: its place among the tier's configurations in the order they
  /// began (the trial number of its first attempt when nothing was run again before it).
  public var trialNumber: Int
  /// Whether the trial ran to its end (a completed peer), as opposed to running or pruned.
  public var isComplete: Bool
  public var values: [Int: Double]

  public init(trialNumber: Int, isComplete: Bool = false, values: [Int: Double] = [:]) {
    self.trialNumber = trialNumber
    self.isComplete = isComplete
    self.values = values
  }

  public var lastStep: Int? { values.keys.max() }

  /// The best value at or before `step`.
  public func best(upTo step: Int, _ direction: Direction) -> Double? {
    values.filter { $0.key <= step }.values.reduce(nil) { best, value in
      guard let best else { return value }
      return direction.isBetter(value, than: best) ? value : best
    }
  }
}

public enum StoppingDecision: Sendable, Hashable {
  case keepGoing
  case stop(reason: String)
}

/// Decides whether a running trial is hopeless (like Optuna's pruners and Ray's trial
/// schedulers). Rules are pure: the same curves always give the same decision, whatever the
/// order in which parallel trials reported them.
///
/// A rule watches one metric per objective it ranks by: every rule but multi-objective ASHA
/// watches one (and is written as a `SingleMetricStoppingRule`).
public protocol EarlyStoppingRule: Sendable {
  /// The name recorded on a stopped trial (`median`, `asha`, ...).
  var name: String { get }

  /// Called each time `trial` reports a new value at `step`. `trial` holds its curve of each
  /// watched metric, `peers` those of the other trials of the same tier (running, finished,
  /// pruned), and `directions` each metric's direction, all in the same order.
  func decide(_ trial: [LearningCurve], at step: Int, peers: [[LearningCurve]], directions: [Direction])
    -> StoppingDecision
}

/// A rule that watches one metric.
public protocol SingleMetricStoppingRule: EarlyStoppingRule {
  /// Called each time `trial` reports a new value at `step`; `peers` are the other trials of
  /// the same tier (running, finished, pruned).
  func decide(_ trial: LearningCurve, at step: Int, peers: [LearningCurve], direction: Direction) -> StoppingDecision
}

extension SingleMetricStoppingRule {
  public func decide(_ trial: [LearningCurve], at step: Int, peers: [[LearningCurve]], directions: [Direction])
    -> StoppingDecision
  {
    decide(trial[0], at: step, peers: peers.map { $0[0] }, direction: directions[0])
  }
}

func describe(_ value: Double) -> String { NumberText.of(value) }
