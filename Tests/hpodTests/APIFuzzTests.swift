import Foundation
import HPODAPI
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SearchStrategies
import Testing
import TrialScheduler

@testable import hpod

/// Generated requests against every route of the API and the dashboard, over real HTTP:
/// ids, numbers and query values too large, negative, fractional or not numbers at all, bodies
/// that are broken JSON, JSON with out-of-range numbers, or specs with hostile values. No
/// response may be a 5xx and the daemon must keep answering.
@Suite("HTTP API fuzzing")
struct APIFuzzTests {
  static let routes = [
    "GET /api/v1/studies", "POST /api/v1/studies", "GET /api/v1/studies/{id}", "POST /api/v1/studies/{id}/cancel",
    "POST /api/v1/studies/{id}/resume", "GET /api/v1/studies/{id}/trials", "GET /api/v1/studies/{id}/best",
    "POST /api/v1/studies/{id}/ask", "GET /api/v1/studies/{id}/export", "GET /api/v1/studies/{id}/heatmap",
    "GET /api/v1/studies/{id}/compare", "GET /api/v1/studies/{id}/importance",
    "POST /api/v1/studies/{id}/trials/{n}/promote", "GET /api/v1/trials/{id}", "GET /api/v1/trials/{id}/metrics/{name}",
    "GET /api/v1/trials/{id}/log", "POST /api/v1/trials/{id}/tell", "GET /", "GET /studies/{id}",
    "GET /studies/{id}/runs/{n}", "GET /studies/{id}/runs/{n}/artifacts/{name}", "POST /studies/{id}/runs/{n}/promote",
    "GET /studies/{id}/compare", "GET /login", "POST /login", "GET /healthz", "GET /readyz", "GET /metrics",
  ]

  static let numbers = [
    "1", "2", "0", "-1", "999", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
    "99999999999999999999999", "1e300", "1.5", "NaN", "inf", "abc", "%00", "%FF%FE", "", "1%20OR%201=1",
    String(repeating: "9", count: 400),
  ]
  static let queryKeys = [
    "limit", "sort", "order", "state", "tier", "x", "y", "metric", "lines", "tail", "page", "format", "trials", "q",
    "stream", "offset",
  ]
  static let bodies = [
    "", "{", "null", "[]", "{\"value\": 1e400}", "{\"value\": -1e400}", "{\"value\": 0.5}",
    "{\"value\": 1, \"state\": \"completed\", \"metrics\": [{\"name\": \"loss\", \"step\": 1e300, \"value\": 1}]}",
    "{\"value\": 1, \"metrics\": [{\"name\": \"loss\", \"step\": 9223372036854775808, \"value\": 1}]}",
    "{\"value\": \"x\", \"state\": 7}",
    "{\"state\": \"pruned\", \"reason\": \"" + String(repeating: "r", count: 5000) + "\"}",
    "token=abc",
    "name: x\nobjective: {metric: m, direction: minimize}\nsearch: {algorithm: random, max_trials: 1e300}\n",
    "name: y\nobjective: {metric: m, direction: minimize}\nsearch: {algorithm: random, max_trials: 2}\nparameters:\n  a: {type: int, min: 0, max: 1e300}\n",
    "name: z\nobjective: {metric: m, direction: minimize}\nsearch: {algorithm: grid}\nparameters:\n  a: {type: float, min: 0, max: 1, step: 1e-300}\n",
    String(repeating: "[", count: 10_000),
  ]

  @Test("thousands of generated requests get no 5xx and the daemon keeps answering")
  func generatedRequestsNeverFailTheServer() async throws {
    let daemon = try TestDaemon()
    let script = try daemon.script("one.sh", #"echo "hpod {\"score\": $1}""#)
    let study = """
      name: fuzzed
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: 3}
      parameters: {x: {type: float, min: 0, max: 1}}
      trial: {command: [\(script), "{x}"]}
      """
    let askAndTell = """
      name: told
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: 50}
      parameters: {x: {type: float, min: 0, max: 1}}
      """
    try await daemon.test { client in
      for yaml in [study, askAndTell] {
        try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
          #expect($0.status == .created)
        }
      }
      _ = try await waitForStudy(client, 1)
      var random = SplitMix64(seed: 0xF00D)
      var serverErrors: [String] = []
      var sent = 0
      let deadline = Date().addingTimeInterval(25)
      while sent < 3000, Date() < deadline {
        let route = Self.routes[Int.random(in: 0..<Self.routes.count, using: &random)]
        let parts = route.split(separator: " ", maxSplits: 1)
        var path = String(parts[1])
        for placeholder in ["{id}", "{n}", "{name}"] {
          path = path.replacingOccurrences(
            of: placeholder,
            with: Int.random(in: 0..<3, using: &random) == 0
              ? "1" : Self.numbers[Int.random(in: 0..<Self.numbers.count, using: &random)])
        }
        let query = (0..<Int.random(in: 0..<4, using: &random)).map { _ in
          "\(Self.queryKeys[Int.random(in: 0..<Self.queryKeys.count, using: &random)])=\(Self.numbers[Int.random(in: 0..<Self.numbers.count, using: &random)])"
        }
        let uri = query.isEmpty ? path : "\(path)?\(query.joined(separator: "&"))"
        let method: HTTPRequest.Method = parts[0] == "POST" ? .post : .get
        let body = method == .post ? Self.bodies[Int.random(in: 0..<Self.bodies.count, using: &random)] : ""
        try await client.execute(uri: uri, method: method, body: ByteBuffer(string: body)) { response in
          if response.status.code >= 500 { serverErrors.append("\(method) \(uri) → \(response.status.code)") }
        }
        sent += 1
      }
      #expect(sent >= 1000, "only \(sent) requests in the time allowed")
      #expect(serverErrors.isEmpty, "\(serverErrors.count) server errors, e.g. \(serverErrors.prefix(5))")
      try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
    }
  }
}
