import Synchronization

/// Where the time of each suggestion goes: the daemon's `StudyService` owns one and hands it to
/// each study's runner; whoever wants the timings (the daemon's /metrics) observes it. The
/// scheduler knows nothing of how they are exported.
public final class SuggestionLatency: Sendable {
  private let observers = Mutex<[@Sendable (Duration) -> Void]>([])

  public init() {}

  /// Calls `observer` with every suggestion's duration from now on.
  public func observe(_ observer: @escaping @Sendable (Duration) -> Void) {
    observers.withLock { $0.append(observer) }
  }

  public func record(_ duration: Duration) {
    for observer in observers.withLock({ $0 }) { observer(duration) }
  }
}
