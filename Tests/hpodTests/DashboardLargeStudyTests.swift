import Foundation
import HummingbirdTesting
import SearchStrategies
import StudyModel
import Testing
import TrackingBridge

@testable import hpod

/// What keeps the study page of a large study fast gives the page it gave before: the quick
/// reading of configurations, the parts rendered side by side, the curves chosen from the
/// snapshot's last values and read for those trials alone.
@Suite("Dashboard of a large study")
struct DashboardLargeStudyTests {
  @Test(
    "configurations read without JSONDecoder are the ones JSONDecoder reads; what it does not read falls back",
    arguments: [
      #"{"x":0.5,"k":3,"style":"plain","on":true,"off":false}"#, #"{}"#, #" { "a" : -1.25e-7 , "b":-4 } "#,
      #"{"lr":1.0000000000000004e-06,"n":9007199254740993}"#, #"{"x":3.0}"#, #"{"x":1e2}"#, #"{"s":"a\"b"}"#,
      #"{"s":"é ✓"}"#, #"{"x":[1]}"#, #"{"x":null}"#, #"{"x":1}x"#, #"{"x":1,"x":2}"#, #"{"x":.5}"#, #"{"x":1"#,
      #"{"x":99999999999999999999}"#, #"{"x":-0.0}"#, #"{"x":tru}"#, #"{"x":01}"#, #"{"x":-}"#, #"{"x":1.}"#,
      #"{"x":1e}"#, #"{"x":-0.5E+3}"#,
    ])
  func configurationText(_ text: String) throws {
    let decoded = try? JSONDecoder().decode(Configuration.self, from: Data(text.utf8))
    let fast = ConfigurationText.parse(text)
    // Whatever the quick reader reads, JSONDecoder reads the same; the rest goes to JSONDecoder
    if let fast { #expect(fast == decoded, "\(text): \(fast) against \(String(describing: decoded))") }
    let snapshot = StudySnapshot.decode([
      TrialRecord(studyId: 1, number: 0, tier: .quickTest, paramsJSON: text)
    ])
    #expect(snapshot == [decoded ?? Configuration()], "\(text)")
  }

  @Test("configurations as hpod writes them are read by the quick reader")
  func configurationsHpodWrites() throws {
    for configuration in [
      Configuration(["lr": .double(0.0123), "hidden": .int(64), "optimizer": .string("adam"), "nesterov": .bool(true)]),
      Configuration(["dropout": .double(0.35), "momentum": .double(-2.5e-8)]),
    ] {
      let text = String(decoding: try JSONEncoder().encode(configuration), as: UTF8.self)
      #expect(ConfigurationText.parse(text) == configuration, "\(text)")
    }
  }

  @Test(
    "past 2,000 curves the chart draws the best 1,000 by last value and a stride of the rest, reading those alone; the whole page's parts are the parts asked alone",
    .timeLimit(.minutes(3)))
  func manyCurves() async throws {
    let daemon = try TestDaemon()
    let database = daemon.service.database
    // 3,001 trials: the best 1,000 by last value, and every second one of the other 2,001
    let id = try CurvesFixture.write(database, count: 3000)
    try await daemon.test { client in
      let trials = try database.trials(studyId: id)
      let finals = try database.lastMetricValues(studyId: id)
      let drawnNumbers = { (part: String) throws -> Set<Int> in
        let pattern = try Regex(#"<title>trial (\d+) · "#)
        return Set(part.matches(of: pattern).compactMap { Int($0.output[1].substring ?? "") })
      }
      // "loss" has no rule's threshold: only the drawn trials' histories are read
      for (metric, lowerIsBetter) in [("loss", true), ("score", false)] {
        let (status, part, _) = try await client.get("/studies/\(id)?part=curves&curve_metric=\(metric)")
        #expect(status == .ok)
        #expect(part.contains("data-curves=\"2001\"") && part.contains("2001 of 3001 curves drawn"), "\(metric)")
        let drawn = try drawnNumbers(part)
        #expect(drawn.count == 2001, "\(metric)")
        let ranked = trials.sorted { a, b in
          let (x, y) = (finals[a.id!]![metric]!, finals[b.id!]![metric]!)
          return x == y ? a.number < b.number : lowerIsBetter ? x < y : x > y
        }
        let best = Set(ranked.prefix(1000).map(\.number))
        #expect(best.isSubset(of: drawn), "\(metric): \(best.subtracting(drawn).count) of the best not drawn")
      }
      // The page renders its parts side by side: each is the part a refresh asks for alone
      let (_, page, _) = try await client.get("/studies/\(id)")
      for name in [
        "cards", "curve", "importance", "curves", "slices", "ecdf", "heatmap", "contour", "parallel", "runs",
      ] {
        let (_, alone, _) = try await client.get("/studies/\(id)?part=\(name)")
        #expect(alone.hasPrefix("<div data-part=\"\(name)\">") && page.contains(alone), "part \(name)")
      }
    }
  }
}
