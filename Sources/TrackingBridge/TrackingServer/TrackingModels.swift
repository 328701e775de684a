/// An experiment as MLflow's API shows it: a study's experiment or one made through the API.
public struct TrackingExperiment: Sendable, Hashable {
  public var id: Int64
  public var name: String
  /// `active` or `deleted`.
  public var lifecycleStage: String
  /// Milliseconds since 1970.
  public var creationTime: Int64
  public var lastUpdateTime: Int64
  public var tags: [String: String]
  /// Where its runs' artifacts go, as `experiments/create` was given it (nil: hpod's artifact
  /// proxy, `mlflow-artifacts:/<id>`, MLflow's default).
  public var artifactLocation: String?

  /// Its artifact location as MLflow's API shows it.
  public var artifactRoot: String { artifactLocation ?? "mlflow-artifacts:/\(id)" }
}

/// One metric value of a run.
public struct TrackingMetric: Sendable, Hashable {
  public var key: String
  public var value: Double
  public var timestamp: Int64
  public var step: Int
  /// The logged model the point is for too (`log-batch` with a `model_id`), and the dataset
  /// it was measured on.
  public var modelId: String?
  public var datasetName: String?
  public var datasetDigest: String?

  public init(
    key: String, value: Double, timestamp: Int64, step: Int, modelId: String? = nil, datasetName: String? = nil,
    datasetDigest: String? = nil
  ) {
    self.key = key
    self.value = value
    self.timestamp = timestamp
    self.step = step
    self.modelId = modelId
    self.datasetName = datasetName
    self.datasetDigest = datasetDigest
  }
}

/// A run as MLflow's API shows it: a trial of a study, or a run made through the API.
public struct TrackingRun: Sendable, Hashable {
  public var runId: String
  public var experimentId: Int64
  public var name: String
  public var userId: String
  /// RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.
  public var status: String
  public var startTime: Int64?
  public var endTime: Int64?
  /// `active` or `deleted`.
  public var lifecycleStage: String
  public var params: [String: String]
  /// The latest value of each metric (highest step, then latest timestamp).
  public var metrics: [String: TrackingMetric]
  public var tags: [String: String]
  /// Its datasets and the models it read and logged (read for the runs an answer shows).
  public var io = RunInputsOutputs()
  /// Its experiment's artifact location when `experiments/create` gave one (a study's trials
  /// keep theirs in their own folders, so theirs is always nil).
  public var artifactRoot: String?

  /// Where the client sends its artifacts: `<artifact location>/<run id>/artifacts`, by default
  /// under hpod's artifact proxy (`mlflow-artifacts:/<experiment id>`).
  public var artifactURI: String { "\(artifactRoot ?? "mlflow-artifacts:/\(experimentId)")/\(runId)/artifacts" }
}
