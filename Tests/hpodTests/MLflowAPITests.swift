import Foundation
import MLflowTestServer
import Testing
import TrackingBridge
import TrialScheduler

/// hpod's MLflow tracking API, driven by the official mlflow client (from .venv/mlflow) with
/// no MLflow server anywhere.
@Suite("MLflow API served by hpod", .serialized, .timeLimit(.minutes(3)))
struct MLflowAPITests {
  let folder: String
  /// .venv/mlflow/bin: its python has mlflow.
  let venv = (MLflowServer.executable as NSString).deletingLastPathComponent

  init() throws {
    folder = try makeTestFolder("hpod-mlflow-api")
  }

  static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples").path
  static let clientScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/mlflow_client.py").path

  @Test(
    "an unmodified mlflow training script, run as trials under hpod serve, logs into each trial's run; the client's calls behave as against an MLflow server"
  )
  func mlflowScriptsAgainstHpod() async throws {
    // Given a daemon whose trials find mlflow on PATH, and the mlflow-script example at 3 trials
    let daemon = DaemonProcess(home: "\(folder)/home")
    daemon.environment = ["PATH": "\(venv):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"]
    try await daemon.start()
    defer { daemon.stop() }
    let example = "\(Self.examples)/mlflow-script"
    var yaml = try String(contentsOfFile: "\(example)/study.yaml", encoding: .utf8)
    for (old, new) in [
      ("max_trials: 8, parallelism: 2, startup_trials: 4", "max_trials: 3, parallelism: 2, startup_trials: 3"),
      ("workdir: .", "workdir: \(example)"), ("\"--width={width}\"]", "\"--width={width}\", \"--epochs=4\"]"),
      ("early_stopping: {rule: median, min_steps: 3, min_trials: 3}", ""),
    ] {
      #expect(yaml.contains(old), "mlflow-script/study.yaml no longer contains \(old)")
      yaml = yaml.replacingOccurrences(of: old, with: new)
    }
    try yaml.write(toFile: "\(folder)/study.yaml", atomically: true, encoding: .utf8)

    // When it runs
    #expect(try await daemon.client(["submit", "\(folder)/study.yaml"]).status == 0)
    let database = try AppDatabase.open(at: "\(folder)/home/hpod.sqlite")
    #expect(
      try await waitUntil(seconds: 90) {
        let state = try database.study(id: 1)?.state
        return state != nil && state != .running
      })

    // Then every trial completed with the score its script logged through mlflow as its value
    let trials = try database.trials(studyId: 1)
    #expect(trials.count == 3)
    #expect(trials.allSatisfy { $0.state == .completed }, "\(trials.map(\.reason)) \(daemon.log)")
    for trial in trials {
      let scores = try database.metrics(trialId: trial.id!, name: "val_score")
      #expect(scores.map(\.step) == [0, 1, 2, 3])
      #expect(trial.value == scores.last?.value)
      #expect(try database.params(trialId: trial.id!).map(\.name).sorted() == ["epochs", "lr", "width"])
      #expect(try database.tags(trialId: trial.id!)["framework"] == "plain-python")
      #expect(FileManager.default.fileExists(atPath: "\(trial.runDirectory!)/artifacts/model.json"))
    }
    // And the dashboard's run page shows what the script logged
    let (_, page) = try await HPODProcess.runProgram(
      "/usr/bin/curl", ["-sf", "\(daemon.server)/studies/1/runs/\(trials[0].number)"])
    #expect(page.contains("val_score") && page.contains("framework"), "\(page.prefix(400))")

    // And the client's own calls (search, runs outside studies, artifacts, errors) behave as against MLflow
    let (status, output) = try await HPODProcess.runProgram(
      "\(venv)/python", [Self.clientScript], environment: ["MLFLOW_TRACKING_URI": daemon.server])
    #expect(status == 0, "\(output)")
    #expect(output.contains("ok paging") && output.contains("ok duplicate experiment"), "\(output)")
  }
}
