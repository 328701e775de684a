import MultiObjective
import SearchStrategies
public import TrackingBridge

/// The trade-offs a study of several objectives found: its feasible configurations no other
/// feasible one beats in every objective. Full trainings when any completed, else the search's
/// quick tests, as a single-objective study's best is; a configuration with repeats counts
/// once, by the mean final metrics of its completed repeats.
public struct ParetoFront: Sendable {
  public struct Member: Sendable {
    /// The configuration's first completed trial.
    public var trial: TrialRecord
    /// Each objective's (and constraint's) value: the mean over its completed repeats.
    public var metrics: [String: Double]
  }

  public var objectives: [StudySpec.Objective]
  public var constraints: [StudySpec.Threshold]
  /// In the order of the first objective, best first.
  public var members: [Member]
  /// Configurations that completed but break a constraint (left off the front).
  public var infeasible: Int
  public var tier: Tier

  /// The front of a study's completed trials; `finalMetrics` by trial id.
  public static func of(spec: StudySpec, trials: [TrialRecord], finalMetrics: [Int64: [String: Double]]) -> ParetoFront
  {
    let tier: Tier =
      trials.contains { $0.tier == .fullTraining && $0.state == .completed } ? .fullTraining : spec.searchTier
    let history = TrialHistory(trials: trials.filter { $0.tier == tier })
    var candidates: [Member] = []
    var infeasible = 0
    for configuration in history.configurations {
      let completed = history.chains(of: configuration).map(\.latest).filter { $0.state == .completed }
      guard let first = completed.first else { continue }
      let metrics = StudyRunner.meanMetrics(completed.compactMap { $0.id.flatMap { finalMetrics[$0] } })
      guard spec.objectives.allSatisfy({ metrics[$0.metric]?.isFinite == true }) else { continue }
      guard spec.violation(of: metrics) == 0 else {
        infeasible += 1
        continue
      }
      candidates.append(Member(trial: first, metrics: metrics))
    }
    let losses = candidates.map { member in spec.objectives.map { $0.direction.loss(member.metrics[$0.metric]!) } }
    let members = Dominance.front(losses).map { candidates[$0] }.sorted { a, b in
      let primary = spec.objectives[0]
      return primary.direction.isBetter(a.metrics[primary.metric]!, than: b.metrics[primary.metric]!)
    }
    return ParetoFront(
      objectives: spec.objectives, constraints: spec.constraints, members: members, infeasible: infeasible, tier: tier)
  }
}

extension StudyService {
  /// The Pareto front of a study of several objectives (see `ParetoFront`).
  nonisolated public func front(of id: Int64) throws -> ParetoFront {
    let study = try existing(id)
    let spec = try specs.spec(of: study)
    return ParetoFront.of(
      spec: spec, trials: try database.trials(studyId: id), finalMetrics: try database.finalMetricValues(studyId: id))
  }
}
