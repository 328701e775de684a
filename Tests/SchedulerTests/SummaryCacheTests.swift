import Synchronization
import Testing
import TrackingBridge

@testable import TrialScheduler

@Suite("Study summaries cached by the daemon")
struct SummaryCacheTests {
  @Test("a summary is read again after an invalidation, and after maxAge for changes another process made")
  func staysFresh() async throws {
    let database = try AppDatabase.inMemory()
    let loads = Atomic<Int>(0)
    func load() throws -> AppDatabase.StudySummary {
      loads.add(1, ordering: .relaxed)
      return try database.summary(studyId: 1, higherIsBetter: false)
    }
    let cache = SummaryCache(maxAge: .milliseconds(200))
    _ = try cache.summary(of: 1, load: load)
    _ = try cache.summary(of: 1, load: load)
    #expect(loads.load(ordering: .relaxed) == 1, "a second read within maxAge is the cached one")
    cache.invalidate(1)
    _ = try cache.summary(of: 1, load: load)
    #expect(loads.load(ordering: .relaxed) == 2, "this process's change drops it at once")
    try await Task.sleep(for: .milliseconds(250))
    _ = try cache.summary(of: 1, load: load)
    #expect(loads.load(ordering: .relaxed) == 3, "older than maxAge: hpod run may have changed the study")

    let uncached = SummaryCache(maxAge: .zero)
    _ = try uncached.summary(of: 1, load: load)
    _ = try uncached.summary(of: 1, load: load)
    #expect(loads.load(ordering: .relaxed) == 5, "the local-store reader reads every time")
  }
}
