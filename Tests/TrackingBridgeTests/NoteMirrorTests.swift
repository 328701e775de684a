import Foundation
import MLflowTestServer
import Testing

@testable import TrackingBridge

/// A run's note (`mlflow.note.content`) reaches a real MLflow 3.17.2 server through the mirror,
/// set by hpod or by a trial's own mlflow client, and an over-long note changes nothing.
@Suite("Notes mirrored to a real MLflow server", .serialized, .timeLimit(.minutes(2)))
struct NoteMirrorTests {
  let sandbox: StoreFolder

  init() throws {
    sandbox = try StoreFolder()
  }

  @Test(
    "a trial's note set in hpod, then through hpod's MLflow API, then removed, is the mirrored run's mlflow.note.content each time"
  )
  func noteReachesTheServer() async throws {
    let server = try await MLflowServer.start(in: "\(sandbox.root)/mlflow")
    defer { server.kill() }
    let database = sandbox.database
    // Given a mirrored study with a finished trial
    let study = try database.createStudy(
      StudyRecord(
        name: "noted", specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "score", direction: .maximize))
    try database.mirror(studyId: study.id!, uri: server.uri, experimentName: "hpod-notes")
    let trial = try database.createTrial(studyId: study.id!, tier: .quickTest, params: [], paramsJSON: "{}")
    try database.finishTrial(id: trial.id!, .init(state: .completed, value: 1))
    let mirror = MLflowMirror(database: database)
    let drain = BackgroundDrain(mirror)
    #expect(await mirror.flush(timeout: .seconds(60)))
    let experiment = try await server.experimentId(named: "hpod-notes")
    func serverNote() async throws -> String? {
      try await server.runs(experimentId: experiment).first?.keyValues("tags")[Note.tagKey]
    }

    // When hpod sets its note
    try database.setTrialNote(trialId: trial.id!, text: "lr too high: diverged at step 3  \n")
    #expect(await mirror.flush(timeout: .seconds(60)))
    // Then the server's run has it (trailing whitespace dropped)
    #expect(try await serverNote() == "lr too high: diverged at step 3")

    // When the trial's client sets it through hpod's MLflow API
    let store = TrackingStore(database: database, home: HpodHome(path: sandbox.root))
    try store.logBatch(
      TrackingStore.runId(trialId: trial.id!), metrics: [], params: [], tags: [(Note.tagKey, "kept as a baseline")])
    #expect(await mirror.flush(timeout: .seconds(60)))
    // Then it is the run's note in hpod and on the server
    #expect(try database.trialNote(trialId: trial.id!) == "kept as a baseline")
    #expect(try await serverNote() == "kept as a baseline")

    // When a note over the limit is refused, nothing changes
    #expect(throws: Note.Refusal.self) {
      try database.setTrialNote(trialId: trial.id!, text: String(repeating: "é", count: Note.maxLength + 1))
    }
    #expect(try database.trialNote(trialId: trial.id!) == "kept as a baseline")
    #expect(try database.mirrorBacklog() == 0)

    // When it is removed
    try database.setTrialNote(trialId: trial.id!, text: "")
    #expect(await mirror.flush(timeout: .seconds(60)))
    // Then hpod has none and the server's is empty (MLflow's own way to clear a note)
    #expect(try database.trialNote(trialId: trial.id!) == nil)
    #expect(try await serverNote() == "")
    await drain.stop()
  }

  @Test(
    "a note set on the server's run while the trial ran (the trial logged there directly) is read back as its note when it ends"
  )
  func noteReadBack() async throws {
    let server = try await MLflowServer.start(in: "\(sandbox.root)/mlflow")
    defer { server.kill() }
    let database = sandbox.database
    // Given a mirrored study whose trial runs, its run made on the server
    let study = try database.createStudy(
      StudyRecord(
        name: "remote", specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "score", direction: .maximize))
    try database.mirror(studyId: study.id!, uri: server.uri, experimentName: "hpod-remote-notes")
    let trial = try database.createTrial(studyId: study.id!, tier: .quickTest, params: [], paramsJSON: "{}")
    try database.startTrial(trial, handle: #"{"external":{}}"#, runDirectory: "\(sandbox.root)/none")
    let mirror = MLflowMirror(database: database)
    let drain = BackgroundDrain(mirror)
    #expect(await mirror.flush(timeout: .seconds(60)))
    let run = try #require(try database.mirroredRun(trialId: trial.id!))
    // When the trial's script sets a note there (mlflow.set_tag against that server), and ends
    _ = try await server.post(
      "runs/set-tag", ["run_id": run.runId, "key": Note.tagKey, "value": "set by the script"])
    try database.finishTrial(id: trial.id!, .init(state: .completed, value: 1))
    #expect(await mirror.flush(timeout: .seconds(60)))
    await drain.stop()
    // Then it is the trial's note in hpod
    #expect(try database.trialNote(trialId: trial.id!) == "set by the script")
  }
}
