/// A counting semaphore for trial processes: the daemon's `--max-concurrent-trials` across
/// every study it runs. Waiters are served in arrival order.
public actor TrialSlots {
  nonisolated public let limit: Int
  private var used = 0
  private var waiters: [CheckedContinuation<Void, Never>] = []

  public init(limit: Int) {
    self.limit = max(1, limit)
  }

  public func acquire() async {
    if used < limit {
      used += 1
      return
    }
    await withCheckedContinuation { waiters.append($0) }
  }

  public func release() {
    if waiters.isEmpty {
      used = max(0, used - 1)
    } else {
      waiters.removeFirst().resume()
    }
  }

  public var inUse: Int { used }
}
