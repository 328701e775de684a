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
