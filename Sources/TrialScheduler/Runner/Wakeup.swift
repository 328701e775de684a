import Synchronization

/// Wakes a runner that is waiting for its trials, so it looks at the store again (a
/// full training was requested by hand). A signal sent while nobody waits is kept for the
/// next wait; several signals before a wait count as one. Waiting ends on cancellation too.
public final class Wakeup: Sendable {
  private struct State {
    var signalled = false
    var cancelled = false
    var waiter: CheckedContinuation<Void, Never>?
  }

  private let state = Mutex(State())

  public init() {}

  public func signal() {
    release(orRemember: { $0.signalled = true })
  }

  /// Resumes the waiter, or, when nobody waits, marks the state so the next wait returns at once.
  private func release(orRemember mark: (inout State) -> Void) {
    let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
      guard let waiter = state.waiter else {
        mark(&state)
        return nil
      }
      state.waiter = nil
      return waiter
    }
    waiter?.resume()
  }

  /// Returns at the next signal (at once if one is pending) or when the task is cancelled.
  func wait() async {
    await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let resumeNow = state.withLock { state in
          if state.signalled || state.cancelled {
            state.signalled = false
            state.cancelled = false
            return true
          }
          state.waiter = continuation
          return false
        }
        if resumeNow { continuation.resume() }
      }
    } onCancel: {
      release(orRemember: { $0.cancelled = true })
    }
  }
}
