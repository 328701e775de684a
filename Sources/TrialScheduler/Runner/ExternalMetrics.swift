import Synchronization
public import TrackingBridge

/// Metric points a running trial logs some other way than its stdout (its own mlflow calls
/// through hpod's MLflow API), handed to the trial's runner so that they count as its
/// reported metrics do: for its objective, for early stopping and for the live view. The
/// points are stored already when they arrive here.
public final class ExternalMetrics: Sendable {
  private let streams = Mutex<[Int64: AsyncStream<[MetricPoint]>.Continuation]>([:])

  public init() {}

  /// The points logged for a trial from now on, until `close`.
  func open(trialId: Int64) -> AsyncStream<[MetricPoint]> {
    let (stream, continuation) = AsyncStream.makeStream(of: [MetricPoint].self, bufferingPolicy: .unbounded)
    streams.withLock { $0[trialId] = continuation }
    return stream
  }

  func close(trialId: Int64) {
    streams.withLock { $0.removeValue(forKey: trialId) }?.finish()
  }

  /// Hands on points logged for a trial; nothing when no runner follows it here.
  public func deliver(trialId: Int64, _ points: [MetricPoint]) {
    _ = streams.withLock { $0[trialId] }?.yield(points)
  }
}

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
