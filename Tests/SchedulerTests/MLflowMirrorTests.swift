import Foundation
import SearchStrategies
import Testing
import TrackingBridge

@testable import TrialScheduler

/// The mirror against real MLflow 3.17.2 servers: everything is read back through MLflow's
/// own REST API, as a user (or MLflow's UI) would see it.
@Suite("MLflow mirror against a real MLflow server", .serialized)
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

  func experimentId(_ server: MLflowServer) async throws -> String {
    let body = try await server.get("experiments/get-by-name", ["experiment_name": "hpod-mirror-test"])
    return (body["experiment"] as? [String: Any])?["experiment_id"] as? String ?? ""
  }

  /// Every trial has exactly one run, with the trial's params, state, and full metric history.
  func expectComplete(_ server: MLflowServer, trials: [TrialRecord]) async throws {
    // A trainer that logs through mlflow itself but started while MLflow was down (so without
    // MLFLOW_RUN_ID) makes a run of its own: only hpod's runs (keyed) are counted.
    let runs = try await server.runs(experimentId: try await experimentId(server)).filter {
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
    await mirror.start()

    // When a tiered study runs with tracking.mlflow.uri set
    let (study, trials) = try await sandbox.run(spec(server: server, trainer: try trainer()), tracking: mirror)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    #expect(await mirror.flush(timeout: .seconds(60)), "the outbox empties")
    await mirror.stop()

    // Then every trial is a run with its params, state and metric history
    try await expectComplete(server, trials: trials)
    let experiment = try await experimentId(server)
    let quick = try await server.runs(experimentId: experiment, filter: "tags.`hpod.tier` = 'quick_test'")
    let full = try await server.runs(experimentId: experiment, filter: "tags.`hpod.tier` = 'full_training'")
    #expect(quick.count == trials.filter { $0.tier == .quickTest }.count)
    #expect(full.count == 1)

    // named after the configuration and tier, tagged with where it comes from
    let names = quick.compactMap { $0.info["run_name"] as? String }
    #expect(names.contains("config-000 Quick Test #1"))
    let training = try #require(full.first)
    let source = try #require(trials.first { $0.tier == .fullTraining }?.sourceTrialId)
    let sourceNumber = try #require(trials.first { $0.id == source }?.number)
    let tags = training.keyValues("tags")
    #expect(
      training.info["run_name"] as? String == "config-\(String(format: "%03d", sourceNumber)) Full Training #1")
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
    await mirror.start()

    // Given a study whose trials take a while
    let yaml = spec(server: server, trainer: try trainer(sleep: 0.15), trials: 10)
    let started = Task { try await sandbox.run(yaml, tracking: mirror) }
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
    await mirror.stop()

    // Then every run, param, status and metric point is there once
    try await expectComplete(server, trials: trials)
  }

  @Test("writes are shaped to MLflow's limits, and a run created before hpod heard back is found, not duplicated")
  func limitsAndLostAnswers() async throws {
    let server = try await MLflowServer.start(in: "\(sandbox.root)/mlflow")
    defer { server.kill() }
    let database = sandbox.database

    // Given a mirrored study with a trial of 130 params (one 7,000 characters long) and 2,500 metric points
    let study = try database.createStudy(
      StudyRecord(
        name: "limits", specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "score", direction: "maximize"))
    try database.mirror(studyId: study.id!, uri: server.uri, experimentName: "hpod-mirror-test")
    var params = (0..<129).map { (name: "p\($0)", value: String($0), numeric: Double($0) as Double?) }
    params.append((name: "prompt", value: String(repeating: "a", count: 7000), numeric: nil))
    let trial = try database.createTrial(studyId: study.id!, tier: .quickTest, params: params, paramsJSON: "{}")
    try database.startTrial(trial, pid: 1, processStartTicks: nil, runDirectory: "\(sandbox.root)/none")
    let points = (0..<2500).map {
      MetricPoint(
        trialId: trial.id!, name: $0 % 2 == 0 ? "score" : "loss@top5", step: $0 / 2, value: Double($0), timestamp: 1)
    }
    try database.appendMetrics(points)
    try database.finishTrial(id: trial.id!, .init(state: .completed, value: 1))

    // When the mirror drains it
    let mirror = MLflowMirror(database: database)
    await mirror.start()
    #expect(await mirror.flush(timeout: .seconds(60)))

    // Then all params are there (the long one cut and flagged), and both histories in full
    let experiment = try await experimentId(server)
    var runs = try await server.runs(experimentId: experiment)
    let run = try #require(runs.first)
    let runId = run.info["run_id"] as! String
    #expect(run.keyValues("params").count == 130)
    #expect(run.keyValues("params")["prompt"]?.count == 6000)
    #expect(run.keyValues("tags")["hpod.truncated_params"]?.contains("prompt") == true)
    #expect(try await server.metricHistory(runId: runId, key: "score").count == 1250)
    #expect(try await server.metricHistory(runId: runId, key: "loss_top5").count == 1250, "the key is made valid")

    // When hpod had created the run but died before recording it (and before the watermark moved)
    await mirror.stop()
    try await database.writer.write { db in
      try db.execute(sql: "DELETE FROM mirroredRun")
      try db.execute(
        sql: "INSERT INTO outbox (studyId, trialId, kind, createdAt, attempts) VALUES (?, ?, 'createRun', ?, 1)",
        arguments: [study.id!, trial.id!, Date()])
    }
    let restarted = MLflowMirror(database: database)
    await restarted.start()
    #expect(await restarted.flush(timeout: .seconds(60)))
    await restarted.stop()

    // Then the run is found again by its key: one run, the same id, no doubled points
    runs = try await server.runs(experimentId: experiment)
    #expect(runs.count == 1)
    #expect(try database.mirroredRun(trialId: trial.id!)?.runId == runId)
    #expect(try await server.metricHistory(runId: runId, key: "score").count == 1250)
  }

  @Test("the daemon's service mirrors the studies it runs and the trials told through ask and tell")
  func daemonMirrors() async throws {
    let server = try await MLflowServer.start(in: "\(sandbox.root)/mlflow")
    defer { server.kill() }
    let service = StudyService(database: sandbox.database, home: sandbox.home, maxConcurrentTrials: 2)
    try await service.start()

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
        trial.id!, API.Tell(value: value, metrics: [API.TellMetric(name: "score", step: 1, value: value)]))
    }
    #expect(await service.mirror.flush(timeout: .seconds(60)))
    await service.shutdown()

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

  @Test(
    "a refused write is set aside and retried on request; a server answering 401 holds its study's writes without blocking another's"
  )
  func refusalsAndAuthErrors() async throws {
    let server = try await MLflowServer.start(in: "\(sandbox.root)/mlflow")
    defer { server.kill() }
    let locked = try await MLflowServer.startUnauthorized(in: "\(sandbox.root)/locked")
    defer { locked.kill() }
    let database = sandbox.database

    // Given a study mirrored to a deleted experiment, one to a server that wants credentials,
    // and one to a healthy server, each with a finished trial and its points
    let created = try await server.post("experiments/create", ["name": "deleted"])
    _ = try await server.post("experiments/delete", ["experiment_id": created["experiment_id"] as! String])
    var trials: [String: Int64] = [:]
    for (name, uri) in [("deleted", server.uri), ("locked", locked.uri), ("healthy", server.uri)] {
      let study = try database.createStudy(
        StudyRecord(name: name, specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "s", direction: "maximize")
      )
      try database.mirror(studyId: study.id!, uri: uri, experimentName: name)
      let trial = try database.createTrial(
        studyId: study.id!, tier: .quickTest, params: [("x", "1", 1)], paramsJSON: "{}")
      try database.appendMetrics(
        (0..<3).map { MetricPoint(trialId: trial.id!, name: "s", step: $0, value: 1, timestamp: 1) })
      try database.finishTrial(id: trial.id!, .init(state: .completed, value: 1))
      trials[name] = trial.id!
    }
    var settings = MLflowMirror.Settings()
    settings.maxBackoff = .seconds(1)
    let mirror = MLflowMirror(database: database, settings: settings)
    await mirror.start()

    // When the mirror drains: the healthy study goes through whatever the others do
    #expect(await mirror.flush(studyId: 3, timeout: .seconds(60)))
    #expect(try database.mirroredRun(trialId: trials["healthy"]!) != nil)
    // the deleted experiment's writes are refused, set aside, and no longer count as waiting
    #expect(await mirror.flush(studyId: 1, timeout: .seconds(30)))
    let status = try database.mirrorStatus()
    #expect(status[0].refusedWrites == 3 && status[0].backlog == 0)
    #expect(status[0].lastError?.contains("deleted") == true)
    // the 401s are not taken as a refusal: the writes wait, with the error
    #expect(status[1].refusedWrites == 0 && status[1].pendingWrites == 3 && status[1].unsentMetricPoints == 3)
    #expect(status[1].lastError?.contains("401") == true)
    let stopping = ContinuousClock.now
    await mirror.stop()
    #expect(ContinuousClock.now - stopping < .seconds(3), "stop does not wait out a backoff")

    // When the experiment is restored and the refused writes are retried
    _ = try await server.post("experiments/restore", ["experiment_id": created["experiment_id"] as! String])
    #expect(try database.retryRefusedMirrorWrites() == 3)
    let again = MLflowMirror(database: database)
    await again.start()
    #expect(await again.flush(studyId: 1, timeout: .seconds(60)))
    await again.stop()
    // Then the run is there with its history
    let run = try #require(try database.mirroredRun(trialId: trials["deleted"]!))
    #expect(try await server.metricHistory(runId: run.runId, key: "s").count == 3)
  }

  @Test("an artifact with spaces and ? in its name keeps it (# becomes _), and the registered source points at it")
  func artifactNames() async throws {
    let server = try await MLflowServer.start(in: "\(sandbox.root)/mlflow")
    defer { server.kill() }
    let database = sandbox.database
    let study = try database.createStudy(
      StudyRecord(
        name: "files", specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "s", direction: "maximize"))
    try database.mirror(studyId: study.id!, uri: server.uri, experimentName: "files")
    let trial = try database.createTrial(studyId: study.id!, tier: .fullTraining, params: [], paramsJSON: "{}")
    let directory = "\(sandbox.root)/artifacts here/run"
    try FileManager.default.createDirectory(atPath: "\(directory)/artifacts", withIntermediateDirectories: true)
    let model = "\(directory)/artifacts/my model#1?.npz"
    try Data("weights".utf8).write(to: URL(fileURLWithPath: model))
    try database.startTrial(trial, pid: 1, processStartTicks: nil, runDirectory: directory)
    try database.finishTrial(id: trial.id!, .init(state: .completed, value: 1))
    _ = try database.registerModel(
      ModelVersion(
        modelName: "files-model", trialId: trial.id!, studyId: study.id!, value: 1, metricsJSON: "{}",
        paramsJSON: "{}", conditions: "s >= 0", artifactPath: model), alias: "champion", higherIsBetter: true)
    let mirror = MLflowMirror(database: database)
    await mirror.start()
    #expect(await mirror.flush(timeout: .seconds(60)))
    await mirror.stop()

    let run = try #require(try database.mirroredRun(trialId: trial.id!))
    #expect(try await server.artifacts(runId: run.runId) == ["my model_1?.npz"], "MLflow refuses # in paths")
    let version = try await server.get("model-versions/get", ["name": "files-model", "version": "1"])
    #expect(
      ((version["model_version"] as? [String: Any])?["source"] as? String)?.hasSuffix("/artifacts/my model_1?.npz")
        == true)
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

@Suite("MLflow mirror: the outbox and its rules")
struct MLflowOutboxTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  @Test("only a mirrored study fills the outbox, in the transaction of each change")
  func outboxFillsForMirroredStudiesOnly() throws {
    let database = sandbox.database
    let plain = try database.createStudy(
      StudyRecord(
        name: "plain", specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "s", direction: "maximize"))
    let mirrored = try database.createStudy(
      StudyRecord(
        name: "mirrored", specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "s", direction: "maximize"))
    // A trial from before mirroring started is queued when the study is mirrored
    let early = try database.createTrial(studyId: mirrored.id!, tier: .quickTest, params: [], paramsJSON: "{}")
    try database.finishTrial(id: early.id!, .init(state: .failed, reason: "crashed"))
    try database.mirror(studyId: mirrored.id!, uri: "http://127.0.0.1:1", experimentName: "e")
    var late: Int64 = 0
    for study in [plain, mirrored] {
      let trial = try database.createTrial(studyId: study.id!, tier: .quickTest, params: [], paramsJSON: "{}")
      try database.setTags(trialId: trial.id!, ["hpod.prune_rule": "median"])
      try database.finishTrial(id: trial.id!, .init(state: .pruned))
      late = trial.id!
    }
    let kinds = try database.pendingMirrorWrites(limit: 100).map { "\($0.trialId!):\($0.kind.rawValue)" }
    #expect(
      kinds == [
        "\(early.id!):createRun", "\(early.id!):endRun", "\(early.id!):uploadArtifacts", "\(late):createRun",
        "\(late):setTags", "\(late):endRun", "\(late):uploadArtifacts",
      ])
    // Mirroring again to the same place queues nothing more
    try database.mirror(studyId: mirrored.id!, uri: "http://127.0.0.1:1", experimentName: "e")
    #expect(try database.pendingMirrorWrites(limit: 100).count == 7)
  }

  @Test("with MLflow unreachable, trials still run and every write waits, with the error, for later")
  func unreachableServer() async throws {
    let port = try MLflowServer.freePort()  // nothing listens there
    var settings = MLflowMirror.Settings()
    settings.runWait = .milliseconds(300)
    let mirror = MLflowMirror(database: sandbox.database, settings: settings)
    await mirror.start()
    let script = try sandbox.script(
      "env.sh",
      #"echo "hpod {\"score\": 1, \"has_run\": ${MLFLOW_RUN_ID:+1}0}"; echo "$MLFLOW_TRACKING_URI" > "$HPOD_ARTIFACT_DIR/uri""#
    )
    let yaml = studyYAML(
      command: "[\(script)]", maxTrials: 3, extra: "tracking: {mlflow: {uri: \"http://127.0.0.1:\(port)\"}}")
    let (study, trials) = try await sandbox.run(yaml, tracking: mirror)
    #expect(study.state == .completed)
    #expect(trials.allSatisfy { $0.state == .completed })
    // The trial was told where MLflow is, but got no run id
    let uri = try String(contentsOfFile: "\(trials[0].runDirectory!)/artifacts/uri", encoding: .utf8)
    #expect(uri.trimmingCharacters(in: .whitespacesAndNewlines) == "http://127.0.0.1:\(port)")
    #expect(try sandbox.database.finalMetrics(trialId: trials[0].id!)["has_run"] == 0)
    #expect(await mirror.flush(timeout: .milliseconds(500)) == false)
    await mirror.stop()
    let status = try #require(try sandbox.database.mirrorStatus().first)
    #expect(status.pendingWrites == 9 && status.unsentMetricPoints == 6 && status.refusedWrites == 0)
    #expect(status.lastError?.contains("did not answer") == true)
  }

  @Test("one process at a time drains a store: a second hpod waits for the lease")
  func oneDrainerPerStore() {
    let path = sandbox.home.mirrorLeasePath
    let daemon = MirrorLease(path: path)
    let run = MirrorLease(path: path)
    #expect(daemon.tryAcquire())
    #expect(daemon.tryAcquire(), "holding it stays held")
    #expect(!run.tryAcquire())
    daemon.release()
    #expect(run.tryAcquire())
  }

  @Test("run names, statuses, keys and value limits follow MLflow's rules")
  func shaping() throws {
    var trial = TrialRecord(studyId: 1, number: 20, tier: .fullTraining, paramsJSON: "{}")
    let lineage = RunLineage(configNumber: 17, ordinal: 1, attempt: 0, sourceTrialNumber: 17)
    #expect(RunIdentity.name(trial: trial, lineage: lineage) == "config-017 Full Training #1")
    trial.tier = .quickTest
    #expect(
      RunIdentity.name(trial: trial, lineage: RunLineage(configNumber: 17, ordinal: 3, attempt: 1))
        == "config-017 Quick Test #3 (retry 1)")
    #expect(RunIdentity.status(of: .completed) == "FINISHED")
    #expect(RunIdentity.status(of: .timedOut) == "FAILED")
    #expect(RunIdentity.status(of: .pruned) == "KILLED")
    #expect(MLflowLimits.key("val/acc@5 é") == "val/acc_5 _")
    #expect(MLflowLimits.key(String(repeating: "k", count: 300)).count == 250)
    #expect(["eval/", "a//b", "./x", "..", ""].map(MLflowLimits.key) == ["eval", "a/b", "x", "__", "_"])
    #expect(MLflowLimits.params([("lr[a]", "1"), ("lr(a)", "2")]).params.map(\.0) == ["lr_a_", "lr_a__2"])
    #expect(MLflowLimits.value("ééé", limit: 2) == ("éé", true))
    let wide = (0..<100).map { ("k\($0)", String(repeating: "é", count: 6000)) }
    #expect(MLflowLimits.chunks(wide).allSatisfy { chunk in chunk.reduce(0) { $0 + $1.1.utf8.count } < 1_000_000 })
    let (shaped, cut) = MLflowLimits.params([("short", "x"), ("long", String(repeating: "y", count: 6001))])
    #expect(shaped[1].1.count == 6000 && cut == ["long"])
    #expect(MLflowLimits.chunks(Array(0..<250), of: 100).map(\.count) == [100, 100, 50])
    #expect(try ArtifactUpload.proxyPath(of: "mlflow-artifacts:/3/abc/artifacts") == "3/abc/artifacts")
    #expect(try ArtifactUpload.proxyPath(of: "mlflow-artifacts://host:5000/3/abc/artifacts") == "3/abc/artifacts")
    #expect(throws: MLflowError.self) { try ArtifactUpload.proxyPath(of: "s3://bucket/3/abc") }
  }
}
