import Foundation
import HPODAPI
import HummingbirdTesting
import NIOCore
import Testing

@testable import hpod

@Suite("Chart axes")
struct ChartAxisTests {
  /// The tick labels of the first SVG chart's x axis (centred under it; the y axis's are
  /// right-aligned), in order.
  static func xTicks(_ html: String) -> [String] {
    let chart = html.components(separatedBy: "</svg>")[0]
    return chart.components(separatedBy: "<text class=\"tick\"").dropFirst().compactMap { piece in
      let parts = piece.split(separator: ">", maxSplits: 1)
      guard parts.count == 2, parts[0].contains("text-anchor=\"middle\"") else { return nil }
      return String(parts[1].prefix { $0 != "<" })
    }
  }

  @Test("trial numbers and steps get whole-number ticks; a one-point axis spans its neighbours")
  func wholeNumberTicks() {
    #expect(SVGLineChart.ticks(0, 12, integer: true) == [0, 5, 10])
    #expect(SVGLineChart.ticks(0, 12) == [0, 2.5, 5, 7.5, 10, 12.5].filter { $0 <= 12 })
    #expect(SVGLineChart.ticks(0, 3, integer: true) == [0, 1, 2, 3])
    #expect(SVGLineChart.around(300, integer: true) == (299, 301))
    #expect(SVGLineChart.around(0.5, integer: false) == (0.45, 0.55))
  }

  @Test("the study page's trial axis and a one-step run's step axis show no half trials or half steps")
  func pagesHaveWholeNumberAxes() async throws {
    let daemon = try TestDaemon()
    try await daemon.test { client in
      // 12 quick tests and a full training: trials 0 to 12, where ticks every 2.5 used to fall
      let study = try await DashboardFixture.run(daemon, client, trials: 12)
      let (_, curve, _) = try await client.get("/studies/\(study.id)?part=curve")
      let trialTicks = Self.xTicks(curve)
      #expect(trialTicks.count >= 2 && trialTicks.allSatisfy { Int($0) != nil }, "\(trialTicks)")

      // A trial that reports once, at step 300: its chart's step axis runs 299, 300, 301
      let script = try daemon.script("once.sh", #"echo "hpod {\"step\": 300, \"score\": $1}""#)
      let yaml = """
        name: once
        objective: {metric: score, direction: maximize}
        search: {algorithm: random, seed: 1, max_trials: 1}
        parameters:
          x: {type: float, min: 0, max: 1}
        trial: {command: [\(script), "{x}"]}
        """
      let created = try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
        try $0.decode(API.Study.self)
      }
      _ = try await waitForStudy(client, created.id)
      let (status, run, _) = try await client.get("/studies/\(created.id)/runs/0")
      #expect(status == .ok)
      let title = try #require(run.range(of: "score by step"))
      let chart = String(run[title.lowerBound...])
      #expect(Self.xTicks(chart) == ["299", "300", "301"], "\(Self.xTicks(chart))")
    }
  }
}
