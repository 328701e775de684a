public import GRDB

/// Where a trial sits in its study, for naming its run: "config-017 Quick Test #3".
public struct RunLineage: Sendable, Hashable {
  /// The number of the quick test that first ran the configuration (for a full training, the
  /// first run of the quick test it was promoted from).
  public var configNumber: Int
  /// 1-based: the how-manieth configuration of its tier this is.
  public var ordinal: Int
  /// 0 for a first run, n for its n-th re-run after a crash or an interruption.
  public var attempt: Int
  /// The quick test a full training was promoted from (its trial number).
  public var sourceTrialNumber: Int?
  /// Which repeat of its configuration the trial is (0 for the first).
  public var repeatIndex: Int = 0

  public init(configNumber: Int, ordinal: Int, attempt: Int, sourceTrialNumber: Int? = nil, repeatIndex: Int = 0) {
    self.repeatIndex = repeatIndex
    self.configNumber = configNumber
    self.ordinal = ordinal
    self.attempt = attempt
    self.sourceTrialNumber = sourceTrialNumber
  }
}

extension AppDatabase {
  public func runLineage(trialId: Int64) throws -> RunLineage? {
    try writer.read { db in
      guard let trial = try TrialRecord.fetchOne(db, key: trialId) else { return nil }
      let (first, attempt) = try Self.root(of: trial, db)
      // The configuration's first trial: repeats and re-runs point at it.
      let root = try first.repeatOf.flatMap { try TrialRecord.fetchOne(db, key: $0) } ?? first
      let ordinal =
        try Int.fetchOne(
          db,
          sql: """
            SELECT COUNT(*) FROM trial
            WHERE studyId = ? AND tier = ? AND retryOf IS NULL AND repeatOf IS NULL AND number <= ?
            """,
          arguments: [trial.studyId, root.tier.rawValue, root.number]) ?? 1
      var configNumber = root.number
      var sourceNumber: Int?
      if let sourceId = root.sourceTrialId, let source = try TrialRecord.fetchOne(db, key: sourceId) {
        sourceNumber = source.number
        let sourceRoot = try source.repeatOf.flatMap { try TrialRecord.fetchOne(db, key: $0) } ?? source
        configNumber = try Self.root(of: sourceRoot, db).0.number
      }
      return RunLineage(
        configNumber: configNumber, ordinal: ordinal, attempt: attempt, sourceTrialNumber: sourceNumber,
        repeatIndex: trial.repeatIndex)
    }
  }

  /// The first run of a trial's chain of re-runs, and how many re-runs separate them.
  private static func root(of trial: TrialRecord, _ db: Database) throws -> (TrialRecord, Int) {
    var current = trial
    var depth = 0
    while let previous = current.retryOf, let record = try TrialRecord.fetchOne(db, key: previous) {
      current = record
      depth += 1
    }
    return (current, depth)
  }
}
