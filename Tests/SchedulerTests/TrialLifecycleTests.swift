import Foundation
import SearchStrategies
import StudyModel
import Synchronization
import Testing
import TrackingBridge

@testable import TrialScheduler

@Suite("One trial lifecycle")
struct TrialLifecycleTests {
  final class Events: Sendable {
    let seen = Mutex<[StudyEvent]>([])
  }

  @Test("create, start and finish write the store, then publish; a second finish changes and publishes nothing")
  func steps() async throws {
    let database = try AppDatabase.inMemory()
    let study = try database.createStudy(
      StudyRecord(
        name: "s", specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "score", direction: .maximize))
    let events = Events()
    let lifecycle = TrialLifecycle(database: database, outage: nil) { event in
      events.seen.withLock { $0.append(event) }
    }

    let trial = try await lifecycle.create(studyId: study.id!, Configuration(["x": .double(0.5)]), tier: .quickTest)
    #expect(try database.params(trialId: trial.id!).map(\.name) == ["x"])
    #expect(events.seen.withLock { $0.isEmpty }, "a created trial is not news yet")

    let started = try #require(try await lifecycle.start(trial))
    #expect(started.state == .running)
    let points = [MetricPoint(trialId: trial.id!, name: "score", step: 1, value: 0.7, timestamp: 1)]
    let finished = try #require(
      try await lifecycle.finish(trial.id!, .init(state: .completed, value: 0.7), metrics: points))
    #expect(finished.state == .completed && finished.value == 0.7)
    #expect(try database.metrics(trialId: trial.id!).map(\.value) == [0.7])
    #expect(try await lifecycle.finish(trial.id!, .init(state: .failed, reason: "late")) == nil)
    #expect(try database.trial(id: trial.id!)?.state == .completed)

    let kinds = events.seen.withLock { seen in
      seen.map { event -> String in
        switch event {
        case .trialStarted(let trial): "started \(trial.number)"
        case .trialFinished(let trial): "finished \(trial.number) \(trial.state.rawValue)"
        default: "other"
        }
      }
    }
    #expect(kinds == ["started 0", "finished 0 completed"])
  }
}
