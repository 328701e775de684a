import Foundation
import SearchStrategies
import StudyModel
import Testing
import TrackingBridge

@testable import TrialScheduler

func quickTest(_ id: Int64, _ value: Double?, state: TrialState = .completed) -> TrialRecord {
  var trial = TrialRecord(studyId: 1, number: Int(id), tier: .quickTest, state: state, paramsJSON: "{}", value: value)
  trial.id = id
  return trial
}

@Suite("Promotion and registration policies")
struct PromotionAndRegistrationTests {
  let quickTests = [
    quickTest(1, 0.7), quickTest(2, 0.95), quickTest(3, 0.85), quickTest(4, 0.99, state: .pruned), quickTest(5, 0.9),
  ]

  @Test("after the search, the top_k completed quick tests meeting min_value are promoted")
  func promotesTopK() {
    let policy = PromotionPolicy(
      promotion: .init(topK: 2, minValue: 0.8, mode: .afterSearch, margin: 0, maxFullTrainings: 5), direction: .maximize
    )
    #expect(policy.candidates(quickTests: quickTests, promotedSources: [], searchDone: false).isEmpty)
    #expect(policy.candidates(quickTests: quickTests, promotedSources: [], searchDone: true).map(\.id) == [2, 5])
    #expect(policy.candidates(quickTests: quickTests, promotedSources: [2], searchDone: true).map(\.id) == [5])
  }

  @Test("min_value and the full-training budget bound promotion")
  func respectsMinValueAndBudget() {
    let strict = PromotionPolicy(
      promotion: .init(topK: 3, minValue: 0.96, mode: .afterSearch, margin: 0, maxFullTrainings: 3),
      direction: .maximize)
    #expect(strict.candidates(quickTests: quickTests, promotedSources: [], searchDone: true).isEmpty)
    let capped = PromotionPolicy(
      promotion: .init(topK: 3, minValue: nil, mode: .afterSearch, margin: 0, maxFullTrainings: 1), direction: .maximize
    )
    #expect(capped.candidates(quickTests: quickTests, promotedSources: [], searchDone: true).map(\.id) == [2])
    #expect(capped.candidates(quickTests: quickTests, promotedSources: [2], searchDone: true).isEmpty)
  }

  @Test("continuous: a quick test is promoted when it beats the best promoted one by the margin")
  func continuousMode() {
    let policy = PromotionPolicy(
      promotion: .init(topK: 1, minValue: nil, mode: .continuous, margin: 0.02, maxFullTrainings: 5),
      direction: .maximize)
    #expect(
      policy.candidates(quickTests: Array(quickTests.prefix(1)), promotedSources: [], searchDone: false).map(\.id) == [
        1
      ])
    // 0.95 beats the promoted 0.9 by 0.05 > 0.02
    #expect(policy.candidates(quickTests: quickTests, promotedSources: [5], searchDone: false).map(\.id) == [2])
    // 0.95 does not beat a promoted 0.94 by more than 0.02
    let close = quickTests + [quickTest(6, 0.94)]
    #expect(policy.candidates(quickTests: close, promotedSources: [6], searchDone: false).isEmpty)
  }

  @Test("full trainings requested by hand go first, beyond top_k, and leave the automatic budget alone")
  func requestedByHand() {
    let policy = PromotionPolicy(
      promotion: .init(topK: 1, minValue: 0.8, mode: .afterSearch, margin: 0, maxFullTrainings: 1),
      direction: .maximize)
    // 0.7 misses min_value and is not the best, but was asked for: it goes first, then the best
    #expect(
      policy.candidates(quickTests: quickTests, promotedSources: [], searchDone: true, requested: [1]).map(\.id) == [
        1, 2,
      ])
    // its full training does not use the single automatic slot
    #expect(
      policy.candidates(quickTests: quickTests, promotedSources: [1], searchDone: true, requested: [1]).map(\.id) == [
        2
      ])
    // a request is answered once; a pruned quick test is never trained in full
    #expect(
      policy.candidates(quickTests: quickTests, promotedSources: [1, 2], searchDone: true, requested: [1]).isEmpty)
    #expect(
      policy.candidates(quickTests: quickTests, promotedSources: [], searchDone: false, requested: [4, 3]).map(\.id)
        == [
          3
        ])
    // without a promotion section, only requests are trained in full
    let none = PromotionPolicy(promotion: nil, direction: .maximize)
    #expect(none.candidates(quickTests: quickTests, promotedSources: [], searchDone: true).isEmpty)
    #expect(
      none.candidates(quickTests: quickTests, promotedSources: [], searchDone: true, requested: [5]).map(\.id) == [5])
  }

  @Test("registration: every threshold must hold on the final metrics, and the model file must exist")
  func registrationThresholds() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-reg-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: "\(folder)/artifacts", withIntermediateDirectories: true)
    var run = TrialRecord(studyId: 1, number: 3, tier: .fullTraining, state: .completed, paramsJSON: "{}", value: 0.97)
    run.runDirectory = folder
    let policy = RegistrationPolicy(
      registration: .init(
        model: "m", conditions: [DSL.threshold("acc >= 0.95"), DSL.threshold("latency_ms <= 5")],
        artifact: "model.json",
        alias: "champion", tier: .fullTraining))

    #expect(
      policy.judge(run, finalMetrics: ["acc": 0.97, "latency_ms": 3])
        == .reject("the model file model.json is missing from the run's artifacts (\(folder)/artifacts/model.json)"))
    FileManager.default.createFile(atPath: "\(folder)/artifacts/model.json", contents: Data("{}".utf8))
    #expect(
      policy.judge(run, finalMetrics: ["acc": 0.97, "latency_ms": 3])
        == .register(artifactPath: "\(folder)/artifacts/model.json"))
    #expect(
      policy.judge(run, finalMetrics: ["acc": 0.94, "latency_ms": 3]) == .reject("acc = 0.94 does not meet acc >= 0.95")
    )
    #expect(policy.judge(run, finalMetrics: ["acc": 0.97]) == .reject("latency_ms was never reported"))
    var quick = run
    quick.tier = .quickTest
    #expect(
      policy.judge(quick, finalMetrics: ["acc": 0.97, "latency_ms": 3])
        != .register(artifactPath: "\(folder)/artifacts/model.json"))
  }
}

enum DSL {
  static func threshold(_ text: String) -> StudySpec.Threshold { SpecParser.parseThreshold(text)! }
}
