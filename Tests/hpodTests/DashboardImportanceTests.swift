import Foundation
import HPODAPI
import HummingbirdTesting
import NIOCore
import StudyAnalysis
import Testing

@testable import hpod

@Suite("Dashboard importance")
struct DashboardImportanceTests {
  /// A study whose loss is least at x = 0.5 and barely depends on y.
  static func bowl(_ daemon: TestDaemon, _ client: any TestClientProtocol) async throws -> Int64 {
    let script = try daemon.script(
      "bowl.sh", #"awk -v x=$1 -v y=$2 'BEGIN { printf "hpod {\"loss\": %.6f}\n", (x-0.5)*(x-0.5) + 0.0001*y }'"#)
    let yaml = """
      name: bowl
      objective: {metric: loss, direction: minimize}
      search: {algorithm: random, seed: 3, max_trials: 40, parallelism: 2}
      parameters:
        x: {type: float, min: 0, max: 1}
        y: {type: float, min: 0, max: 1}
      trial: {command: [\(script), "{x}", "{y}"]}
      """
    let created = try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
      try $0.decode(API.Study.self)
    }
    let study = try await waitForStudy(client, created.id, seconds: 60)
    #expect(study.state == "completed", "\(study.stateReason ?? "")")
    return created.id
  }

  @Test(
    "a parameter whose optimum is inside its range ranks first on the page, in the API and in hpod importance, with the same figures",
    .timeLimit(.minutes(2)))
  func interiorOptimum() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let id = try await Self.bowl(daemon, client)
      let fanova = try await client.execute(uri: "/api/v1/studies/\(id)/importance", method: .get) {
        try $0.decode(AnalysisController.Importance.self)
      }
      #expect(fanova.method == "fanova" && fanova.metric == "loss" && fanova.direction == "minimize")
      #expect(fanova.parameters.map(\.parameter) == ["x", "y"])
      #expect(fanova.parameters.first.map { $0.score > 0.7 && $0.effect.hasPrefix("best inside the range") } == true)
      let spearman = try await client.execute(
        uri: "/api/v1/studies/\(id)/importance?method=spearman&tier=all", method: .get
      ) { try $0.decode(AnalysisController.Importance.self) }
      #expect(spearman.method == "spearman" && spearman.tier == "all")
      #expect(spearman.parameters.first { $0.parameter == "x" }.map { $0.score < 0.5 } == true)

      // The page's importance part ranks x first, beside its Spearman figure
      let (status, part, _) = try await client.get("/studies/\(id)?part=importance")
      #expect(status == .ok)
      let xRow = try #require(part.range(of: "<tr data-parameter=\"x\">"))
      let yRow = try #require(part.range(of: "<tr data-parameter=\"y\">"))
      #expect(xRow.lowerBound < yRow.lowerBound)
      #expect(part.contains("fANOVA") && part.contains("best inside the range, near"))
      #expect(part.contains(String(format: "%.2f", fanova.parameters[0].score)))

      // hpod importance on the same store gives the same figures, for either method
      let home = "\(daemon.folder)/home"
      let (cliStatus, output) = try await HPODProcess.run(["importance", "\(id)", "--json"], home: home)
      #expect(cliStatus == 0, "\(output)")
      #expect(try JSONDecoder().decode([ParameterImportance].self, from: Data(output.utf8)) == fanova.parameters)
      let (_, spearmanOutput) = try await HPODProcess.run(
        ["importance", "\(id)", "--json", "--method", "spearman", "--tier", "all"], home: home)
      #expect(
        try JSONDecoder().decode([ParameterImportance].self, from: Data(spearmanOutput.utf8)) == spearman.parameters)
      let (badStatus, badOutput) = try await HPODProcess.run(["importance", "\(id)", "--method", "magic"], home: home)
      #expect(badStatus != 0 && badOutput.contains("--method must be fanova or spearman, found \"magic\""))

      // Bad options are refused with what is accepted
      for (query, message) in [
        ("method=magic", "method must be fanova or spearman"),
        ("metric=nope", "metric must be one the trials reported"),
      ] {
        try await client.execute(uri: "/api/v1/studies/\(id)/importance?\(query)", method: .get) { response in
          #expect(response.status == .badRequest)
          #expect(response.text.contains(message), "\(response.text)")
        }
      }
    }
  }
}
