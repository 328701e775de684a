public import SearchStrategies
public import StudyModel

/// Asynchronous successive halving (ASHA; Li et al. 2020, Optuna's SuccessiveHalvingPruner).
///
/// Rungs sit at steps `r_k = minResource * η^k` (η = `reductionFactor`), up to `maxResource`.
/// When a trial reports at a rung, it goes on only if its value there is in the top `1/η` of
/// all values recorded at that rung so far (itself included); the first trials to reach a
/// rung go on, so the search never waits for a full cohort.
public struct SuccessiveHalvingRule: SingleMetricStoppingRule {
  public var minResource: Int
  public var maxResource: Int?
  public var reductionFactor: Int

  public init(minResource: Int = 1, maxResource: Int? = nil, reductionFactor: Int = 3) {
    self.minResource = minResource
    self.maxResource = maxResource
    self.reductionFactor = reductionFactor
  }

  public var name: String { "asha" }

  /// The rung steps, in order: `minResource * η^k` below `maxResource`.
  func rungSteps(upTo step: Int) -> [Int] {
    var steps: [Int] = []
    var resource = minResource
    while resource <= step, maxResource.map({ resource < $0 }) ?? true {
      steps.append(resource)
      guard resource <= Int.max / reductionFactor else { break }
      resource *= reductionFactor
    }
    return steps
  }

  /// A trial's value at a rung: its first report at or after the rung's step (trials that
  /// report every other step still meet every rung).
  static func value(of curve: LearningCurve, atRung rung: Int) -> Double? {
    curve.values.filter { $0.key >= rung }.min { $0.key < $1.key }?.value
  }

  public func decide(_ trial: LearningCurve, at step: Int, peers: [LearningCurve], direction: Direction)
    -> StoppingDecision
  {
    // The rung this report reaches: the highest rung step at or below `step` that none of the
    // trial's earlier reports had reached.
    guard let rung = rungSteps(upTo: step).last, let value = trial.values[step],
      !trial.values.keys.contains(where: { $0 >= rung && $0 < step })
    else { return .keepGoing }
    let competing = (peers.compactMap { Self.value(of: $0, atRung: rung) } + [value]).sorted {
      direction.isBetter($0, than: $1)
    }
    let promotable = max(competing.count / reductionFactor, 1)
    let cutoff = competing[promotable - 1]
    guard direction.isBetter(cutoff, than: value) else { return .keepGoing }
    return .stop(
      reason:
        "value \(describe(value)) at rung step \(rung) is outside the top 1/\(reductionFactor) of \(competing.count) trials there (cutoff \(describe(cutoff)))"
    )
  }
}

extension EarlyStoppingRule where Self == SuccessiveHalvingRule {
  public static func asha(minResource: Int = 1, maxResource: Int? = nil, reductionFactor: Int = 3)
    -> SuccessiveHalvingRule
  {
    SuccessiveHalvingRule(minResource: minResource, maxResource: maxResource, reductionFactor: reductionFactor)
  }
}
