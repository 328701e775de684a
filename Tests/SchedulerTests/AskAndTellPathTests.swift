import Foundation
import Testing
import TrackingBridge

@testable import TrialScheduler

/// Ask and tell takes the runner's path: the same planner, verdict and aftermath.
@Suite("Ask and tell: the runner's path for trials run outside hpod")
struct AskAndTellPathTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  @Test("a told run that meets the thresholds is registered under the alias; one that misses them is tagged why")
  func toldRunsAreRegistered() async throws {
    let service = StudyService(database: sandbox.database, home: sandbox.home, maxConcurrentTrials: 1)
    try await service.start()
    let study = try await service.submit(
      yaml: """
        name: told-registered
        objective: {metric: score, direction: maximize}
        search: {algorithm: random, seed: 5, max_trials: 3}
        parameters: {x: {type: float, min: 0, max: 1}}
        registration: {model: told-model, when: ["score >= 0.5"], alias: champion}
        """)
    var trials: [TrialRecord] = []
    for score in [0.7, 0.2, 0.9] {
      let trial = try await service.ask(study.id!)
      trials.append(try await service.tell(trial.id!, TrialReport(value: score)))
    }
    await service.shutdown()
    let versions = try sandbox.database.modelVersions(named: "told-model")
    #expect(versions.map(\.trialId) == [trials[0].id!, trials[2].id!])
    let alias = try sandbox.database.modelAliases(named: "told-model").first { $0.alias == "champion" }
    #expect(alias?.version == 2, "the alias goes to the best registered run (score 0.9)")
    let tags = try trials.map { try sandbox.database.tags(trialId: $0.id!)[HpodTag.registration] }
    #expect(
      tags == [
        "registered as told-model v1", "not registered: score = 0.2 does not meet score >= 0.5",
        "registered as told-model v2",
      ])
    #expect(try sandbox.database.study(id: study.id!)?.state == .completed)
  }

  @Test("ask hands out each configuration's repeats with their seeds; max_trials counts configurations")
  func askRepeats() async throws {
    let service = StudyService(database: sandbox.database, home: sandbox.home, maxConcurrentTrials: 1)
    try await service.start()
    let study = try await service.submit(
      yaml: """
        name: told-repeated
        objective: {metric: score, direction: maximize}
        search: {algorithm: random, seed: 40, max_trials: 2}
        parameters: {x: {type: float, min: 0, max: 1}}
        repeats: 2
        """)
    var asked: [TrialRecord] = []
    for index in 0..<4 {
      let trial = try await service.ask(study.id!)
      asked.append(trial)
      #expect(try sandbox.database.study(id: study.id!)?.state == .running, "after \(index) tells")
      _ = try await service.tell(trial.id!, TrialReport(value: Double(index)))
    }
    await #expect(throws: ServiceError.self) { try await service.ask(study.id!) }
    await service.shutdown()
    #expect(asked.map(\.repeatIndex) == [0, 1, 0, 1])
    #expect(asked.map(\.seed) == [40, 41, 40, 41])
    #expect(asked[0].paramsJSON == asked[1].paramsJSON && asked[2].paramsJSON == asked[3].paramsJSON)
    #expect(asked[0].paramsJSON != asked[2].paramsJSON)
    #expect(try sandbox.database.study(id: study.id!)?.state == .completed)
  }

  @Test("a study without `trial:` that asks for promotion is refused where it says so")
  func promotionNeedsATrialCommand() throws {
    let yaml = """
      name: told-promoted
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, max_trials: 3}
      parameters: {x: {type: float, min: 0, max: 1}}
      tiers:
        quick_test: {epochs: 1}
        full_training: {epochs: 10}
      promotion: {top_k: 1}
      """
    let error = try #require(throws: SpecValidationError.self) {
      try StudySpec.parse(yaml: yaml, file: "study.yaml", baseDirectory: "/tmp")
    }
    #expect(error.issues.map(\.path) == ["promotion"])
    #expect(error.description.contains("study.yaml:8"), "\(error)")
    #expect(error.description.contains("add trial.command, or remove promotion"))
  }

  @Test("the runner refuses a study whose trials run outside hpod, and says how they run")
  func runnerRefusesAskAndTell() async throws {
    let spec = try StudySpec.parse(
      yaml: """
        name: told-only
        objective: {metric: score, direction: maximize}
        search: {algorithm: random, max_trials: 3}
        parameters: {x: {type: float, min: 0, max: 1}}
        """, file: "study.yaml", baseDirectory: "/tmp")
    let study = try sandbox.database.createStudy(
      StudyRecord(
        name: spec.name, specYAML: "", specPath: nil, specHash: "-", objectiveMetric: "score", direction: .maximize))
    let runner = StudyRunner(
      spec: spec, database: sandbox.database, home: sandbox.home, strategy: try spec.makeStrategy())
    let refusal = try await #require(throws: RunRefusal.self) { try await runner.run(study) }
    #expect(refusal.description.contains("ask for them and tell their results"))
    #expect(try sandbox.database.trials(studyId: study.id!).isEmpty)
  }
}
