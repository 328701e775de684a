import NIOPosix

/// Threads of their own for the system calls that block: spawning a trial (its child joins a
/// cgroup before it execs, which waits for the kernel's cgroup lock), creating and removing
/// cgroups, signalling a trial's processes, a trial's folder and files, synchronous store
/// writes made from async code.
///
/// Swift's cooperative pool has one thread per core (two on a small machine): a blocking call
/// there holds every task of the daemon, its HTTP routes and `/healthz` included, for as long
/// as the kernel takes. Work handed here waits on these threads instead, and the calling task
/// is suspended, not blocked.
public enum BlockingWork {
  /// Enough threads that a slow store write (SQLite waiting for its lock) does not hold up a
  /// trial's spawn; idle ones cost nothing but their stacks.
  static let threads = 16

  static let pool: NIOThreadPool = {
    let pool = NIOThreadPool(numberOfThreads: threads)
    pool.start()
    return pool
  }()

  /// Runs `body` on a blocking thread and returns its result. A task cancelled before the
  /// work started throws `CancellationError` without running it.
  public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await pool.runIfActive(body)
  }

  /// Runs `body` on a blocking thread without waiting for it (signals sent on the way out).
  public static func submit(_ body: @escaping @Sendable () -> Void) {
    pool.submit { _ in body() }
  }
}
