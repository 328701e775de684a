import Foundation
import Synchronization
import Testing

@testable import TrialScheduler

@Suite("Metric events throttle")
struct MetricsThrottleTests {
  final class Sent: Sendable {
    let batches = Mutex<[(Int, [String: Double])]>([])
  }

  @Test("a burst of updates becomes one event now and one after the interval, with the latest values")
  func burstIsMerged() async throws {
    let sent = Sent()
    let throttle = MetricsThrottle { step, values in sent.batches.withLock { $0.append((step, values)) } }
    throttle.add(step: 0, values: ["loss": 1, "acc": 0.1])
    for step in 1...50 { throttle.add(step: step, values: ["loss": 1 / Double(step + 1)]) }
    #expect(sent.batches.withLock { $0.count } == 1)
    // The rest goes out once the interval has passed (a loaded machine may take longer).
    let deadline = ContinuousClock.now + .seconds(30)
    while sent.batches.withLock({ $0.count }) < 2, ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(20))
    }
    try #require(sent.batches.withLock { $0.count } >= 2, "the pending values never went out")
    try await Task.sleep(for: MetricsThrottle.interval * 2)
    let batches = sent.batches.withLock { $0 }
    #expect(batches.count == 2)
    #expect(batches.last?.0 == 50)
    #expect(batches.last?.1 == ["loss": 1 / 51.0])
    // A lone update after a quiet spell goes out at once
    throttle.add(step: 51, values: ["acc": 0.9])
    #expect(sent.batches.withLock { $0.count } == 3)
  }

  @Test("flush sends what is pending, and nothing when nothing is")
  func flushSendsPending() {
    let sent = Sent()
    let throttle = MetricsThrottle { step, values in sent.batches.withLock { $0.append((step, values)) } }
    throttle.add(step: 0, values: ["loss": 1])
    throttle.add(step: 1, values: ["loss": 0.5])
    throttle.flush()
    throttle.flush()
    let batches = sent.batches.withLock { $0 }
    #expect(batches.map(\.0) == [0, 1])
  }
}
