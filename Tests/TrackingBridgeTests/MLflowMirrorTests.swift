import Foundation
import Logging
import MLflowTestServer
import ServiceLifecycle
import Testing

@testable import TrackingBridge

/// The mirror against real MLflow 3.17.2 servers, fed by records written straight to the
/// store: everything is read back through MLflow's own REST API.
@Suite("MLflow mirror against a real MLflow server", .serialized)
struct MLflowMirrorTests {
  let sandbox: StoreFolder

  init() throws {
    sandbox = try StoreFolder()
  }

  @Test("writes are shaped to MLflow's limits, and a run created before hpod heard back is found, not duplicated")
  func limitsAndLostAnswers() async throws {
    let server = try await MLflowServer.start(in: "\(sandbox.root)/mlflow")
    defer { server.kill() }
    let database = sandbox.database

    // Given a mirrored study with a trial of 130 params (one 7,000 characters long) and 2,500 metric points
    let study = try database.createStudy(
      StudyRecord(
        name: "limits", specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "score", direction: .maximize))
    try database.mirror(studyId: study.id!, uri: server.uri, experimentName: "hpod-mirror-test")
    var params = (0..<129).map { (name: "p\($0)", value: String($0), numeric: Double($0) as Double?) }
    params.append((name: "prompt", value: String(repeating: "a", count: 7000), numeric: nil))
    let trial = try database.createTrial(studyId: study.id!, tier: .quickTest, params: params, paramsJSON: "{}")
    try database.startTrial(trial, handle: #"{"external":{}}"#, runDirectory: "\(sandbox.root)/none")
    let points = (0..<2500).map {
      MetricPoint(
        trialId: trial.id!, name: $0 % 2 == 0 ? "score" : "loss@top5", step: $0 / 2, value: Double($0), timestamp: 1)
    }
    try database.appendMetrics(points)
    try database.finishTrial(id: trial.id!, .init(state: .completed, value: 1))

    // When the mirror drains it
    let mirror = MLflowMirror(database: database)
    let mirrorDrain = BackgroundDrain(mirror)
    #expect(await mirror.flush(timeout: .seconds(60)))

    // Then all params are there (the long one cut and flagged), and both histories in full
    let experiment = try await server.experimentId(named: "hpod-mirror-test")
    var runs = try await server.runs(experimentId: experiment)
    let run = try #require(runs.first)
    let runId = run.info["run_id"] as! String
    #expect(run.keyValues("params").count == 130)
    #expect(run.keyValues("params")["prompt"]?.count == 6000)
    #expect(run.keyValues("tags")["hpod.truncated_params"]?.contains("prompt") == true)
    #expect(try await server.metricHistory(runId: runId, key: "score").count == 1250)
    #expect(try await server.metricHistory(runId: runId, key: "loss_top5").count == 1250, "the key is made valid")

    // When hpod had created the run but died before recording it (and before the watermark moved)
    await mirrorDrain.stop()
    try await database.writer.write { db in
      try db.execute(sql: "DELETE FROM mirroredRun")
      try db.execute(
        sql: "INSERT INTO outbox (studyId, trialId, kind, createdAt, attempts) VALUES (?, ?, 'createRun', ?, 1)",
        arguments: [study.id!, trial.id!, Date()])
    }
    let restarted = MLflowMirror(database: database)
    let restartedDrain = BackgroundDrain(restarted)
    #expect(await restarted.flush(timeout: .seconds(60)))
    await restartedDrain.stop()

    // Then the run is found again by its key: one run, the same id, no doubled points
    runs = try await server.runs(experimentId: experiment)
    #expect(runs.count == 1)
    #expect(try database.mirroredRun(trialId: trial.id!)?.runId == runId)
    #expect(try await server.metricHistory(runId: runId, key: "score").count == 1250)
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
        StudyRecord(name: name, specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "s", direction: .maximize)
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
    let mirrorDrain = BackgroundDrain(mirror)

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
    await mirrorDrain.stop()
    #expect(ContinuousClock.now - stopping < .seconds(3), "stop does not wait out a backoff")

    // When the experiment is restored and the refused writes are retried
    _ = try await server.post("experiments/restore", ["experiment_id": created["experiment_id"] as! String])
    #expect(try database.retryRefusedMirrorWrites() == 3)
    let again = MLflowMirror(database: database)
    let againDrain = BackgroundDrain(again)
    #expect(await again.flush(studyId: 1, timeout: .seconds(60)))
    await againDrain.stop()
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
        name: "files", specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "s", direction: .maximize))
    try database.mirror(studyId: study.id!, uri: server.uri, experimentName: "files")
    let trial = try database.createTrial(studyId: study.id!, tier: .fullTraining, params: [], paramsJSON: "{}")
    let directory = "\(sandbox.root)/artifacts here/run"
    try FileManager.default.createDirectory(atPath: "\(directory)/artifacts", withIntermediateDirectories: true)
    let model = "\(directory)/artifacts/my model#1?.npz"
    try Data("weights".utf8).write(to: URL(fileURLWithPath: model))
    try database.startTrial(trial, handle: #"{"external":{}}"#, runDirectory: directory)
    try database.finishTrial(id: trial.id!, .init(state: .completed, value: 1))
    _ = try database.registerModel(
      ModelVersion(
        modelName: "files-model", trialId: trial.id!, studyId: study.id!, value: 1, metricsJSON: "{}",
        paramsJSON: "{}", conditions: "s >= 0", artifactPath: model), alias: "champion", higherIsBetter: true)
    let mirror = MLflowMirror(database: database)
    let mirrorDrain = BackgroundDrain(mirror)
    #expect(await mirror.flush(timeout: .seconds(60)))
    await mirrorDrain.stop()

    let run = try #require(try database.mirroredRun(trialId: trial.id!))
    #expect(try await server.artifacts(runId: run.runId) == ["my model_1?.npz"], "MLflow refuses # in paths")
    let version = try await server.get("model-versions/get", ["name": "files-model", "version": "1"])
    #expect(
      ((version["model_version"] as? [String: Any])?["source"] as? String)?.hasSuffix("/artifacts/my model_1?.npz")
        == true)
  }
}

extension MLflowMirrorTests {
  @Test("as a service, the mirror sends what waits when its group shuts down, then lets go of its lease")
  func shutdownFlushes() async throws {
    let server = try await MLflowServer.start(in: "\(sandbox.root)/mlflow")
    defer { server.kill() }
    let database = sandbox.database
    let leasePath = "\(sandbox.root)/mlflow-mirror.lock"
    // A mirror that would look at the outbox again only in an hour, unless shut down
    var settings = MLflowMirror.Settings()
    settings.pollInterval = .seconds(3600)
    let mirror = MLflowMirror(database: database, leasePath: leasePath, settings: settings)
    let group = ServiceGroup(services: [mirror], logger: Logger(label: "test"))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
      tasks.addTask { try await group.run() }
      // Given a trial finished while it naps
      try await Task.sleep(for: .milliseconds(500))
      let study = try database.createStudy(
        StudyRecord(
          name: "late", specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "s", direction: .maximize))
      try database.mirror(studyId: study.id!, uri: server.uri, experimentName: "late")
      let trial = try database.createTrial(studyId: study.id!, tier: .quickTest, params: [], paramsJSON: "{}")
      try database.finishTrial(id: trial.id!, .init(state: .completed, value: 1))
      #expect(try database.mirrorBacklog() > 0)
      // When the group shuts down
      await group.triggerGracefulShutdown()
      try await tasks.waitForAll()
    }
    // Then the trial's run is in MLflow, nothing waits, and the lease is free for the next hpod
    #expect(try database.mirrorBacklog() == 0)
    let runs = try await server.runs(experimentId: try await server.experimentId(named: "late"))
    #expect(runs.count == 1)
    #expect(runs.first?.info["status"] as? String == "FINISHED")
    #expect(MirrorLease(path: leasePath).tryAcquire())
  }
}

@Suite("MLflow mirror: the outbox and its rules")
struct MLflowOutboxTests {
  let sandbox: StoreFolder

  init() throws {
    sandbox = try StoreFolder()
  }

  @Test("only a mirrored study fills the outbox, in the transaction of each change")
  func outboxFillsForMirroredStudiesOnly() throws {
    let database = sandbox.database
    let plain = try database.createStudy(
      StudyRecord(
        name: "plain", specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "s", direction: .maximize))
    let mirrored = try database.createStudy(
      StudyRecord(
        name: "mirrored", specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "s", direction: .maximize))
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

  @Test("one process at a time drains a store: a second hpod waits for the lease")
  func oneDrainerPerStore() {
    let path = "\(sandbox.root)/mlflow-mirror.lock"
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
    #expect(RunIdentity.name(trial: trial, lineage: lineage) == "trial 20 · config-017 Full Training #1")
    trial.tier = .quickTest
    #expect(
      RunIdentity.name(trial: trial, lineage: RunLineage(configNumber: 17, ordinal: 3, attempt: 1))
        == "trial 20 · config-017 Quick Test #3 (retry 1)")
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
