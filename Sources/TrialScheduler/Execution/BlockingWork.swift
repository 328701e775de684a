/// Threads of their own for the system calls that block: spawning a trial (its child joins a
/// cgroup before it execs, which waits for the kernel's cgroup lock), creating and removing
/// cgroups, signalling a trial's processes, a trial's folder and files, synchronous store
/// writes made from async code.
///
/// Swift's cooperative pool has one thread per core (two on a small machine): a blocking call
/// there holds every task of the daemon, its HTTP routes and `/healthz` included, for as long
/// as the kernel takes. Work handed here waits on these threads instead.
public enum BlockingWork {
  /// Enough threads that a slow store write (SQLite waiting for its lock) does not hold up a
  /// trial's spawn.
  static let threads = OwnThreads(count: 16)

  /// Runs `body` on a blocking thread and returns its result (see `OwnThreads.run`).
  public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await threads.run(body)
  }

  /// Runs `body` on a blocking thread without waiting for it (signals sent on the way out).
  public static func submit(_ body: @escaping @Sendable () -> Void) {
    threads.submit(body)
  }
}
