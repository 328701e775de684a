import Foundation
import MLflowTestServer
import Testing
import TrackingBridge
import TrialScheduler

/// MLflow 3's logged models, datasets and autolog through the official mlflow client (from
/// .venv/mlflow, with scikit-learn) against a real `hpod serve` (issue 34).
@Suite("MLflow logged models served by hpod", .serialized, .timeLimit(.minutes(3)))
struct MLflowLoggedModelTests {
  let folder: String
  /// .venv/mlflow/bin: its python has mlflow and scikit-learn.
  let venv = (MLflowServer.executable as NSString).deletingLastPathComponent

  init() throws {
    folder = try makeTestFolder("hpod-mlflow-models")
  }

  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures").path

  @Test(
    "log_model of a scikit-learn model loads back from its models:/ URI; logged models' metrics, tags, search, finalize and delete, log_input and autolog behave as against MLflow 3.17's server"
  )
  func loggedModelsThroughTheClient() async throws {
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    defer { daemon.stop() }
    let (status, output) = try await HPODProcess.runProgram(
      "\(venv)/python", ["\(Self.fixtures)/mlflow_models.py"], environment: ["MLFLOW_TRACKING_URI": daemon.server])
    #expect(status == 0, "\(output.suffix(3000))")
    for check in ["loaded model predicts", "pages", "dataset input", "autolog metrics", "autolog model loads"] {
      #expect(output.contains("ok \(check)\n"), "\(check) not checked: \(output.suffix(3000))")
    }
  }

  @Test(
    "a trial whose script calls mlflow.set_experiment, autolog and log_model joins its own run: with its study's experiment name or another, its model loads back and its metrics reach the trial"
  )
  func trialScriptNamingItsExperiment() async throws {
    // Given a daemon whose trials find the mlflow venv's python first on PATH
    let daemon = DaemonProcess(home: "\(folder)/home")
    daemon.environment = ["PATH": "\(venv):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"]
    try await daemon.start()
    defer { daemon.stop() }
    // And two studies: one script names its study's experiment, the other a different one; the
    // second's objective is a metric only autolog logs
    for (study, experiment, metric) in [
      ("named-study", "named-study", "score"), ("other-study", "somewhere-else", "training_accuracy_score"),
    ] {
      try """
      name: \(study)
      objective: {metric: \(metric), direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: 1}
      parameters: {c: {type: float, min: 0.5, max: 2}}
      trial: {command: [python3, \(Self.fixtures)/mlflow_trial_model.py, \(experiment), "{c}"], timeout: 2m, retries: 0}
      """.write(toFile: "\(folder)/\(study).yaml", atomically: true, encoding: .utf8)
      #expect(try await daemon.client(["submit", "\(folder)/\(study).yaml"]).status == 0)
    }

    // When both run
    let database = try AppDatabase.open(at: "\(folder)/home/hpod.sqlite")
    #expect(
      try await waitUntil(seconds: 150) {
        try [1, 2].allSatisfy { try database.study(id: $0)?.state.isFinished == true }
      })

    // Then each trial completed with the score it logged (or autolog logged), autolog's metrics
    // and params in its run
    for studyId: Int64 in [1, 2] {
      let trial = try #require(try database.trials(studyId: studyId).first)
      #expect(trial.state == .completed, "\(trial.reason ?? "") \(daemon.log.suffix(2000))")
      #expect(trial.value == 1.0)
      let autologged = try database.metrics(trialId: trial.id!, name: "training_accuracy_score")
      #expect(autologged.map(\.value) == [1.0], "\(autologged)")
      #expect(try database.params(trialId: trial.id!).contains { $0.name == "C" })
    }
    // And the model each logged is a logged model of its run
    let store = TrackingStore(database: database, home: HpodHome(path: "\(folder)/home"))
    for studyId: Int64 in [1, 2] {
      let trial = try #require(try database.trials(studyId: studyId).first)
      let run = try store.run(TrackingStore.runId(trialId: trial.id!))
      let models = try store.searchLoggedModels(
        experimentIds: [run.experimentId], filter: try RunFilter("source_run_id = '\(run.runId)'"), datasets: [],
        orderBy: [], maxResults: 10, offset: 0
      ).models
      #expect(Set(models.map(\.name)) == ["classifier", "model"], "\(models.map(\.name))")
      #expect(models.allSatisfy { $0.status == .ready })
      #expect(run.io.modelOutputs.count == 2)
    }
    // And the "View run" link the client printed in a trial opens the trial's run page
    let linked = try #require(try database.trials(studyId: 2).first)
    let (_, redirect) = try await HPODProcess.runProgram(
      "/usr/bin/curl",
      ["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "\(daemon.server)/hpod-trials/\(linked.id!)/"])
    #expect(redirect == "303 \(daemon.server)/studies/2/runs/\(linked.number)", "\(redirect)")
    // And the trial that asked for another experiment says so in its run's tags
    let other = try #require(try database.trials(studyId: 2).first)
    #expect(try database.tags(trialId: other.id!)[HpodTag.experimentAsked] == "somewhere-else")
    let named = try #require(try database.trials(studyId: 1).first)
    #expect(try database.tags(trialId: named.id!)[HpodTag.experimentAsked] == nil)
  }
}
