import Foundation
import HPODAPI

#if canImport(Glibc)
  import Glibc
#endif

/// `hpod watch` of a study in the local store, when no daemon answers: the study runs under
/// `hpod run` in another process (or has ended), so no event stream reaches this one. Its
/// trials are read again every `interval`, and what changed becomes the events the daemon
/// would have sent, for the same view (or the same JSON lines).
extension Watch {
  static func followStore(
    _ id: Int64, client: HPODClient, json: Bool, plain: Bool, interval: Duration = .milliseconds(500)
  ) async throws {
    let study: API.Study = try await client.get("api/v1/studies/\(id)")
    if ["completed", "failed", "cancelled", "interrupted"].contains(study.state) {
      if json { emit(.studyFinished(study), studyId: id) } else { print(Status.describe(study)) }
      return
    }
    let progress = ProgressView(header: .init(study: study), live: !plain && !json && isatty(STDOUT_FILENO) == 1)
    if !json {
      progress.note(
        "watching study \(id) '\(study.name)' in the local store (its runner is another process); Ctrl-C stops watching, not the study"
      )
    }
    var known: [Int64: String] = [:]
    var first = true
    while true {
      let trials = try API.decoder.decode(
        API.TrialList.self, from: try await client.send("GET", "api/v1/studies/\(id)/trials", query: "sort=number")
      ).trials
      if first && !json {
        // What finished before the view joined counts, so "new best" means new.
        progress.seed(finished: trials.filter { !["running", "pending"].contains($0.state) })
      }
      for trial in trials where known[trial.id] != trial.state {
        let before = known[trial.id]
        known[trial.id] = trial.state
        if first && trial.state != "running" { continue }
        let body: API.Event.Body? =
          switch trial.state {
          case "running": before == nil || first ? .trialStarted(trial) : nil
          case "pending": nil
          case "pruned": .trialPruned(trial)
          default: .trialFinished(trial)
          }
        guard let body else { continue }
        if json { emit(body, studyId: id) } else { progress.handle(body) }
      }
      first = false
      let now: API.Study = try await client.get("api/v1/studies/\(id)")
      if now.state != "running" {
        if json {
          emit(.studyFinished(now), studyId: id)
        } else {
          progress.finish()
          print(Status.describe(now))
        }
        return
      }
      try await Task.sleep(for: interval)
    }
  }

  private static func emit(_ body: API.Event.Body, studyId: Int64) {
    let event = API.Event(studyId: studyId, body: body)
    FileHandle.standardOutput.writeText(event.jsonLine + "\n")
  }
}
