import Foundation
import HPODAPI
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SearchStrategies
import Testing
import TrackingBridge

@testable import hpod

@Suite("Queued configurations and warm starts over HTTP")
struct SearchStartAPITests {
  func yaml(_ daemon: TestDaemon, name: String, search: String, x: String = "{type: float, min: 0, max: 1}")
    throws -> String
  {
    let script = try daemon.script(
      "bowl.sh", #"echo "hpod {\"score\": $(awk "BEGIN { print -($1 - 0.3) * ($1 - 0.3) }")}""#)
    return """
      name: \(name)
      objective: {metric: score, direction: maximize}
      search: \(search)
      parameters:
        x: \(x)
      trial: {command: [\(script), "{x}"]}
      """
  }

  func submit(_ client: any TestClientProtocol, _ yaml: String) async throws -> API.Study {
    let created = try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
      response in
      #expect(response.status == .created, "\(response.text)")
      return try response.decode(API.Study.self)
    }
    let study = try await waitForStudy(client, created.id)
    #expect(study.state == "completed", "\(study.stateReason ?? "")")
    return study
  }

  @Test("a warm-started study says where it started, on the API and the dashboard; a bad warm start is a located 422")
  func warmStartOverHTTP() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let source = try await submit(
        client,
        try yaml(
          daemon, name: "wide", search: "{algorithm: random, seed: 4, max_trials: 8, enqueue: [{x: 0.9}, {x: 0.1}]}"))
      #expect(source.enqueued == 2)
      let sourceTrials = try await client.execute(uri: "/api/v1/studies/\(source.id)/trials", method: .get) {
        try $0.decode(API.TrialList.self).trials
      }
      #expect(
        sourceTrials.sorted { $0.number < $1.number }.prefix(2).map { $0.params["x"] } == [.double(0.9), .double(0.1)])
      let inside = sourceTrials.filter { ($0.params["x"]?.numericValue ?? 1) <= 0.5 }.count

      let follower = try await submit(
        client,
        try yaml(
          daemon, name: "narrow",
          search: "{algorithm: bayes, max_trials: 2, startup_trials: 2, warm_start: {study: wide}}",
          x: "{type: float, min: 0, max: 0.5}"))
      let warmStart = try #require(follower.warmStart)
      #expect(warmStart.studyId == source.id && warmStart.study == "wide")
      #expect(warmStart.observations == inside && warmStart.outsideSpace == 8 - inside)
      #expect(follower.quickTests == 2, "the source's trials use none of the budget")

      let (status, page, _) = try await client.get("/studies/\(follower.id)")
      #expect(status == .ok)
      #expect(page.contains("<h3>Warm start</h3><div class=\"big\">\(inside)</div>"))
      #expect(page.contains("<a href=\"/studies/\(source.id)\">study wide</a>"))

      try await client.execute(
        uri: "/api/v1/studies", method: .post,
        body: ByteBuffer(
          string: try yaml(daemon, name: "lost", search: "{algorithm: bayes, max_trials: 2, warm_start: {study: wdie}}")
        )
      ) { response in
        // A spec problem, located as the spec parser's are
        #expect(response.status == .unprocessableContent)
        #expect(response.text.contains(#""line":3"#), "\(response.text)")
        #expect(response.text.contains(#""path":"search.warm_start.study""#))
        #expect(response.text.contains("no study named 'wdie' in this store; did you mean 'wide'?"))
      }
    }
  }
}
