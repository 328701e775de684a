import Synchronization

/// The trials running now, each with a way to stop it gently and to kill it. A trial that
/// registers after a stop was asked for is stopped at once, so none slips through.
final class RunningTrials: Sendable {
  private struct Entry {
    var stop: @Sendable (String) -> Void
    var kill: @Sendable () -> Void
    var detach: @Sendable () -> Bool
  }

  private struct State {
    var entries: [Int64: Entry] = [:]
    var stopReason: String?
    var detaching = false
    var killed = false
  }

  private let state = Mutex(State())

  var stopReason: String? { state.withLock { $0.stopReason } }

  func add(
    _ id: Int64, stop: @escaping @Sendable (String) -> Void, kill: @escaping @Sendable () -> Void,
    detach: @escaping @Sendable () -> Bool = { false }
  ) {
    let entry = Entry(stop: stop, kill: kill, detach: detach)
    let (reason, detaching, killed) = state.withLock { state in
      state.entries[id] = entry
      return (state.stopReason, state.detaching, state.killed)
    }
    if let reason { Self.stop(entry, reason: reason, detaching: detaching) }
    if killed { kill() }
  }

  /// Stops the trial, or leaves it running for the next hpod when hpod is shutting down and
  /// the trial can outlive it.
  private static func stop(_ entry: Entry, reason: String, detaching: Bool) {
    if detaching, entry.detach() { return }
    entry.stop(reason)
  }

  func remove(_ id: Int64) {
    _ = state.withLock { $0.entries.removeValue(forKey: id) }
  }

  /// Stops one trial, if it is running.
  func stop(_ id: Int64, reason: String) {
    state.withLock { $0.entries[id] }?.stop(reason)
  }

  /// Stops every trial; with `detaching`, trials that can outlive hpod are left running.
  func stopAll(reason: String, detaching: Bool = false) {
    let entries = state.withLock { state in
      if state.stopReason == nil {
        state.stopReason = reason
        state.detaching = detaching
      }
      return Array(state.entries.values)
    }
    entries.forEach { Self.stop($0, reason: reason, detaching: detaching) }
  }

  func killAll() {
    let entries = state.withLock { state in
      state.killed = true
      return Array(state.entries.values)
    }
    entries.forEach { $0.kill() }
  }
}
