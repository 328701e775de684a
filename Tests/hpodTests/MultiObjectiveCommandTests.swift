import Foundation
import HPODAPI
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import hpod

/// A study of two objectives with a constraint, as a user runs and queries it.
@Suite("Several objectives: the front in hpod run, hpod best, GET best and the dashboard")
struct MultiObjectiveCommandTests {
  func spec(_ folder: String, name: String) throws -> String {
    let script = "\(folder)/tradeoff.sh"
    try #"""
    #!/bin/sh
    echo "hpod {\"score\": $1, \"latency\": $(awk "BEGIN { print $1 * $1 + $2 }")}"
    """#.write(toFile: script, atomically: true, encoding: .utf8)
    chmod(script, 0o755)
    let path = "\(folder)/\(name).yaml"
    try """
    name: \(name)
    objectives:
      - {metric: score, direction: maximize}
      - {metric: latency, direction: minimize}
    constraints: ["latency <= 0.5"]
    search: {algorithm: random, seed: 2, max_trials: 12, parallelism: 2}
    parameters:
      x: {type: float, min: 0, max: 1}
      y: {type: float, min: 0, max: 1}
    trial: {command: [\(script), "{x}", "{y}"]}
    """.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func folder() throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-mo-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
  }

  @Test("hpod run ends with the feasible front, its objectives as columns")
  func runPrintsTheFront() async throws {
    let folder = try folder()
    let (status, output) = try await HPODProcess.run(["run", try spec(folder, name: "mo-run")], home: "\(folder)/home")
    #expect(status == 0, "\(output)")
    #expect(output.contains("Pareto front (quick_test, "), "\(output)")
    #expect(output.contains("meeting latency <= 0.5:"))
    #expect(output.contains("score (max)") && output.contains("latency (min)"))
    #expect(!output.contains("Best: trial"), "several objectives have no one best")
  }

  @Test("hpod run's progress marks the trials that join the feasible front, not a best by the first objective")
  func progressFollowsTheFront() async throws {
    let folder = try folder()
    let (status, output) = try await HPODProcess.run(
      ["run", try spec(folder, name: "mo-progress")], home: "\(folder)/home")
    #expect(status == 0, "\(output)")
    // Plain lines (stdout is a pipe): "trial 3 started: x=0.41 y=0.07", then
    // "trial 3 completed score=0.41 in 0.1s  (on the front)".
    var objectives: [Int: (score: Double, latency: Double)] = [:]
    var marked: Set<Int> = []
    for line in output.split(separator: "\n") {
      let words = line.split(separator: " ")
      guard words.count >= 3, words[0] == "trial", let number = Int(words[1]) else { continue }
      if words[2] == "started:" {
        let values = Dictionary(
          uniqueKeysWithValues: words.dropFirst(3).compactMap { pair -> (String, Double)? in
            let parts = pair.split(separator: "=")
            return parts.count == 2 ? (String(parts[0]), Double(parts[1]) ?? .nan) : nil
          })
        if let x = values["x"], let y = values["y"] { objectives[number] = (x, x * x + y) }
      }
      if line.hasSuffix("(on the front)") { marked.insert(number) }
    }
    #expect(objectives.count == 12, "\(output)")
    #expect(!output.contains("(new best)"), "several objectives have no one best")
    // Every marked trial meets the constraint (params are shown to 4 digits: a small margin).
    #expect(marked.allSatisfy { objectives[$0]!.latency <= 0.5 + 1e-3 }, "\(marked) in \(output)")
    // Every trial on the final front joined the front when it finished.
    let feasible = objectives.filter { $0.value.latency <= 0.5 - 1e-3 }
    let front = feasible.filter { trial in
      !feasible.contains {
        $0.key != trial.key && $0.value.score >= trial.value.score + 1e-3
          && $0.value.latency <= trial.value.latency - 1e-3
      }
    }
    #expect(!front.isEmpty)
    #expect(Set(front.keys).isSubset(of: marked), "front \(front.keys.sorted()), marked \(marked.sorted())")
  }

  @Test("GET best answers the front of feasible, mutually non-dominated configurations")
  func bestIsTheFront() async throws {
    let daemon = try TestDaemon()
    let folder = try folder()
    let yaml = try String(contentsOfFile: try spec(folder, name: "mo-api"), encoding: .utf8)
    try await daemon.test { client in
      let created = try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
        try $0.decode(API.Study.self)
      }
      _ = try await waitForStudy(client, created.id)
      let front = try await client.execute(uri: "/api/v1/studies/\(created.id)/best", method: .get) {
        try $0.decode(API.Front.self)
      }
      #expect(front.objectives.map(\.metric) == ["score", "latency"])
      #expect(front.constraints == ["latency <= 0.5"])
      #expect(!front.front.isEmpty)
      for member in front.front {
        #expect(member.metrics["latency"]! <= 0.5)
        let others = front.front.filter { $0.trial.id != member.trial.id }
        #expect(
          !others.contains {
            $0.metrics["score"]! >= member.metrics["score"]! && $0.metrics["latency"]! <= member.metrics["latency"]!
          })
      }
      #expect(front.front.count + front.infeasible <= 12)

      // The dashboard draws the same front in the plane of the two objectives, and the
      // hypervolume by trial
      let (status, page, _) = try await client.get("/studies/\(created.id)")
      #expect(status == .ok)
      #expect(page.contains("<h2 id=\"front-title\">Pareto front</h2>"))
      #expect(page.contains("aria-label=\"latency (minimize) against score (maximize)\""))
      #expect(page.contains("Pareto front (\(front.front.count))</li>"), "\(page)")
      if front.infeasible > 0 { #expect(page.contains("infeasible (\(front.infeasible))</li>")) }
      #expect(page.contains("aria-label=\"hypervolume of the feasible trials by trial number\""))
    }
  }
}
