import Foundation
import HPODAPI
import HummingbirdTesting
import NIOCore
import Testing

@testable import hpod

/// The empirical distribution and the Pareto front are interactive like the other charts:
/// hover names the trial of a point, a click opens its run. In Chromium, with the mouse.
extension DashboardBrowserTests {
  /// Hovers the point `index` of the chart's series `series` (as its JSON gives it), checks
  /// the tooltip names its trial, clicks it and checks its run page opens; back to `page`.
  func hoverAndOpen(_ tab: ChromiumDriver.Tab, page: String, part: String, series: Int, shot: String) async throws {
    let figure = "document.querySelector('[data-part=\(part)] figure')"
    try await tab.navigate(page)
    try await tab.waitFor("!!(\(figure) && \(figure).uplot)")
    let target = try #require(
      try await tab.evaluate(
        """
        (() => { const f = \(figure), u = f.uplot, s = JSON.parse(f.querySelector('script.chart-data').textContent).series[\(series)];
          u.root.scrollIntoView({block: 'center'});
          const i = Math.floor(s.x.length / 2), r = u.over.getBoundingClientRect();
          return [s.t ? s.t[i] : s.trial, r.left + u.valToPos(s.x[i], 'x'), r.top + u.valToPos(s.y[i], 'y')]; })()
        """) as? [Double])
    let trial = Int(target[0])
    try await tab.mouse("mouseMoved", x: target[1], y: target[2])
    let tip = "\(figure).querySelector('.chart-tip')"
    try await tab.waitFor("!\(tip).hidden && \(tip).querySelector('strong').textContent === 'trial \(trial)'")
    let text = try #require(try await tab.evaluate("\(tip).textContent") as? String)
    #expect(text.contains("quick_test · completed"), "\(part): \(text)")
    try await tab.screenshot(shot, of: "[data-part=\(part)] figure")
    try await tab.mouse("mousePressed", x: target[1], y: target[2], pressed: true)
    try await tab.mouse("mouseReleased", x: target[1], y: target[2])
    try await tab.waitFor("location.pathname.endsWith('/runs/\(trial)') && document.readyState === 'complete'")
    let heading = try await tab.evaluate("document.querySelector('h1').textContent") as? String
    #expect(heading?.hasPrefix("Trial \(trial) ") == true, "\(part): \(heading ?? "no heading")")
  }

  @Test(
    "the objective's distribution and the Pareto front name a point's trial on hover and open its run on a click",
    .timeLimit(.minutes(2)))
  func distributionAndFrontTips() async throws {
    let daemon = try TestDaemon()
    let shots = try Self.screens(daemon)
    let script = try daemon.script(
      "tradeoff.sh", #"echo "hpod {\"score\": $1, \"latency\": $(awk "BEGIN { print $1 * $1 + $2 / 4 }")}""#)
    let yaml = """
      name: tips
      objectives:
        - {metric: score, direction: maximize}
        - {metric: latency, direction: minimize}
      search: {algorithm: random, seed: 4, max_trials: 24, parallelism: 2}
      parameters:
        x: {type: float, min: 0, max: 1}
        y: {type: float, min: 0, max: 1}
      trial: {command: [\(script), "{x}", "{y}"]}
      """
    try await daemon.test { client in
      let created = try await client.execute(uri: "/api/v1/studies", method: .post, body: ByteBuffer(string: yaml)) {
        try $0.decode(API.Study.self)
      }
      #expect(try await waitForStudy(client, created.id).state == "completed")
      let page = "http://127.0.0.1:\(try #require(client.port))/studies/\(created.id)"
      try await withTab { tab in
        // The distribution: its one series, each point a completed quick test
        try await hoverAndOpen(tab, page: page, part: "ecdf", series: 0, shot: "\(shots)/ecdf-hover.png")
        // The front: a point of the Pareto front's line
        try await hoverAndOpen(tab, page: page, part: "front", series: 1, shot: "\(shots)/front-hover.png")
      }
    }
  }
}
