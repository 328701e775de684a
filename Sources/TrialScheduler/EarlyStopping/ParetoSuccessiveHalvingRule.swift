import MultiObjective
public import SearchStrategies
public import StudyModel

/// Asynchronous successive halving for several objectives: ASHA's rungs, with the trials at a
/// rung ranked by non-dominated sorting and crowding (NSGA-II's order) instead of one value.
///
/// Rungs sit at steps `r_k = minResource * η^k` below `maxResource`, as in
/// `SuccessiveHalvingRule`. At a rung a trial's point is each objective's value there (its
/// first report at or after the rung's step), as losses. All trials with a point at the rung,
/// itself included, are sorted into fronts F₁, F₂, … (F₁: no other point dominates them), and
/// within a front by crowding distance, most isolated first; the first max(⌊n/η⌋, 1) go on.
/// So a trial stops only when at least n − ⌊n/η⌋ trials are ahead of it, each on a better
/// front or spreading the same front further: never while it is still on the front of its
/// rung unless that front alone holds more than the quota.
public struct ParetoSuccessiveHalvingRule: EarlyStoppingRule {
  public var minResource: Int
  public var maxResource: Int?
  public var reductionFactor: Int
  public var directions: [Direction]

  public init(minResource: Int = 1, maxResource: Int? = nil, reductionFactor: Int = 3, directions: [Direction]) {
    self.minResource = minResource
    self.maxResource = maxResource
    self.reductionFactor = reductionFactor
    self.directions = directions
  }

  public var name: String { "asha" }

  /// `trial` and `peers` hold one curve per objective, in `directions`' order.
  public func decide(_ trial: [LearningCurve], at step: Int, peers: [[LearningCurve]]) -> StoppingDecision {
    decide(trial, at: step, peers: peers, directions: directions)
  }

  public func decide(_ trial: [LearningCurve], at step: Int, peers: [[LearningCurve]], directions: [Direction])
    -> StoppingDecision
  {
    let rungs = SuccessiveHalvingRule(
      minResource: minResource, maxResource: maxResource, reductionFactor: reductionFactor)
    guard let rung = rungs.rungSteps(upTo: step).last,
      trial.allSatisfy({ $0.values[step] != nil }),
      !trial[0].values.keys.contains(where: { $0 >= rung && $0 < step }),
      let own = point(trial, rung, directions)
    else { return .keepGoing }
    let points = [own] + peers.compactMap { point($0, rung, directions) }
    var order: [Int] = []
    var frontOf: [Int: Int] = [:]
    for (rank, front) in Dominance.sortedFronts(points).enumerated() {
      let crowding = Dominance.crowdingDistances(front.map { points[$0] })
      order += zip(front, crowding).sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }.map(\.0)
      for index in front { frontOf[index] = rank + 1 }
    }
    let promotable = max(points.count / reductionFactor, 1)
    guard let position = order.firstIndex(of: 0), position >= promotable else { return .keepGoing }
    return .stop(
      reason:
        "at rung step \(rung) it is on front \(frontOf[0]!) of \(points.count) trials there, ranked \(position + 1) by non-dominated sorting and crowding; the top 1/\(reductionFactor) (\(promotable)) go on"
    )
  }

  /// The trial's losses at the rung, or nil when it has not reported every objective there.
  func point(_ curves: [LearningCurve], _ rung: Int, _ directions: [Direction]) -> [Double]? {
    var losses: [Double] = []
    for (curve, direction) in zip(curves, directions) {
      guard let value = SuccessiveHalvingRule.value(of: curve, atRung: rung) else { return nil }
      losses.append(direction.loss(value))
    }
    return losses.count == directions.count ? losses : nil
  }
}
