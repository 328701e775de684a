import StudyModel

extension StudySpec.EarlyStopping {
  /// The rule the spec describes.
  public func makeRule() -> any EarlyStoppingRule {
    switch rule {
    case .median(let minSteps, let minTrials):
      MedianRule(minSteps: minSteps, minTrials: minTrials)
    case .patience(let patience, let minDelta, let minSteps):
      PatienceRule(patience: patience, minDelta: minDelta, minSteps: minSteps)
    case .threshold(let lower, let upper, let minSteps):
      ThresholdRule(lower: lower, upper: upper, minSteps: minSteps)
    case .asha(let minResource, let maxResource, let reductionFactor):
      SuccessiveHalvingRule(minResource: minResource, maxResource: maxResource, reductionFactor: reductionFactor)
    case .hyperband(let minResource, let maxResource, let reductionFactor):
      HyperbandRule(
        minResource: minResource, maxResource: maxResource ?? minResource * 27, reductionFactor: reductionFactor)
    }
  }
}

extension StudySpec.EarlyStopping {
  /// The rule for `spec`'s study, and the metrics it watches with their directions: with
  /// several objectives, ASHA ranking trials by all of them; else the spec's rule on
  /// `early_stopping.metric`, in the objective's direction.
  func makeRule(for spec: StudySpec) -> (rule: any EarlyStoppingRule, watched: [(metric: String, direction: Direction)])
  {
    if let pareto = makeParetoRule(spec.objectives) {
      return (pareto, spec.objectives.map { ($0.metric, $0.direction) })
    }
    return (makeRule(), [(metric, spec.objective.direction)])
  }

  /// With several objectives, ASHA ranking trials by all of them (the only rule the spec
  /// accepts there); nil for one objective.
  func makeParetoRule(_ objectives: [StudySpec.Objective]) -> ParetoSuccessiveHalvingRule? {
    guard objectives.count > 1, case .asha(let minResource, let maxResource, let reductionFactor) = rule else {
      return nil
    }
    return ParetoSuccessiveHalvingRule(
      minResource: minResource, maxResource: maxResource, reductionFactor: reductionFactor,
      directions: objectives.map(\.direction))
  }
}
