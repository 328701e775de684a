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
}
