import Foundation
import HPODAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import TrackingBridge
import TrialScheduler

@testable import hpod

/// A daemon app on a fresh store, served over real HTTP on a free port.
struct TestDaemon {
  let folder: String
  let service: StudyService
  let events = EventBus()

  init(maxConcurrentTrials: Int = 2) throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-server-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let home = HpodHome(path: "\(folder)/home")
    service = StudyService(
      database: try AppDatabase.open(at: home.databasePath), home: home, maxConcurrentTrials: maxConcurrentTrials,
      publish: events.publish)
  }

  func test<R: Sendable>(token: String? = nil, _ body: @Sendable (any TestClientProtocol) async throws -> R)
    async throws -> R
  {
    let app = buildApplication(
      service: service, events: events, settings: ServerSettings(port: 0, token: token), logger: Logger(label: "test"),
      services: [SchedulerService(service: service)])
    return try await app.test(.live, body)
  }

  func script(_ name: String, _ body: String) throws -> String {
    let path = "\(folder)/\(name)"
    try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o755)
    return path
  }
}

extension TestResponse {
  func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
    try API.decoder.decode(T.self, from: Data(buffer: body))
  }

  var text: String { String(buffer: body) }
}

/// Polls until the study finishes (or `seconds` pass).
func waitForStudy(_ client: any TestClientProtocol, _ id: Int64, seconds: Double = 30) async throws -> API.Study {
  let deadline = Date().addingTimeInterval(seconds)
  while true {
    let study = try await client.execute(uri: "/api/v1/studies/\(id)", method: .get) { try $0.decode(API.Study.self) }
    if ["completed", "failed", "cancelled", "interrupted"].contains(study.state) || Date() > deadline { return study }
    try await Task.sleep(for: .milliseconds(100))
  }
}

@Suite("HTTP API")
struct ServerTests {
  @Test("a submitted study runs to the end and can be inspected through every read endpoint")
  func submitAndInspect() async throws {
    let daemon = try TestDaemon()
    let trial = try daemon.script(
      "t.sh", #"echo "progress"; for s in 1 2; do echo "hpod {\"step\": $s, \"score\": $1}"; done"#)
    let yaml = """
      name: http-study
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: 4, parallelism: 2}
      parameters:
        x: {type: float, min: 0, max: 1}
      trial: {command: [\(trial), "{x}"]}
      """
    try await daemon.test { client in
      let created = try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
        response in
        #expect(response.status == .created)
        return try response.decode(API.Study.self)
      }
      let study = try await waitForStudy(client, created.id)
      #expect(study.state == "completed")
      #expect(study.counts["completed"] == 4)

      let trials = try await client.execute(uri: "/api/v1/studies/\(created.id)/trials?sort=value", method: .get) {
        try $0.decode(API.TrialList.self).trials
      }
      #expect(trials.map(\.value) == trials.map(\.value).sorted { ($0 ?? 0) > ($1 ?? 0) })
      let best = try await client.execute(uri: "/api/v1/studies/\(created.id)/best", method: .get) {
        try $0.decode(API.Trial.self)
      }
      #expect(best.id == trials[0].id)

      let detail = try await client.execute(uri: "/api/v1/trials/\(best.id)", method: .get) {
        try $0.decode(API.TrialDetail.self)
      }
      #expect(detail.metrics["score"]?.map(\.step) == [1, 2])
      #expect(detail.logTail["stdout"]?.hasPrefix("progress\n") == true)

      let log = try await client.execute(uri: "/api/v1/trials/\(best.id)/log?tail=1", method: .get) { $0.text }
      #expect(log.hasPrefix("hpod {\"step\": 2"))
      let csv = try await client.execute(uri: "/api/v1/studies/\(created.id)/export?format=csv", method: .get) {
        $0.text
      }
      let lines = csv.split(separator: "\n")
      #expect(
        lines.first
          == "number,tier,state,value,duration_seconds,source_trial,configuration,repeat,seed,value_mean,value_std,value_count,param.x,metric.score"
      )
      #expect(lines.count == 5)
      let metrics = try await client.execute(uri: "/metrics", method: .get) { $0.text }
      #expect(metrics.contains("hpod_trials{state=\"completed\",tier=\"quick_test\"} 4.0\n"))
      // HTTP requests, through swift-metrics and Hummingbird's middleware
      #expect(metrics.contains("hb_requests{"), "\(metrics)")
      // the daemon's own suggestion timings: one per trial of the study it ran
      #expect(metrics.contains("hpod_suggestion_seconds_count 4\n"), "\(metrics)")
    }
  }

  @Test("a study mirrored to an MLflow that is down shows its waiting writes in /metrics")
  func mirrorBacklogMetric() async throws {
    let daemon = try TestDaemon()
    let script = try daemon.script("one.sh", #"echo 'hpod {"score": 1}'"#)
    try await daemon.test { client in
      // Port 9 (discard) on loopback: nothing answers there.
      let yaml = """
        name: mirrored
        objective: {metric: score, direction: maximize}
        search: {algorithm: random, seed: 1, max_trials: 2}
        parameters: {x: {type: float, min: 0, max: 1}}
        trial: {command: [\(script)]}
        tracking: {mlflow: {uri: "http://127.0.0.1:9"}}
        """
      let created = try await client.execute(
        uri: "/api/v1/studies", method: .post, headers: [.contentType: "application/yaml"],
        body: ByteBuffer(string: yaml)
      ) { try $0.decode(API.Study.self) }
      #expect(try await waitForStudy(client, created.id).state == "completed")
      let metrics = try await client.execute(uri: "/metrics", method: .get) { $0.text }
      let backlog = metrics.split(separator: "\n").first {
        $0.hasPrefix("hpod_mlflow_backlog{study=\"\(created.id)\"}")
      }
      #expect(backlog.flatMap { Double($0.split(separator: " ").last!) } ?? 0 >= 6, "2 runs, 2 ends, 2 uploads, points")
      #expect(metrics.contains("hpod_mlflow_refused_writes{study=\"\(created.id)\"} 0"))
    }
  }

  @Test("32 trial listings at once all answer: the store's reads never starve the daemon's threads")
  func concurrentListingsAnswer() async throws {
    let daemon = try TestDaemon()
    let trial = try daemon.script("t.sh", #"echo "hpod {\"score\": $1}""#)
    let yaml = """
      name: busy-study
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: 40, parallelism: 4}
      parameters:
        x: {type: float, min: 0, max: 1}
      trial: {command: [\(trial), "{x}"]}
      """
    try await daemon.test { client in
      let created = try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
        try $0.decode(API.Study.self)
      }
      #expect(try await waitForStudy(client, created.id).state == "completed")
      let started = Date()
      let answered = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<32 {
          group.addTask {
            var answered = 0
            for _ in 0..<10 {
              let count = try await client.execute(
                uri: "/api/v1/studies/\(created.id)/trials?sort=value&limit=20", method: .get
              ) { try $0.decode(API.TrialList.self).trials.count }
              if count == 20 { answered += 1 }
            }
            return answered
          }
        }
        return try await group.reduce(0, +)
      }
      #expect(answered == 320)
      #expect(Date().timeIntervalSince(started) < 20, "320 listings took \(Date().timeIntervalSince(started)) s")
    }
  }

  @Test("an invalid spec is a 422 listing every located problem")
  func rejectsInvalidSpec() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      try await client.execute(
        uri: "/api/v1/studies", method: .post, headers: [HTTPField.Name("X-HPOD-Spec-Name")!: "mine.yaml"],
        body: ByteBuffer(string: "name: x\nobjective: {metric: m, direction: sideways}\nparameters: {}\n")
      ) { response in
        #expect(response.status == .unprocessableContent)
        let error = try response.decode(API.ErrorBody.self).error
        #expect(error.message == "invalid study spec (3 problems)")
        #expect(error.issues?.first { $0.path == "objective.direction" }?.line == 2)
        #expect(error.issues?.allSatisfy { $0.file == "mine.yaml" } == true)
      }
    }
  }

  @Test("with a token, every endpoint but health needs it")
  func requiresToken() async throws {
    let daemon = try TestDaemon()
    try await daemon.test(token: "s3cret") { client in
      try await client.execute(uri: "/api/v1/studies", method: .get) { response in
        #expect(response.status == .unauthorized)
        #expect(response.text.contains("pass --token or set HPOD_TOKEN"))
      }
      try await client.execute(uri: "/api/v1/studies", method: .get, headers: [.authorization: "Bearer nope"]) {
        #expect($0.status == .unauthorized)
      }
      try await client.execute(uri: "/api/v1/studies", method: .get, headers: [.authorization: "Bearer s3cret"]) {
        #expect($0.status == .ok)
      }
      try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
    }
  }

  @Test("ask and tell drive a study whose trials run elsewhere")
  func askAndTell() async throws {
    let daemon = try TestDaemon()
    let yaml = """
      name: external
      objective: {metric: loss, direction: minimize}
      search: {algorithm: random, seed: 4, max_trials: 3}
      parameters:
        x: {type: float, min: -1, max: 1}
      """
    try await daemon.test { client in
      let study = try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
        try $0.decode(API.Study.self)
      }
      for _ in 0..<3 {
        let trial = try await client.execute(uri: "/api/v1/studies/\(study.id)/ask", method: .post) { response in
          #expect(response.status == .created)
          return try response.decode(API.Trial.self)
        }
        guard case .double(let x)? = trial.params["x"] else { Issue.record("no x"); return }
        let tell = #"{"value": \#(x * x), "metrics": [{"name": "loss", "step": 1, "value": \#(x * x)}]}"#
        try await client.execute(uri: "/api/v1/trials/\(trial.id)/tell", method: .post, body: ByteBuffer(string: tell))
        {
          #expect($0.status == .ok)
        }
      }
      // the budget is spent: the study completed and asks are refused
      let done = try await waitForStudy(client, study.id, seconds: 2)
      #expect(done.state == "completed")
      try await client.execute(uri: "/api/v1/studies/\(study.id)/ask", method: .post) { response in
        #expect(response.status == .conflict)
      }
    }
  }

  /// Requests a client should never send, each with the answer the daemon must give.
  static let badRequests: [(String, HTTPRequest.Method, String, HTTPResponse.Status)] = [
    ("/api/v1/trials/1/tell", .post, "{not json", .badRequest),
    ("/api/v1/trials/1/tell", .post, #"{"value": "high"}"#, .badRequest),
    ("/api/v1/studies/999", .get, "", .notFound),
    ("/api/v1/trials/999", .get, "", .notFound),
    ("/api/v1/studies/abc", .get, "", .badRequest),
    ("/api/v1/studies", .delete, "", .notFound),
    ("/api/v1/trials/1/log?stream=../../../etc/passwd", .get, "", .badRequest),
    ("/api/v1/trials/..%2F..%2Fetc%2Fpasswd/log", .get, "", .badRequest),
    ("/api/v1/studies/1/trials?sort=rowid;drop", .get, "", .badRequest),
    ("/api/v1/studies/1/export?format=xml", .get, "", .badRequest),
    (
      "/api/v1/studies", .post,
      "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
      .unprocessableContent
    ),
    (
      "/api/v1/studies", .post, String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000),
      .unprocessableContent
    ),
    ("/api/v1/studies", .post, String(repeating: "x", count: 2 << 20), .contentTooLarge),
  ]

  @Test("bad requests get a clear 4xx with a JSON message, and the daemon keeps serving")
  func survivesBadInput() async throws {
    let daemon = try TestDaemon()
    let trial = try daemon.script("ok.sh", #"echo "hpod {\"score\": 1}""#)
    try await daemon.test { client in
      // Given a finished study, so trial ids exist
      let yaml =
        "name: s\nobjective: {metric: score, direction: maximize}\nsearch: {max_trials: 1}\nparameters:\n  x: {type: float, min: 0, max: 1}\ntrial: {command: [\(trial)]}\n"
      let study = try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
        try $0.decode(API.Study.self)
      }
      _ = try await waitForStudy(client, study.id)
      // When each bad request is sent
      for (uri, method, body, expected) in Self.badRequests {
        try await client.execute(uri: uri, method: method, body: body.isEmpty ? nil : ByteBuffer(string: body)) {
          response in
          #expect(response.status == expected, "\(method) \(uri.prefix(80)) → \(response.status)")
          if expected != .contentTooLarge {
            #expect(
              (try? response.decode(API.ErrorBody.self))?.error.message.isEmpty == false,
              "\(uri.prefix(80)): \(response.text.prefix(200))")
          }
        }
      }
      // Then the daemon still answers and still runs studies
      try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
      let again = try await client.execute(
        uri: "/api/v1/studies", method: .post,
        body: ByteBuffer(string: yaml.replacingOccurrences(of: "name: s", with: "name: t"))
      ) { try $0.decode(API.Study.self) }
      #expect(try await waitForStudy(client, again.id).state == "completed")
    }
  }
}
