public import StudyModel

/// How a finished trial ended, as far as a search strategy cares.
public enum ObservationState: String, Sendable, Hashable, Codable {
  /// Finished and reported its objective value.
  case completed
  /// Crashed, timed out or never reported its objective: the configuration is suspect.
  case failed
  /// Stopped early by a rule; `value` is its last intermediate objective value, if any.
  case pruned
}

/// A finished trial: its configuration, how it ended and its objective value.
public struct Observation: Sendable, Hashable {
  public var configuration: Configuration
  public var state: ObservationState
  /// The objective value; present for completed trials, possibly for pruned ones. For a
  /// configuration run several times (over seeds or folds), the mean of `samples`.
  public var value: Double?
  /// Each repeat's value, when the configuration ran more than once: noisy observations of
  /// one point, which the Gaussian process fits as such. Empty for a single run.
  public var samples: [Double] = []
  /// Every objective's value as a loss (minimized), for a study of several objectives; empty
  /// for one (`value` is the objective).
  public var losses: [Double] = []
  /// How far a completed observation breaks the study's constraints: 0 when it meets them all
  /// (or there are none), more the further it is from meeting them.
  public var violation: Double = 0
  /// Each constraint's signed value for a completed observation, ≤ 0 where it holds (its
  /// shortfall or slack in the constraint's units); empty when there are none or only
  /// `violation` is known. The search models each one to predict where constraints hold.
  public var constraints: [Double] = []

  public init(configuration: Configuration, state: ObservationState, value: Double?) {
    self.configuration = configuration
    self.state = state
    self.value = value
  }

  public static func completed(_ configuration: Configuration, _ value: Double) -> Observation {
    Observation(configuration: configuration, state: .completed, value: value)
  }
}

/// Everything a strategy may look at when it suggests: the space, the objective's direction,
/// the finished observations (in the order they were suggested) and the pending configurations
/// (suggested, not finished: running or queued).
public struct SearchContext: Sendable {
  public var space: SearchSpace
  public var direction: Direction
  public var observations: [Observation]
  public var pending: [Configuration]

  public init(
    space: SearchSpace, direction: Direction = .minimize, observations: [Observation] = [],
    pending: [Configuration] = []
  ) {
    self.space = space
    self.direction = direction
    self.observations = observations
    self.pending = pending
  }

  /// How many configurations were suggested before this call: the index of the next one.
  /// Strategies derive their per-suggestion randomness from it, so a resumed study continues
  /// the same sequence.
  public var suggestedCount: Int { observations.count + pending.count }

  /// Completed observations' values as losses (smaller is better), with their configurations.
  public var completedLosses: [(configuration: Configuration, loss: Double)] {
    observations.compactMap { observation in
      guard observation.state == .completed, let value = observation.value, value.isFinite else { return nil }
      return (observation.configuration, direction.loss(value))
    }
  }
}
