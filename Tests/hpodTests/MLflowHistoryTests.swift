import Foundation
import MLflowTestServer
import Testing

/// Metric histories paged (`metrics/get-history` with `max_results`, `page_token`), sampled for
/// MLflow's charts (`metrics/get-history-bulk-interval`) and a run's artifacts listed
/// (`artifacts/list`), experiment tags deleted and wrong-typed fields refused, against a real
/// `hpod serve`, as MLflow 3.17's server answers them (the fixture passes against `mlflow
/// server` too) (issue 34).
@Suite("MLflow metric histories and artifact listings served by hpod", .serialized, .timeLimit(.minutes(2)))
struct MLflowHistoryTests {
  let folder: String
  let venv = (MLflowServer.executable as NSString).deletingLastPathComponent

  init() throws {
    folder = try makeTestFolder("hpod-mlflow-history")
  }

  @Test(
    "get-history pages with max_results and page_token, get-history-bulk-interval samples each run's points as MLflow's server does, artifacts/list lists a run's files, delete-experiment-tag deletes, a number where a string belongs is INVALID_PARAMETER_VALUE"
  )
  func historiesAndListings() async throws {
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    defer { daemon.stop() }
    let (status, output) = try await HPODProcess.runProgram(
      "\(venv)/python", ["\(MLflowRegistryTests.fixtures)/mlflow_history.py"],
      environment: ["MLFLOW_TRACKING_URI": daemon.server])
    #expect(status == 0, "\(output.suffix(3000))")
    for check in [
      "history pages", "max_results 0", "sampled across runs", "a step range", "one end of a range",
      "an unknown run has no points", "root listed", "folder listed", "a path up", "experiment tag deleted",
      "missing experiment tag", "a number for a name", "a number for a run id", "nothing made of a refused name",
    ] {
      #expect(output.contains("ok \(check)\n"), "\(check) not checked: \(output.suffix(3000))")
    }
  }
}

/// Errors raised before an MLflow route answers, as the mlflow client reads them.
@Suite("MLflow error shapes served by hpod", .serialized, .timeLimit(.minutes(1)))
struct MLflowErrorShapeTests {
  @Test(
    "an unknown MLflow endpoint, a wrong method and a missing or wrong token answer in MLflow's error shape: the client reports ENDPOINT_NOT_FOUND and UNAUTHENTICATED, not INTERNAL_ERROR"
  )
  func errorsBeforeAnyRoute() async throws {
    let folder = try makeTestFolder("hpod-mlflow-errors")
    let daemon = DaemonProcess(home: "\(folder)/home")
    daemon.extraArguments = ["--token", "right-token"]
    try await daemon.start()
    defer { daemon.stop() }
    let script = """
      import os, mlflow
      from mlflow.exceptions import MlflowException
      from mlflow.utils.rest_utils import MlflowHostCreds, http_request, verify_rest_response
      server = os.environ["SERVER"]
      def code(call):
          try:
              call()
          except MlflowException as error:
              return error.error_code
          return "nothing"
      def answer(path, method, token, **kw):
          response = http_request(MlflowHostCreds(server, token=token), path, method, max_retries=0, **kw)
          verify_rest_response(response, path)
      print("unknown", code(lambda: answer("/api/2.0/mlflow/experiments/nope", "POST", "right-token", json={})))
      print("method", code(lambda: answer("/api/2.0/mlflow/runs/log-batch", "GET", "right-token")))
      print("wrong token", code(lambda: answer("/api/2.0/mlflow/experiments/search", "GET", "wrong")))
      print("no token", code(lambda: answer("/api/2.0/mlflow/experiments/search", "GET", None)))
      os.environ["MLFLOW_TRACKING_TOKEN"] = "wrong"
      print("client", code(lambda: mlflow.MlflowClient(server).search_experiments()))
      """
    let venv = (MLflowServer.executable as NSString).deletingLastPathComponent
    let (status, output) = try await HPODProcess.runProgram(
      "\(venv)/python", ["-c", script], environment: ["SERVER": daemon.server])
    #expect(status == 0, "\(output.suffix(2000))")
    for line in [
      "unknown ENDPOINT_NOT_FOUND", "method ENDPOINT_NOT_FOUND", "wrong token UNAUTHENTICATED",
      "no token UNAUTHENTICATED", "client UNAUTHENTICATED",
    ] {
      #expect(output.contains(line + "\n"), "\(line): \(output.suffix(2000))")
    }
  }
}
