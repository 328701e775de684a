import Foundation
import Testing
import TrackingBridge

@testable import TrialScheduler

/// Cancel and stop answer at once, whatever the study waits for: a trial slot another study
/// holds, its devices, a folder that cannot be made.
@Suite("Stop and cancel always answer")
struct StopAnswersTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  @Test("a withdrawn wait for a slot returns at once without one, and the queue moves on")
  func slotWaitsAreWithdrawn() async throws {
    let slots = TrialSlots(limit: 1)
    let holder = slots.ticket()
    #expect(await slots.acquire(holder))
    // Given two trials waiting for the one slot
    let first = slots.ticket()
    let second = slots.ticket()
    let waitingFirst = Task { await slots.acquire(first) }
    try await Task.sleep(for: .milliseconds(50))
    let waitingSecond = Task { await slots.acquire(second) }
    try await Task.sleep(for: .milliseconds(50))
    // When the first one's study is cancelled
    slots.withdraw(first)
    // Then it gets no slot, at once, and the slot goes to the second when it frees up
    #expect(await waitingFirst.value == false)
    #expect(slots.inUse == 1)
    slots.release(holder)
    #expect(await waitingSecond.value == true)
    // and a wait withdrawn before it begins never waits; releasing a withdrawn ticket is harmless
    let late = slots.ticket()
    slots.withdraw(late)
    #expect(await slots.acquire(late) == false)
    slots.release(late)
    slots.release(second)
    #expect(slots.inUse == 0)
  }

  @Test("cancelling a study whose trial waits for another study's slot answers within a second")
  func cancelWhileWaitingForSlot() async throws {
    let sleeper = try sandbox.script("sleeper.sh", "sleep 30\necho 'hpod {\"score\": 1}'")
    let service = StudyService(database: sandbox.database, home: sandbox.home, maxConcurrentTrials: 1)
    try await service.start()
    // Given a study that holds the daemon's only slot with a long trial
    let holder = try await service.submit(
      yaml: studyYAML(name: "holder", command: "[\(sleeper)]", maxTrials: 1, parallelism: 1),
      baseDirectory: sandbox.root)
    #expect(try await waitFor { try sandbox.database.trials(studyId: holder.id!).first?.state == .running })
    // and a second study whose first trial waits for that slot
    let waiting = try await service.submit(
      yaml: studyYAML(name: "waiting", command: "[\(sleeper)]", maxTrials: 2, parallelism: 1),
      baseDirectory: sandbox.root)
    #expect(try await waitFor { try sandbox.database.trials(studyId: waiting.id!).count == 1 })

    // When the waiting study is cancelled
    let start = ContinuousClock.now
    let cancelled = try await service.cancel(waiting.id!)
    let elapsed = ContinuousClock.now - start

    // Then the answer comes within a second, the study is cancelled and its trial never ran
    #expect(elapsed < .seconds(1), "cancel took \(elapsed)")
    print("figures: cancel of a study waiting for a slot answered in \(elapsed)")
    #expect(
      cancelled.state == .cancelled || (try? service.describe(cancelled))?.stoppingFor != nil, "\(cancelled.state)")
    #expect(try await waitFor { try sandbox.database.study(id: waiting.id!)?.state == .cancelled })
    let trial = try #require(try sandbox.database.trials(studyId: waiting.id!).first)
    #expect(trial.state == .cancelled && trial.startedAt == nil, "\(trial.state) \(trial.reason ?? "")")
    // while the other study's trial runs on; cancelling it stops its trial as quickly
    #expect(try sandbox.database.trials(studyId: holder.id!).first?.state == .running)
    let startHolder = ContinuousClock.now
    _ = try await service.cancel(holder.id!)
    #expect(ContinuousClock.now - startHolder < .seconds(1))
    print("figures: cancel of a study with a running trial answered in \(ContinuousClock.now - startHolder)")
    #expect(try await waitFor { try sandbox.database.study(id: holder.id!)?.state == .cancelled })
  }

  @Test("a trial that ignores SIGTERM: cancel answers 'stopping' within a second, then ends cancelled")
  func cancelAnswersBeforeTheGracePeriod() async throws {
    let stubborn = try sandbox.script("stubborn.sh", "trap '' TERM\nsleep 30")
    let service = StudyService(database: sandbox.database, home: sandbox.home, maxConcurrentTrials: 2)
    let study = try await service.submit(
      yaml: studyYAML(name: "stubborn", command: "[\(stubborn)]", maxTrials: 1, parallelism: 1),
      baseDirectory: sandbox.root)
    #expect(try await waitFor { try sandbox.database.trials(studyId: study.id!).first?.state == .running })

    let start = ContinuousClock.now
    _ = try await service.cancel(study.id!)
    #expect(ContinuousClock.now - start < .seconds(1))
    print("figures: cancel of a study whose trial ignores SIGTERM answered in \(ContinuousClock.now - start)")
    let described = try service.describe(study.id!)
    #expect(described.stoppingFor?.contains("stopping") == true)
    // The trial is killed after its grace period (2 s in studyYAML), and the study ends cancelled
    #expect(try await waitFor(seconds: 15) { try sandbox.database.study(id: study.id!)?.state == .cancelled })
    #expect(try service.describe(study.id!).stoppingFor == nil)
  }

  @Test("a folder that cannot be made pauses the study without holding a slot, and cancel still answers")
  func folderOutageHoldsNoSlot() async throws {
    let quick = try sandbox.script("quick.sh", "echo 'hpod {\"score\": 1}'")
    let service = StudyService(database: sandbox.database, home: sandbox.home, maxConcurrentTrials: 1)
    // Given a study whose trial folders cannot be made (a file stands where they go)
    try FileManager.default.createDirectory(atPath: "\(sandbox.home.path)/runs", withIntermediateDirectories: true)
    FileManager.default.createFile(atPath: "\(sandbox.home.path)/runs/1", contents: Data("x".utf8))
    let blocked = try await service.submit(
      yaml: studyYAML(name: "blocked", command: "[\(quick)]", maxTrials: 2, parallelism: 1),
      baseDirectory: sandbox.root)
    #expect(blocked.id == 1)
    #expect(try await waitFor { service.pausedStudies[blocked.id!] != nil })
    #expect(service.pausedStudies[blocked.id!]?.contains("retrying until the trial's folder can be created") == true)
    #expect(service.pausedStudies[blocked.id!]?.contains("store") == false)

    // Then another study still gets the daemon's only slot and completes
    let other = try await service.submit(
      yaml: studyYAML(name: "other", command: "[\(quick)]", maxTrials: 2, parallelism: 1),
      baseDirectory: sandbox.root)
    #expect(try await waitFor(seconds: 20) { try sandbox.database.study(id: other.id!)?.state == .completed })
    // and cancelling the paused study answers within a second
    let start = ContinuousClock.now
    _ = try await service.cancel(blocked.id!)
    #expect(ContinuousClock.now - start < .seconds(1))
    print("figures: cancel of a study paused on a trial folder answered in \(ContinuousClock.now - start)")
    #expect(try await waitFor { try sandbox.database.study(id: blocked.id!)?.state == .cancelled })
  }

  @Test("a study whose lock cannot be taken fails at once, saying where and why")
  func unwritableLockFolder() async throws {
    let quick = try sandbox.script("quick.sh", "echo 'hpod {\"score\": 1}'")
    // A file stands where the locks folder goes
    try FileManager.default.createDirectory(atPath: sandbox.home.path, withIntermediateDirectories: true)
    FileManager.default.createFile(atPath: "\(sandbox.home.path)/locks", contents: Data("x".utf8))
    let service = StudyService(database: sandbox.database, home: sandbox.home, maxConcurrentTrials: 1)
    let study = try await service.submit(
      yaml: studyYAML(name: "unlocked", command: "[\(quick)]", maxTrials: 2, parallelism: 1),
      baseDirectory: sandbox.root)
    #expect(try await waitFor { try sandbox.database.study(id: study.id!)?.state == .failed })
    let reason = try sandbox.database.study(id: study.id!)?.stateReason ?? ""
    #expect(reason.contains("cannot start: the study's lock"), "\(reason)")
    #expect(reason.contains("hpod resume \(study.id!)"), "\(reason)")
    #expect(try sandbox.database.trials(studyId: study.id!).isEmpty)
  }

  /// Polls `condition` every 50 ms for up to `seconds`.
  func waitFor(seconds: Double = 30, _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if try condition() { return true }
      try await Task.sleep(for: .milliseconds(50))
    }
    return try condition()
  }
}
