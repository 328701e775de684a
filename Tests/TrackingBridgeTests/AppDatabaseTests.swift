import Foundation
import GRDB
import Testing

@testable import TrackingBridge

@Suite("Embedded store")
struct AppDatabaseTests {
  let path: String
  let database: AppDatabase

  init() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-store-\(UUID().uuidString)")
    path = folder.appendingPathComponent("nested/hpod.sqlite").path
    database = try AppDatabase.open(at: path)
  }

  func makeStudy() throws -> StudyRecord {
    try database.createStudy(
      StudyRecord(
        name: "s", specYAML: "name: s", specPath: nil, specHash: "h", objectiveMetric: "m", direction: .maximize))
  }

  @Test("the store is a WAL-mode SQLite file, created with its folder")
  func opensInWALMode() throws {
    #expect(FileManager.default.fileExists(atPath: path))
    let mode = try database.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
    #expect(mode == "wal")
  }

  @Test("trials are numbered per study, with their params queryable")
  func numbersTrials() throws {
    let study = try makeStudy()
    let first = try database.createTrial(
      studyId: study.id!, tier: .quickTest, params: [("lr", "0.1", 0.1), ("opt", "adam", nil)], paramsJSON: "{}")
    let second = try database.createTrial(studyId: study.id!, tier: .fullTraining, params: [], paramsJSON: "{}")
    #expect(first.number == 0)
    #expect(second.number == 1)
    #expect(try database.params(trialId: first.id!).map(\.name) == ["lr", "opt"])
    #expect(try database.params(trialId: first.id!).first?.numericValue == 0.1)
  }

  @Test("a store from before executor handles keeps where its trials ran: pid and start ticks become a local handle")
  func migratesPidsToHandles() throws {
    // Given a store at v5 with a trial hpod ran (pid 4242) and one told through ask and tell (pid 0)
    let old = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-v5-\(UUID().uuidString).sqlite").path
    defer { try? FileManager.default.removeItem(atPath: old) }
    let queue = try DatabaseQueue(path: old)
    try Migrations.migrator.migrate(
      queue, upTo: "v5: metric points by trial in insertion order, for the mirror's watermark")
    try queue.write { db in
      try db.execute(
        sql: """
          INSERT INTO study (id, name, specYAML, specHash, objectiveMetric, direction, state, createdAt, updatedAt)
          VALUES (1, 's', '', 'h', 'score', 'maximize', 'running', '2026-01-01', '2026-01-01');
          INSERT INTO trial (studyId, number, tier, state, paramsJSON, createdAt, pid, processStartTicks)
          VALUES (1, 0, 'quick_test', 'running', '{}', '2026-01-01', 4242, 99),
                 (1, 1, 'quick_test', 'running', '{}', '2026-01-01', 0, NULL),
                 (1, 2, 'quick_test', 'pending', '{}', '2026-01-01', NULL, NULL);
          """)
    }
    try queue.close()

    // When hpod opens it
    let migrated = try AppDatabase.open(at: old)

    // Then each trial's handle says where it ran
    let handles = try migrated.trials(studyId: 1).map(\.handle)
    #expect(handles == [#"{"local":{"pid":4242,"startTicks":99}}"#, #"{"external":{}}"#, nil])
  }

  @Test("a finished trial is never changed again")
  func finishedTrialsAreFinal() throws {
    let study = try makeStudy()
    let trial = try database.createTrial(studyId: study.id!, tier: .quickTest, params: [], paramsJSON: "{}")
    try database.startTrial(trial, handle: #"{"local":{"pid":123,"startTicks":9}}"#, runDirectory: "/tmp/x")
    let point = MetricPoint(trialId: trial.id!, name: "loss", step: 1, value: 0.5, timestamp: 1)
    #expect(
      try database.finishTrial(id: trial.id!, .init(state: .completed, value: 0.9), metrics: [point])?.state
        == .completed)
    // When something tries to finish it again
    let changed = try database.finishTrial(id: trial.id!, .init(state: .failed, reason: "late"))
    // Then nothing changes
    #expect(changed == nil)
    let stored = try #require(try database.trial(id: trial.id!))
    #expect(stored.state == .completed && stored.value == 0.9 && stored.reason == nil)
    #expect(try database.metrics(trialId: trial.id!) == [point])
  }

  @Test("metric history comes back in step order per metric, and survives reopening the file")
  func keepsMetricHistory() throws {
    let study = try makeStudy()
    let trial = try database.createTrial(studyId: study.id!, tier: .quickTest, params: [], paramsJSON: "{}")
    try database.appendMetrics(
      (0..<50).reversed().map {
        MetricPoint(trialId: trial.id!, name: "acc", step: $0, value: Double($0), timestamp: 7)
      })
    try database.setTags(trialId: trial.id!, ["hpod.tier": "quick_test"])
    let reopened = try AppDatabase.open(at: path)
    #expect(try reopened.metrics(trialId: trial.id!, name: "acc").map(\.step) == Array(0..<50))
    #expect(try reopened.metricCount(studyId: study.id!) == 50)
    #expect(try reopened.tags(trialId: trial.id!) == ["hpod.tier": "quick_test"])
  }

  @Test("an unwritable location is a clear error")
  func reportsUnwritableStore() {
    #expect {
      _ = try AppDatabase.open(at: "/proc/hpod/hpod.sqlite")
    } throws: { error in
      "\(error)".contains("/proc/hpod")
    }
  }
}
