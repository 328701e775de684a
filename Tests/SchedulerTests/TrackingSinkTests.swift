import Foundation
import HPODTesting
import Testing
import TrackingBridge

@testable import TrialScheduler

/// The runner reaches tracking only through its `TrackingSink`.
@Suite("The tracking seam, seen from the runner")
struct TrackingSinkTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  @Test("the study is attached before its trials; each trial gets the sink's environment, and hpod's own run id not")
  func attachAndEnvironment() async throws {
    let script = try sandbox.script(
      "env.sh",
      #"printf '%s|%s|%s' "$MLFLOW_TRACKING_URI" "${MLFLOW_RUN_ID:-none}" "${MLFLOW_EXPERIMENT_NAME:-none}" > "$HPOD_ARTIFACT_DIR/env.txt"; echo 'hpod {"score": 1}'"#
    )
    let sink = RecordingTrackingSink(environment: ["MLFLOW_TRACKING_URI": "http://tracking.example:5000"])
    // A run and experiment in the environment the trials inherit (as hpod's own would be).
    let inherited = "  env: {MLFLOW_RUN_ID: hpods-own-run, MLFLOW_EXPERIMENT_NAME: hpods-own-experiment}"
    let (study, trials) = try await sandbox.run(
      studyYAML(name: "sink-env", command: "[\(script)]", maxTrials: 2, parallelism: 1, extraTrial: inherited),
      tracking: sink)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    #expect(sink.attached == [study.id!])
    #expect(sink.environments == trials.map { $0.id! })
    for trial in trials {
      let seen = try String(contentsOfFile: "\(trial.runDirectory!)/artifacts/env.txt", encoding: .utf8)
      #expect(seen == "http://tracking.example:5000|none|none")
    }
    #expect(sink.followed.isEmpty, "every trial's logged points stop being followed when it ends")
    #expect(sink.wakes >= 2 * trials.count, "each trial's start and end wake the sink")
  }

  @Test("points a trial logs through the sink count for its objective, as its printed ones do")
  func loggedPointsCount() async throws {
    // The trial prints nothing and exits at once: what it logged before exiting still counts.
    let script = try sandbox.script("quiet.sh", "exit 0")
    let sink = RecordingTrackingSink { trialId in
      [[MetricPoint(trialId: trialId, name: "score", step: 3, value: 0.25 + Double(trialId), timestamp: 0)]]
    }
    let (study, trials) = try await sandbox.run(
      studyYAML(name: "sink-metrics", command: "[\(script)]", maxTrials: 2, parallelism: 2), tracking: sink)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    #expect(trials.allSatisfy { $0.state == .completed }, "\(trials.map { $0.reason ?? "" })")
    #expect(trials.map(\.value) == trials.map { 0.25 + Double($0.id!) })
  }
}
