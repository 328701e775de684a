public import Foundation
public import GRDB
public import StudyModel

/// A study row: the spec it was started from and where it stands.
public struct StudyRecord: Sendable, Hashable, Codable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "study"

  public var id: Int64?
  public var name: String
  /// The YAML text as submitted, kept verbatim so the study can be resumed or re-run.
  public var specYAML: String
  /// Where the spec was read from, if it was a file.
  public var specPath: String?
  /// A digest of the spec text: a changed spec is not silently resumed.
  public var specHash: String
  public var objectiveMetric: String
  public var direction: Direction
  public var state: StudyState
  public var stateReason: String?
  public var createdAt: Date
  public var updatedAt: Date
  public var finishedAt: Date?

  public enum Columns {
    public static let id = Column(CodingKeys.id)
    public static let name = Column(CodingKeys.name)
    public static let state = Column(CodingKeys.state)
    public static let createdAt = Column(CodingKeys.createdAt)
  }

  public init(
    id: Int64? = nil, name: String, specYAML: String, specPath: String?, specHash: String,
    objectiveMetric: String, direction: Direction, state: StudyState = .running, stateReason: String? = nil,
    createdAt: Date = Date(), updatedAt: Date = Date(), finishedAt: Date? = nil
  ) {
    self.id = id
    self.name = name
    self.specYAML = specYAML
    self.specPath = specPath
    self.specHash = specHash
    self.objectiveMetric = objectiveMetric
    self.direction = direction
    self.state = state
    self.stateReason = stateReason
    self.createdAt = createdAt
    self.updatedAt = updatedAt
    self.finishedAt = finishedAt
  }

  public mutating func didInsert(_ inserted: InsertionSuccess) {
    id = inserted.rowID
  }
}

/// A trial row: one run of the trial command with one configuration at one tier.
public struct TrialRecord: Sendable, Hashable, Codable, FetchableRecord, MutablePersistableRecord {
  public static let databaseTableName = "trial"

  public var id: Int64?
  public var studyId: Int64
  /// 0-based, unique within the study, in the order trials were created.
  public var number: Int
  public var tier: Tier
  public var state: TrialState
  /// The configuration as a JSON object of the active parameters.
  public var paramsJSON: String
  /// The objective value (last reported, or the `final` one).
  public var value: Double?
  /// The trial this one re-runs after a crash or an interruption (same configuration).
  public var retryOf: Int64?
  /// The quick test a full training was promoted from.
  public var sourceTrialId: Int64?
  /// The first trial of this one's configuration in its tier, for every other trial of it
  /// (its repeats over seeds or folds, and re-runs of any of them); nil for that first trial.
  public var repeatOf: Int64?
  /// 0-based: which repeat of its configuration this trial is (re-runs keep the index).
  public var repeatIndex: Int
  /// The seed the trial ran with (`{seed}`, HPOD_SEED); nil for trials made before repeats.
  public var seed: Int64?
  public var createdAt: Date
  public var startedAt: Date?
  public var finishedAt: Date?
  public var exitCode: Int?
  /// The signal that ended the process, if one did.
  public var signal: Int?
  /// Why the trial ended as it did, in words a user can act on.
  public var reason: String?
  /// Where the executor runs the trial (a local process, a Slurm job, or outside hpod), as
  /// the executor's own JSON: the store keeps it so a restarted hpod can find the trial again.
  public var handle: String?
  public var runDirectory: String?
  public var malformedLines: Int

  public enum Columns {
    public static let id = Column(CodingKeys.id)
    public static let studyId = Column(CodingKeys.studyId)
    public static let number = Column(CodingKeys.number)
    public static let state = Column(CodingKeys.state)
    public static let tier = Column(CodingKeys.tier)
  }

  public init(
    id: Int64? = nil, studyId: Int64, number: Int, tier: Tier, state: TrialState = .pending,
    paramsJSON: String, value: Double? = nil, retryOf: Int64? = nil, sourceTrialId: Int64? = nil,
    repeatOf: Int64? = nil, repeatIndex: Int = 0, seed: Int64? = nil, createdAt: Date = Date()
  ) {
    self.repeatOf = repeatOf
    self.repeatIndex = repeatIndex
    self.seed = seed
    self.id = id
    self.studyId = studyId
    self.number = number
    self.tier = tier
    self.state = state
    self.paramsJSON = paramsJSON
    self.value = value
    self.retryOf = retryOf
    self.sourceTrialId = sourceTrialId
    self.createdAt = createdAt
    self.malformedLines = 0
  }

  public mutating func didInsert(_ inserted: InsertionSuccess) {
    id = inserted.rowID
  }

  /// The id of the configuration this trial runs: its first trial's.
  public var configurationId: Int64? { repeatOf ?? id }

  /// Wall-clock duration of the run, once it started.
  public var duration: TimeInterval? {
    guard let startedAt else { return nil }
    return (finishedAt ?? Date()).timeIntervalSince(startedAt)
  }
}

/// One parameter of one trial, stored as text (and as a number when it is one) so runs can be
/// queried and exported without parsing JSON.
public struct ParamRecord: Sendable, Hashable, Codable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "param"

  public var trialId: Int64
  public var name: String
  public var value: String
  public var numericValue: Double?

  public init(trialId: Int64, name: String, value: String, numericValue: Double?) {
    self.trialId = trialId
    self.name = name
    self.value = value
    self.numericValue = numericValue
  }
}

/// One reported value of one metric at one step.
public struct MetricPoint: Sendable, Hashable, Codable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "metric"

  public var trialId: Int64
  public var name: String
  public var step: Int
  public var value: Double
  /// Milliseconds since 1970, as MLflow counts them.
  public var timestamp: Int64

  public enum Columns {
    public static let trialId = Column(CodingKeys.trialId)
    public static let name = Column(CodingKeys.name)
    public static let step = Column(CodingKeys.step)
  }

  public init(trialId: Int64, name: String, step: Int, value: Double, timestamp: Int64) {
    self.trialId = trialId
    self.name = name
    self.step = step
    self.value = value
    self.timestamp = timestamp
  }

  /// A NaN is stored as 0 with `isNaN` set (`StoredMetricValue`).
  public init(row: Row) throws {
    trialId = row["trialId"]
    name = row["name"]
    step = row["step"]
    let isNaN: Bool? = row["isNaN"]
    value = isNaN == true ? .nan : row["value"]
    timestamp = row["timestamp"]
  }

  public func encode(to container: inout PersistenceContainer) throws {
    let stored = StoredMetricValue.stored(value)
    container["trialId"] = trialId
    container["name"] = name
    container["step"] = step
    container["value"] = stored.value
    container["isNaN"] = stored.isNaN
    container["timestamp"] = timestamp
  }
}

/// A free-form key/value label on a trial (`hpod.tier`, `mlflow.runName`, user tags).
public struct TagRecord: Sendable, Hashable, Codable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "tag"

  public var trialId: Int64
  public var key: String
  public var value: String

  public init(trialId: Int64, key: String, value: String) {
    self.trialId = trialId
    self.key = key
    self.value = value
  }
}
