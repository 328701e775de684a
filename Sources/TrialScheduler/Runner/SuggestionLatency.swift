import Synchronization

/// Running totals of how long strategies take to suggest, for the daemon's /metrics: one per
/// daemon (its `StudyService` owns it and hands it to each study's runner).
public final class SuggestionLatency: Sendable {
  private let totals = Mutex<(sum: Double, count: Int)>((0, 0))

  public init() {}

  public func record(_ duration: Duration) {
    let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    totals.withLock { $0 = ($0.sum + seconds, $0.count + 1) }
  }

  public func snapshot() -> (sum: Double, count: Int) { totals.withLock { $0 } }
}
