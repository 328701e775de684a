import Foundation
public import GRDB
import NumberText
public import Significance
import StudyModel

/// A configuration's value over its repeats: the mean of its completed trials' objective
/// values, with their standard deviation and count.
public enum RepeatGroups {
  /// Each configuration's summary, keyed by its configuration id, from a study's trials
  /// (configurations without a completed value are left out).
  public static func summaries(_ trials: [TrialRecord]) -> [Int64: SampleSummary] {
    var values: [Int64: [Double]] = [:]
    for trial in trials where trial.state == .completed {
      guard let id = trial.configurationId, let value = trial.value, value.isFinite else { continue }
      values[id, default: []].append(value)
    }
    return values.compactMapValues(SampleSummary.init)
  }

  /// Each configuration's completed values, keyed by configuration id, in repeat order.
  public static func values(_ trials: [TrialRecord]) -> [Int64: [Double]] {
    var values: [Int64: [(Int, Double)]] = [:]
    for trial in trials where trial.state == .completed {
      guard let id = trial.configurationId, let value = trial.value, value.isFinite else { continue }
      values[id, default: []].append((trial.repeatIndex, value))
    }
    return values.mapValues { $0.sorted { $0.0 < $1.0 }.map(\.1) }
  }

  /// "0.9132 ± 0.0041 (n = 3)", or the mean alone for a single value.
  public static func describe(_ summary: SampleSummary) -> String {
    describe(mean: summary.mean, deviation: summary.standardDeviation, count: summary.count)
  }

  public static func describe(mean: Double, deviation: Double?, count: Int) -> String {
    let text = NumberText.of(mean)
    guard let deviation else { return text }
    return "\(text) ± \(NumberText.of(deviation, digits: 2)) (n = \(count))"
  }
}

extension AppDatabase {
  /// The value over its repeats of each configuration of a study that has repeats, by
  /// configuration id (configurations run once are left out).
  public func repeatSummaries(studyId: Int64) throws -> [Int64: SampleSummary] {
    try writer.read { db in
      // Configurations with a second repeat, through the (studyId, repeatIndex) index: none in
      // a study without repeats, so its listings pay one index probe.
      let repeated = try Int64.fetchSet(
        db, sql: "SELECT repeatOf FROM trial WHERE studyId = ? AND repeatIndex > 0", arguments: [studyId])
      guard !repeated.isEmpty else { return [:] }
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT COALESCE(repeatOf, id) AS configuration, value FROM trial
          WHERE studyId = ? AND state = 'completed' AND value IS NOT NULL
            AND (id IN (SELECT value FROM json_each(?)) OR repeatOf IN (SELECT value FROM json_each(?)))
          """, arguments: [studyId, "\(repeated.sorted())", "\(repeated.sorted())"])
      var values: [Int64: [Double]] = [:]
      for row in rows {
        let value: Double = row["value"]
        if value.isFinite { values[row["configuration"], default: []].append(value) }
      }
      return values.compactMapValues(SampleSummary.init)
    }
  }

  /// The configuration of `tier` with the best mean value: its first trial, and the summary
  /// when it has more than one value.
  static func bestConfiguration(studyId: Int64, tier: Tier, higherIsBetter: Bool, _ db: Database) throws -> (
    TrialRecord?, SampleSummary?
  ) {
    let rows = try Row.fetchAll(
      db,
      sql: """
        SELECT COALESCE(repeatOf, id) AS configuration, value FROM trial
        WHERE studyId = ? AND tier = ? AND state = 'completed' AND value IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM tag WHERE tag.trialId = trial.id AND tag.key = ? AND tag.value LIKE 'no%')
        ORDER BY number
        """, arguments: [studyId, tier.rawValue, HpodTag.feasible])
    var values: [Int64: [Double]] = [:]
    var order: [Int64] = []
    for row in rows {
      let id: Int64 = row["configuration"]
      let value: Double = row["value"]
      guard value.isFinite else { continue }
      if values[id] == nil { order.append(id) }
      values[id, default: []].append(value)
    }
    let summaries = values.compactMapValues(SampleSummary.init)
    var bestId: Int64?
    for id in order {
      guard let mean = summaries[id]?.mean else { continue }
      if let current = bestId.flatMap({ summaries[$0]?.mean }),
        !(higherIsBetter ? mean > current : mean < current)
      {
        continue
      }
      bestId = id
    }
    guard let bestId else { return (nil, nil) }
    let summary = summaries[bestId].flatMap { $0.count > 1 ? $0 : nil }
    return (try TrialRecord.fetchOne(db, key: bestId), summary)
  }

  /// The trials of one configuration (its first trial and every trial repeating it).
  public func configurationTrials(configurationId: Int64) throws -> [TrialRecord] {
    try writer.read { db in try Self.configurationTrials(configurationId, db) }
  }

  static func configurationTrials(_ configurationId: Int64, _ db: Database) throws -> [TrialRecord] {
    try TrialRecord.filter(Column("id") == configurationId || Column("repeatOf") == configurationId)
      .order(TrialRecord.Columns.number).fetchAll(db)
  }

  /// After a repeat completes: every trial of its configuration gets the configuration's mean,
  /// standard deviation and count as tags (mirrored to MLflow), so each run shows the value
  /// that decides for it. Configurations run once are left untagged.
  func tagRepeatSummary(of trial: TrialRecord, _ db: Database) throws {
    guard let configurationId = trial.configurationId else { return }
    let members = try Self.configurationTrials(configurationId, db)
    guard members.contains(where: { $0.repeatIndex > 0 }),
      let summary = RepeatGroups.summaries(members)[configurationId]
    else { return }
    var tags = [HpodTag.valueMean: String(summary.mean), HpodTag.valueCount: String(summary.count)]
    if let deviation = summary.standardDeviation { tags[HpodTag.valueStd] = String(deviation) }
    for member in members {
      for (key, value) in tags { try TagRecord(trialId: member.id!, key: key, value: value).upsert(db) }
      try enqueueMirrorWrite(.setTags, trialId: member.id!, payload: Self.json(tags), db)
    }
  }
}
