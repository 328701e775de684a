import Synchronization
import Testing

@testable import TrialScheduler

@Suite("Metrics the spec acts on that no trial reports")
struct WatchedMetricsTests {
  @Test("each unreported metric is named with the key that reads it, what was reported instead, and the effect")
  func namesWhatIsMissing() throws {
    let spec = try StudySpec.parse(
      yaml: """
        name: watched
        objective: {metric: accuracy, direction: maximize}
        constraints: ["latency <= 5"]
        search: {algorithm: random, max_trials: 3}
        parameters: {x: {type: float, min: 0, max: 1}}
        trial: {command: [echo]}
        early_stopping: {rule: median, metric: val_acc}
        registration: {model: m, when: ["f1 >= 0.5", "accuracy >= 0.9"]}
        """, file: "study.yaml", baseDirectory: "/tmp")
    #expect(spec.watchedMetrics.map(\.metric) == ["val_acc", "f1", "accuracy", "latency"])
    let problems = spec.unreportedMetrics(reported: ["accuracy", "val_accuracy", "latency"])
    #expect(
      problems == [
        "early_stopping.metric names 'val_acc', which no trial reported (did you mean 'val_accuracy'?); the trials reported accuracy, latency, val_accuracy: the early-stopping rule judged no trial",
        "registration.when names 'f1', which no trial reported; the trials reported accuracy, latency, val_accuracy: no run can meet this threshold, so none is registered",
      ])
    #expect(spec.unreportedMetrics(reported: ["accuracy", "val_acc", "f1", "latency"]).isEmpty)
  }

  @Test("while the study runs, a study_warning event says it once three trials completed")
  func warnsWhileRunning() async throws {
    let sandbox = try Sandbox()
    defer { sandbox.remove() }
    let script = try sandbox.script("train.sh", "echo \"hpod {\\\"step\\\": 1, \\\"score\\\": $1}\"")
    let warnings = Mutex<[String]>([])
    let (final, _) = try await sandbox.run(
      studyYAML(
        command: "[\(script), \"{x}\"]", maxTrials: 5, parallelism: 1,
        extra: "early_stopping: {rule: median, metric: val_score}"),
      onEvent: { event in
        if case .studyWarning(let message) = event { warnings.withLock { $0.append(message) } }
      })
    #expect(final.state == .completed)
    let said = warnings.withLock { $0 }
    #expect(said.count == 1, "once, not per trial: \(said)")
    #expect(said.first?.hasPrefix("early_stopping.metric names 'val_score', which no trial reported") == true)
  }
}
