import Foundation
import HPODAPI
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TrackingBridge

@testable import hpod

/// What hpod's MLflow API refuses and what a refusal leaves behind, over real HTTP to the app
/// on a real store (reliability issue #31).
@Suite("MLflow API guards", .timeLimit(.minutes(2)))
struct MLflowAPIGuardTests {
  /// A POST to an MLflow route: the status and the JSON object answered.
  static func mlflow(
    _ client: any TestClientProtocol, _ route: String, _ body: [String: Any], method: HTTPRequest.Method = .post
  ) async throws -> (status: Int, json: [String: Any]) {
    let data = try JSONSerialization.data(withJSONObject: body)
    return try await client.execute(
      uri: "/api/2.0/mlflow/\(route)", method: method, headers: [.contentType: "application/json"],
      body: ByteBuffer(bytes: data)
    ) { response in
      let object = try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
      return (Int(response.status.code), object ?? [:])
    }
  }

  /// An experiment with `runs` runs made through the API, each with a param and a tag.
  static func experiment(_ client: any TestClientProtocol, runs: Int) async throws -> (String, [String]) {
    let created = try await mlflow(client, "experiments/create", ["name": "guarded-\(UUID().uuidString.prefix(6))"])
    let experimentId = try #require(created.json["experiment_id"] as? String)
    var runIds: [String] = []
    for index in 0..<runs {
      let run = try await mlflow(client, "runs/create", ["experiment_id": experimentId, "run_name": "run \(index)"])
      let info = (run.json["run"] as? [String: Any])?["info"] as? [String: Any]
      runIds.append(try #require(info?["run_id"] as? String))
    }
    return (experimentId, runIds)
  }

  @Test("runs/search reads an experiment named 10,000 times once, and bounds how many it may name")
  func repeatedExperimentIds() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let (experimentId, runIds) = try await Self.experiment(client, runs: 30)
      // One id repeated: each run once, as MLflow answers
      let search = try await Self.mlflow(
        client, "runs/search", ["experiment_ids": Array(repeating: experimentId, count: 10_000)])
      #expect(search.status == 200)
      let found = (search.json["runs"] as? [[String: Any]] ?? []).compactMap {
        ($0["info"] as? [String: Any])?["run_id"] as? String
      }
      #expect(found.count == runIds.count, "\(found.count) runs for \(runIds.count)")
      #expect(Set(found) == Set(runIds))
      // More different experiments than a search may name: a 400 that says the limit
      let many = try await Self.mlflow(client, "runs/search", ["experiment_ids": (0..<1_001).map(String.init)])
      #expect(many.status == 400)
      #expect(many.json["error_code"] as? String == "INVALID_PARAMETER_VALUE")
      #expect((many.json["message"] as? String)?.contains("at most 1000") == true, "\(many.json)")
      // max_results beyond MLflow's 50,000
      let page = try await Self.mlflow(
        client, "runs/search", ["experiment_ids": [experimentId], "max_results": 50_001])
      #expect(page.status == 400)
      #expect(page.json["error_code"] as? String == "INVALID_PARAMETER_VALUE")
    }
  }

  @Test("a body over the MLflow routes' 16 MB limit is a 413 in MLflow's error shape")
  func oversizedBody() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let body = "{\"filter\": \"" + String(repeating: "x", count: 17 << 20) + "\"}"
      let (status, json) = try await client.execute(
        uri: "/api/2.0/mlflow/runs/search", method: .post, headers: [.contentType: "application/json"],
        body: ByteBuffer(string: body)
      ) { response in
        (
          response.status.code,
          try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:]
        )
      }
      #expect(status == 413)
      #expect(json["error_code"] as? String == "REQUEST_LIMIT_EXCEEDED", "\(json)")
      #expect((json["message"] as? String)?.contains("16 MB") == true, "\(json)")
    }
  }

  @Test("an artifact upload creates or replaces one file: never a folder, never through a link")
  func artifactUploadsStayFiles() async throws {
    let daemon = try TestDaemon()
    let outside = "\(daemon.folder)/outside"
    try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
    try "secret".write(toFile: "\(outside)/secret.txt", atomically: true, encoding: .utf8)
    try await daemon.test { client in
      let (experimentId, runIds) = try await Self.experiment(client, runs: 1)
      let run = runIds[0]
      let base = "/api/2.0/mlflow-artifacts/artifacts/\(experimentId)/\(run)/artifacts"
      func put(_ path: String, _ text: String) async throws -> (Int, String) {
        try await client.execute(uri: base + path, method: .put, body: ByteBuffer(string: text)) {
          (Int($0.status.code), String(buffer: $0.body))
        }
      }
      func get(_ uri: String) async throws -> (Int, String) {
        try await client.execute(uri: uri, method: .get) { (Int($0.status.code), String(buffer: $0.body)) }
      }
      let folder = "\(daemon.folder)/home/tracked-runs/\(run)/artifacts"
      #expect(try await put("/model/weights.bin", "w1").0 == 200)
      #expect(try await put("/model/weights.bin", "w2").0 == 200)
      #expect(try String(contentsOfFile: "\(folder)/model/weights.bin", encoding: .utf8) == "w2")

      // No file path, or a folder's: refused, and the folder's files are all still there
      for path in ["", "/", "/model", "/model/"] {
        let (status, body) = try await put(path, "x")
        #expect(status == 400, "PUT \(path): \(status) \(body)")
        #expect(body.contains("INVALID_PARAMETER_VALUE"), "\(body)")
      }
      #expect(try String(contentsOfFile: "\(folder)/model/weights.bin", encoding: .utf8) == "w2")

      // A link the run's folder holds is not followed, to read or to write
      try FileManager.default.createSymbolicLink(atPath: "\(folder)/escape", withDestinationPath: outside)
      let (readStatus, readBody) = try await get("\(base)/escape/secret.txt")
      #expect(readStatus == 400 && !readBody.contains("secret\""), "\(readStatus) \(readBody)")
      #expect(try await put("/escape/planted.txt", "x").0 == 400)
      #expect(try await put("/escape", "x").0 == 400)
      #expect(!FileManager.default.fileExists(atPath: "\(outside)/planted.txt"))
      #expect(try String(contentsOfFile: "\(outside)/secret.txt", encoding: .utf8) == "secret")
      let listing = try await get(
        "/api/2.0/mlflow-artifacts/artifacts?path=\(experimentId)/\(run)/artifacts")
      #expect(listing.0 == 200 && listing.1.contains("model") && !listing.1.contains("escape"), "\(listing)")

      // The experiment in the path must be the run's
      let wrong = try await get(
        "/api/2.0/mlflow-artifacts/artifacts/\(Int(experimentId)! + 7)/\(run)/artifacts/model/weights.bin")
      #expect(wrong.0 == 404, "\(wrong)")
      let (status, text) = try await get("\(base)/model/weights.bin")
      #expect(status == 200 && text == "w2")
    }
  }

  @Test("a trial's run names its study's experiment from its first read, and takes artifacts under it")
  func trialRunExperimentIsStable() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let study = try await client.execute(
        uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: Self.askAndTell)
      ) { try $0.decode(API.Study.self) }
      let trial = try await Self.ask(client, study: study.id)
      // The first call the trial's mlflow client makes: get its run
      let run = try await Self.mlflow(client, "runs/get", ["run_id": "hpod-trial-\(trial.id)"])
      let info = try #require((run.json["run"] as? [String: Any])?["info"] as? [String: Any])
      let experimentId = try #require(info["experiment_id"] as? String)
      #expect(experimentId != "0", "\(info)")
      #expect(info["artifact_uri"] as? String == "mlflow-artifacts:/\(experimentId)/hpod-trial-\(trial.id)/artifacts")
      let byName = try await Self.mlflow(client, "experiments/get-by-name", ["experiment_name": "told"])
      #expect((byName.json["experiment"] as? [String: Any])?["experiment_id"] as? String == experimentId)
      let path = "/api/2.0/mlflow-artifacts/artifacts/\(experimentId)/hpod-trial-\(trial.id)/artifacts/model.json"
      try await client.execute(uri: path, method: .put, body: ByteBuffer(string: "{}")) { #expect($0.status == .ok) }
      try await client.execute(uri: path, method: .get) { #expect($0.status == .ok && $0.text == "{}") }
    }
  }

  @Test("hpod.* tags of a trial's run cannot be set or deleted through the API")
  func reservedTags() async throws {
    let daemon = try TestDaemon()
    let script = try daemon.script("one.sh", #"echo 'hpod {"score": 1}'"#)
    let yaml = """
      name: tagged
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: 1}
      parameters: {x: {type: float, min: 0, max: 1}}
      trial: {command: [\(script)]}
      """
    try await daemon.test { client in
      try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
        #expect($0.status == .created)
      }
      #expect(try await waitForStudy(client, 1).state == "completed")
      let trial = try #require(try daemon.service.database.trials(studyId: 1).first)
      let runId = TrackingStore.runId(trialId: trial.id!)
      let before = try daemon.service.database.tags(trialId: trial.id!)
      let attempts: [(String, [String: Any])] = [
        ("runs/set-tag", ["run_id": runId, "key": "hpod.tier", "value": "full_training"]),
        ("runs/set-tag", ["run_id": runId, "key": "hpod.promotion_request", "value": "yes"]),
        ("runs/delete-tag", ["run_id": runId, "key": "hpod.tier"]),
        ("runs/log-batch", ["run_id": runId, "tags": [["key": "hpod.repeat_request", "value": "9"]]]),
      ]
      for (route, body) in attempts {
        let answer = try await Self.mlflow(client, route, body)
        #expect(answer.status == 400, "\(route) \(body): \(answer)")
        #expect(answer.json["error_code"] as? String == "INVALID_PARAMETER_VALUE")
        #expect((answer.json["message"] as? String)?.contains("hpod.") == true)
      }
      // Only the note of what was refused (for the trial's failure reason) was added
      var after = try daemon.service.database.tags(trialId: trial.id!)
      #expect(after.removeValue(forKey: HpodTag.trackingRefusal)?.contains("hpod.repeat_request") == true)
      #expect(after == before)
      let run = try await Self.mlflow(client, "runs/get", ["run_id": runId])
      let tags = ((run.json["run"] as? [String: Any])?["data"] as? [String: Any])?["tags"] as? [[String: String]]
      #expect(tags?.first { $0["key"] == "hpod.tier" }?["value"] == "quick_test", "\(tags ?? [])")
      // A tag of the user's own is still set and deleted
      #expect(
        try await Self.mlflow(client, "runs/set-tag", ["run_id": runId, "key": "note", "value": "ok"]).status == 200)
      #expect(try await Self.mlflow(client, "runs/delete-tag", ["run_id": runId, "key": "note"]).status == 200)
    }
  }

  @Test("metric names that are empty or hold a NUL are refused wherever metrics come in")
  func badMetricNames() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let (_, runIds) = try await Self.experiment(client, runs: 1)
      for name in ["", "loss\u{0}x"] {
        let single = try await Self.mlflow(
          client, "runs/log-metric", ["run_id": runIds[0], "key": name, "value": 1, "timestamp": 1])
        #expect(single.status == 400, "\(single)")
        let batch = try await Self.mlflow(
          client, "runs/log-batch",
          ["run_id": runIds[0], "metrics": [["key": name, "value": 1, "timestamp": 1, "step": 0]]])
        #expect(batch.status == 400, "\(batch)")
      }
      // A spec whose objective's name holds a NUL
      let spec = """
        name: nul-metric
        objective: {metric: "sco\\0re", direction: maximize}
        search: {algorithm: random, seed: 1, max_trials: 2}
        parameters: {x: {type: float, min: 0, max: 1}}
        """
      try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: spec)) { response in
        #expect(response.status == .unprocessableContent, "\(response.text)")
        #expect(response.text.contains("NUL") && response.text.contains("objective.metric"), "\(response.text)")
      }
    }
  }

  static let askAndTell = """
    name: told
    objective: {metric: loss, direction: minimize}
    search: {algorithm: random, seed: 4, max_trials: 5}
    parameters: {x: {type: float, min: -1, max: 1}}
    """

  static func ask(_ client: any TestClientProtocol, study: Int64) async throws -> API.Trial {
    try await client.execute(uri: "/api/v1/studies/\(study)/ask", method: .post) { response in
      #expect(response.status == .created, "\(response.text)")
      return try response.decode(API.Trial.self)
    }
  }

  static func tell(_ client: any TestClientProtocol, trial: Int64, _ body: String) async throws -> (Int, String) {
    try await client.execute(uri: "/api/v1/trials/\(trial)/tell", method: .post, body: ByteBuffer(string: body)) {
      (Int($0.status.code), $0.text)
    }
  }

  @Test("of 20 concurrent tells of one trial one wins, and the refused ones write nothing")
  func concurrentTells() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let study = try await client.execute(
        uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: Self.askAndTell)
      ) { try $0.decode(API.Study.self) }
      let trial = try await Self.ask(client, study: study.id)
      // Each tell logs points under its own metric name
      let statuses = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
        for index in 0..<20 {
          group.addTask {
            let body = #"{"value": \#(index), "metrics": [{"name": "teller\#(index)", "step": 1, "value": 1}]}"#
            return (index, try await Self.tell(client, trial: trial.id, body).0)
          }
        }
        return try await group.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
      }
      let winners = statuses.filter { $0.value == 200 }.map(\.key)
      #expect(winners.count == 1, "\(statuses)")
      #expect(statuses.values.filter { $0 == 409 }.count == 19, "\(statuses)")
      // The winner's own point and its value as the objective's point (`loss`), nothing else.
      let points = try daemon.service.database.metrics(trialId: trial.id)
      #expect(points.map(\.name).sorted() == ["loss"] + winners.map { "teller\($0)" }, "\(points.map(\.name))")
      #expect(points.first { $0.name == "loss" }?.value == winners.first.map(Double.init))
      #expect(try daemon.service.database.trial(id: trial.id)?.value == winners.first.map(Double.init))
    }
  }

  @Test("a tell after its study was cancelled, or with a state the API does not document, changes nothing")
  func refusedTells() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let study = try await client.execute(
        uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: Self.askAndTell)
      ) { try $0.decode(API.Study.self) }
      let trial = try await Self.ask(client, study: study.id)
      for body in [
        #"{"state": "timed_out"}"#, #"{"state": "cancelled"}"#, #"{"state": "running"}"#,
        #"{"value": 1, "metrics": [{"name": "", "step": 1, "value": 1}]}"#,
        #"{"value": 1, "metrics": [{"name": "lo\u0000ss", "step": 1, "value": 1}]}"#,
      ] {
        let (status, text) = try await Self.tell(client, trial: trial.id, body)
        #expect(status == 400, "\(body): \(status) \(text)")
      }
      #expect(try daemon.service.database.trial(id: trial.id)?.state == .running)

      try await client.execute(uri: "/api/v1/studies/\(study.id)/cancel", method: .post) { #expect($0.status == .ok) }
      let (status, text) = try await Self.tell(
        client, trial: trial.id, #"{"value": 0.5, "metrics": [{"name": "loss", "step": 1, "value": 0.5}]}"#)
      #expect(status == 409, "\(text)")
      #expect(text.contains("cancelled"), "\(text)")
      let after = try #require(try daemon.service.database.trial(id: trial.id))
      #expect(after.state == .running && after.value == nil)
      #expect(try daemon.service.database.metrics(trialId: trial.id).isEmpty)
      #expect(try daemon.service.database.study(id: study.id)?.state == .cancelled)
    }
  }
}
