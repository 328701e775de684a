import Foundation
import HPODAPI
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import hpod

@Suite("Dashboard contour, brushing and chart data")
struct DashboardContourTests {
  @Test(
    "the contour is drawn over the heatmap's two parameters, on log axes for log parameters, every trial a dot and the best starred",
    .timeLimit(.minutes(2)))
  func contour() async throws {
    let daemon = try TestDaemon()
    let id = try WideStudyFixture.write(daemon.service.database)
    try await daemon.test { client in
      let (status, page, _) = try await client.get("/studies/\(id)")
      #expect(status == .ok)
      let x = try #require(
        Browser.matches(#"<select id="hm-x"[^>]*>.*?<option value="([^"]+)" selected"#, in: page).first)[1]
      let y = try #require(
        Browser.matches(#"<select id="hm-y"[^>]*>.*?<option value="([^"]+)" selected"#, in: page).first)[1]
      #expect(x != y)
      let (_, part, _) = try await client.get("/studies/\(id)?part=contour")
      #expect(part.contains("aria-label=\"contour of score (maximize) over \(x) × \(y)\""))
      #expect(part.contains("data-points=\"30\"") && part.contains("data-best-trial=\"29\""))
      #expect(Browser.matches(#"<circle class="point[^"]*" data-trial="(\d+)""#, in: part).count == 30)
      #expect(part.contains(">\(x) (log)</text>") && part.contains(">\(y) (log)</text>"))
      // Both axes are labelled at powers of ten
      let ticks = Browser.matches(#"<text class="tick"[^>]*>([^<]+)</text>"#, in: part).map { $0[1] }
      let decades = ticks.compactMap(Double.init).map(log10)
      #expect(decades.count == ticks.count && ticks.count >= 6, "\(ticks)")
      #expect(decades.allSatisfy { abs($0 - $0.rounded()) < 1e-9 }, "\(ticks)")
      // The plane is filled in bands from dark to yellow
      let fills = Set(Browser.matches(#"<rect class="level"[^>]* fill="(#[0-9a-f]{6})""#, in: part).map { $0[1] })
      #expect(fills.count >= 3, "\(fills)")
      // The picker's axes are the contour's; the same axis twice is refused in words
      let other = WideStudyFixture.parameters.first { $0 != x && $0 != y }!
      let (_, picked, _) = try await client.get("/studies/\(id)?part=contour&x=\(other)&y=\(x)")
      #expect(picked.contains("over \(other) × \(x)"))
      let (_, same, _) = try await client.get("/studies/\(id)?part=contour&x=\(x)&y=\(x)")
      #expect(same.contains("pick two different parameters"))
    }
  }

  @Test(
    "ranges brushed on the parallel coordinates filter the runs table (parameters as positions on their axis, the objective by value); a bad range is a 400",
    .timeLimit(.minutes(2)))
  func brushedRanges() async throws {
    let daemon = try TestDaemon()
    let id = try WideStudyFixture.write(daemon.service.database)
    try await daemon.test { client in
      let rows = { (query: String) async throws -> Int? in
        let (_, part, _) = try await client.get("/studies/\(id)?part=runs&\(query)")
        return Browser.matches(#"data-rows="(\d+)""#, in: part).first.flatMap { Int($0[1]) }
      }
      #expect(try await rows("brush=score:0.1:0.2") == 11)
      // The first parameter is 10^(-0.4 k), k = 7·i mod 11, on a log axis from 1e-4 to 1:
      // its lower half is k ≥ 5
      let name = WideStudyFixture.parameters[0]
      let expected = (0..<30).filter { ($0 * 7) % 11 >= 5 }.count
      #expect(try await rows("brush=\(name):0:0.5") == expected)
      #expect(try await rows("brush=\(name):0:0.5;score:0.1:0.2") == (10...20).filter { ($0 * 7) % 11 >= 5 }.count)
      let (_, part, _) = try await client.get("/studies/\(id)?part=runs&brush=score:0.1:0.2")
      #expect(part.contains("inside the ranges brushed on the parallel coordinates: score 0.1–0.2"))
      #expect(part.contains("brush=score:0.1:0.2"), "the table's links keep the ranges")
      for bad in ["nope:0:1", "score:1:0", "score:0", "score:a:b"] {
        let (status, body, _) = try await client.get("/studies/\(id)?part=runs&brush=\(bad)")
        #expect(status == .badRequest, "\(bad)")
        #expect(body.contains("brush"), "\(bad): \(body.prefix(200))")
      }
    }
  }

  @Test(
    "each interactive chart carries its points' trials as JSON, and a table of their parameters",
    .timeLimit(.minutes(2)))
  func chartData() async throws {
    let daemon = try TestDaemon()
    let id = try CurvesFixture.write(daemon.service.database, count: 40)
    try await daemon.test { client in
      let (_, part, _) = try await client.get("/studies/\(id)?part=curve")
      let data = try #require(
        Browser.matches(#"<script type="application/json" class="chart-data">(.*?)</script>"#, in: part).first)[1]
      struct Chart: Decodable {
        struct Series: Decodable {
          var name: String
          var x: [Double]
          var y: [Double]
          var t: [Int]?
        }
        var study: Int64
        var series: [Series]
      }
      let chart = try JSONDecoder().decode(Chart.self, from: Data(data.utf8))
      #expect(chart.study == id)
      let quick = try await client.execute(
        uri: "/api/v1/studies/\(id)/trials?tier=quick_test&state=completed", method: .get
      ) { try $0.decode(API.TrialList.self).trials }
      let points = try #require(chart.series.first { $0.name == "quick tests" })
      #expect(points.t == quick.map(\.number) && points.x == quick.map { Double($0.number) })
      // values to 7 significant digits
      #expect(points.y.count == quick.count)
      #expect(zip(points.y, quick.map { $0.value! }).allSatisfy { abs($0 - $1) <= abs($1) * 1e-6 })
      let table = try #require(
        Browser.matches(#"<script type="application/json" class="trial-table">(.*?)</script>"#, in: part).first)[1]
      let decoded = try #require(try JSONSerialization.jsonObject(with: Data(table.utf8)) as? [String: Any])
      #expect(decoded["params"] as? [String] == ["x"])
      let trials = try #require(decoded["trials"] as? [String: [Any]])
      #expect(Set(quick.map { String($0.number) }).isSubset(of: Set(trials.keys)))
      #expect(trials["3"]?.prefix(2).map { "\($0)" } == ["quick_test", "completed"])
    }
  }

  @Test(
    "the charts' library is served as vendored, beside charts.js, to a logged-in browser only; the study page loads both",
    .timeLimit(.minutes(1)))
  func chartLibrary() async throws {
    let daemon = try TestDaemon()
    let id = try CurvesFixture.write(daemon.service.database, count: 5)
    let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Sources/hpod/Server/Dashboard/Assets")
    try await daemon.test(token: "s3cret") { client in
      let auth: HTTPFields = [.authorization: "Bearer s3cret"]
      let (_, page, _) = try await client.get("/studies/\(id)", headers: auth)
      for asset in [DashboardAssets.chartLibrary, DashboardAssets.charts, DashboardAssets.chartLibraryStyle] {
        #expect(!asset.version.hasSuffix("missing"))
        #expect(page.contains(DashboardAssets.path(asset)), "the study page does not load \(asset.name)")
        let (status, body, _) = try await client.get(DashboardAssets.path(asset), headers: auth)
        #expect(status == .ok)
        #expect(body == (try String(contentsOf: source.appendingPathComponent(asset.name), encoding: .utf8)))
        // the login page needs none of them
        let (closed, _, _) = try await client.get("/assets/\(asset.name)")
        #expect(closed != .ok, "\(asset.name) is served without the token")
      }
      let (_, licence, headers) = try await client.get("/assets/vendor/uPlot.LICENSE", headers: auth)
      #expect(licence.hasPrefix("The MIT License (MIT)") && headers[.contentType] == "text/plain; charset=utf-8")
      // the pages without charts do not load them
      let (_, studies, _) = try await client.get("/", headers: auth)
      #expect(!studies.contains("uPlot") && !studies.contains("charts.js"))
    }
  }

  @Test("chart JSON cannot close its script element", .timeLimit(.minutes(1)))
  func jsonEscaping() {
    let text = ChartJSON.string("</script><b>\"x\" & y\u{2028}\n")
    #expect(!text.contains("<") && !text.contains(">") && !text.contains("&"))
    let decoded = try? JSONSerialization.jsonObject(with: Data("[\(text)]".utf8), options: []) as? [String]
    #expect(decoded == ["</script><b>\"x\" & y\u{2028}\n"])
  }
}
