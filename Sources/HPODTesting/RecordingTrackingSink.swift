import Synchronization
public import TrackingBridge

/// A `TrackingSink` for tests, as NIOEmbedded's channel is for handlers: it records what the
/// runner asks of it (the studies attached, the trials given an environment, the wakes) and
/// plays the points a test scripts for a trial as if the trial had logged them through it.
public final class RecordingTrackingSink: TrackingSink {
  private struct State {
    var attached: [Int64] = []
    var environments: [Int64] = []
    var followed: [Int64: AsyncStream<[MetricPoint]>.Continuation] = [:]
    var wakes = 0
  }

  private let state = Mutex(State())
  private let environment: [String: String]
  private let logs: @Sendable (Int64) -> [[MetricPoint]]

  /// - Parameters:
  ///   - environment: what every trial gets in its environment.
  ///   - logs: the batches of points a trial (by id) logs through the sink as it starts.
  public init(
    environment: [String: String] = [:], logs: @escaping @Sendable (_ trialId: Int64) -> [[MetricPoint]] = { _ in [] }
  ) {
    self.environment = environment
    self.logs = logs
  }

  /// The studies attached, in order.
  public var attached: [Int64] { state.withLock { $0.attached } }
  /// The trials (ids) that asked for their environment, in order.
  public var environments: [Int64] { state.withLock { $0.environments } }
  /// Trials whose logged points are followed now.
  public var followed: Set<Int64> { state.withLock { Set($0.followed.keys) } }
  public var wakes: Int { state.withLock { $0.wakes } }

  public func attach(studyId: Int64) async throws {
    state.withLock { $0.attached.append(studyId) }
  }

  public func environment(for trial: TrialRecord) async -> [String: String] {
    state.withLock { $0.environments.append(trial.id!) }
    return environment
  }

  public func loggedMetrics(trialId: Int64) -> AsyncStream<[MetricPoint]>? {
    let (stream, continuation) = AsyncStream.makeStream(of: [MetricPoint].self, bufferingPolicy: .unbounded)
    state.withLock { $0.followed[trialId] = continuation }
    for batch in logs(trialId) { continuation.yield(batch) }
    return stream
  }

  public func endLoggedMetrics(trialId: Int64) {
    state.withLock { $0.followed.removeValue(forKey: trialId) }?.finish()
  }

  public func wake() {
    state.withLock { $0.wakes += 1 }
  }
}
