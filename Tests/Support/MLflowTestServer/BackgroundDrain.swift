public import TrackingBridge

/// A mirror draining in a task of the test's, for tests that start and stop it between steps
/// (the daemon runs it as a service, `hpod run` around the study: see `MLflowMirror.run`).
public struct BackgroundDrain: Sendable {
  private let task: Task<Void, any Error>

  public init(_ mirror: MLflowMirror) {
    task = Task { try await mirror.run() }
  }

  /// Cancels the drain and waits until the mirror has let go of its lease and clients.
  public func stop() async {
    task.cancel()
    _ = await task.result
  }
}
