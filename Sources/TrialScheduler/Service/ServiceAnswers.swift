public import Foundation
public import StudyModel
public import TrackingBridge

/// A study as the service knows it: its record, its spec (parsed once), the summary of its
/// trials and, while the store cannot be written, why it waits. The HTTP layer shapes it.
public struct StudyDescription: Sendable {
  public var study: StudyRecord
  public var spec: StudySpec?
  public var summary: AppDatabase.StudySummary?
  /// Set while the study is paused because the store cannot be written.
  public var pausedFor: String?
  /// Set while a stopped study's trials finish stopping (their grace period).
  public var stoppingFor: String?
  /// Set while the store says `running` but no process runs the study (its `hpod run` died).
  public var undrivenFor: String?
  /// The other study's trials the search started from, when the spec warm-starts.
  public var warmStart: WarmStartHistory?
}

/// The result of an asked trial, as a client tells it.
public struct TrialReport: Sendable {
  public struct Point: Sendable {
    public var name: String
    public var step: Int
    public var value: Double

    public init(name: String, step: Int, value: Double) {
      self.name = name
      self.step = step
      self.value = value
    }
  }

  /// The objective's value; nil for a trial that failed.
  public var value: Double?
  /// Completed, failed or pruned; nil: completed with a value, failed without one.
  public var state: TrialState?
  public var reason: String?
  public var metrics: [Point]

  public init(value: Double? = nil, state: TrialState? = nil, reason: String? = nil, metrics: [Point] = []) {
    self.value = value
    self.state = state
    self.reason = reason
    self.metrics = metrics
  }
}

/// The answer to a full training requested by hand.
public struct PromotionOutcome: Sendable {
  public var quickTest: TrialRecord
  /// The full training, when it exists already.
  public var fullTraining: TrialRecord?
  /// Whether this call recorded a new request (false: the full training existed).
  public var requested: Bool
  public var message: String
}

public struct RepeatOutcome: Sendable {
  /// The trial named in the request (any trial of the configuration).
  public var trial: TrialRecord
  /// Whether this call recorded a new request (false: the configuration has as many already).
  public var requested: Bool
  public var message: String
}
