import Foundation
import Testing

@testable import TrackingBridge

/// A diverged training logs NaN and ±Infinity: the store keeps them as MLflow's does, and
/// every reader gets them back as they were logged.
@Suite("Non-finite metric values")
struct NonFiniteMetricsTests {
  let database: AppDatabase

  init() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-nonfinite-\(UUID().uuidString)")
    database = try AppDatabase.open(at: folder.appendingPathComponent("hpod.sqlite").path)
  }

  @Test("NaN and ±Infinity points are stored and read back as logged, by every reader")
  func keptAsLogged() throws {
    let study = try database.createStudy(
      StudyRecord(
        name: "s", specYAML: "name: s", specPath: nil, specHash: "h", objectiveMetric: "loss", direction: .minimize))
    let trial = try database.createTrial(studyId: study.id!, tier: .quickTest, params: [], paramsJSON: "{}")
    let id = trial.id!
    try database.appendMetrics(
      [
        MetricPoint(trialId: id, name: "loss", step: 0, value: 0.5, timestamp: 1),
        MetricPoint(trialId: id, name: "loss", step: 1, value: .nan, timestamp: 2),
        MetricPoint(trialId: id, name: "grad", step: 1, value: .infinity, timestamp: 2),
        MetricPoint(trialId: id, name: "lr", step: 1, value: -.infinity, timestamp: 2),
      ])

    let history = try database.metrics(trialId: id, name: "loss")
    #expect(history.count == 2)
    #expect(history[0].value == 0.5 && history[1].value.isNaN)
    let final = try database.finalMetrics(trialId: id)
    #expect(final["loss"]?.isNaN == true && final["grad"] == .infinity && final["lr"] == -.infinity)
    let byStudy = try database.finalMetricValues(studyId: study.id!)[id] ?? [:]
    #expect(byStudy["loss"]?.isNaN == true && byStudy["grad"] == .infinity)
    let last = try database.lastMetricValues(studyId: study.id!)[id] ?? [:]
    #expect(last["loss"]?.isNaN == true && last["lr"] == -.infinity)
    // and JSON says them as MLflow's protobuf JSON does
    let text = JSONCoding.text(["nan": Double.nan, "inf": .infinity, "ninf": -.infinity])
    #expect(text == #"{"inf":"Infinity","nan":"NaN","ninf":"-Infinity"}"#)
  }
}
