import Foundation
import SearchStrategies
import Testing
import TrackingBridge

@testable import TrialScheduler

@Suite("Full training requested by hand")
struct ManualPromotionTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  static let tiers = """
    tiers:
      quick_test: {epochs: 1}
      full_training: {epochs: 2}
    """

  func scoreScript() throws -> String {
    try sandbox.script("score.sh", #"echo "hpod {\"step\": 1, \"score\": $1}""#)
  }

  @Test("a finished study runs again for a requested full training alone, beyond top_k, and only once")
  func finishedStudyRunsAgain() async throws {
    // Given a finished study whose best quick test was trained in full (top_k 1)
    let yaml = studyYAML(
      command: "[\(try scoreScript()), \"{x}\"]", maxTrials: 4, extra: Self.tiers + "\npromotion: {top_k: 1}")
    let (study, trials) = try await sandbox.run(yaml)
    #expect(study.state == .completed)
    let quick = trials.filter { $0.tier == .quickTest }
    let best = quick.max { $0.value! < $1.value! }!
    let worst = quick.min { $0.value! < $1.value! }!
    #expect(trials.filter { $0.tier == .fullTraining }.map(\.sourceTrialId) == [best.id])

    // When the worst quick test is requested by hand (the study is reopened) and the study runs
    try sandbox.database.requestPromotion(trialId: worst.id!, studyId: study.id!, reopenStudy: true)
    #expect(try sandbox.database.study(id: study.id!)?.state == .running)
    #expect(try sandbox.database.pendingPromotionRequests(studyId: study.id!) == [worst.id!])
    let (again, after) = try await sandbox.run(yaml)

    // Then its full training ran with its configuration, and nothing else did
    #expect(again.state == .completed)
    let full = after.filter { $0.tier == .fullTraining }
    #expect(Set(full.map(\.sourceTrialId)) == [best.id, worst.id])
    let manual = try #require(full.first { $0.sourceTrialId == worst.id })
    #expect(manual.state == .completed && manual.paramsJSON == worst.paramsJSON)
    #expect(after.filter { $0.tier == .quickTest }.count == 4)
    #expect(try sandbox.database.pendingPromotionRequests(studyId: study.id!).isEmpty)
    #expect(try sandbox.database.fullTraining(of: worst.id!)?.id == manual.id)

    // And running it once more trains nothing twice
    let (_, third) = try await sandbox.run(yaml)
    #expect(third.count == after.count)
  }

  @Test("a running study is woken for a request and starts it without waiting for its running trials")
  func wakesRunningStudy() async throws {
    // Given trial 1 that runs until it is released, and trial 0 that finishes at once
    let release = "\(sandbox.root)/release"
    let script = try sandbox.script(
      "slow.sh",
      #"""
      if [ "$HPOD_TIER" = quick_test ] && [ "$HPOD_TRIAL_NUMBER" = 1 ]; then
        for i in $(seq 300); do [ -f \#(release) ] && break; sleep 0.05; done
      fi
      echo "hpod {\"score\": $1}"
      """#)
    let yaml = studyYAML(command: "[\(script), \"{x}\"]", maxTrials: 2, parallelism: 2, extra: Self.tiers)
    let database = sandbox.database
    let wakeup = Wakeup()
    // When trial 0 finishes, its full training is requested and the runner woken; the full
    // training's start (its process running) releases trial 1
    let (study, trials) = try await sandbox.run(yaml, wakeup: wakeup) { event in
      switch event {
      case .trialFinished(let trial) where trial.number == 0 && trial.tier == .quickTest:
        try? database.requestPromotion(trialId: trial.id!, studyId: trial.studyId, reopenStudy: false)
        wakeup.signal()
      case .trialStarted(let trial) where trial.tier == .fullTraining:
        FileManager.default.createFile(atPath: release, contents: Data())
      default: break
      }
    }
    // Then the full training of trial 0 started while trial 1 was still running
    #expect(study.state == .completed)
    let first = try #require(trials.first { $0.number == 0 })
    let second = try #require(trials.first { $0.number == 1 })
    let full = try #require(trials.first { $0.tier == .fullTraining })
    #expect(full.sourceTrialId == first.id && full.state == .completed)
    #expect(full.startedAt! < second.finishedAt!)
    #expect(second.state == .completed)
  }

  @Test("the service refuses what cannot be trained in full, and a request survives a restart")
  func serviceRequests() async throws {
    // Given a finished study run by the daemon's service
    let yaml = studyYAML(command: "[\(try scoreScript()), \"{x}\"]", maxTrials: 3, extra: Self.tiers)
    let service = StudyService(database: sandbox.database, home: sandbox.home, maxConcurrentTrials: 2)
    let study = try await service.submit(yaml: yaml, baseDirectory: sandbox.root)
    let id = study.id!
    try await waitUntilIdle(service, id)
    #expect(try sandbox.database.study(id: id)?.state == .completed)

    // Then bad requests are refused with what to do
    await #expect(throws: ServiceError.self) { try await service.promote(id, trialNumber: 42) }
    await #expect(throws: ServiceError.self) { try await service.promote(id + 1, trialNumber: 0) }

    // When trial 0 is requested: the study runs again and trains it in full
    let answer = try await service.promote(id, trialNumber: 0)
    #expect(answer.requested && answer.fullTraining == nil)
    #expect(answer.message.contains("runs again"))
    try await waitUntilIdle(service, id)
    let full = try #require(try sandbox.database.trials(studyId: id, tier: .fullTraining).first)
    #expect(full.state == .completed && full.number == 3)
    // asking again answers with the existing full training; a full training cannot be promoted
    let again = try await service.promote(id, trialNumber: 0)
    #expect(!again.requested && again.fullTraining?.id == full.id)
    do {
      _ = try await service.promote(id, trialNumber: 3)
      Issue.record("a full training was promoted")
    } catch let error as ServiceError {
      #expect(error.description == "trial 3 is a full training; promote the quick test it came from")
    }

    // When a request is recorded and the daemon dies before running it
    try sandbox.database.requestPromotion(
      trialId: try sandbox.database.trial(studyId: id, number: 1)!.id!, studyId: id, reopenStudy: true)
    // Then the next daemon resumes the study and runs it
    let restarted = StudyService(database: sandbox.database, home: sandbox.home, maxConcurrentTrials: 2)
    try await restarted.start()
    try await waitUntilIdle(restarted, id)
    let fulls = try sandbox.database.trials(studyId: id, tier: .fullTraining)
    #expect(fulls.count == 2)
    #expect(try sandbox.database.study(id: id)?.state == .completed)
  }

  func waitUntilIdle(_ service: StudyService, _ id: Int64) async throws {
    // Generous: the whole suite shares 2 cores, and GP tests hold them for seconds at a time.
    let deadline = Date().addingTimeInterval(90)
    while await service.isRunning(id), Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
  }
}
