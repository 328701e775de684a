import Foundation
import GRDB
public import Significance
public import StudyModel

// A study's counts and best trial, and the daemon's counts for /metrics.
extension AppDatabase {
  /// Counts by state and tier, and the best completed trial (full trainings first), computed
  /// in SQL so a study of many thousand trials summarizes in one cheap read.
  public struct StudySummary: Sendable, Hashable {
    public var counts: [TrialState: Int]
    public var quickTests: Int
    public var fullTrainings: Int
    /// The best full training, else the best quick test; with repeats, the first trial of
    /// the configuration with the best mean.
    public var best: TrialRecord?
    /// That configuration's value over its repeats, when it has more than one.
    public var bestValue: SampleSummary?
  }

  public func summary(studyId: Int64, higherIsBetter: Bool) throws -> StudySummary {
    try writer.read { db in
      var counts: [TrialState: Int] = [:]
      var tiers: [Tier: Int] = [:]
      for row in try Row.fetchAll(
        db, sql: "SELECT state, tier, COUNT(*) AS n FROM trial WHERE studyId = ? GROUP BY state, tier",
        arguments: [studyId])
      {
        let n: Int = row["n"]
        if let state = TrialState(rawValue: row["state"]) { counts[state, default: 0] += n }
        if let tier = Tier(rawValue: row["tier"]) { tiers[tier, default: 0] += n }
      }
      // The best full training, else the best quick test: each one index lookup (a trial
      // tagged infeasible is skipped).
      let order = higherIsBetter ? "DESC" : "ASC"
      var best: TrialRecord?
      var bestValue: SampleSummary?
      let repeated = try Bool.fetchOne(
        db, sql: "SELECT EXISTS (SELECT 1 FROM trial WHERE studyId = ? AND repeatIndex > 0)", arguments: [studyId])
      for tier in [Tier.fullTraining, .quickTest] where best == nil && repeated == true {
        (best, bestValue) = try Self.bestConfiguration(studyId: studyId, tier: tier, higherIsBetter: higherIsBetter, db)
      }
      for tier in [Tier.fullTraining, .quickTest] where best == nil {
        best = try TrialRecord.fetchOne(
          db,
          sql: """
            SELECT * FROM trial WHERE studyId = ? AND tier = ? AND state = 'completed' AND value IS NOT NULL
              AND NOT EXISTS (
                SELECT 1 FROM tag WHERE tag.trialId = trial.id AND tag.key = ? AND tag.value LIKE 'no%')
            ORDER BY value \(order), number ASC LIMIT 1
            """, arguments: [studyId, tier.rawValue, HpodTag.feasible])
      }
      return StudySummary(
        counts: counts, quickTests: tiers[.quickTest] ?? 0, fullTrainings: tiers[.fullTraining] ?? 0, best: best,
        bestValue: bestValue)
    }
  }

  public func trialStateCounts() throws -> [(state: String, tier: String, count: Int)] {
    try writer.read { db in
      try Row.fetchAll(db, sql: "SELECT state, tier, COUNT(*) FROM trial GROUP BY state, tier ORDER BY state, tier")
        .map { (state: $0[0], tier: $0[1], count: $0[2]) }
    }
  }

  public func studyStateCounts() throws -> [String: Int] {
    try writer.read { db in
      Dictionary(
        uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT state, COUNT(*) FROM study GROUP BY state").map {
          row -> (String, Int) in (row[0], row[1])
        })
    }
  }

  /// Durations in seconds of every finished trial that ran.
  public func finishedTrialDurations() throws -> [Double] {
    try writer.read { db in
      try Double.fetchAll(
        db,
        sql: """
          SELECT (julianday(finishedAt) - julianday(startedAt)) * 86400.0 FROM trial
          WHERE startedAt IS NOT NULL AND finishedAt IS NOT NULL
          """)
    }
  }
}
