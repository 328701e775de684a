/// The life of a trial (like Optuna's `TrialState`). Finished states are final: a finished
/// trial is never updated again.
public enum TrialState: String, Sendable, Hashable, Codable, CaseIterable {
  case pending
  case running
  case completed
  case failed
  case pruned
  case timedOut = "timed_out"
  case cancelled

  public var isFinished: Bool {
    switch self {
    case .pending, .running: false
    case .completed, .failed, .pruned, .timedOut, .cancelled: true
    }
  }
}

/// The life of a study.
public enum StudyState: String, Sendable, Hashable, Codable, CaseIterable {
  /// Trials are being run (or were, when the process running it died: it resumes).
  case running
  /// Stopped by the user (Ctrl-C, `hpod cancel`) before its budget was spent; resumable.
  case interrupted
  /// The budget is spent or the space exhausted.
  case completed
  /// Too many trials failed (`max_failed_trials`) or the search could not go on.
  case failed
  /// Cancelled for good.
  case cancelled

  public var isFinished: Bool {
    switch self {
    case .running, .interrupted: false
    case .completed, .failed, .cancelled: true
    }
  }
}

/// The fidelity a trial runs at: cheap quick tests drive the search; the best are promoted to
/// full training.
public enum Tier: String, Sendable, Hashable, Codable, CaseIterable {
  case quickTest = "quick_test"
  case fullTraining = "full_training"
}
