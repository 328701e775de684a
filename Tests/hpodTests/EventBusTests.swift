import Foundation
import HPODAPI
import Testing
import TrackingBridge

@testable import TrialScheduler

@Suite("Event bus")
struct EventBusTests {
  static func metrics(_ step: Int) -> StudyEvent {
    .trialMetrics(trialId: 1, number: 0, step: step, values: ["loss": 1 / Double(step + 1)])
  }

  @Test("a reader that falls behind keeps the oldest events up to its capacity and is told how many it missed")
  func laggingReaderIsTold() async {
    let bus = EventBus()
    let subscription = bus.subscribe(studyId: 1, capacity: 4)
    for step in 0..<10 { bus.publish(Self.metrics(step), studyId: 1) }
    let batch = await subscription.next() ?? []
    #expect(batch.count == 5)
    #expect(batch.first == "event: lagged\ndata: {\"dropped\":6}\n\n")
    #expect(batch.dropFirst().allSatisfy { $0.hasPrefix("event: trial_metrics\n") })
    #expect(batch[1].contains("\"step\":0") && batch[4].contains("\"step\":3"))
    // Once it has caught up it gets every event again
    bus.publish(Self.metrics(10), studyId: 1)
    let next = await subscription.next() ?? []
    #expect(next.count == 1 && next[0].contains("\"step\":10"))
  }

  @Test("a waiting reader gets the next event; one study's reader sees none of another's; finish ends it")
  func routingAndFinish() async {
    let bus = EventBus()
    let one = bus.subscribe(studyId: 1)
    let all = bus.subscribe(studyId: nil)
    async let waited = one.next()
    try? await Task.sleep(for: .milliseconds(50))
    bus.publish(Self.metrics(0), studyId: 2)
    bus.publish(Self.metrics(1), studyId: 1)
    #expect((await waited)?.count == 1)
    #expect((await all.next())?.count == 2)
    #expect(bus.subscriberCount == 2)
    one.finish()
    #expect(await one.next() == nil)
    #expect(bus.subscriberCount == 1)
  }
}
