import Synchronization

/// Publishes a trial's metric updates at most every `interval`: a trainer that prints
/// thousands of lines a second would otherwise send an event per pipe read to every watcher.
/// Values arriving in between are merged (the latest of each metric wins) and go out when the
/// interval has passed, so a watcher never waits longer than `interval` for the newest value,
/// and nothing the trainer printed is held back from the store (only the events are merged).
final class MetricsThrottle: Sendable {
  static let interval: Duration = .milliseconds(100)

  private struct State {
    var values: [String: Double] = [:]
    var step = 0
    var lastSent: ContinuousClock.Instant?
    var flushScheduled = false
  }

  private let state = Mutex(State())
  private let send: @Sendable (_ step: Int, _ values: [String: Double]) -> Void

  init(send: @escaping @Sendable (_ step: Int, _ values: [String: Double]) -> Void) {
    self.send = send
  }

  func add(step: Int, values: [String: Double]) {
    let wait: Duration? = state.withLock { state in
      state.values.merge(values) { _, new in new }
      state.step = step
      let now = ContinuousClock.now
      if let last = state.lastSent, now - last < Self.interval {
        guard !state.flushScheduled else { return nil }
        state.flushScheduled = true
        return Self.interval - (now - last)
      }
      sendLocked(&state, at: now)
      return nil
    }
    if let wait {
      // A short-lived timer: it sends what is pending if no later batch did so first.
      Task {
        try? await Task.sleep(for: wait)
        self.flush()
      }
    }
  }

  /// Sends what is pending now (when the trial ends, before its outcome is published).
  func flush() {
    state.withLock { state in
      state.flushScheduled = false
      sendLocked(&state, at: .now)
    }
  }

  /// Sends under the lock, so two sends never overtake each other.
  private func sendLocked(_ state: inout State, at now: ContinuousClock.Instant) {
    guard !state.values.isEmpty else { return }
    send(state.step, state.values)
    state.values = [:]
    state.lastSent = now
  }
}
