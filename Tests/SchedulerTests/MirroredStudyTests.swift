import Foundation
import MLflowTestServer
import SearchStrategies
import Testing

@testable import TrackingBridge
@testable import TrialScheduler

/// Studies run by the scheduler and mirrored to real MLflow 3.17.2 servers: everything is read
/// back through MLflow's own REST API, as a user (or MLflow's UI) would see it.
@Suite("Mirrored studies against a real MLflow server", .serialized)
struct MLflowMirrorTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  /// A trainer in Python (the venv's, which has mlflow): a rising curve, a model file and a
  /// plot in its artifacts; full trainings also log through MLflow themselves, into the run
  /// hpod made for them (MLFLOW_RUN_ID).
  func trainer(sleep: Double = 0.02) throws -> String {
    let path = "\(sandbox.root)/train.py"
    try """
    import json, os, sys, time
    x = float(sys.argv[1])
    steps = int(os.environ["HPOD_TIER_STEPS"])
    for step in range(1, steps + 1):
        print("hpod " + json.dumps({"step": step, "score": round(x * step / steps, 6), "loss": round(1 - x * step / steps, 6)}), flush=True)
        time.sleep(\(sleep))
    artifacts = os.environ["HPOD_ARTIFACT_DIR"]
    with open(os.path.join(artifacts, "model.json"), "w") as f:
        json.dump({"x": x}, f)
    os.makedirs(os.path.join(artifacts, "plots"), exist_ok=True)
    with open(os.path.join(artifacts, "plots", "curve.txt"), "w") as f:
        f.write("rising\\n")
    if os.environ["HPOD_TIER"] == "full_training":
        import mlflow
        with mlflow.start_run() as run:  # joins MLFLOW_RUN_ID
            mlflow.set_tag("trainer.own_run", run.info.run_id)
            mlflow.log_metric("own_metric", 0.5)
    print("hpod " + json.dumps({"final": True, "latency_ms": 2}))
    """.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  var python: String {
    URL(fileURLWithPath: MLflowServer.executable).deletingLastPathComponent().appendingPathComponent("python").path
  }

  func spec(server: MLflowServer, trainer: String, trials: Int = 8, parallelism: Int = 2) -> String {
    """
    name: mirrored
    objective: {metric: score, direction: maximize}
    search: {algorithm: random, seed: 5, max_trials: \(trials), parallelism: \(parallelism)}
    parameters:
      x: {type: float, min: 0, max: 1}
      opt: {type: categorical, values: [adam, sgd]}
    trial:
      command: [\(python), \(trainer), "{x}"]
      stop_grace_period: 2s
    tiers:
      quick_test: {steps: 4}
      full_training: {steps: 6}
    promotion: {top_k: 1}
    early_stopping: {rule: median, min_steps: 1, min_trials: 2}
    registration: {model: mirrored-model, when: ["score >= 0.05"], artifact: model.json, alias: champion}
    tracking:
      experiment: hpod-mirror-test
      mlflow: {uri: \(server.uri)}
    """
  }

  /// Every trial has exactly one run, with the trial's params, state, and full metric history.
  func expectComplete(_ server: MLflowServer, trials: [TrialRecord]) async throws {
    // A trainer that logs through mlflow itself but started while MLflow was down (so without
    // MLFLOW_RUN_ID) makes a run of its own: only hpod's runs (keyed) are counted.
    let runs = try await server.runs(experimentId: try await server.experimentId(named: "hpod-mirror-test")).filter {
      $0.keyValues("tags")["hpod.run_key"] != nil
    }
    #expect(runs.count == trials.count, "one run per trial, no duplicates")
    #expect(Set(runs.map { $0.keyValues("tags")["hpod.run_key"] }).count == runs.count)
    let byTrial = Dictionary(runs.map { ($0.keyValues("tags")["hpod.trial"] ?? "?", $0) }) { first, _ in first }
    for trial in trials {
      guard let run = byTrial[String(trial.number)] else {
        Issue.record("trial \(trial.number) has no run")
        continue
      }
      let tags = run.keyValues("tags")
      #expect(tags["hpod.state"] == trial.state.rawValue)
      #expect(run.info["status"] as? String == RunIdentity.status(of: trial.state))
      #expect(run.info["end_time"] != nil)
      let params = try sandbox.database.params(trialId: trial.id!)
      #expect(run.keyValues("params") == Dictionary(uniqueKeysWithValues: params.map { ($0.name, $0.value) }))
      let stored = try sandbox.database.metrics(trialId: trial.id!, name: "score").map { ($0.step, $0.value) }
      let history = try await server.metricHistory(runId: run.info["run_id"] as! String, key: "score")
      #expect(history.map(\.step) == stored.map(\.0), "trial \(trial.number)'s score history")
      #expect(history.map(\.value) == stored.map(\.1))
    }
  }

  @Test("a tiered study appears in MLflow: named runs, tags, params, metric histories, status, artifacts, registry")
  func mirrorsAStudy() async throws {
    let server = try await MLflowServer.start(in: "\(sandbox.root)/mlflow")
    defer { server.kill() }
    let mirror = MLflowMirror(database: sandbox.database)
    let mirrorDrain = BackgroundDrain(mirror)

    // When a tiered study runs with tracking.mlflow.uri set
    let (study, trials) = try await sandbox.run(spec(server: server, trainer: try trainer()), mirror: mirror)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    #expect(await mirror.flush(timeout: .seconds(60)), "the outbox empties")
    await mirrorDrain.stop()

    // Then every trial is a run with its params, state and metric history
    try await expectComplete(server, trials: trials)
    let experiment = try await server.experimentId(named: "hpod-mirror-test")
    let quick = try await server.runs(experimentId: experiment, filter: "tags.`hpod.tier` = 'quick_test'")
    let full = try await server.runs(experimentId: experiment, filter: "tags.`hpod.tier` = 'full_training'")
    #expect(quick.count == trials.filter { $0.tier == .quickTest }.count)
    #expect(full.count == 1)

    // named after the configuration and tier, tagged with where it comes from
    let names = quick.compactMap { $0.info["run_name"] as? String }
    #expect(names.contains("trial 0 · config-000 Quick Test #1"))
    let training = try #require(full.first)
    let source = try #require(trials.first { $0.tier == .fullTraining }?.sourceTrialId)
    let sourceNumber = try #require(trials.first { $0.id == source }?.number)
    let tags = training.keyValues("tags")
    #expect(
      training.info["run_name"] as? String
        == "trial \(training.keyValues("tags")["hpod.trial"] ?? "?") · config-\(String(format: "%03d", sourceNumber)) Full Training #1"
    )
    #expect(tags["hpod.source_trial"] == String(sourceNumber))
    #expect(tags["hpod.config_id"] == "config-\(String(format: "%03d", sourceNumber))")
    #expect(tags["hpod.study"] == "mirrored")
    for run in quick where run.keyValues("tags")["hpod.state"] == "pruned" {
      #expect(run.info["status"] as? String == "KILLED")
      #expect(run.keyValues("tags")["hpod.prune_reason"]?.contains("median rule") == true)
    }

    // The trainer's own mlflow calls landed in the same run
    let runId = try #require(training.info["run_id"] as? String)
    #expect(tags["trainer.own_run"] == runId)
    #expect(try await server.metricHistory(runId: runId, key: "own_metric").count == 1)

    // Its artifacts and logs were uploaded through the proxy
    let files = try await server.artifacts(runId: runId)
    #expect(files.contains("model.json"))
    #expect(files.contains("plots/curve.txt"))
    #expect(files.contains("hpod-logs/stdout.log"))

    // The registered version is in MLflow's registry with its source, thresholds and alias
    let model = try await server.get("registered-models/get", ["name": "mirrored-model"])
    let registered = model["registered_model"] as? [String: Any] ?? [:]
    let aliases = registered["aliases"] as? [[String: Any]] ?? []
    #expect(aliases.first?["alias"] as? String == "champion")
    let version = try await server.get(
      "model-versions/get", ["name": "mirrored-model", "version": aliases.first?["version"] as? String ?? "1"])
    let details = version["model_version"] as? [String: Any] ?? [:]
    #expect(details["run_id"] as? String == runId)
    #expect((details["source"] as? String)?.hasSuffix("\(runId)/artifacts/model.json") == true)
    let versionTags = Dictionary(
      (details["tags"] as? [[String: Any]] ?? []).map { ($0["key"] as! String, $0["value"] as! String) }
    ) { $1 }
    #expect(versionTags["hpod.thresholds"] == "score >= 0.05")

    // And the status shows nothing waiting
    let status = try #require(try sandbox.database.mirrorStatus().first)
    #expect(status.backlog == 0 && status.refusedWrites == 0 && status.runsCreated == trials.count)
  }

  @Test("MLflow killed mid-study and restarted: nothing is lost, nothing is duplicated, order is kept")
  func survivesAnOutage() async throws {
    let server = try await MLflowServer.start(in: "\(sandbox.root)/mlflow")
    defer { server.kill() }
    var settings = MLflowMirror.Settings()
    settings.maxBackoff = .seconds(1)
    settings.runWait = .milliseconds(500)
    let mirror = MLflowMirror(database: sandbox.database, settings: settings)
    let mirrorDrain = BackgroundDrain(mirror)

    // Given a study whose trials take a while
    let yaml = spec(server: server, trainer: try trainer(sleep: 0.15), trials: 10)
    let started = Task { try await sandbox.run(yaml, mirror: mirror) }
    // When MLflow dies after the first trials finished
    try await waitFor { try sandbox.database.trials(studyId: 1).filter { $0.state.isFinished }.count >= 2 }
    await server.stop()
    // the study goes on, and its writes wait in the outbox
    try await waitFor { try sandbox.database.trials(studyId: 1).filter { $0.state.isFinished }.count >= 6 }
    #expect(try sandbox.database.mirrorStatus().first!.backlog > 0)
    #expect(await mirror.lastError?.contains("did not answer") == true)
    // and MLflow comes back before the study ends
    try await server.restart()
    let (study, trials) = try await started.value
    #expect(study.state == .completed)
    #expect(await mirror.flush(timeout: .seconds(90)), "the backlog drains once MLflow is back")
    await mirrorDrain.stop()

    // Then every run, param, status and metric point is there once
    try await expectComplete(server, trials: trials)
  }

  @Test("the daemon's service mirrors the studies it runs and the trials told through ask and tell")
  func daemonMirrors() async throws {
    let server = try await MLflowServer.start(in: "\(sandbox.root)/mlflow")
    defer { server.kill() }
    let service = StudyService(database: sandbox.database, home: sandbox.home, maxConcurrentTrials: 2)
    try await service.start()
    let mirrorDrain = BackgroundDrain(service.mirror)

    // A study the daemon runs
    let script = try sandbox.script("score.sh", #"echo "hpod {\"score\": $1}""#)
    let ran = try await service.submit(
      yaml: studyYAML(
        name: "served", command: "[\(script), \"{x}\"]", maxTrials: 3,
        extra: "tracking: {experiment: served, mlflow: {uri: \"\(server.uri)\"}}"))
    try await waitFor { try sandbox.database.study(id: ran.id!)?.state == .completed }

    // and an ask-and-tell study, told by a client
    let asked = try await service.submit(
      yaml: """
        name: told
        objective: {metric: score, direction: maximize}
        search: {algorithm: random, seed: 4, max_trials: 2}
        parameters: {x: {type: float, min: 0, max: 1}}
        tracking: {experiment: told, mlflow: {uri: "\(server.uri)"}}
        """)
    for value in [0.25, 0.5] {
      let trial = try await service.ask(asked.id!)
      _ = try await service.tell(
        trial.id!, TrialReport(value: value, metrics: [TrialReport.Point(name: "score", step: 1, value: value)]))
    }
    #expect(await service.mirror.flush(timeout: .seconds(60)))
    await service.shutdown()
    await mirrorDrain.stop()

    for (name, count) in [("served", 3), ("told", 2)] {
      let body = try await server.get("experiments/get-by-name", ["experiment_name": name])
      let experiment = (body["experiment"] as? [String: Any])?["experiment_id"] as? String ?? ""
      let runs = try await server.runs(experimentId: experiment)
      #expect(runs.count == count, "\(name)")
      #expect(runs.allSatisfy { $0.info["status"] as? String == "FINISHED" })
      for run in runs {
        #expect(try await server.metricHistory(runId: run.info["run_id"] as! String, key: "score").count == 1)
      }
    }
  }

  @Test("with MLflow unreachable, trials still run and every write waits, with the error, for later")
  func unreachableServer() async throws {
    let port = try MLflowServer.freePort()  // nothing listens there
    var settings = MLflowMirror.Settings()
    settings.runWait = .milliseconds(300)
    let mirror = MLflowMirror(database: sandbox.database, settings: settings)
    let mirrorDrain = BackgroundDrain(mirror)
    let script = try sandbox.script(
      "env.sh",
      #"echo "hpod {\"score\": 1, \"has_run\": ${MLFLOW_RUN_ID:+1}0}"; echo "$MLFLOW_TRACKING_URI" > "$HPOD_ARTIFACT_DIR/uri""#
    )
    let yaml = studyYAML(
      command: "[\(script)]", maxTrials: 3, extra: "tracking: {mlflow: {uri: \"http://127.0.0.1:\(port)\"}}")
    let (study, trials) = try await sandbox.run(yaml, mirror: mirror)
    #expect(study.state == .completed)
    #expect(trials.allSatisfy { $0.state == .completed })
    // The trial was told where MLflow is, but got no run id
    let uri = try String(contentsOfFile: "\(trials[0].runDirectory!)/artifacts/uri", encoding: .utf8)
    #expect(uri.trimmingCharacters(in: .whitespacesAndNewlines) == "http://127.0.0.1:\(port)")
    #expect(try sandbox.database.finalMetrics(trialId: trials[0].id!)["has_run"] == 0)
    #expect(await mirror.flush(timeout: .milliseconds(500)) == false)
    await mirrorDrain.stop()
    let status = try #require(try sandbox.database.mirrorStatus().first)
    #expect(status.pendingWrites == 9 && status.unsentMetricPoints == 6 && status.refusedWrites == 0)
    #expect(status.lastError?.contains("did not answer") == true)
  }

  func waitFor(timeout: Duration = .seconds(120), _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
      guard ContinuousClock.now < deadline else {
        Issue.record("timed out waiting")
        return
      }
      try await Task.sleep(for: .milliseconds(50))
    }
  }
}
