import Foundation
import TrackingBridge

/// When a study stops by itself because its trials cannot work, as W&B's agent and Ray Tune
/// do, instead of spending its whole budget on them and reporting `completed`:
///
/// - a trial that could not even start (its program is missing, it needs a GPU this hpod does
///   not have, the cluster refused the job) while no trial has completed: every trial would
///   fail the same way;
/// - the first `firstTrials` trials all failed, with no trial completed;
/// - the last `repeatedFailures` trials failed the same way (one reason, numbers aside).
///
/// Trials count once their retries are spent. `trial.fail_fast: false` turns it off;
/// `trial.max_failed_trials` stays the explicit limit.
enum FailFast {
  static let firstTrials = 3
  static let repeatedFailures = 5

  /// Why the study should fail now, with what to do; nil to go on. Only the failures of trials
  /// that ended `since` this run started count: a study resumed after its cause was fixed is
  /// judged by what its trials do now, not failed again by the failures that stopped it.
  static func verdict(_ history: TrialHistory, retries: Int, studyId: Int64, since: Date = .distantPast) -> String? {
    let all = history.chains.filter { $0.latest.state.isFinished && !TrialHistory.needsRerun($0, retries: retries) }
    let ended = all.filter { ($0.latest.finishedAt ?? .distantPast) >= since }
      .sorted {
        ($0.latest.finishedAt ?? .distantPast, $0.latest.number) < (
          $1.latest.finishedAt ?? .distantPast, $1.latest.number
        )
      }
    // Timed-out trials are left out: a slow configuration says nothing of the others.
    let failed = ended.filter { $0.latest.state == .failed }
    let anyCompleted = all.contains { $0.latest.state == .completed }
    let advice =
      "fix it, then `hpod run` the spec again (or `hpod resume \(studyId)` on the daemon) to go on; `trial.fail_fast: false` turns this check off"
    if !anyCompleted, let unstarted = failed.first(where: { $0.latest.startedAt == nil }) {
      return
        "trial \(unstarted.latest.number) could not start: \(unstarted.latest.reason ?? "no reason"); no trial can start like this: \(advice)"
    }
    if !anyCompleted, failed.count >= firstTrials, ended.prefix(firstTrials).allSatisfy({ $0.latest.state == .failed })
    {
      return
        "the first \(failed.count) trials all failed (the last: \(failed.last!.latest.reason ?? "no reason")): \(advice)"
    }
    let recent = ended.suffix(repeatedFailures)
    if recent.count == repeatedFailures, recent.allSatisfy({ $0.latest.state == .failed }),
      let reason = recent.first?.latest.reason,
      recent.allSatisfy({ Self.shape(of: $0.latest.reason ?? "") == Self.shape(of: reason) })
    {
      return
        "the last \(repeatedFailures) trials failed the same way: \(recent.last!.latest.reason ?? reason): \(advice)"
    }
    return nil
  }

  /// A reason with its numbers blanked, so "trial 4 exited 1 at step 17" and "… step 23" match.
  static func shape(of reason: String) -> String {
    var shape = ""
    var lastWasDigit = false
    for character in reason {
      if character.isNumber {
        if !lastWasDigit { shape.append("#") }
        lastWasDigit = true
      } else {
        shape.append(character)
        lastWasDigit = false
      }
    }
    return shape
  }
}
