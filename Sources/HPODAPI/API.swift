public import Foundation
public import SearchStrategies
public import Significance
public import StudyModel
public import TrackingBridge
public import TrialScheduler

/// The JSON shapes of the HTTP API (docs/API.md), shared by the daemon and its clients.
public enum API {
  public struct Objective: Codable, Sendable, Hashable {
    public var metric: String
    public var direction: String
  }

  public struct Trial: Codable, Sendable, Hashable {
    public var id: Int64
    public var studyId: Int64
    public var number: Int
    public var tier: String
    public var state: String
    public var params: [String: ParameterValue]
    public var value: Double?
    public var retryOf: Int64?
    public var sourceTrialId: Int64?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var durationSeconds: Double?
    /// `duration_seconds` summed over the attempts of the trial's configuration up to this
    /// one (a re-run resumes the training the earlier ones began); with `attempt`, which
    /// attempt it is (1: the first). Given where the trial is read with its study's trials
    /// (the trial list and the trial's own page), absent in events.
    public var totalDurationSeconds: Double?
    public var attempt: Int?
    public var exitCode: Int?
    public var signal: Int?
    public var reason: String?
    /// Where the trial runs or ran: `pid 4242`, `Slurm job 17 on node3`, `external`.
    public var executor: String?
    /// Which repeat of its configuration the trial is (0: the first).
    public var repeatIndex: Int
    /// The first trial of the configuration (its id); the trial's own id for that one.
    public var configurationId: Int64
    public var seed: Int64?
    /// The configuration's value over its repeats, where it has repeats and is known.
    public var configurationValue: ValueSummary?

    enum CodingKeys: String, CodingKey {
      case id
      case studyId = "study_id"
      case number
      case tier
      case state
      case params
      case value
      case retryOf = "retry_of"
      case sourceTrialId = "source_trial_id"
      case createdAt = "created_at"
      case startedAt = "started_at"
      case finishedAt = "finished_at"
      case durationSeconds = "duration_seconds"
      case totalDurationSeconds = "total_duration_seconds"
      case attempt
      case exitCode = "exit_code"
      case signal
      case reason
      case executor
      case repeatIndex = "repeat"
      case configurationId = "configuration_id"
      case seed
      case configurationValue = "configuration_value"
    }

    public init(_ record: TrialRecord, configurationValue: SampleSummary? = nil, time: AttemptTime? = nil) {
      totalDurationSeconds = time?.seconds
      attempt = time?.attempt
      repeatIndex = record.repeatIndex
      configurationId = record.configurationId ?? 0
      seed = record.seed
      self.configurationValue = configurationValue.map(ValueSummary.init)
      id = record.id ?? 0
      studyId = record.studyId
      number = record.number
      tier = record.tier.rawValue
      state = record.state.rawValue
      // A read, not a write: the store wrote this JSON from a Configuration, so it decodes unless
      // the file was edited by hand; then the trial is still listed, without its parameters
      // (this init serves the events too, which cannot throw).
      params = (try? JSONDecoder().decode([String: ParameterValue].self, from: Data(record.paramsJSON.utf8))) ?? [:]
      value = record.value
      retryOf = record.retryOf
      sourceTrialId = record.sourceTrialId
      createdAt = record.createdAt
      startedAt = record.startedAt
      finishedAt = record.finishedAt
      durationSeconds = record.duration
      exitCode = record.exitCode
      signal = record.signal
      reason = record.reason
      executor = record.executorHandle?.description
    }
  }

  public struct Study: Codable, Sendable, Hashable {
    public var id: Int64
    public var name: String
    public var state: String
    public var stateReason: String?
    public var objective: Objective
    public var algorithm: String?
    public var maxTrials: Int?
    public var parallelism: Int?
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?
    public var counts: [String: Int]
    public var quickTests: Int
    public var fullTrainings: Int
    public var best: Trial?
    /// The other study whose finished trials the search started from (`search.warm_start`).
    public var warmStart: WarmStart?
    /// How many configurations the spec queued to run first (`search.enqueue`).
    public var enqueued: Int?

    /// `{"study_id": 3, "study": "mnist-wide", "observations": 40, "outside_space": 2}`.
    public struct WarmStart: Codable, Sendable, Hashable {
      public var studyId: Int64
      public var study: String
      public var observations: Int
      public var outsideSpace: Int

      enum CodingKeys: String, CodingKey {
        case studyId = "study_id"
        case study, observations
        case outsideSpace = "outside_space"
      }
    }

    enum CodingKeys: String, CodingKey {
      case id
      case name
      case state
      case stateReason = "state_reason"
      case objective
      case algorithm
      case maxTrials = "max_trials"
      case parallelism
      case createdAt = "created_at"
      case updatedAt = "updated_at"
      case finishedAt = "finished_at"
      case counts
      case quickTests = "quick_tests"
      case fullTrainings = "full_trainings"
      case best
      case warmStart = "warm_start"
      case enqueued
    }

    public init(_ record: StudyRecord, spec: StudySpec?, summary: AppDatabase.StudySummary?) {
      id = record.id ?? 0
      name = record.name
      state = record.state.rawValue
      stateReason = record.stateReason
      objective = Objective(metric: record.objectiveMetric, direction: record.direction.rawValue)
      algorithm = spec?.search.algorithm.rawValue
      maxTrials = spec?.search.maxTrials
      parallelism = spec?.search.parallelism
      createdAt = record.createdAt
      updatedAt = record.updatedAt
      finishedAt = record.finishedAt
      counts = Dictionary(uniqueKeysWithValues: TrialState.allCases.map { ($0.rawValue, summary?.counts[$0] ?? 0) })
      quickTests = summary?.quickTests ?? 0
      fullTrainings = summary?.fullTrainings ?? 0
      best = summary?.best.map { Trial($0, configurationValue: summary?.bestValue) }
    }
  }

  /// A study of several objectives' best: its Pareto front (`GET /api/v1/studies/{id}/best`).
  public struct Front: Codable, Sendable, Hashable {
    public var objectives: [Objective]
    public var constraints: [String]
    public var tier: String
    /// Feasible configurations no other beats in every objective, by the first objective.
    public var front: [Member]
    /// Completed configurations left off for breaking a constraint.
    public var infeasible: Int

    public struct Member: Codable, Sendable, Hashable {
      public var trial: Trial
      /// Every final metric's value (the mean over the configuration's completed repeats).
      public var metrics: [String: Double]
    }
  }

  public struct Point: Codable, Sendable, Hashable {
    public var step: Int
    public var value: Double
    public var timestamp: Int64

    public init(step: Int, value: Double, timestamp: Int64) {
      self.step = step
      self.value = value
      self.timestamp = timestamp
    }
  }

  /// A value over repeats: `{"mean": 0.91, "std": 0.004, "count": 3}`.
  public struct ValueSummary: Codable, Sendable, Hashable {
    public var mean: Double
    public var std: Double?
    public var count: Int

    public init(_ summary: SampleSummary) {
      mean = summary.mean
      std = summary.standardDeviation
      count = summary.count
    }
  }

  public struct TrialDetail: Codable, Sendable, Hashable {
    public var trial: Trial
    public var metrics: [String: [Point]]
    public var tags: [String: String]
    public var logTail: [String: String]

    public init(trial: Trial, metrics: [String: [Point]], tags: [String: String], logTail: [String: String]) {
      self.trial = trial
      self.metrics = metrics
      self.tags = tags
      self.logTail = logTail
    }

    enum CodingKeys: String, CodingKey {
      case trial
      case metrics
      case tags
      case logTail = "log_tail"
    }
  }

  /// The answer to a full training requested by hand.
  public struct Promotion: Codable, Sendable, Hashable {
    public var quickTest: Trial
    /// The full training, when it exists already.
    public var fullTraining: Trial?
    /// Whether this call recorded a new request (false: the full training existed).
    public var requested: Bool
    public var message: String

    public init(quickTest: Trial, fullTraining: Trial?, requested: Bool, message: String) {
      self.quickTest = quickTest
      self.fullTraining = fullTraining
      self.requested = requested
      self.message = message
    }

    enum CodingKeys: String, CodingKey {
      case quickTest = "quick_test"
      case fullTraining = "full_training"
      case requested
      case message
    }
  }

  /// The answer to pausing or resuming one trial.
  public struct TrialPause: Codable, Sendable, Hashable {
    public var trial: Trial
    public var message: String

    public init(trial: Trial, message: String) {
      self.trial = trial
      self.message = message
    }
  }

  public struct StudyList: Codable, Sendable {
    public var studies: [Study]
    public init(studies: [Study]) { self.studies = studies }
  }

  public struct TrialList: Codable, Sendable {
    public var trials: [Trial]
    public init(trials: [Trial]) { self.trials = trials }
  }

  public struct Tell: Codable, Sendable {
    public var value: Double?
    public var state: String?
    public var reason: String?
    public var metrics: [TellMetric]?

    public init(value: Double? = nil, state: String? = nil, reason: String? = nil, metrics: [TellMetric]? = nil) {
      self.value = value
      self.state = state
      self.reason = reason
      self.metrics = metrics
    }
  }

  /// The note on a study (`trial` nil) or on one of its runs; `note` nil when it has none.
  /// A PUT sends `{"note": "…"}` (an empty text removes it).
  public struct Note: Codable, Sendable, Hashable {
    public var study: Int64
    public var trial: Int?
    public var note: String?

    public init(study: Int64, trial: Int?, note: String?) {
      self.study = study
      self.trial = trial
      self.note = note
    }

    enum CodingKeys: String, CodingKey {
      case study, trial, note
    }

    /// Every field, null ones included: a missing note reads `"note": null`.
    public func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(study, forKey: .study)
      try container.encode(trial, forKey: .trial)
      try container.encode(note, forKey: .note)
    }
  }

  public struct TellMetric: Codable, Sendable {
    public var name: String
    public var step: Int
    public var value: Double
  }

  /// A located spec problem, as `hpod validate` prints it.
  public typealias Issue = SpecIssue

  public struct ErrorBody: Codable, Sendable {
    public struct Detail: Codable, Sendable {
      public var message: String
      public var issues: [Issue]?

      public init(message: String, issues: [Issue]? = nil) {
        self.message = message
        self.issues = issues
      }
    }

    public var error: Detail

    public init(error: Detail) {
      self.error = error
    }
  }

  /// hpod's one JSON configuration (`JSONCoding`).
  public static var encoder: JSONEncoder { JSONCoding.encoder }
  public static var decoder: JSONDecoder { JSONCoding.decoder }
}

/// A JSON value, for event payloads assembled from several objects.
public enum JSONValue: Codable, Sendable, Hashable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  public init<T: Encodable>(encoding value: T) {
    let data = (try? API.encoder.encode(value)) ?? Data("null".utf8)
    self = (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([JSONValue].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .null: try container.encodeNil()
    case .bool(let value): try container.encode(value)
    case .number(let value): try container.encode(value)
    case .string(let value): try container.encode(value)
    case .array(let value): try container.encode(value)
    case .object(let value): try container.encode(value)
    }
  }
}
