/// Threads of their own for long computations: a Bayesian suggestion (fitting the GP,
/// optimizing the acquisition) takes from milliseconds to seconds of CPU.
///
/// Run on Swift's cooperative pool, such a computation would hold one of its few threads for
/// as long as it lasts, and every task of the daemon would wait behind it: a cancel,
/// `/healthz`, another study's trial ending. Here it competes for the CPU like any thread,
/// under the kernel's fair scheduling.
public enum ComputeWork {
  /// Two threads: two studies can compute suggestions at once; more would only share the
  /// same cores.
  static let threads = OwnThreads(count: 2)

  /// Runs `body` on a compute thread and returns its result (see `OwnThreads.run`).
  public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await threads.run(body)
  }
}
