import Foundation
import MLflowTestServer
import Testing
import TrackingBridge

/// What the MLflow API makes outside studies is visible on the dashboard (issue 34 item 5):
/// experiments, their runs, a run's params, metrics, note, tags and artifacts; params a trial's
/// script logs are on its run page; the client's "View run" link opens the run's page.
@Suite("Dashboard pages of MLflow experiments and runs", .serialized, .timeLimit(.minutes(3)))
struct ExperimentPagesTests {
  let folder: String
  /// .venv/mlflow/bin: its python has mlflow.
  let venv = (MLflowServer.executable as NSString).deletingLastPathComponent

  init() throws {
    folder = try makeTestFolder("hpod-experiment-pages")
  }

  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures").path

  func page(_ url: String) async throws -> String {
    let (status, output) = try await HPODProcess.runProgram("/usr/bin/curl", ["-s", "-w", "\n%{http_code}", url])
    #expect(status == 0)
    return output
  }

  @Test(
    "an experiment and run made with the mlflow client are listed and shown with their params, metrics, note, tags and artifacts (escaped); a trial's script-logged params are on its run page; the client's View run link opens the run's page"
  )
  func apiRunsOnTheDashboard() async throws {
    let daemon = DaemonProcess(home: "\(folder)/home")
    daemon.environment = ["PATH": "\(venv):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"]
    try await daemon.start()
    defer { daemon.stop() }
    // Given a run made through the API outside any study
    let (status, output) = try await HPODProcess.runProgram(
      "\(venv)/python", ["\(Self.fixtures)/mlflow_api_run.py"], environment: ["MLFLOW_TRACKING_URI": daemon.server])
    #expect(status == 0, "\(output.suffix(2000))")
    let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("RUN ") }, "\(output)")
    let (experiment, run) = (String(line.split(separator: " ")[1]), String(line.split(separator: " ")[2]))
    // And the "View run" link the client printed
    let viewRun = try #require(
      output.split(separator: "\n").compactMap { line in
        line.range(of: "http://").map { String(line[$0.lowerBound...]) }
      }
      .first { $0.contains("/runs/") }, "\(output)")
    #expect(viewRun == "\(daemon.server)/#/experiments/\(experiment)/runs/\(run)")

    // When the dashboard's pages are read
    let list = try await page("\(daemon.server)/experiments")
    let experimentPage = try await page("\(daemon.server)/experiments/\(experiment)")
    let runPage = try await page("\(daemon.server)/experiments/\(experiment)/runs/\(run)")
    // Then the experiment is listed, its run on its page, and the run's page shows what it logged
    #expect(list.hasSuffix("200") && list.contains("href=\"/experiments/\(experiment)\""), "\(list.suffix(500))")
    #expect(experimentPage.contains("href=\"/experiments/\(experiment)/runs/\(run)\">by hand</a>"))
    #expect(experimentPage.contains("tried it by hand"))
    #expect(runPage.hasSuffix("200"), "\(runPage.suffix(500))")
    for shown in [
      "&lt;b&gt;0.1&lt;/b&gt;", ">layers<", ">loss<", "tried it by hand", ">team<", ">vision<", "model/weights.txt",
    ] {
      #expect(runPage.contains(shown), "\(shown) not on the run page")
    }
    #expect(!runPage.contains("<b>0.1</b>"))
    // And its artifact downloads through the link on the page
    let download =
      "\(daemon.server)/api/2.0/mlflow-artifacts/artifacts/\(experiment)/\(run)/artifacts/model/weights.txt"
    #expect(runPage.contains("href=\"\(download.dropFirst(daemon.server.count))\""))
    #expect(try await page(download) == "w=1\n\n200")
    // And a run or experiment that does not exist is a 404 page
    #expect(try await page("\(daemon.server)/experiments/\(experiment)/runs/nope").hasSuffix("404"))
    #expect(try await page("\(daemon.server)/experiments/999").hasSuffix("404"))

    // When a trial's script logs params of its own
    try """
    name: logging-study
    objective: {metric: score, direction: maximize}
    search: {algorithm: random, seed: 1, max_trials: 1}
    parameters: {c: {type: float, min: 0.5, max: 2}}
    trial: {command: [python3, \(Self.fixtures)/mlflow_trial_experiment_id.py, own], timeout: 2m, retries: 0}
    """.write(toFile: "\(folder)/study.yaml", atomically: true, encoding: .utf8)
    #expect(try await daemon.client(["submit", "\(folder)/study.yaml"]).status == 0)
    let database = try AppDatabase.open(at: "\(folder)/home/hpod.sqlite")
    #expect(try await waitUntil(seconds: 90) { try database.study(id: 1)?.state.isFinished == true })
    // Then its run page lists them
    let trialPage = try await page("\(daemon.server)/studies/1/runs/0")
    #expect(
      trialPage.contains("Params the script logged (1)") && trialPage.contains(">asked<"), "\(trialPage.suffix(800))")
    // And the trial's run in its experiment's page leads to the trial's page
    let trialRun = TrackingStore.runId(trialId: try #require(try database.trials(studyId: 1).first).id!)
    let (_, redirect) = try await HPODProcess.runProgram(
      "/usr/bin/curl",
      ["-s", "-o", "/dev/null", "-w", "%{redirect_url}", "\(daemon.server)/experiments/0/runs/\(trialRun)"])
    #expect(
      redirect.hasSuffix("/hpod-trials/\(trialRun.dropFirst(TrackingStore.trialRunPrefix.count))/"), "\(redirect)")

    // When a browser opens the client's "View run" link
    guard Browser.available else { return }
    let dom = try await Browser.run(viewRun, "--dump-dom")
    // Then it shows the run's page
    #expect(dom.contains("tried it by hand") && dom.contains("model/weights.txt"), "\(dom.prefix(1500))")
  }
}
