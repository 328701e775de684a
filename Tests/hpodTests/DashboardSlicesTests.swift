import Foundation
import HPODAPI
import HummingbirdTesting
import NIOCore
import Testing

@testable import hpod

@Suite("Dashboard slices and distribution")
struct DashboardSlicesTests {
  @Test(
    "the objective against each parameter (decades on a log axis, names for categories, escaped) and its ECDF",
    .timeLimit(.minutes(2)))
  func slicesAndDistribution() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      let study = try await DashboardFixture.run(daemon, client)
      let (status, slices, _) = try await client.get("/studies/\(study.id)?part=slices")
      #expect(status == .ok)
      for name in ["x", "k", "style"] { #expect(slices.contains("aria-label=\"score by \(name)\"")) }
      // The categorical parameter's values are its ticks, escaped like every user value
      #expect(slices.contains(">&lt;i&gt;fancy&lt;/i&gt;</text>") && !slices.contains("<i>fancy</i>"))
      // Every completed quick test is a point in each slice, the full training beside them
      let quick = try await client.execute(
        uri: "/api/v1/studies/\(study.id)/trials?tier=quick_test&state=completed", method: .get
      ) { try $0.decode(API.TrialList.self).trials }
      let firstSlice = slices.components(separatedBy: "</svg>")[0]
      let quickPoints = firstSlice.components(separatedBy: "<g class=\"points s0\">").last!
      #expect(
        quickPoints.components(separatedBy: "</g>")[0].components(separatedBy: "<circle").count - 1 == quick.count)
      #expect(firstSlice.contains("<g class=\"points s2\"><title>full trainings</title>"))

      let (_, ecdf, _) = try await client.get("/studies/\(study.id)?part=ecdf")
      #expect(ecdf.contains("share of the \(quick.count) completed quick tests with score at most x"))
      #expect(ecdf.contains("<path class=\"series s0\""))
      let (_, page, _) = try await client.get("/studies/\(study.id)")
      #expect(page.contains("<h2 id=\"slices-title\">score by each parameter</h2>"))
      #expect(page.contains("<h2 id=\"ecdf-title\">Distribution of score</h2>"))

      // A log-scaled parameter's slice has a log axis with decades as ticks
      let script = try daemon.script("lr.sh", #"echo "hpod {\"score\": $1}""#)
      let yaml = """
        name: log-slice
        objective: {metric: score, direction: maximize}
        search: {algorithm: random, seed: 2, max_trials: 6, parallelism: 2}
        parameters:
          lr: {type: float, min: 1.0e-5, max: 1.0, log: true}
        trial: {command: [\(script), "{lr}"]}
        """
      let created = try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
        try $0.decode(API.Study.self)
      }
      _ = try await waitForStudy(client, created.id)
      let (_, logSlice, _) = try await client.get("/studies/\(created.id)?part=slices")
      #expect(logSlice.contains("aria-label=\"score by lr (log scale)\"") && logSlice.contains(">lr (log)</text>"))
      let ticks = ChartAxisTests.xTicks(logSlice)
      let decades = ticks.compactMap(Double.init).map(log10)
      #expect(decades.count == ticks.count && ticks.count >= 2, "\(ticks)")
      #expect(decades.allSatisfy { abs($0 - $0.rounded()) < 1e-9 }, "every tick is a power of ten: \(ticks)")
    }
  }
}
