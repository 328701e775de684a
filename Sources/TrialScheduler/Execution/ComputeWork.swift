import NIOPosix

/// Threads of their own for long computations: a Bayesian suggestion (fitting the GP,
/// optimizing the acquisition) takes from milliseconds to seconds of CPU.
///
/// Run on Swift's cooperative pool (one thread per core), such a computation would hold one of
/// its few threads for as long as it lasts, and every task of the daemon would wait behind it:
/// a cancel, `/healthz`, another study's trial ending. Handed here, it competes for the CPU
/// like any thread, under the kernel's fair scheduling, and the calling task is suspended.
public enum ComputeWork {
  /// Two threads: two studies can compute suggestions at once; more would only share the
  /// same cores.
  static let threads = 2

  static let pool: NIOThreadPool = {
    let pool = NIOThreadPool(numberOfThreads: threads)
    pool.start()
    return pool
  }()

  /// Runs `body` on a compute thread and returns its result. A task cancelled before the
  /// work started throws `CancellationError` without running it.
  public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await pool.runIfActive(body)
  }
}
