import Foundation
import Testing
import TrackingBridge

/// Requests anyone who reaches `hpod serve` can send to its MLflow API, against a real daemon
/// process: it must answer them with a 400 and keep serving, in bounded time and memory.
@Suite("MLflow API under attack", .serialized, .timeLimit(.minutes(3)))
struct MLflowAPIAttackTests {
  let folder: String

  init() throws {
    folder = try makeTestFolder("hpod-mlflow-attack")
  }

  /// POSTs `body` with curl: the HTTP status (0 when the daemon did not answer) and the body.
  func post(_ daemon: DaemonProcess, _ route: String, _ body: String) async throws -> (status: Int, body: String) {
    let file = "\(folder)/body-\(UUID().uuidString).json"
    try body.write(toFile: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: file) }
    let (_, output) = try await HPODProcess.runProgram(
      "/usr/bin/curl",
      [
        "-s", "-m", "60", "-w", "\n%{http_code}", "-H", "Content-Type: application/json", "--data-binary", "@\(file)",
        "\(daemon.server)/api/2.0/mlflow/\(route)",
      ])
    let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
    return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
  }

  static func json(_ object: [String: Any]) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
  }

  /// The daemon's peak resident memory so far, in MB (Linux's VmHWM).
  static func peakMegabytes(_ daemon: DaemonProcess) -> Int? {
    guard let pid = daemon.process?.processIdentifier,
      let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
    else { return nil }
    return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 / 1024 }
  }

  @Test("a 100,000-character LIKE filter is a 400 that says the limit, and the daemon keeps serving")
  func hugeLikeFilter() async throws {
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    defer { daemon.stop() }
    let pattern = "'" + String(repeating: "%", count: 100_000) + "'"
    for (route, body) in [
      ("experiments/search", ["filter": "name LIKE \(pattern)"]),
      ("runs/search", ["experiment_ids": ["0"], "filter": "attributes.run_name LIKE \(pattern)"]),
    ] as [(String, [String: Any])] {
      let (status, answer) = try await post(daemon, route, try Self.json(body))
      #expect(status == 400, "\(route): \(status) \(answer.prefix(300))")
      #expect(answer.contains("INVALID_PARAMETER_VALUE") && answer.contains("at most 20000 characters"))
    }
    // Many clauses, each short
    let clauses = Array(repeating: "params.a = 'b'", count: 500).joined(separator: " and ")
    let (status, answer) = try await post(daemon, "runs/search", try Self.json(["filter": clauses]))
    #expect(status == 400 && answer.contains("at most 100"), "\(status) \(answer.prefix(300))")
    #expect(daemon.process?.isRunning == true, "\(daemon.log.suffix(2000))")
    #expect(try await daemon.client(["status"]).status == 0)
  }

  @Test("a 4 kB LIKE pattern against an 8,000-character tag answers at once, in little memory")
  func longLikePattern() async throws {
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    defer { daemon.stop() }
    let (_, created) = try await post(daemon, "runs/create", try Self.json(["experiment_id": "0"]))
    let runId = try #require(
      ((try JSONSerialization.jsonObject(with: Data(created.utf8)) as? [String: Any])?["run"] as? [String: Any])
        .flatMap { ($0["info"] as? [String: Any])?["run_id"] as? String })
    let tag = String(repeating: "ab", count: 4_000)
    #expect(
      try await post(daemon, "runs/set-tag", try Self.json(["run_id": runId, "key": "t", "value": tag])).status == 200)
    let before = Self.peakMegabytes(daemon) ?? 0

    // `%a%b%a%b…%c`: the worst case of a backtracking or memoising matcher (no match)
    let pattern = String(repeating: "%a%b", count: 1_000) + "%c"
    let started = Date()
    let (status, answer) = try await post(
      daemon, "runs/search", try Self.json(["experiment_ids": ["0"], "filter": "tags.t LIKE '\(pattern)'"]))
    let seconds = Date().timeIntervalSince(started)
    #expect(status == 200 && !answer.contains(runId), "\(status) \(answer.prefix(300))")
    #expect(seconds < 5, "the search took \(seconds) s")
    // and the same pattern that does match finds the run
    let matching = String(repeating: "%a%b", count: 1_000) + "%"
    let (_, found) = try await post(
      daemon, "runs/search",
      try Self.json(["experiment_ids": ["0"], "filter": "tags.t ILIKE '\(matching.uppercased())'"]))
    #expect(found.contains(runId))
    let after = Self.peakMegabytes(daemon) ?? 0
    #expect(after - before < 100, "peak memory went from \(before) MB to \(after) MB")
  }

  @Test("runs/search naming one experiment 10,000 times leaves the daemon's memory where it was")
  func repeatedExperimentMemory() async throws {
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    defer { daemon.stop() }
    for index in 0..<50 {
      let (status, _) = try await post(
        daemon, "runs/create", try Self.json(["experiment_id": "0", "run_name": "r\(index)"]))
      #expect(status == 200)
    }
    let before = Self.peakMegabytes(daemon) ?? 0
    let body = try Self.json(["experiment_ids": Array(repeating: "0", count: 10_000), "max_results": 50_000])
    for _ in 0..<3 {
      let (status, answer) = try await post(daemon, "runs/search", body)
      #expect(status == 200, "\(answer.prefix(300))")
      #expect(answer.components(separatedBy: "\"run_name\"").count - 1 == 50)
    }
    let after = Self.peakMegabytes(daemon) ?? 0
    #expect(after - before < 100, "peak memory went from \(before) MB to \(after) MB")
    #expect(daemon.process?.isRunning == true)
  }

  @Test("a trial whose script changes a logged param fails with a reason that says so")
  func changedParamReason() async throws {
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    defer { daemon.stop() }
    // The script logs lr twice through hpod's MLflow API, the second time with another value,
    // and dies with the mlflow client's advice as its last stderr line.
    let script = "\(folder)/changes-param.sh"
    try """
    #!/bin/sh
    log() {
      curl -s -H 'Content-Type: application/json' \
        --data "{\\"run_id\\": \\"$MLFLOW_RUN_ID\\", \\"key\\": \\"lr\\", \\"value\\": \\"$1\\"}" \
        "$MLFLOW_TRACKING_URI/api/2.0/mlflow/runs/log-parameter"
    }
    log 0.1
    log 0.2
    echo "mlflow.exceptions.MlflowException: see above" >&2
    echo "tracking store." >&2
    exit 1
    """.write(toFile: script, atomically: true, encoding: .utf8)
    chmod(script, 0o755)
    try """
    name: param-change
    objective: {metric: score, direction: maximize}
    search: {algorithm: random, seed: 1, max_trials: 1}
    parameters: {x: {type: float, min: 0, max: 1}}
    trial: {command: [\(script)], retries: 0}
    """.write(toFile: "\(folder)/study.yaml", atomically: true, encoding: .utf8)
    #expect(try await daemon.client(["submit", "\(folder)/study.yaml"]).status == 0)
    let database = try AppDatabase.open(at: "\(folder)/home/hpod.sqlite")
    #expect(try await waitUntil(seconds: 30) { try database.study(id: 1)?.state.isFinished == true })
    let trial = try #require(try database.trials(studyId: 1).first)
    #expect(trial.state == .failed)
    let reason = trial.reason ?? ""
    #expect(reason.contains("Changing param values is not allowed"), "\(reason)")
    #expect(reason.contains("lr") && !reason.contains("tracking store."), "\(reason)")
    #expect(try database.params(trialId: trial.id!).first { $0.name == "lr" }?.value == "0.1")
  }
}
