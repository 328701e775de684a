import Foundation
import HPODAPI
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TrackingBridge

@testable import hpod

@Suite("A trial's time across its attempts")
struct AttemptDurationAPITests {
  @Test(
    "a re-run's trial JSON and `hpod trials` count the time of the attempts before it; its own duration stays its own",
    .timeLimit(.minutes(1)))
  func retryCountsEarlierAttempts() async throws {
    let daemon = try TestDaemon()
    // A training that crashes once after 0.6 s, then, run again in the same folder, ends after 0.6 s
    let script = try daemon.script(
      "crash-once.sh",
      #"""
      if [ ! -f "$HPOD_CHECKPOINT_DIR/crashed" ]; then touch "$HPOD_CHECKPOINT_DIR/crashed"; sleep 0.6; exit 3; fi
      sleep 0.6
      echo 'hpod {"score": 0.5}'
      """#)
    let yaml = """
      name: attempts
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: 1}
      parameters: {x: {type: float, min: 0, max: 1}}
      trial: {command: [\(script)], retries: 1}
      """
    try await daemon.test { client in
      let created = try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
        try $0.decode(API.Study.self)
      }
      let study = try await waitForStudy(client, created.id)
      #expect(study.state == "completed", "\(study.stateReason ?? "")")
      let listed = try await client.execute(uri: "/api/v1/studies/\(study.id)/trials", method: .get) {
        try $0.decode(API.TrialList.self).trials
      }
      #expect(listed.map(\.state) == ["failed", "completed"])
      let (first, rerun) = (listed[0], listed[1])
      let (own, earlier) = (try #require(rerun.durationSeconds), try #require(first.durationSeconds))
      #expect(own >= 0.6 && earlier >= 0.6)
      #expect(first.attempt == 1 && first.totalDurationSeconds == earlier)
      #expect(rerun.attempt == 2 && rerun.totalDurationSeconds.map { abs($0 - (own + earlier)) < 1e-6 } == true)

      // The list filtered to the completed trial, and the trial's own page, count the same
      let completed = try await client.execute(
        uri: "/api/v1/studies/\(study.id)/trials?state=completed", method: .get
      ) { try $0.decode(API.TrialList.self).trials }
      #expect(completed.map(\.totalDurationSeconds) == [rerun.totalDurationSeconds])
      let detail = try await client.execute(
        uri: "/api/v1/trials/\(rerun.id)", method: .get
      ) { try $0.decode(API.TrialDetail.self) }
      #expect(detail.trial.attempt == 2 && detail.trial.totalDurationSeconds == rerun.totalDurationSeconds)
      let raw = try await client.execute(uri: "/api/v1/trials/\(rerun.id)", method: .get) {
        $0.text
      }
      #expect(raw.contains("\"total_duration_seconds\"") && raw.contains("\"attempt\":2"), "\(raw)")

      // `hpod trials` shows both
      let table = Trials.table(
        listed.map(TrialRecord.init),
        totals: listed.map { trial in trial.totalDurationSeconds.flatMap { s in trial.attempt.map { (s, $0) } } })
      #expect(
        table[2].contains(String(format: "s (%.1fs over 2 attempts)", own + earlier)), "\(table)")
      #expect(!table[1].contains("attempts"))

      // and so does the run page
      let (_, page, _) = try await client.get("/studies/\(study.id)/runs/\(rerun.number)")
      #expect(page.contains("over 2 attempts)</dd>"), "\(page)")
    }
  }
}
