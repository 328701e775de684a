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
