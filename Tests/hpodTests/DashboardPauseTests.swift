import Foundation
import HPODAPI
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TrackingBridge
import TrialScheduler

@testable import hpod

/// Pause and resume from the dashboard's pages: forms posted as a browser without JavaScript
/// posts them, with the session cookie of a daemon that has a token, over real HTTP, with real
/// trial processes that save checkpoints.
@Suite("Dashboard pause and resume")
struct DashboardPauseTests {
  static let token = "pause-s3cret"
  static let session = "\(DashboardAuth.cookie)=\(DashboardAuth.cookieValue(token))"

  /// A study of `trials` trials, one at a time, each 12 steps of 0.25 s with a checkpoint after
  /// each step (it resumes from the last one).
  static func submit(_ daemon: TestDaemon, _ client: any TestClientProtocol, trials: Int) async throws -> Int64 {
    let trainer = try daemon.script(
      "checkpointing.sh",
      #"""
      start=1
      if [ -n "$HPOD_CHECKPOINT" ]; then start=$(( $(cat "$HPOD_CHECKPOINT") + 1 )); fi
      echo "resumed=${HPOD_RESUMED:-0} from=${HPOD_CHECKPOINT_STEP:-none}"
      step=$start
      while [ $step -le 12 ]; do
        echo "$step" > "$HPOD_CHECKPOINT_DIR/step-$step"
        echo "hpod {\"step\": $step, \"score\": $step, \"checkpoint\": \"step-$step\"}"
        sleep 0.25
        step=$((step + 1))
      done
      """#)
    let yaml = """
      name: pausable
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: \(trials), parallelism: 1}
      parameters: {x: {type: float, min: 0, max: 1}}
      trial: {command: [\(trainer)]}
      checkpoint: {keep: 1}
      """
    return try await client.execute(
      uri: "/api/v1/studies", method: .post, headers: [.authorization: "Bearer \(token)"],
      body: ByteBuffer(string: yaml)
    ) { try $0.decode(API.Study.self).id }
  }

  /// A form's POST with the session cookie; its status, `Location` and body.
  static func post(_ client: any TestClientProtocol, _ path: String, headers: HTTPFields = [.cookie: session])
    async throws -> (HTTPResponse.Status, String?, String)
  {
    var headers = headers
    headers[.contentType] = "application/x-www-form-urlencoded"
    return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer()) {
      ($0.status, $0.headers[.location], $0.text)
    }
  }

  static func page(_ client: any TestClientProtocol, _ path: String) async throws -> String {
    let (status, body, _) = try await client.get(path, headers: [.cookie: session])
    #expect(status == .ok, "\(path): \(body.prefix(300))")
    return body
  }

  @Test(
    "a run's page pauses its running trial and resumes it from its checkpoint; refusals and other sites change nothing",
    .timeLimit(.minutes(2)))
  func pauseAndResumeATrial() async throws {
    let daemon = try TestDaemon()
    let database = daemon.service.database
    try await daemon.test(token: Self.token) { client in
      // Given a running study whose trial 0 has saved a few checkpoints
      let id = try await Self.submit(daemon, client, trials: 2)
      #expect(
        try await waitUntil(seconds: 20) {
          try database.trial(studyId: id, number: 0).map { try database.checkpoints(trialIds: [$0.id!]).count >= 3 }
            ?? false
        })
      let first = try #require(try database.trial(studyId: id, number: 0))
      let run = "/studies/\(id)/runs/0"
      // Its run page has the pause button, a form posting to the dashboard
      var page = try await Self.page(client, run)
      #expect(page.contains("<form method=\"post\" action=\"\(run)/pause\""), "\(page)")
      #expect(page.contains("Pause trial 0"))

      // When another site posts the form with the browser's cookie, or a request has no session
      var (status, _, _) = try await Self.post(
        client, "\(run)/pause", headers: [.cookie: Self.session, HTTPField.Name("Origin")!: "https://evil.example"])
      #expect(status == .forbidden)
      (status, _, _) = try await Self.post(client, "\(run)/pause", headers: [:])
      #expect(status == .unauthorized)
      // Then nothing changed: the trial runs on, not held
      #expect(try database.tags(trialId: first.id!)[HpodTag.pausedByUser] == nil)
      #expect(try database.trial(id: first.id!)?.state == .running)

      // When the page's form is posted
      let (paused, location, _) = try await Self.post(client, "\(run)/pause")
      // Then it goes back to the run page saying what happened, and the trial is held and stops
      #expect(paused == .seeOther && location?.hasPrefix("\(run)?message=trial%200%20of%20study") == true)
      #expect(try database.tags(trialId: first.id!)[HpodTag.pausedByUser] == HpodTag.held)
      #expect(try await waitUntil(seconds: 20) { try database.trial(id: first.id!)?.state == .cancelled })
      page = try await Self.page(client, try #require(location))
      #expect(page.contains("is pausing: it stops now"), "the message after the redirect")
      #expect(page.contains("<span class=\"badge paused\">paused</span>"))
      #expect(page.contains("action=\"\(run)/resume\"") && page.contains("Resume trial 0"))
      #expect(!page.contains("action=\"\(run)/pause\""))
      // and the runs table marks it paused
      let (_, runs, _) = try await client.get("/studies/\(id)?part=runs", headers: [.cookie: Self.session])
      #expect(
        runs.contains("<span class=\"badge cancelled\">cancelled</span> <span class=\"badge paused\">paused</span>"))

      // When it is paused again (it is not running)
      let refused = try await Self.post(client, "\(run)/pause")
      // Then a page says why and links back, and nothing changed
      #expect(refused.0 == .conflict && refused.2.contains("trial 0 is cancelled; only a running trial can be paused"))
      #expect(refused.2.contains("<a href=\"\(run)\">Back to trial 0</a>"))
      #expect(try database.tags(trialId: first.id!)[HpodTag.pausedByUser] == HpodTag.held)

      // Trial 1 takes the slot and runs to the end; the study then waits for the held trial
      #expect(try await waitUntil(seconds: 30) { try database.study(id: id)?.state == .interrupted })
      // When a finished trial is asked to resume, it is refused, nothing changed
      let notPaused = try await Self.post(client, "/studies/\(id)/runs/1/resume")
      #expect(notPaused.0 == .conflict && notPaused.2.contains("trial 1 is not paused"), "\(notPaused.2)")
      #expect(try database.trials(studyId: id).count == 2)

      // When the held trial is resumed from its page
      let stoppedAt = try #require(try database.checkpoints(trialIds: [first.id!]).last?.step)
      let (resumed, back, _) = try await Self.post(client, "\(run)/resume")
      #expect(resumed == .seeOther && back?.hasPrefix("\(run)?message=") == true)
      // Then the study runs again and a new attempt continues from the checkpoint to the end
      #expect(try await waitUntil(seconds: 30) { try database.study(id: id)?.state == .completed })
      let rerun = try #require(try database.trials(studyId: id).first { $0.retryOf == first.id })
      #expect(rerun.state == .completed)
      let log = try String(contentsOfFile: "\(rerun.runDirectory!)/stdout.log", encoding: .utf8)
      #expect(log.contains("resumed=1 from=\(stoppedAt)"), "\(log)")
      page = try await Self.page(client, run)
      #expect(page.contains("Paused by hand, then resumed as <a href=\"/studies/\(id)/runs/\(rerun.number)\">"))
      #expect(!page.contains("action=\"\(run)/resume\""))
      let (_, runsAfter, _) = try await client.get("/studies/\(id)?part=runs", headers: [.cookie: Self.session])
      #expect(!runsAfter.contains("badge paused"))
      // and a finished trial's page offers neither button
      page = try await Self.page(client, "/studies/\(id)/runs/\(rerun.number)")
      #expect(!page.contains("/pause\"") && !page.contains("/resume\""))
    }
  }

  @Test(
    "the study page pauses a running study and resumes it; a completed study refuses both, changing nothing",
    .timeLimit(.minutes(2)))
  func pauseAndResumeAStudy() async throws {
    let daemon = try TestDaemon()
    let database = daemon.service.database
    try await daemon.test(token: Self.token) { client in
      // Given a running study with checkpoints saved
      let id = try await Self.submit(daemon, client, trials: 1)
      #expect(
        try await waitUntil(seconds: 20) {
          try database.trial(studyId: id, number: 0).map { try database.checkpoints(trialIds: [$0.id!]).count >= 2 }
            ?? false
        })
      let study = "/studies/\(id)"
      var page = try await Self.page(client, study)
      #expect(page.contains("<form method=\"post\" action=\"\(study)/pause\"") && page.contains("Pause study"))

      // When its pause form is posted
      let (paused, location, _) = try await Self.post(client, "\(study)/pause")
      // Then the study stops its trial and waits, and its page says so with the resume button
      #expect(paused == .seeOther && location?.hasPrefix("\(study)?message=study%20\(id)%20is%20paus") == true)
      #expect(try await waitUntil(seconds: 20) { try database.study(id: id)?.state == .interrupted })
      #expect(try database.trials(studyId: id).allSatisfy { $0.state.isFinished })
      page = try await Self.page(client, try #require(location))
      #expect(page.contains("role=\"status\">study \(id) is paus"))
      #expect(page.contains("action=\"\(study)/resume\"") && page.contains("Resume study"))
      #expect(!page.contains("action=\"\(study)/pause\""))
      // and a second pause is refused, nothing changed
      let again = try await Self.post(client, "\(study)/pause")
      #expect(again.0 == .conflict && again.2.contains("is interrupted: only a running study can be paused"))
      #expect(again.2.contains("<a href=\"\(study)\">Back to study \(id)</a>"))
      #expect(try database.study(id: id)?.state == .interrupted)
      let trialsWhilePaused = try database.trials(studyId: id).count

      // When it is resumed from its page
      let (resumed, _, _) = try await Self.post(client, "\(study)/resume")
      #expect(resumed == .seeOther)
      // Then it runs to the end, its stopped trial continued in a new attempt
      #expect(try await waitUntil(seconds: 30) { try database.study(id: id)?.state == .completed })
      let trials = try database.trials(studyId: id)
      #expect(trials.count == trialsWhilePaused + 1 && trials.last?.state == .completed, "\(trials)")
      #expect(try database.metrics(trialId: trials.last!.id!, name: "score").map(\.step) == Array(1...12))

      // And a completed study offers neither button and refuses both, changing nothing
      page = try await Self.page(client, study)
      #expect(!page.contains("action=\"\(study)/pause\"") && !page.contains("action=\"\(study)/resume\""))
      let pause = try await Self.post(client, "\(study)/pause")
      #expect(pause.0 == .conflict && pause.2.contains("is completed: only a running study can be paused"))
      let resume = try await Self.post(client, "\(study)/resume")
      #expect(resume.0 == .conflict && resume.2.contains("completed; submit it again"), "\(resume.2)")
      #expect(try database.study(id: id)?.state == .completed)
      #expect(try database.trials(studyId: id).count == trials.count)
    }
  }
}
