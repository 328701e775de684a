import StudyModel
import TrackingBridge
public import TrialScheduler

// The service's answers in the API's shapes, and the API's requests as the service's types.

extension API.Study {
  public init(_ described: StudyDescription) {
    self.init(described.study, spec: described.spec, summary: described.summary)
    warmStart = described.warmStart.map {
      WarmStart(
        studyId: $0.source.id ?? 0, study: $0.source.name, observations: $0.observations.count,
        outsideSpace: $0.outsideSpace)
    }
    enqueued = described.spec.map { $0.search.enqueue.count }
    if let reason = described.pausedFor {
      state = "paused"
      stateReason = reason
    }
    if let reason = described.undrivenFor {
      state = StudyState.interrupted.rawValue
      stateReason = reason
    }
    if let reason = described.stoppingFor {
      state = "stopping"
      stateReason = reason
    }
  }
}

extension API.Front {
  public init(_ front: ParetoFront) {
    self.init(
      objectives: front.objectives.map { API.Objective(metric: $0.metric, direction: $0.direction.rawValue) },
      constraints: front.constraints.map(\.description), tier: front.tier.rawValue,
      front: front.members.map { Member(trial: API.Trial($0.trial), metrics: $0.metrics) },
      infeasible: front.infeasible)
  }
}

extension API.Promotion {
  public init(_ outcome: PromotionOutcome) {
    self.init(
      quickTest: API.Trial(outcome.quickTest), fullTraining: outcome.fullTraining.map { API.Trial($0) },
      requested: outcome.requested, message: outcome.message)
  }
}

extension API.Tell {
  /// The states a tell may give (docs/API.md): a trial run elsewhere is not timed out or
  /// cancelled by hpod.
  static let states: [TrialState] = [.completed, .failed, .pruned]

  /// The told result; a state other than those, or a metric without a name, is a bad request
  /// that says which.
  public func report() throws -> TrialReport {
    let state = try self.state.map { text -> TrialState in
      guard let state = TrialState(rawValue: text), Self.states.contains(state) else {
        throw ServiceError.badRequest("state must be one of completed, failed, pruned; found \"\(text)\"")
      }
      return state
    }
    for (index, metric) in (metrics ?? []).enumerated() {
      guard !metric.name.isEmpty, !metric.name.unicodeScalars.contains("\0") else {
        throw ServiceError.badRequest(
          "metrics[\(index)].name must be a name that is not empty and has no NUL character")
      }
    }
    return TrialReport(
      value: value, state: state, reason: reason,
      metrics: (metrics ?? []).map { TrialReport.Point(name: $0.name, step: $0.step, value: $0.value) })
  }
}

extension API {
  /// What a request for more repeats did.
  public struct RepeatRequest: Codable, Sendable, Hashable {
    public var trial: Trial
    /// Whether this call recorded a new request (false: the configuration has as many).
    public var requested: Bool
    public var message: String

    public init(_ outcome: RepeatOutcome) {
      trial = Trial(outcome.trial)
      requested = outcome.requested
      message = outcome.message
    }
  }
}
