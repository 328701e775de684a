import Synchronization

/// A trial's exit, set once by whoever sees the trial end and awaited by any number of
/// waiters: those waiting when it is set, and those who ask later.
final class ExitLatch: Sendable {
  private struct State {
    var exit: TrialExit?
    var waiters: [CheckedContinuation<TrialExit, Never>] = []
  }

  private let state = Mutex(State())

  /// The exit, once it is known.
  var exit: TrialExit? { state.withLock { $0.exit } }

  func wait() async -> TrialExit {
    await withCheckedContinuation { continuation in
      let ready: TrialExit? = state.withLock { state in
        if let exit = state.exit { return exit }
        state.waiters.append(continuation)
        return nil
      }
      if let ready { continuation.resume(returning: ready) }
    }
  }

  /// Sets the exit and wakes the waiters; false, changing nothing, when it was set already.
  @discardableResult
  func resolve(_ exit: TrialExit) -> Bool {
    let waiters: [CheckedContinuation<TrialExit, Never>]? = state.withLock { state in
      guard state.exit == nil else { return nil }
      state.exit = exit
      defer { state.waiters = [] }
      return state.waiters
    }
    guard let waiters else { return false }
    waiters.forEach { $0.resume(returning: exit) }
    return true
  }
}
