public import TrackingBridge

/// What happens in a study, for watchers (terminal progress, event streams).
public enum StudyEvent: Sendable {
  /// A study starts or resumes: `keptTrials` finished trials are kept, `rerunTrials`
  /// interrupted or crashed ones will run again.
  case studyStarted(StudyRecord, keptTrials: Int, rerunTrials: Int)
  /// The search starts from another study's finished trials (`search.warm_start`).
  case warmStarted(WarmStartHistory)
  case trialStarted(TrialRecord)
  /// New values of a running trial's metrics (the latest value of each, per batch).
  case trialMetrics(trialId: Int64, number: Int, step: Int, values: [String: Double])
  /// Why a trial waits to run or to be followed (a Slurm job held in its queue: a drained node,
  /// busy resources; a controller that does not answer), each time that changes; nil once it
  /// no longer waits.
  case trialWaiting(trialId: Int64, number: Int, reason: String?)
  case trialFinished(TrialRecord)
  /// A quick test was promoted: its configuration is being trained in full.
  case trialPromoted(quickTest: TrialRecord, fullTraining: TrialRecord)
  /// A quick test weighed for promotion by its repeats (`promotion.significance`): promoted
  /// or not, with the test's wording of why.
  case promotionJudged(TrialRecord, promoted: Bool, reason: String)
  case modelRegistered(ModelVersion, trial: TrialRecord)
  /// A run of the registration tier that missed a threshold, with why.
  case registrationSkipped(TrialRecord, reason: String)
  /// The study ended; `summary` has its trial counts and best value (nil where the store
  /// could not give them).
  case studyFinished(StudyRecord, summary: AppDatabase.StudySummary?)
  /// The store cannot be written (disk full, read-only, I/O error): the study waits, holding
  /// what it has in memory, and retries until writes succeed.
  case studyPaused(reason: String)
  /// The store takes writes again; the study goes on.
  case studyResumed(after: String)
  /// Something the user should fix while the study runs: a metric the spec acts on that no
  /// trial reports (that part of the spec does nothing).
  case studyWarning(String)
}
