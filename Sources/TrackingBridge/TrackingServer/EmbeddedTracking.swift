import Synchronization

/// Where a trial's own mlflow calls go when no MLflow server is mirrored: hpod's MLflow API.
public struct TrackingEndpoint: Sendable, Hashable {
  public var uri: String
  /// Sent as MLFLOW_TRACKING_TOKEN, when the API asks for one.
  public var token: String?

  public init(uri: String, token: String? = nil) {
    self.uri = uri
    self.token = token
  }
}

/// The tracking sink of a study that mirrors to no MLflow server: its trials' mlflow calls go
/// to hpod's own MLflow API (`TrackingStore`, served by the daemon or, for `hpod run`, on a
/// loopback port), into their runs in the store. The points a trial logs there are handed to
/// its runner (`deliver`), so they count as its reported ones do: for its objective, early
/// stopping and the live view.
public final class EmbeddedTracking: TrackingSink {
  public let endpoint: TrackingEndpoint
  /// Woken when trials write: a mirror still sending other studies' backlog.
  private let mirror: MLflowMirror?
  private let streams = Mutex<[Int64: AsyncStream<[MetricPoint]>.Continuation]>([:])

  public init(endpoint: TrackingEndpoint, mirror: MLflowMirror? = nil) {
    self.endpoint = endpoint
    self.mirror = mirror
  }

  /// Nothing to attach: every study's runs are in the store the API serves.
  public func attach(studyId: Int64) async throws {}

  public func environment(for trial: TrialRecord) async -> [String: String] {
    // The trial's own prefix of the API: `mlflow.set_experiment` there finds its study's
    // experiment (see `TrackingStore.trialExperiment`).
    var environment = [
      "MLFLOW_TRACKING_URI": Self.trialURI(endpoint.uri, trialId: trial.id!),
      "MLFLOW_RUN_ID": TrackingStore.runId(trialId: trial.id!),
    ]
    if let token = endpoint.token { environment["MLFLOW_TRACKING_TOKEN"] = token }
    return environment
  }

  /// `<uri>/hpod-trials/<trial id>`: hpod's MLflow API as one trial calls it.
  public static func trialURI(_ uri: String, trialId: Int64) -> String {
    (uri.hasSuffix("/") ? String(uri.dropLast()) : uri) + "/hpod-trials/\(trialId)"
  }

  public func loggedMetrics(trialId: Int64) -> AsyncStream<[MetricPoint]>? {
    let (stream, continuation) = AsyncStream.makeStream(of: [MetricPoint].self, bufferingPolicy: .unbounded)
    streams.withLock { $0[trialId] = continuation }
    return stream
  }

  public func endLoggedMetrics(trialId: Int64) {
    streams.withLock { $0.removeValue(forKey: trialId) }?.finish()
  }

  /// Hands on points the API stored for a trial; nothing when no runner follows it here.
  public func deliver(trialId: Int64, _ points: [MetricPoint]) {
    _ = streams.withLock { $0[trialId] }?.yield(points)
  }

  public func wake() { mirror?.wake() }
}
