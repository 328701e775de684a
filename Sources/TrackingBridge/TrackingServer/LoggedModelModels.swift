/// A model MLflow 3's `log_model` records (its LoggedModel): made in an experiment, usually
/// by a run (`sourceRunId`), with its own params, tags, metrics and artifacts.
public struct TrackingLoggedModel: Sendable, Hashable {
  public var id: String
  public var experimentId: Int64
  public var name: String
  public var modelType: String
  public var sourceRunId: String
  public var status: LoggedModelStatus
  public var statusMessage: String?
  /// `active` or `deleted`.
  public var lifecycleStage: String
  /// Milliseconds since 1970.
  public var creationTime: Int64
  public var lastUpdateTime: Int64
  public var tags: [String: String]
  public var params: [String: String]
  /// Every point logged for the model, in the order logged.
  public var metrics: [LoggedModelMetric]

  /// Where the client sends its artifacts: hpod's artifact proxy, as an MLflow server with
  /// proxied artifacts names it (`<experiment artifact location>/models/<id>/artifacts`).
  public var artifactURI: String { "mlflow-artifacts:/\(experimentId)/models/\(id)/artifacts" }
}

/// MLflow's LoggedModelStatus, with its proto numbers.
public enum LoggedModelStatus: Int, Sendable, Hashable, CaseIterable {
  case unspecified = 0, pending = 1, ready = 2, uploadFailed = 3

  /// The proto enum's name, as MLflow's JSON writes it.
  public var protoName: String {
    switch self {
    case .unspecified: "LOGGED_MODEL_STATUS_UNSPECIFIED"
    case .pending: "LOGGED_MODEL_PENDING"
    case .ready: "LOGGED_MODEL_READY"
    case .uploadFailed: "LOGGED_MODEL_UPLOAD_FAILED"
    }
  }

  /// A status as a request gives it: its name or its number. MLflow's server reads anything
  /// else as UNSPECIFIED (protobuf's default), and so does hpod.
  public init(request text: String) {
    self =
      Self.allCases.first { $0.protoName == text } ?? Int(text).flatMap(LoggedModelStatus.init(rawValue:))
      ?? .unspecified
  }
}

/// One metric point logged for a model, by a run, optionally on a dataset.
public struct LoggedModelMetric: Sendable, Hashable {
  public var metric: TrackingMetric
  public var runId: String
  public var datasetName: String?
  public var datasetDigest: String?
}

/// A dataset a run used (`log_input`), as MLflow's Dataset shows it.
public struct TrackingDataset: Sendable, Hashable {
  public var name: String
  public var digest: String
  public var sourceType: String
  public var source: String
  public var schema: String?
  public var profile: String?

  public init(
    name: String, digest: String, sourceType: String, source: String, schema: String?, profile: String?
  ) {
    self.name = name
    self.digest = digest
    self.sourceType = sourceType
    self.source = source
    self.schema = schema
    self.profile = profile
  }
}

/// A run's inputs (datasets with their tags, and models it read) and outputs (models it
/// logged, at a step), as a run's `inputs` and `outputs` show them.
public struct RunInputsOutputs: Sendable, Hashable {
  public struct DatasetInput: Sendable, Hashable {
    public var dataset: TrackingDataset
    /// In the order logged (`mlflow.data.context` first, as the client sends it).
    public var tags: [InputTag]

    public init(dataset: TrackingDataset, tags: [InputTag]) {
      self.dataset = dataset
      self.tags = tags
    }
  }

  public struct InputTag: Sendable, Hashable, Codable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
      self.key = key
      self.value = value
    }
  }

  public struct ModelOutput: Sendable, Hashable {
    public var modelId: String
    public var step: Int64

    public init(modelId: String, step: Int64) {
      self.modelId = modelId
      self.step = step
    }
  }

  public var datasets: [DatasetInput] = []
  public var modelInputs: [String] = []
  public var modelOutputs: [ModelOutput] = []

  public init() {}
}
