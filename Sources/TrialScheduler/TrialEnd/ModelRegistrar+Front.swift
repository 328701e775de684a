import MultiObjective
import TrackingBridge

// Registration in a study of several objectives: the final Pareto front's runs.
extension ModelRegistrar {
  /// With several objectives, registration waits for the study to complete: then every run of
  /// the registration tier's final Pareto front that meets the thresholds is registered (the
  /// alias going to the one `promotion.pick` prefers, see `frontPick`), and every other
  /// completed run is tagged with why it is not: the constraint it breaks, or a front member
  /// that beats it. Runs judged at an earlier end (a study resumed for more trainings) keep
  /// their verdict.
  func registerFront(_ state: RunState) throws {
    guard spec.isMultiObjective, let registration = spec.registration else { return }
    let history = registration.tier == spec.searchTier ? state.search : state.full
    let front = ParetoFront.of(
      spec: spec, trials: history.chains.flatMap(\.attempts), finalMetrics: state.finalMetrics, tier: registration.tier)
    let onFront = Set(front.members.compactMap(\.trial.id))
    for configuration in history.configurations {
      let completed = history.chains(of: configuration).map(\.latest).filter { $0.state == .completed }
      guard let first = completed.first, try !isJudged(first) else { continue }
      if onFront.contains(first.id!) {
        try register(first, history: history, onFinalFront: true)
        continue
      }
      let metrics = FinalMetrics.mean(completed.compactMap { $0.id.flatMap { state.finalMetrics[$0] } })
      try reject(completed, judged: first, reason: offFrontReason(metrics, front: front))
    }
  }

  /// Why a completed run with these (mean) final metrics is not on the final front.
  private func offFrontReason(_ metrics: [String: Double], front: ParetoFront) -> String {
    let broken = spec.brokenConstraints(metrics)
    guard broken.isEmpty else { return "it breaks a constraint (\(broken.joined(separator: "; ")))" }
    guard spec.objectives.allSatisfy({ metrics[$0.metric]?.isFinite == true }) else {
      return "it did not report every objective (\(spec.objectives.map(\.metric).joined(separator: ", ")))"
    }
    let losses = { (values: [String: Double]) in spec.objectives.map { $0.direction.loss(values[$0.metric]!) } }
    let own = losses(metrics)
    let beaten = front.members.first { Dominance.dominates(losses($0.metrics), own) }
    return "not on the final Pareto front of the \(front.tier.rawValue) runs"
      + (beaten.map { "; trial \($0.trial.number) is at least as good in every objective and better in one" } ?? "")
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
