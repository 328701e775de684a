import Foundation

/// Reads `output` to its end and waits for `process` to exit, on a thread of its own.
///
/// Swift's task pool has as many threads as the machine has cores (two in CI), and these
/// tests share it with the studies they run in-process: a test blocked in `waitUntilExit` or
/// `Thread.sleep` holds one of those threads, and two such tests stall every other test (their
/// timers, their trials' events) for as long as their processes run.
func waitForExit(_ process: Process, reading output: Pipe? = nil) async -> (status: Int32, data: Data) {
  await withCheckedContinuation { continuation in
    Thread {
      let data = output?.fileHandleForReading.readDataToEndOfFile() ?? Data()
      process.waitUntilExit()
      continuation.resume(returning: (process.terminationStatus, data))
    }.start()
  }
}

/// Polls `condition` every 50 ms for up to `seconds`, on a thread of its own: the poll sees a
/// short-lived state (a trial running) even while CPU-bound tests hold every thread of the pool.
func waitUntil(seconds: Double, _ condition: @escaping @Sendable () throws -> Bool) async throws -> Bool {
  try await withCheckedThrowingContinuation { continuation in
    Thread {
      let deadline = Date().addingTimeInterval(seconds)
      do {
        while Date() < deadline {
          if try condition() { return continuation.resume(returning: true) }
          Thread.sleep(forTimeInterval: 0.05)
        }
        continuation.resume(returning: false)
      } catch {
        continuation.resume(throwing: error)
      }
    }.start()
  }
}

/// Sleeps `seconds` without holding a thread of the pool.
func pause(_ seconds: Double) async {
  try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
}
