import Foundation
import SearchStrategies
import Testing
import TrackingBridge

@testable import TrialScheduler

@Suite("Quick tests, early stopping, promotion and registration, end to end")
struct TieredStudyTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  @Test(
    "bad quick tests are pruned, the best are trained in full, passing runs are registered, a failing one does not stop the study"
  )
  func tieredStudy() async throws {
    // Given a trial whose curve rises towards x; the first full training crashes
    let marker = "\(sandbox.root)/first-full-training"
    let script = try sandbox.script(
      "tiered.sh",
      #"""
      x=$1; steps=$2
      if [ "$HPOD_TIER" = full_training ] && mkdir \#(marker) 2>/dev/null; then echo "out of memory" >&2; exit 4; fi
      for s in $(seq 1 $steps); do
        echo "hpod {\"step\": $s, \"score\": $(awk "BEGIN { print $x * $s / $steps }")}"
        sleep 0.02
      done
      if [ "$HPOD_TIER" = full_training ]; then echo '{}' > "$HPOD_ARTIFACT_DIR/model.json"; fi
      echo "hpod {\"final\": true, \"latency_ms\": 2}"
      """#)
    let yaml = """
      name: tiered
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 11, max_trials: 12, parallelism: 2}
      parameters:
        x: {type: float, min: 0, max: 1}
      trial:
        command: [\(script), "{x}", "{tier.steps}"]
      tiers:
        quick_test: {steps: 3}
        full_training: {steps: 5}
      promotion: {top_k: 3, min_value: 0.3}
      early_stopping: {rule: median, min_steps: 1, min_trials: 3}
      registration:
        model: tiered-model
        when: ["score >= 0.6", "latency_ms <= 5"]
        artifact: model.json
        alias: champion
      """
    // When it runs
    let (study, trials) = try await sandbox.run(yaml)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    let quick = trials.filter { $0.tier == .quickTest }
    let full = trials.filter { $0.tier == .fullTraining }
    #expect(quick.count == 12)

    // Then pruned quick tests record the rule, the step and the reason
    let pruned = quick.filter { $0.state == .pruned }
    #expect(!pruned.isEmpty)
    for trial in pruned {
      #expect(trial.reason?.hasPrefix("stopped early by the median rule at step") == true)
      let tags = try sandbox.database.tags(trialId: trial.id!)
      #expect(tags["hpod.prune_rule"] == "median" && tags["hpod.prune_step"] != nil)
      #expect(try sandbox.database.metrics(trialId: trial.id!).count >= 1)
    }

    // And exactly the 3 best completed quick tests meeting min_value were promoted, each once
    let expected = quick.filter { $0.state == .completed && $0.value! >= 0.3 }.sorted { $0.value! > $1.value! }.prefix(
      3)
    #expect(Set(full.map(\.sourceTrialId)) == Set(expected.map(\.id)))
    #expect(full.count == 3)
    for run in full {
      #expect(run.paramsJSON == quick.first { $0.id == run.sourceTrialId }!.paramsJSON)
    }

    // And the crashed full training did not stop the others
    #expect(full.filter { $0.state == .failed }.count == 1)
    let finished = full.filter { $0.state == .completed }
    #expect(finished.count == 2)

    // And exactly the completed full trainings meeting every threshold were registered
    let versions = try sandbox.database.modelVersions(named: "tiered-model")
    let meeting = finished.filter { $0.value! >= 0.6 }
    #expect(Set(versions.map(\.trialId)) == Set(meeting.map(\.id)))
    for run in finished where run.value! < 0.6 {
      #expect(
        try sandbox.database.tags(trialId: run.id!)["hpod.registration"]?.hasPrefix("not registered: score =") == true)
    }
    // the alias points at the best registered version
    if let best = versions.max(by: { $0.value! < $1.value! }) {
      #expect(try sandbox.database.modelAliases(named: "tiered-model").map(\.version) == [best.version])
    }
  }
}
