import GRDB

// What a trial's own `mlflow.set_experiment(name)` or `set_experiment(experiment_id=…)` finds.
extension TrackingStore {
  /// The experiment of a trial's study, whatever `asked` names: the client starts the
  /// trial's run (MLFLOW_RUN_ID) only in the experiment `set_experiment` found, and the run is
  /// in its study's. When `asked` is another name, the trial's run keeps it in the tag
  /// `hpod.experiment_asked`, so that the difference shows. Nil for a trial that is not in
  /// the store (the name is then looked up as usual).
  public func trialExperiment(trialId: Int64, asked: String) throws -> TrackingExperiment? {
    try trialExperiment(trialId: trialId) { $0.name == asked ? nil : asked }
  }

  /// The same for `mlflow.set_experiment(experiment_id=…)`: the trial's study's experiment
  /// whatever id `asked` is; another id is kept in `hpod.experiment_asked` as
  /// `experiment_id <id>`.
  public func trialExperiment(trialId: Int64, askedId: Int64) throws -> TrackingExperiment? {
    try trialExperiment(trialId: trialId) { $0.id == askedId ? nil : "experiment_id \(askedId)" }
  }

  /// The trial's study's experiment; `difference` says what the trial asked for when that
  /// was not it.
  private func trialExperiment(trialId: Int64, difference: (TrackingExperiment) -> String?) throws
    -> TrackingExperiment?
  {
    guard let trial = try database.trial(id: trialId), let study = try database.study(id: trial.studyId) else {
      return nil
    }
    try syncStudyExperiments()
    let experiment = try experiment(named: experimentName(study))
    if let asked = difference(experiment) {
      try database.writer.write { db in
        try db.execute(
          sql: "INSERT OR REPLACE INTO tag (trialId, key, value) VALUES (?, ?, ?)",
          arguments: [trialId, HpodTag.experimentAsked, asked])
      }
    }
    return experiment
  }
}
