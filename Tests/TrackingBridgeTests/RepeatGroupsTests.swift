import Foundation
import GRDB
import Testing

@testable import TrackingBridge

@Suite("Repeats in the store")
struct RepeatGroupsTests {
  @Test("a store from before repeats puts every re-run in the configuration of its chain's first trial")
  func migratesRetriesIntoConfigurations() throws {
    // Given a v8 store where trial 0 crashed, was re-run as 1, which was re-run as 2; 3 ran once
    let old = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-v8-\(UUID().uuidString).sqlite").path
    defer { try? FileManager.default.removeItem(atPath: old) }
    let queue = try DatabaseQueue(path: old)
    try Migrations.migrator.migrate(queue, upTo: "v8: registered models made through the MLflow API before any version")
    try queue.write { db in
      try db.execute(
        sql: """
          INSERT INTO study (id, name, specYAML, specHash, objectiveMetric, direction, state, createdAt, updatedAt)
          VALUES (1, 's', '', 'h', 'score', 'maximize', 'completed', '2026-01-01', '2026-01-01');
          INSERT INTO trial (id, studyId, number, tier, state, paramsJSON, createdAt, retryOf, value)
          VALUES (10, 1, 0, 'quick_test', 'failed', '{}', '2026-01-01', NULL, NULL),
                 (11, 1, 1, 'quick_test', 'failed', '{}', '2026-01-01', 10, NULL),
                 (12, 1, 2, 'quick_test', 'completed', '{}', '2026-01-01', 11, 0.8),
                 (13, 1, 3, 'quick_test', 'completed', '{}', '2026-01-01', NULL, 0.6);
          """)
    }
    try queue.close()

    // When hpod opens it
    let migrated = try AppDatabase.open(at: old)

    // Then the re-runs belong to trial 0's configuration, as repeat 0, and 3 stands alone
    let trials = try migrated.trials(studyId: 1)
    #expect(trials.map(\.repeatOf) == [nil, 10, 10, nil])
    #expect(trials.map(\.repeatIndex) == [0, 0, 0, 0])
    #expect(trials.map(\.configurationId) == [10, 10, 10, 13])
    // And a configuration run once is summarized by its one value, not shown as repeated
    #expect(RepeatGroups.summaries(trials)[10]?.count == 1)
    #expect(try migrated.repeatSummaries(studyId: 1).isEmpty)
    #expect(try migrated.summary(studyId: 1, higherIsBetter: true).best?.id == 12)
  }

  @Test("the best configuration is the one with the best mean, and every repeat is tagged with it")
  func bestByMean() throws {
    let database = try AppDatabase.inMemory()
    let study = try database.createStudy(
      StudyRecord(name: "s", specYAML: "", specPath: nil, specHash: "h", objectiveMetric: "acc", direction: .maximize))
    func trial(_ value: Double, repeatOf: Int64? = nil, index: Int = 0) throws -> TrialRecord {
      let created = try database.createTrial(
        studyId: study.id!, tier: .quickTest, params: [], paramsJSON: "{}", repeatOf: repeatOf, repeatIndex: index,
        seed: Int64(index))
      return try database.finishTrial(id: created.id!, .init(state: .completed, value: value))!
    }
    // One lucky run of 0.95 against a configuration steady at 0.92, 0.93, 0.94
    let steady = try trial(0.92)
    _ = try trial(0.93, repeatOf: steady.id, index: 1)
    _ = try trial(0.94, repeatOf: steady.id, index: 2)
    let lucky = try trial(0.95)
    _ = try trial(0.70, repeatOf: lucky.id, index: 1)

    let summary = try database.summary(studyId: study.id!, higherIsBetter: true)
    #expect(summary.best?.id == steady.id)
    #expect(summary.bestValue.map { abs($0.mean - 0.93) < 1e-12 && $0.count == 3 } == true)
    let repeated = try database.repeatSummaries(studyId: study.id!)
    #expect(repeated.keys.sorted() == [steady.id!, lucky.id!])
    #expect(abs(repeated[lucky.id!]!.mean - 0.825) < 1e-12)
    for member in try database.configurationTrials(configurationId: steady.id!) {
      let tags = try database.tags(trialId: member.id!)
      #expect(tags["hpod.value_mean"].flatMap(Double.init).map { abs($0 - 0.93) < 1e-12 } == true)
      #expect(tags["hpod.value_count"] == "3")
      #expect(tags["hpod.value_std"].flatMap(Double.init).map { abs($0 - 0.01) < 1e-12 } == true)
    }
    #expect(RepeatGroups.describe(repeated[steady.id!]!) == "0.93 ± 0.01 (n = 3)")
  }
}
