import Dispatch
import Synchronization

/// Set once when a study's runner has ended; awaited with a time limit, so an answer (a
/// cancel) never waits longer than it promises for trials that take their grace period.
final class RunEnd: Sendable {
  private struct State {
    var ended = false
    var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
    var next = 0
  }

  private let state = Mutex(State())

  func signal() {
    let waiters = state.withLock { state in
      state.ended = true
      defer { state.waiters = [:] }
      return Array(state.waiters.values)
    }
    waiters.forEach { $0.resume(returning: true) }
  }

  /// True once the runner has ended, false when `time` passed first.
  func wait(upTo time: Duration) async -> Bool {
    await withCheckedContinuation { continuation in
      let key: Int? = state.withLock { state in
        guard !state.ended else { return nil }
        defer { state.next += 1 }
        state.waiters[state.next] = continuation
        return state.next
      }
      guard let key else { return continuation.resume(returning: true) }
      // A Dispatch timer, not a task: it fires on time however busy the task pool is.
      let (seconds, attoseconds) = time.components
      let delay = Double(seconds) + Double(attoseconds) / 1e18
      DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [self] in
        let waiter = state.withLock { $0.waiters.removeValue(forKey: key) }
        waiter?.resume(returning: false)
      }
    }
  }
}
