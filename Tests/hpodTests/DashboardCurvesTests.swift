import Foundation
import HPODAPI
import HummingbirdTesting
import NIOCore
import StudyModel
import Testing
import TrackingBridge

@testable import hpod

/// A finished study written through `AppDatabase` as the runner writes one (as
/// bench/dashboard does): `count` quick tests of 10 steps of `score` and `loss`, every fifth
/// stopped by the median rule at step 3, and one full training.
enum CurvesFixture {
  static func write(_ database: AppDatabase, count: Int) throws -> Int64 {
    let yaml = """
      name: curves
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: \(count)}
      parameters:
        x: {type: float, min: 0, max: 1}
      trial: {command: [sh, -c, "true"]}
      tiers:
        quick_test: {steps: 10}
        full_training: {steps: 10}
      early_stopping: {rule: median, metric: score}
      """
    let study = try database.createStudy(
      StudyRecord(
        name: "curves", specYAML: yaml, specPath: nil, specHash: "curves", objectiveMetric: "score",
        direction: .maximize))
    let start = Date().addingTimeInterval(-Double(count) * 10)
    func record(_ index: Int, tier: Tier, source: Int64?) throws -> TrialRecord {
      let x = Double(index % 97) / 97
      let trial = try database.createTrial(
        studyId: study.id!, tier: tier, params: [(name: "x", value: "\(x)", numeric: x)],
        paramsJSON: #"{"x":\#(x)}"#, sourceTrialId: source)
      let began = start.addingTimeInterval(Double(index) * 10)
      _ = try database.startTrial(trial, handle: #"{"external":{}}"#, runDirectory: "", at: began)
      let pruned = tier == .quickTest && index % 5 == 4
      let steps = pruned ? 3 : 10
      let points = (1...steps).flatMap { step in
        let stamp = Int64(began.timeIntervalSince1970 * 1000) + Int64(step * 100)
        let score = x * (1 - exp(-Double(step) / 3))
        return [
          MetricPoint(trialId: trial.id!, name: "score", step: step, value: score, timestamp: stamp),
          MetricPoint(trialId: trial.id!, name: "loss", step: step, value: 1 - score, timestamp: stamp),
        ]
      }
      try database.appendMetrics(points)
      return try database.finishTrial(
        id: trial.id!,
        .init(
          state: pruned ? .pruned : .completed, value: points[points.count - 2].value, exitCode: 0,
          reason: pruned ? "stopped early by the median rule at step 3" : nil),
        at: began.addingTimeInterval(Double(steps)))!
    }
    var best: TrialRecord?
    for index in 0..<count {
      let trial = try record(index, tier: .quickTest, source: nil)
      if trial.state == .completed, (trial.value ?? 0) > (best?.value ?? -1) { best = trial }
    }
    _ = try record(count, tier: .fullTraining, source: best?.id)
    try database.setStudyState(id: study.id!, .completed)
    return study.id!
  }
}

@Suite("Dashboard curves")
struct DashboardCurvesTests {
  @Test(
    "every trial's curve is drawn server-side: 500 quick tests and a full training, pruned ones marked, the median rule's line, a metric picker",
    .timeLimit(.minutes(2)))
  func everyCurve() async throws {
    let daemon = try TestDaemon()
    let id = try CurvesFixture.write(daemon.service.database, count: 500)
    try await daemon.test { client in
      let (status, part, _) = try await client.get("/studies/\(id)?part=curves")
      #expect(status == .ok)
      #expect(part.contains("data-curves=\"501\"") && part.contains("Every trial that reported score: 501 curves."))
      // One curve per trial, each named by its trial; quick tests, pruned ones and the full training in their colours
      #expect(part.components(separatedBy: "<path class=\"series s0\"").count - 1 == 400)
      #expect(part.components(separatedBy: "<path class=\"series s6\"").count - 1 == 100)
      #expect(part.components(separatedBy: "<path class=\"series s2\"").count - 1 == 1)
      #expect(part.contains("<title>trial 4 · quick_test · pruned at step 3 · score "))
      #expect(part.contains("<title>trial 500 · full_training · completed · score "))
      // Each pruned trial's last point is marked, and the median rule's threshold is drawn
      let stops = try #require(part.components(separatedBy: "<title>pruned: where each stopped</title>").last)
      #expect(stops.components(separatedBy: "</g>")[0].components(separatedBy: "<circle").count - 1 == 100)
      #expect(part.contains("median rule: median of the completed quick tests"))

      // The picker shows another metric; the whole page has the chart and its form without script
      let (_, loss, _) = try await client.get("/studies/\(id)?part=curves&curve_metric=loss")
      #expect(loss.contains("loss by step, every trial") && !loss.contains("median rule"))
      let (_, page, _) = try await client.get("/studies/\(id)")
      #expect(page.contains("<h2 id=\"curves-title\">Every trial's curve</h2>"))
      #expect(page.contains("name=\"curve_metric\"") && page.contains("data-refresh=\"curves\""))
      #expect(page.contains("data-curves=\"501\""))
      let (bad, message, _) = try await client.get("/studies/\(id)?part=curves&curve_metric=nope")
      #expect(bad == .badRequest && message.contains("curve_metric must be one the trials reported: score, loss"))
    }
  }
}
