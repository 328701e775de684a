import Foundation
import MLflowTestServer
import Testing
import TrackingBridge

/// MLflow's model registry through the official mlflow client (from .venv/mlflow, with
/// scikit-learn) against a real `hpod serve`: any run's or logged model's model is registered,
/// loaded back from models:/ URIs, tagged, staged, renamed, searched and deleted as against
/// MLflow 3.17's server (the fixture passes against `mlflow server` too), and a study's own
/// registration loads as `models:/NAME@champion` (issue 34).
@Suite("MLflow registry served by hpod", .serialized, .timeLimit(.minutes(3)))
struct MLflowRegistryTests {
  let folder: String
  /// .venv/mlflow/bin: its python has mlflow and scikit-learn.
  let venv = (MLflowServer.executable as NSString).deletingLastPathComponent

  init() throws {
    folder = try makeTestFolder("hpod-mlflow-registry")
  }

  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures").path

  @Test(
    "register_model from runs:/ and models:/ URIs of a run outside any study, load_model from models:/NAME/VERSION and @ALIAS, tags, descriptions, stages, renames, searches with order and pages, and deletes behave as against MLflow 3.17's server"
  )
  func registryThroughTheClient() async throws {
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    defer { daemon.stop() }
    let (status, output) = try await HPODProcess.runProgram(
      "\(venv)/python", ["\(Self.fixtures)/mlflow_registry.py"], environment: ["MLFLOW_TRACKING_URI": daemon.server])
    #expect(status == 0, "\(output.suffix(3000))")
    for check in [
      "runs uri registers the logged model", "models:/NAME@ALIAS loads", "run folder registers", "create keeps tags",
      "rename", "stages", "latest per stage", "model pages", "versions next page", "numbers not reused",
      "a relative source", "a version of a version", "deleted model",
    ] {
      #expect(output.contains("ok \(check)\n"), "\(check) not checked: \(output.suffix(3000))")
    }
  }

  @Test(
    "a study's registration of a trial that logged an MLflow model loads with mlflow.pyfunc.load_model('models:/NAME@champion'); its version's source names the logged model"
  )
  func studyRegistrationLoads() async throws {
    // Given a daemon whose trials find the mlflow venv's python first on PATH
    let daemon = DaemonProcess(home: "\(folder)/home")
    daemon.environment = ["PATH": "\(venv):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"]
    try await daemon.start()
    defer { daemon.stop() }
    // And a study registering its trial, whose script logs a scikit-learn model
    try """
    name: registered-study
    objective: {metric: score, direction: maximize}
    search: {algorithm: random, seed: 1, max_trials: 1}
    parameters: {c: {type: float, min: 0.5, max: 2}}
    trial: {command: [python3, \(Self.fixtures)/mlflow_trial_model.py, registered-study, "{c}"], timeout: 2m, retries: 0}
    registration: {model: trial-model, when: ["score >= 0.5"], alias: champion}
    """.write(toFile: "\(folder)/study.yaml", atomically: true, encoding: .utf8)
    #expect(try await daemon.client(["submit", "\(folder)/study.yaml"]).status == 0)
    let database = try AppDatabase.open(at: "\(folder)/home/hpod.sqlite")
    #expect(try await waitUntil(seconds: 150) { try database.study(id: 1)?.state.isFinished == true })
    #expect(try database.modelVersions(named: "trial-model").count == 1, "\(daemon.log.suffix(2000))")

    // When a script loads the champion through the registry
    let script = """
      import mlflow, numpy as np
      client = mlflow.MlflowClient()
      version = client.get_model_version_by_alias("trial-model", "champion")
      assert version.source.startswith("models:/m-"), version
      assert client.get_model_version_download_uri("trial-model", version.version).startswith("mlflow-artifacts:/")
      model = mlflow.pyfunc.load_model("models:/trial-model@champion")
      print("predicted", [int(v) for v in model.predict(np.array([[0.0, 0.0], [1.0, 1.0]]))])
      """
    let (status, output) = try await HPODProcess.runProgram(
      "\(venv)/python", ["-c", script], environment: ["MLFLOW_TRACKING_URI": daemon.server])

    // Then it loads the model the trial logged, and it predicts
    #expect(status == 0, "\(output.suffix(3000))")
    #expect(output.contains("predicted [0, 1]"), "\(output.suffix(3000))")
  }
}
