import Synchronization

/// A counting semaphore for trial processes: the daemon's `--max-concurrent-trials` across
/// every study it runs. Waiters are served in arrival order, and a wait can be withdrawn from
/// anywhere (its study was cancelled, the daemon is stopping): `acquire` then returns false at
/// once instead of waiting for another study's trial to end.
public final class TrialSlots: Sendable {
  public let limit: Int

  /// A trial's place in the queue: from `ticket()` to `release` (or to a withdrawn wait).
  public struct Ticket: Sendable, Hashable {
    fileprivate let number: Int
  }

  private enum Stage {
    case issued, waiting, holding, withdrawn
  }

  private struct State {
    var used = 0
    var waiters: [(ticket: Ticket, continuation: CheckedContinuation<Bool, Never>)] = []
    var stages: [Ticket: Stage] = [:]
    var next = 0
  }

  private let state = Mutex(State())

  public init(limit: Int) {
    self.limit = max(1, limit)
  }

  public func ticket() -> Ticket {
    state.withLock { state in
      let ticket = Ticket(number: state.next)
      state.next += 1
      state.stages[ticket] = .issued
      return ticket
    }
  }

  /// Takes a slot, waiting for one while all are used; false when the wait was withdrawn
  /// (before or while it waited): no slot is held then.
  public func acquire(_ ticket: Ticket) async -> Bool {
    let immediate: Bool? = state.withLock { state in
      if state.stages[ticket] == .withdrawn {
        state.stages[ticket] = nil
        return false
      }
      guard state.used < limit, state.waiters.isEmpty else { return nil }
      state.used += 1
      state.stages[ticket] = .holding
      return true
    }
    if let immediate { return immediate }
    return await withCheckedContinuation { continuation in
      let withdrawn = state.withLock { state in
        guard state.stages[ticket] == .issued else {
          state.stages[ticket] = nil
          return true
        }
        state.stages[ticket] = .waiting
        state.waiters.append((ticket, continuation))
        return false
      }
      if withdrawn { continuation.resume(returning: false) }
    }
  }

  /// Ends the ticket's wait, if it has no slot yet: its `acquire` returns false.
  public func withdraw(_ ticket: Ticket) {
    let waiter: CheckedContinuation<Bool, Never>? = state.withLock { state in
      switch state.stages[ticket] {
      case .issued:
        state.stages[ticket] = .withdrawn
        return nil
      case .waiting:
        state.stages[ticket] = nil
        guard let index = state.waiters.firstIndex(where: { $0.ticket == ticket }) else { return nil }
        return state.waiters.remove(at: index).continuation
      case .holding, .withdrawn, nil:
        return nil
      }
    }
    waiter?.resume(returning: false)
  }

  /// Gives the ticket's slot back, to the longest waiter if there is one.
  public func release(_ ticket: Ticket) {
    let next: CheckedContinuation<Bool, Never>? = state.withLock { state in
      guard state.stages.removeValue(forKey: ticket) == .holding else { return nil }
      guard !state.waiters.isEmpty else {
        state.used -= 1
        return nil
      }
      let (waiter, continuation) = state.waiters.removeFirst()
      state.stages[waiter] = .holding
      return continuation
    }
    next?.resume(returning: true)
  }

  public var inUse: Int { state.withLock { $0.used } }
}
