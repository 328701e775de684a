import Foundation
import HPODAPI
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TrackingBridge
import TrialScheduler

@testable import hpod

/// A small tiered study with a registered model, an artifact folder, a categorical parameter
/// whose values are markup and a log line that is markup: what the dashboard must escape.
enum DashboardFixture {
  static func script(_ daemon: TestDaemon) throws -> String {
    try daemon.script(
      "dash-trial.sh",
      #"""
      x=$1; style=$2
      echo "<script>alert('log')</script> style=$style"
      for s in 1 2 3; do
        echo "hpod {\"step\": $s, \"score\": $(awk "BEGIN { print $x * $s / 3 }"), \"loss\": $(awk "BEGIN { print 1 - $x * $s / 3 }")}"
      done
      if [ "$HPOD_TIER" = full_training ]; then
        echo '{}' > "$HPOD_ARTIFACT_DIR/model.json"
        mkdir -p "$HPOD_ARTIFACT_DIR/plots" && echo "curve" > "$HPOD_ARTIFACT_DIR/plots/curve.txt"
      fi
      """#)
  }

  static func yaml(script: String, trials: Int = 8) -> String {
    """
    name: dash-study
    objective: {metric: score, direction: maximize}
    search: {algorithm: random, seed: 5, max_trials: \(trials), parallelism: 2}
    parameters:
      x: {type: float, min: 0, max: 1}
      k: {type: int, min: 1, max: 4}
      style: {values: ["<i>fancy</i>", plain]}
    trial: {command: [\(script), "{x}", "{style}"]}
    tiers:
      quick_test: {steps: 3}
      full_training: {steps: 3}
    promotion: {top_k: 1}
    registration: {model: dash-model, when: ["score >= 0"], artifact: model.json, alias: champion}
    """
  }

  /// Submits the study and waits for it to finish.
  static func run(_ daemon: TestDaemon, _ client: any TestClientProtocol, trials: Int = 8) async throws -> API.Study {
    let yaml = yaml(script: try script(daemon), trials: trials)
    let created = try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
      try $0.decode(API.Study.self)
    }
    let study = try await waitForStudy(client, created.id)
    #expect(study.state == "completed", "\(study.stateReason ?? "")")
    return study
  }
}

extension TestClientProtocol {
  /// The body of a GET, with its status.
  func get(_ uri: String, headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, String, HTTPFields) {
    try await execute(uri: uri, method: .get, headers: headers) { ($0.status, $0.text, $0.headers) }
  }
}
