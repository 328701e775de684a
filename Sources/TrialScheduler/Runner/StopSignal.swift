public import StudyModel
import Synchronization
public import TrackingBridge

/// A one-way switch that asks a running study to stop, shared between a signal handler (or an
/// HTTP cancel) and the runner. Whoever trips it first names the reason. `force()` asks for
/// running trials to be killed at once instead of after their grace period.
public final class StopSignal: Sendable {
  private struct State {
    var reason: String?
    var outcome = StudyState.interrupted
    var forced = false
    var onStop: [@Sendable (String) -> Void] = []
    var onForce: [@Sendable () -> Void] = []
  }

  private let state = Mutex(State())

  public init() {}

  public var reason: String? { state.withLock { $0.reason } }
  /// The state the study is left in: `interrupted` (resumable by hand), `cancelled`, or
  /// `running` when the daemon shuts down and will resume it when it starts again.
  public var outcome: StudyState { state.withLock { $0.outcome } }
  public var isStopped: Bool { reason != nil }

  /// Trips the switch; later calls are ignored.
  public func stop(reason: String, outcome: StudyState = .interrupted) {
    let handlers: [@Sendable (String) -> Void]? = state.withLock { state in
      guard state.reason == nil else { return nil }
      state.reason = reason
      state.outcome = outcome
      return state.onStop
    }
    handlers?.forEach { $0(reason) }
  }

  /// Stops (if not yet) and kills running trials now.
  public func force(reason: String) {
    stop(reason: reason)
    let handlers: [@Sendable () -> Void]? = state.withLock { state in
      guard !state.forced else { return nil }
      state.forced = true
      return state.onForce
    }
    handlers?.forEach { $0() }
  }

  /// Runs `stop` when the switch trips and `force` when a kill is asked for (at once if it
  /// already happened).
  public func observe(stop: @escaping @Sendable (String) -> Void, force: @escaping @Sendable () -> Void) {
    let (reason, forced): (String?, Bool) = state.withLock { state in
      state.onStop.append(stop)
      state.onForce.append(force)
      return (state.reason, state.forced)
    }
    if let reason { stop(reason) }
    if forced { force() }
  }
}
