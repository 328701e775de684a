import Foundation
import HPODAPI
import HTTPTypes
import HummingbirdTesting
import NIOCore
import StudyAnalysis
import Testing
import TrackingBridge

@testable import hpod

@Suite("Repeats and significance over HTTP")
struct RepeatsAPITests {
  /// Configurations run twice, with a score of x plus a noise set by the repeat.
  func submit(_ daemon: TestDaemon, _ client: any TestClientProtocol) async throws -> API.Study {
    let script = try daemon.script(
      "repeat.sh", #"echo "hpod {\"score\": $(awk "BEGIN { print $1 + ($HPOD_REPEAT % 2 - 0.5) * 0.02 }")}""#)
    let yaml = """
      name: repeated-http
      objective: {metric: score, direction: maximize}
      search: {algorithm: grid}
      parameters:
        x: {values: [0.2, 0.8]}
      trial: {command: [\(script), "{x}"]}
      repeats: 2
      """
    let created = try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
      try $0.decode(API.Study.self)
    }
    let study = try await waitForStudy(client, created.id)
    #expect(study.state == "completed", "\(study.stateReason ?? "")")
    return study
  }

  func trials(_ client: any TestClientProtocol, _ id: Int64) async throws -> [API.Trial] {
    try await client.execute(uri: "/api/v1/studies/\(id)/trials", method: .get) {
      try $0.decode(API.TrialList.self).trials
    }
  }

  @Test("trials carry their repeat, seed and configuration value; compare tests the difference; more repeats run")
  func repeatsEndToEnd() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let study = try await submit(daemon, client)
      let id = study.id
      // Every trial says which repeat of which configuration it is, and that configuration's value
      let listed = try await trials(client, id)
      #expect(listed.count == 4)
      #expect(listed.map(\.repeatIndex).sorted() == [0, 0, 1, 1])
      #expect(Set(listed.map(\.configurationId)).count == 2)
      #expect(listed.allSatisfy { $0.configurationValue?.count == 2 && $0.seed != nil })
      let best = try #require(study.best)
      #expect(best.configurationValue.map { abs($0.mean - 0.8) < 1e-6 && $0.count == 2 } == true)

      // POST compare tests the two configurations
      let firsts = listed.filter { $0.repeatIndex == 0 }.map(\.number)
      let comparison = try await client.execute(
        uri: "/api/v1/studies/\(id)/compare", method: .post,
        body: ByteBuffer(string: #"{"trials": [\#(firsts[0]), \#(firsts[1])]}"#)
      ) { try $0.decode(RunComparison.self) }
      let test = try #require(comparison.significance.first)
      #expect(test.metric == "score" && test.counts == [2, 2] && test.pValue < 0.05)
      #expect(comparison.action == .trainInFull)
      #expect(comparison.recommendation.contains("beats trial"))
      // The compare page shows the table and offers more repeats beside the verdict
      let (_, page, _) = try await client.get("/studies/\(id)/compare?trials=\(firsts[0]),\(firsts[1])")
      #expect(page.contains("Differences over repeats"))
      #expect(page.contains("data-promote=\"/api/v1/studies/\(id)/trials/\(firsts[0])/repeats\""))
      // A bad request says what is expected
      try await client.execute(
        uri: "/api/v1/studies/\(id)/trials/\(firsts[0])/repeats", method: .post,
        body: ByteBuffer(string: #"{"repeats": 1000}"#)
      ) { response in
        #expect(response.status == .badRequest)
        #expect(response.text.contains("repeats must be a whole number from 1 to 100"))
      }

      // "Run more repeats" without a body asks for two more, and the ended study runs them
      let answer = try await client.execute(
        uri: "/api/v1/studies/\(id)/trials/\(firsts[0])/repeats", method: .post
      ) { response in
        #expect(response.status == .accepted)
        return try response.decode(API.RepeatRequest.self)
      }
      #expect(answer.requested && answer.message.contains("(4 in all)"))
      #expect(try await waitForStudy(client, id).state == "completed")
      var after: [API.Trial] = []
      let deadline = Date().addingTimeInterval(30)
      while Date() < deadline {
        after = try await trials(client, id)
        if after.filter({ $0.state == "completed" }).count == 6 { break }
        try await Task.sleep(for: .milliseconds(100))
      }
      let configuration = listed.first { $0.number == firsts[0] }!.configurationId
      #expect(after.filter { $0.configurationId == configuration }.map(\.repeatIndex).sorted() == [0, 1, 2, 3])
      #expect(after.first { $0.configurationId == configuration }?.configurationValue?.count == 4)

      // The export carries each trial's configuration, repeat and the configuration's value
      let csv = try await client.execute(uri: "/api/v1/studies/\(id)/export?format=csv", method: .get) { $0.text }
      #expect(
        csv.hasPrefix("number,tier,state,value,duration_seconds,source_trial,configuration,repeat,seed,value_mean"))
    }
  }
}
