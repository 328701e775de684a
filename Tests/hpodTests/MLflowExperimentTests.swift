import Foundation
import MLflowTestServer
import Testing
import TrackingBridge

/// Experiments and runs through the official mlflow client (from .venv/mlflow, with
/// scikit-learn) against a real `hpod serve`: artifact locations, a deleted run's logged models,
/// and a trial's script naming its experiment by id (issue 34). The client fixtures pass
/// against `mlflow server` 3.17.2 too.
@Suite("MLflow experiments and runs served by hpod", .serialized, .timeLimit(.minutes(3)))
struct MLflowExperimentTests {
  let folder: String
  /// .venv/mlflow/bin: its python has mlflow.
  let venv = (MLflowServer.executable as NSString).deletingLastPathComponent

  init() throws {
    folder = try makeTestFolder("hpod-mlflow-experiments")
  }

  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures").path

  @Test(
    "experiments/create keeps artifact_location (get, search, the runs' artifact URIs), the client writes under a local one and the proxy serves an mlflow-artifacts:/ one, and what MLflow refuses is refused with nothing made"
  )
  func artifactLocations() async throws {
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    defer { daemon.stop() }
    let scratch = "\(folder)/locations"
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    let (status, output) = try await HPODProcess.runProgram(
      "\(venv)/python", ["\(Self.fixtures)/mlflow_artifact_location.py", scratch],
      environment: ["MLFLOW_TRACKING_URI": daemon.server])
    #expect(status == 0, "\(output.suffix(3000))")
    for check in [
      "get shows it", "search shows it", "run uri", "written there", "server lists it", "relative made absolute",
      "proxied run uri", "proxied round trip", "proxied list", "runs uri refused", "other host refused",
      "fragment refused", "traversing query refused", "too long refused", "refused made nothing",
    ] {
      #expect(output.contains("ok \(check)\n"), "\(check) not checked: \(output.suffix(3000))")
    }
    // And the proxied artifact is in the run's folder under hpod's home
    let uploads = FileManager.default.enumerator(atPath: "\(folder)/home/tracked-runs")?.compactMap { $0 as? String }
    #expect(uploads?.contains { $0.hasSuffix("artifacts/model/weights.txt") } == true, "\(uploads ?? [])")
  }

  @Test(
    "runs/delete leaves the run's logged models as MLflow does: found by id and search, loadable, their registered versions too, and restore changes nothing for them"
  )
  func deletingARunKeepsItsLoggedModels() async throws {
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    defer { daemon.stop() }
    let (status, output) = try await HPODProcess.runProgram(
      "\(venv)/python", ["\(Self.fixtures)/mlflow_run_delete.py"], environment: ["MLFLOW_TRACKING_URI": daemon.server])
    #expect(status == 0, "\(output.suffix(3000))")
    for check in [
      "run deleted", "model kept", "model still found", "model still loads", "registered version still loads",
      "restored run keeps its model",
    ] {
      #expect(output.contains("ok \(check)\n"), "\(check) not checked: \(output.suffix(3000))")
    }
  }

  @Test(
    "a trial whose script calls mlflow.set_experiment(experiment_id=…) and start_run(experiment_id=…) joins its own run, with its study's experiment id or another's; another id is noted on the run"
  )
  func trialNamingItsExperimentById() async throws {
    // Given a daemon whose trials find the mlflow venv's python first on PATH
    let daemon = DaemonProcess(home: "\(folder)/home")
    daemon.environment = ["PATH": "\(venv):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"]
    try await daemon.start()
    defer { daemon.stop() }
    // And two studies: one script names its run's experiment by id, the other an experiment it made
    for mode in ["own", "other"] {
      try """
      name: by-id-\(mode)
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: 1}
      parameters: {c: {type: float, min: 0.5, max: 2}}
      trial: {command: [python3, \(Self.fixtures)/mlflow_trial_experiment_id.py, \(mode)], timeout: 2m, retries: 0}
      """.write(toFile: "\(folder)/\(mode).yaml", atomically: true, encoding: .utf8)
      #expect(try await daemon.client(["submit", "\(folder)/\(mode).yaml"]).status == 0)
    }

    // When both run
    let database = try AppDatabase.open(at: "\(folder)/home/hpod.sqlite")
    #expect(
      try await waitUntil(seconds: 120) {
        try [1, 2].allSatisfy { try database.study(id: $0)?.state.isFinished == true }
      })

    // Then each trial completed with the score its script logged into the trial's run
    for studyId: Int64 in [1, 2] {
      let trial = try #require(try database.trials(studyId: studyId).first)
      #expect(trial.state == .completed, "\(trial.reason ?? "") \(daemon.log.suffix(2000))")
      #expect(trial.value == 0.75)
      #expect(try database.params(trialId: trial.id!).contains { $0.name == "asked" })
    }
    // And only the one that asked for another experiment says so on its run
    let own = try #require(try database.trials(studyId: 1).first)
    #expect(try database.tags(trialId: own.id!)[HpodTag.experimentAsked] == nil)
    let other = try #require(try database.trials(studyId: 2).first)
    let asked = try database.tags(trialId: other.id!)[HpodTag.experimentAsked]
    #expect(asked?.hasPrefix("experiment_id ") == true, "\(asked ?? "none")")
  }
}
