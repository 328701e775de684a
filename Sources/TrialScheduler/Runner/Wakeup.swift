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
    let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
      guard let waiter = state.waiter else {
        state.signalled = true
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
      let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
        guard let waiter = state.waiter else {
          state.cancelled = true
          return nil
        }
        state.waiter = nil
        return waiter
      }
      waiter?.resume()
    }
  }
}
