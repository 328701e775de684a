import DidYouMean
import StudyModel
import TrackingBridge

/// Why hpod asked a trial to stop, which decides its final state.
enum StopCause: Sendable, Equatable {
  case timeout
  case interrupted(String)
  case pruned(rule: String, step: Int, reason: String)
  /// Cut at a rung by a rule that pauses (`early_stopping.pause`): pruned unless promoted later.
  case paused(rule: String, step: Int, reason: String)
  /// Replaced by population-based training with a copy of trial `donorNumber`'s checkpoint.
  case exploited(donorNumber: Int, step: Int, reason: String)

  /// The rule and step of a prune or pause, and whether it was a pause.
  var prune: (rule: String, step: Int, paused: Bool)? {
    switch self {
    case .pruned(let rule, let step, _): (rule, step, false)
    case .paused(let rule, let step, _): (rule, step, true)
    case .exploited(_, let step, _): ("pbt", step, false)
    default: nil
    }
  }
}

/// How a trial ended, in the store's terms, with a reason a user can act on: the one place
/// that turns what happened to a trial (its exit, why hpod stopped it, what it reported, or
/// what a client told of it) into an outcome. Pure: it reads nothing and writes nothing, so
/// the runner and ask and tell reach the same verdict on the same facts.
struct TrialVerdict: Sendable {
  /// The study's objective metric.
  let objective: String
  /// The spec's `trial.timeout`, quoted when a trial is stopped by it.
  let timeout: Duration?

  /// What the trial reported, as its `MetricCollector` saw it.
  struct Reports: Sendable, Equatable {
    var objectiveValue: Double?
    /// Why the objective cannot be trusted (a NaN at some step), if it cannot.
    var objectiveProblem: String?
    var reportedNames: Set<String> = []
    var malformedLines = 0
    var lostPoints = 0
    var lostPointsError: String?
  }

  /// A trial process's outcome. `diagnosticTail` (its last stderr line) and `trackingRefusal`
  /// (what hpod's MLflow API last refused it) are read only for a trial that failed.
  func outcome(
    exit: TrialExit, stopCause: StopCause?, reports: Reports, diagnosticTail: () -> String? = { nil },
    trackingRefusal: () -> String? = { nil }
  ) -> AppDatabase.TrialOutcome {
    let (code, signal): (Int?, Int?) =
      switch exit {
      case .exited(let code): (code, nil)
      case .signalled(let signal): (nil, signal)
      default: (nil, nil)
      }
    var outcome = AppDatabase.TrialOutcome(
      state: .failed, value: reports.objectiveValue, exitCode: code, signal: signal,
      malformedLines: reports.malformedLines)
    switch stopCause {
    case .timeout:
      outcome.state = .timedOut
      outcome.reason = "stopped after the trial timeout of \(timeout.map(Self.format) ?? "?")"
    case .interrupted(let why):
      outcome.state = .cancelled
      outcome.reason = why
    case .pruned(let rule, let step, let why):
      outcome.state = .pruned
      outcome.reason = "stopped early by the \(rule) rule at step \(step): \(why)"
    case .paused(let rule, let step, let why):
      outcome.state = .pruned
      outcome.reason =
        "paused by the \(rule) rule at step \(step): \(why); resumed from its checkpoint if the rung's later trials promote it"
    case .exploited(_, let step, let why):
      outcome.state = .pruned
      outcome.reason = "replaced by population-based training at step \(step): \(why)"
    case nil:
      outcome = unasked(exit, outcome: outcome, reports: reports, diagnosticTail: diagnosticTail)
    }
    if outcome.state == .failed, let refusal = trackingRefusal() {
      // The script died of it, most likely; its last stderr line is the client's advice.
      outcome.reason = "\(exit); hpod's MLflow API refused the trial's logging: \(refusal)"
    }
    if reports.lostPoints > 0 {
      let note = "\(reports.lostPoints) metric points could not be saved: \(reports.lostPointsError ?? "")"
      outcome.reason = outcome.reason.map { "\($0); \(note)" } ?? note
    }
    return outcome
  }

  /// How a trial that hpod did not stop ended.
  private func unasked(
    _ exit: TrialExit, outcome: AppDatabase.TrialOutcome, reports: Reports, diagnosticTail: () -> String?
  ) -> AppDatabase.TrialOutcome {
    var outcome = outcome
    switch exit {
    case .exited(code: 0):
      if let problem = reports.objectiveProblem {
        outcome.reason = problem
      } else if reports.objectiveValue == nil {
        outcome.reason = missingObjective(reports)
      } else {
        outcome.state = .completed
      }
    case .exited, .signalled, .failed, .lost:
      let tail = diagnosticTail().map { "; last stderr line: \($0)" } ?? ""
      outcome.reason = "\(exit)\(tail)"
    case .cancelled(let why):
      // Not `cancelled`, which re-runs: someone ended it outside hpod on purpose.
      outcome.reason = "\(why) outside hpod; it is not run again"
    case .timedOut(let why):
      outcome.state = .timedOut
      outcome.reason = why
    case .interrupted(let why):
      outcome.state = .cancelled
      outcome.reason = "\(why); it runs again without counting against its retries"
    case .detached:
      outcome.reason = "\(exit)"
    }
    return outcome
  }

  /// A trial that exited 0 without the objective: what it reported instead, and how to report it.
  private func missingObjective(_ reports: Reports) -> String {
    let reported = reports.reportedNames.sorted()
    let listed = reported.prefix(8).map { "'\($0)'" }.joined(separator: ", ") + (reported.count > 8 ? ", …" : "")
    let near = DidYouMean.nearest(to: objective, in: reported)
    let instead: String =
      if reported.isEmpty {
        "; print a line like: hpod {\"\(objective)\": 0.93}"
      } else if let near, reported.count == 1 {
        // One name, close to the objective's: the same metric named two ways.
        "; it reported only '\(near)': report it as '\(objective)', or set objective.metric to '\(near)'"
      } else {
        "; it reported \(listed)" + (near.map { " (did you mean '\($0)'?)" } ?? "")
      }
    return "exited 0 but never reported '\(objective)'" + instead
      + (reports.malformedLines > 0 ? " (\(reports.malformedLines) hpod lines were not valid JSON objects)" : "")
  }

  /// What a client told of a trial it ran (ask and tell), or why the tell is refused.
  static func told(state: TrialState?, value: Double?, reason: String?) -> Result<AppDatabase.TrialOutcome, Refusal> {
    let state = state ?? (value == nil ? .failed : .completed)
    guard state.isFinished else {
      return .failure(Refusal("state must be one of completed, failed, pruned; found \"\(state.rawValue)\""))
    }
    if state == .completed, value == nil || value?.isNaN == true {
      return .failure(
        Refusal("a completed trial needs a \"value\" (a NaN objective is a failed evaluation: tell it as failed)"))
    }
    return .success(.init(state: state, value: value, reason: reason))
  }

  struct Refusal: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
  }

  static func format(_ duration: Duration) -> String {
    let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    return seconds >= 60 && seconds.truncatingRemainder(dividingBy: 60) == 0 ? "\(Int(seconds / 60))m" : "\(seconds)s"
  }
}
