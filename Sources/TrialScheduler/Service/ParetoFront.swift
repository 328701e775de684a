import MultiObjective
import SearchStrategies
public import StudyModel
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

  /// The front of a study's completed trials; `finalMetrics` by trial id. `tier` picks the
  /// tier (by default full trainings once one completed, else the search's).
  public static func of(
    spec: StudySpec, trials: [TrialRecord], finalMetrics: [Int64: [String: Double]], tier chosen: Tier? = nil
  ) -> ParetoFront {
    let tier: Tier =
      chosen
      ?? (trials.contains { $0.tier == .fullTraining && $0.state == .completed } ? .fullTraining : spec.searchTier)
    let history = TrialHistory(trials: trials.filter { $0.tier == tier })
    var candidates: [Member] = []
    var infeasible = 0
    for configuration in history.configurations {
      let completed = history.chains(of: configuration).map(\.latest).filter { $0.state == .completed }
      guard let first = completed.first else { continue }
      let metrics = FinalMetrics.mean(completed.compactMap { $0.id.flatMap { finalMetrics[$0] } })
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

extension ParetoFront {
  /// The members in the order `pick` gives (see `StudySpec.FrontPick`); `.best` leaves out
  /// the members that miss its conditions.
  public func ordered(by pick: StudySpec.FrontPick) -> [Member] {
    let losses = members.map { member in objectives.map { $0.direction.loss(member.metrics[$0.metric]!) } }
    let m = objectives.count
    let low = (0..<m).map { i in losses.map { $0[i] }.min() ?? 0 }
    let high = (0..<m).map { i in losses.map { $0[i] }.max() ?? 1 }
    let scaled = losses.map { point in
      (0..<m).map { i in high[i] > low[i] ? (point[i] - low[i]) / (high[i] - low[i]) : 0 }
    }
    let byScore = { (score: [Double], largestFirst: Bool) -> [Member] in
      members.indices.sorted { a, b in
        score[a] == score[b]
          ? members[a].trial.number < members[b].trial.number
          : (largestFirst ? score[a] > score[b] : score[a] < score[b])
      }.map { members[$0] }
    }
    switch pick {
    case .hypervolume:
      return byScore(Hypervolume.contributions(scaled, reference: [Double](repeating: 1.1, count: m)), true)
    case .knee:
      return byScore(scaled.map { point in point.reduce(0) { $0 + $1 * $1 }.squareRoot() }, false)
    case .best(let metric, let conditions):
      let direction = objectives.first { $0.metric == metric }?.direction ?? .maximize
      return members.filter { member in
        conditions.allSatisfy { condition in member.metrics[condition.metric].map(condition.holds) ?? false }
      }.sorted { a, b in
        let x = a.metrics[metric] ?? .nan
        let y = b.metrics[metric] ?? .nan
        return x == y ? a.trial.number < b.trial.number : direction.isBetter(x, than: y)
      }
    }
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
