import Synchronization

/// The right to drain a store's outbox, held by one process at a time (`hpod serve`, an
/// `hpod run`, `hpod tracking sync` may share a store): two drainers would send the same write
/// twice. A non-blocking flock on a file beside the store; the kernel drops it if the holder
/// dies, and another process takes over at its next try.
final class MirrorLease: Sendable {
  let path: String
  private let held = Mutex<FileLock?>(nil)

  init(path: String) {
    self.path = path
  }

  /// Whether this process holds the lease now (taking it if it is free).
  func tryAcquire() -> Bool {
    held.withLock { held in
      if held == nil { held = try? FileLock.tryLock(path) }
      return held != nil
    }
  }

  func release() {
    held.withLock { held in
      held?.release()
      held = nil
    }
  }
}
