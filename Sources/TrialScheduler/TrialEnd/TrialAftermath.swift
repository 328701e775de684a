import Logging
import TrackingBridge

/// What follows a trial's recorded end, the same for the runner and for ask and tell (as
/// Optuna's `_tell` serves both `study.tell` and `optimize`): the final metrics the search
/// reads, the constraints' verdict (`hpod.feasible`), and registration. When the study ends,
/// the Pareto front's tags and its registration. The trial's end is recorded already (by the
/// `TrialLifecycle`); what fails here is logged, and done again for runs left unjudged when
/// the study resumes (`ModelRegistrar.registerPending`).
struct TrialAftermath: Sendable {
  let spec: StudySpec
  let database: AppDatabase
  let logger: Logger
  let onEvent: @Sendable (StudyEvent) -> Void

  var registrar: ModelRegistrar { ModelRegistrar(spec: spec, database: database, onEvent: onEvent) }

  /// Records a finished trial in `state` and does what its end calls for.
  func settle(_ finished: TrialRecord, _ state: inout RunState) {
    state.finish(finished)
    if spec.needsFinalMetrics, finished.state == .completed, let id = finished.id {
      do {
        let metrics = try database.finalMetrics(trialId: id)
        state.finalMetrics[id] = metrics
        if !spec.constraints.isEmpty { try database.setTags(trialId: id, spec.feasibilityTag(metrics)) }
      } catch {
        logger.error(
          "reading the final metrics of trial \(finished.number) failed: \(error)", metadata: ["study": "\(spec.name)"])
      }
    }
    if finished.state == .failed || finished.state == .timedOut {
      // A notice, not a warning: the daemon's log has it, and hpod run's own view already
      // prints the trial's end once.
      logger.notice(
        "trial \(finished.number) \(finished.state.rawValue): \(finished.reason ?? "no reason")",
        metadata: ["study": "\(spec.name)"])
    }
    do {
      try registrar.register(finished, history: finished.tier == spec.searchTier ? state.search : state.full)
    } catch {
      logger.error("registering trial \(finished.number) failed: \(error)", metadata: ["study": "\(spec.name)"])
    }
  }

  /// Warns, once enough trials completed to tell, of each metric the spec acts on (early
  /// stopping, thresholds, constraints) that no trial reported: that part of the spec does
  /// nothing. The end-of-study summary says it again.
  func callOutUnreportedMetrics(studyId: Int64) {
    do {
      for problem in spec.unreportedMetrics(reported: try database.metricNames(studyId: studyId)) {
        // A notice for the daemon's log: hpod run and watch show the event itself.
        logger.notice("\(problem)", metadata: ["study": "\(spec.name)"])
        onEvent(.studyWarning("\(problem)"))
      }
    } catch {
      logger.error("cannot read the metric names the trials reported: \(error)", metadata: ["study": "\(spec.name)"])
    }
  }

  /// What a study of several objectives records when it ends: each completed trial's
  /// `hpod.pareto_front` tag and, when it `completed`, the registration of its final front.
  func conclude(_ state: RunState, completed: Bool) throws {
    guard spec.isMultiObjective else { return }
    try tagFront(state)
    if completed { try registrar.registerFront(state) }
  }

  /// Tags every completed trial with whether its configuration ended on its tier's front.
  private func tagFront(_ state: RunState) throws {
    for history in [state.search, state.full] {
      let trials = history.chains.flatMap(\.attempts)
      guard let tier = trials.first?.tier else { continue }
      let front = ParetoFront.of(spec: spec, trials: trials, finalMetrics: state.finalMetrics, tier: tier)
      let members = Set(front.members.compactMap { history.configuration(containing: $0.trial.id!)?.id })
      for trial in trials where trial.state == .completed {
        let onFront = history.configuration(containing: trial.id!).map { members.contains($0.id) } ?? false
        try database.setTags(trialId: trial.id!, [HpodTag.paretoFront: onFront ? "yes" : "no"])
      }
    }
  }
}
