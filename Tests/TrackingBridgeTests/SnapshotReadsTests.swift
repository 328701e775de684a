import Foundation
import GRDB
import Testing

@testable import TrackingBridge

/// The reads the dashboard's snapshot of a large study is made of, against the slower reads
/// they stand in for, on a real store.
@Suite("Snapshot reads")
struct SnapshotReadsTests {
  /// A study of trials with every kind of field set, and points stored out of step order, at
  /// repeated steps, NaN, and copied from another trial's history.
  static func write(_ database: AppDatabase) throws -> Int64 {
    let study = try database.createStudy(
      StudyRecord(
        name: "reads", specYAML: "name: reads", specPath: nil, specHash: "reads", objectiveMetric: "score",
        direction: .maximize))
    var trials: [TrialRecord] = []
    for index in 0..<6 {
      let trial = try database.createTrial(
        studyId: study.id!, tier: index == 5 ? .fullTraining : .quickTest,
        params: [(name: "x", value: "\(index)", numeric: Double(index))], paramsJSON: #"{"x":\#(index)}"#,
        sourceTrialId: index == 5 ? trials[0].id : nil)
      trials.append(trial)
    }
    let stamp = Int64(Date().timeIntervalSince1970 * 1000)
    let point = { (trial: Int, name: String, step: Int, value: Double) in
      MetricPoint(trialId: trials[trial].id!, name: name, step: step, value: value, timestamp: stamp)
    }
    try database.appendMetrics([point(0, "score", 3, 0.3), point(0, "score", 1, 0.1), point(0, "loss", 2, 0.9)])
    try database.appendMetrics([point(0, "score", 3, 0.35)])  // the same step again: the later one is last
    try database.appendMetrics([point(1, "score", 1, .nan), point(1, "loss", 1, .infinity)])
    try database.appendMetrics([point(2, "score", 5, 0.5), point(2, "score", 4, 0.6)])
    _ = try database.perform(database.copyingMetrics(from: trials[0].id!, to: trials[3].id!, upToStep: 2))
    try database.appendMetrics([point(3, "score", 2, 0.2)])
    _ = try database.startTrial(trials[0], handle: #"{"local":{"pid":1}}"#, runDirectory: "/tmp/r0")
    _ = try database.finishTrial(
      id: trials[0].id!, .init(state: .failed, value: 0.35, exitCode: 3, reason: "it <failed>"))
    _ = try database.startTrial(trials[2], handle: #"{"external":{}}"#, runDirectory: "")
    return study.id!
  }

  /// NaN is not equal to itself: compare values by their bits.
  static func bits(_ values: [Int64: [String: Double]]) -> [Int64: [String: UInt64]] {
    values.mapValues { $0.mapValues(\.bitPattern) }
  }

  @Test("the last point of each metric kept by the trigger is what a scan of every point finds")
  func lastPointsKept() throws {
    let store = try StoreFolder()
    let id = try Self.write(store.database)
    let finals = try store.database.finalMetricValues(studyId: id)
    #expect(Self.bits(finals) == Self.bits(try store.database.lastMetricValues(studyId: id)))
    let trials = try store.database.trials(studyId: id)
    #expect(finals[trials[0].id!] == ["score": 0.35, "loss": 0.9])
    #expect(finals[trials[1].id!]?["score"]?.isNaN == true && finals[trials[1].id!]?["loss"] == .infinity)
    #expect(finals[trials[2].id!] == ["score": 0.5])
    #expect(finals[trials[3].id!] == ["score": 0.2, "loss": 0.9])
    #expect(finals[trials[4].id!] == nil)
  }

  @Test("a store written before the trigger existed gets every trial's last points when it is opened")
  func lastPointsFilledOnMigration() throws {
    let store = try StoreFolder()
    let id = try Self.write(store.database)
    let expected = Self.bits(try store.database.lastMetricValues(studyId: id))
    // Given the store as it was before migration v17
    let path = "\(store.root)/hpod.sqlite"
    let queue = try DatabaseQueue(path: path)
    try queue.write { db in
      try db.execute(sql: "DROP TRIGGER metricLast_on_insert; DROP TABLE metricLast")
      try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v17:%'")
    }
    try queue.close()
    // When it is opened, the migration fills the table from the points
    let reopened = try AppDatabase.open(at: path)
    #expect(Self.bits(try reopened.finalMetricValues(studyId: id)) == expected)
  }

  @Test("trials read by column position are the trials read through Codable")
  func trialsByPosition() throws {
    let store = try StoreFolder()
    let id = try Self.write(store.database)
    let trials = try store.database.trials(studyId: id)
    #expect(trials.count == 6)
    #expect(try store.database.trialsByNumber(studyId: id) == trials)
  }
}
