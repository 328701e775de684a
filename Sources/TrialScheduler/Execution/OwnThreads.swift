import NIOPosix

/// A fixed set of threads outside Swift's cooperative pool, for work that would hold one of
/// the pool's few threads (one per core) and with it every task of the daemon: blocking system
/// calls (`BlockingWork`) and long computations (`ComputeWork`). The calling task is suspended
/// while the work runs, not blocked.
public struct OwnThreads: Sendable {
  private let pool: NIOThreadPool

  /// `count` threads, started at once; idle ones cost nothing but their stacks.
  init(count: Int) {
    pool = NIOThreadPool(numberOfThreads: count)
    pool.start()
  }

  /// Runs `body` on one of the threads and returns its result. A task cancelled before the
  /// work started throws `CancellationError` without running it.
  func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await pool.runIfActive(body)
  }

  /// Runs `body` on one of the threads without waiting for it.
  func submit(_ body: @escaping @Sendable () -> Void) {
    pool.submit { _ in body() }
  }
}
