import TrackingBridge

extension StudyRunner {
  /// The tag that says whether a completed trial's configuration is on its tier's Pareto front
  /// when the study ended (`yes` or `no`), mirrored to MLflow with the other tags.
  public static let frontTag = "hpod.pareto_front"

  /// Tags every completed trial of a study of several objectives with whether its
  /// configuration ended on its tier's front.
  func tagFront(_ state: RunState) throws {
    guard spec.isMultiObjective else { return }
    for history in [state.search, state.full] {
      let trials = history.chains.flatMap(\.attempts)
      guard let tier = trials.first?.tier else { continue }
      let front = ParetoFront.of(spec: spec, trials: trials, finalMetrics: state.finalMetrics, tier: tier)
      let members = Set(front.members.compactMap { history.configuration(containing: $0.trial.id!)?.id })
      for trial in trials where trial.state == .completed {
        let onFront = history.configuration(containing: trial.id!).map { members.contains($0.id) } ?? false
        try database.setTags(trialId: trial.id!, [Self.frontTag: onFront ? "yes" : "no"])
      }
    }
  }

  /// With several objectives and an alias: the trial whose version the alias should point at,
  /// the first of the registered runs' Pareto front (with `trial`, being registered) in the
  /// order of `promotion.pick` (hypervolume share without one). Nil with one objective.
  func frontPick(registering trial: TrialRecord, history: TrialHistory) throws -> Int64? {
    guard spec.isMultiObjective, let registration = spec.registration, registration.alias != nil else { return nil }
    let registered = Set(
      try database.modelVersions(named: registration.model).filter { $0.studyId == trial.studyId }.map(\.trialId)
    ).union([trial.id!])
    let trials = history.chains.flatMap(\.attempts).filter { registered.contains($0.id!) }
    let front = ParetoFront.of(
      spec: spec, trials: trials, finalMetrics: try database.finalMetricValues(studyId: trial.studyId),
      tier: registration.tier)
    return front.ordered(by: spec.promotion?.pick ?? .hypervolume).first?.trial.id
  }
}
