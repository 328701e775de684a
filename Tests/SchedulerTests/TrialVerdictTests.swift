import StudyModel
import Testing
import TrackingBridge

@testable import TrialScheduler

/// The verdict is pure: the same facts give the same outcome, for a trial process and a tell.
@Suite("How a trial's end becomes its outcome")
struct TrialVerdictTests {
  let verdict = TrialVerdict(objective: "accuracy", timeout: .seconds(120))

  @Test("exit 0 with the objective completes with its value; without it fails, naming what was reported")
  func exitZero() {
    let done = verdict.outcome(
      exit: .exited(code: 0), stopCause: nil, reports: .init(objectiveValue: 0.9, reportedNames: ["accuracy"]))
    #expect(done.state == .completed && done.value == 0.9 && done.exitCode == 0 && done.reason == nil)

    let misspelt = verdict.outcome(
      exit: .exited(code: 0), stopCause: nil, reports: .init(reportedNames: ["accuracyy", "loss"], malformedLines: 2))
    #expect(misspelt.state == .failed)
    #expect(
      misspelt.reason
        == "exited 0 but never reported 'accuracy'; it reported 'accuracyy', 'loss' (did you mean 'accuracyy'?) (2 hpod lines were not valid JSON objects)"
    )
    let renamed = verdict.outcome(
      exit: .exited(code: 0), stopCause: nil, reports: .init(reportedNames: ["accuracyy"]))
    #expect(
      renamed.reason
        == "exited 0 but never reported 'accuracy'; it reported only 'accuracyy': report it as 'accuracy', or set objective.metric to 'accuracyy'"
    )
    let silent = verdict.outcome(exit: .exited(code: 0), stopCause: nil, reports: .init())
    #expect(silent.reason == #"exited 0 but never reported 'accuracy'; print a line like: hpod {"accuracy": 0.93}"#)
    let diverged = verdict.outcome(
      exit: .exited(code: 0), stopCause: nil,
      reports: .init(objectiveValue: 0.5, objectiveProblem: "accuracy was NaN at step 3"))
    #expect(diverged.state == .failed && diverged.reason == "accuracy was NaN at step 3")
  }

  @Test("hpod's own stops decide the state: timeout, a stop request, a rule")
  func stops() {
    let reports = TrialVerdict.Reports(objectiveValue: 0.4)
    let timedOut = verdict.outcome(exit: .signalled(signal: 15), stopCause: .timeout, reports: reports)
    #expect(timedOut.state == .timedOut && timedOut.reason == "stopped after the trial timeout of 2m")
    #expect(timedOut.signal == 15 && timedOut.exitCode == nil)
    let cancelled = verdict.outcome(
      exit: .exited(code: 0), stopCause: .interrupted("cancelled by the user"), reports: reports)
    #expect(cancelled.state == .cancelled && cancelled.reason == "cancelled by the user")
    let pruned = verdict.outcome(
      exit: .signalled(signal: 15), stopCause: .pruned(rule: "median", step: 4, reason: "0.4 < median 0.6"),
      reports: reports)
    #expect(pruned.state == .pruned && pruned.value == 0.4)
    #expect(pruned.reason == "stopped early by the median rule at step 4: 0.4 < median 0.6")
  }

  @Test("a failure quotes the last stderr line, or the MLflow API's refusal; lost points are noted")
  func failures() {
    var tailRead = false
    let crashed = verdict.outcome(
      exit: .exited(code: 2), stopCause: nil, reports: .init(),
      diagnosticTail: {
        tailRead = true
        return "ValueError: bad lr"
      })
    #expect(crashed.state == .failed && crashed.reason == "exited with status 2; last stderr line: ValueError: bad lr")
    #expect(tailRead)
    let refused = verdict.outcome(
      exit: .exited(code: 1), stopCause: nil, reports: .init(), trackingRefusal: { "Invalid tag key 'hpod.tier'" })
    #expect(
      refused.reason
        == "exited with status 1; hpod's MLflow API refused the trial's logging: Invalid tag key 'hpod.tier'")
    let completed = verdict.outcome(
      exit: .exited(code: 0), stopCause: nil,
      reports: .init(objectiveValue: 1, lostPoints: 3, lostPointsError: "disk full"),
      diagnosticTail: {
        Issue.record("a completed trial's stderr is not read"); return nil
      },
      trackingRefusal: {
        Issue.record("a completed trial's refusals are not read"); return nil
      })
    #expect(completed.state == .completed && completed.reason == "3 metric points could not be saved: disk full")
    let lost = verdict.outcome(exit: .interrupted("node failure"), stopCause: nil, reports: .init())
    #expect(
      lost.state == .cancelled && lost.reason == "node failure; it runs again without counting against its retries")
    let byHand = verdict.outcome(exit: .cancelled("scancel by hand"), stopCause: nil, reports: .init())
    #expect(byHand.state == .failed && byHand.reason == "scancel by hand outside hpod; it is not run again")
  }

  @Test("a tell: completed needs a value; no state means completed with a value, failed without")
  func tells() throws {
    #expect(try TrialVerdict.told(state: nil, value: 0.3, reason: nil).get() == .init(state: .completed, value: 0.3))
    #expect(try TrialVerdict.told(state: nil, value: nil, reason: "OOM").get() == .init(state: .failed, reason: "OOM"))
    #expect(try TrialVerdict.told(state: .pruned, value: 0.1, reason: nil).get().state == .pruned)
    for (state, value) in [(TrialState.completed, nil), (.completed, Double.nan), (.running, 1.0)]
      as [(TrialState, Double?)]
    {
      #expect(throws: TrialVerdict.Refusal.self) {
        try TrialVerdict.told(state: state, value: value, reason: nil).get()
      }
    }
  }
}
