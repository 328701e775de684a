import Foundation
import HPODTesting
import SearchStrategies
import StudyModel
import Synchronization
import Testing
import TrackingBridge

@testable import TrialScheduler

@Suite("Where a search starts: queued configurations and another study's trials, end to end")
struct SearchStartTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  /// Trials scoring −(x − 0.3)², best at x = 0.3, played without a process.
  static let bowl = ScriptedExecutor.reporting("score") { configuration in
    let x = configuration["x"]?.numericValue ?? 0
    return -(x - 0.3) * (x - 0.3)
  }

  /// Starts or resumes the study of `yaml` and runs its bowl trials to the end.
  func run(_ yaml: String, onEvent: @escaping @Sendable (StudyEvent) -> Void = { _ in }) async throws -> (
    StudyRecord, [TrialRecord]
  ) {
    try await sandbox.run(yaml, executor: Self.bowl, onEvent: onEvent)
  }

  func bowlYAML(name: String, search: String, x: String = "{type: float, min: 0, max: 1}") throws -> String {
    """
    name: \(name)
    objective: {metric: score, direction: maximize}
    search: \(search)
    parameters:
      x: \(x)
      k: {type: int, min: 1, max: 9}
    trial:
      command: [true, "{x}", "{k}"]
    """
  }

  static func x(_ trial: TrialRecord) throws -> Double {
    let configuration = try JSONDecoder().decode(Configuration.self, from: Data(trial.paramsJSON.utf8))
    return configuration["x"]!.numericValue!
  }

  @Test(
    "queued configurations run first and in order, use the budget, and take the strategy's values for what they leave out"
  )
  func queuedConfigurationsRunFirst() async throws {
    let yaml = try bowlYAML(
      name: "queued",
      search: "{algorithm: random, seed: 5, max_trials: 4, parallelism: 1, enqueue: [{x: 0.25, k: 3}, {x: 0.75}]}")
    let (study, trials) = try await run(yaml)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    #expect(trials.count == 4)
    let configurations = try trials.sorted { $0.number < $1.number }.map {
      try JSONDecoder().decode(Configuration.self, from: Data($0.paramsJSON.utf8))
    }
    #expect(configurations[0] == Configuration(["x": .double(0.25), "k": .int(3)]))
    #expect(configurations[1]["x"] == .double(0.75))
    #expect((1...9).contains(configurations[1]["k"]?.numericValue.map { Int($0) } ?? 0))
    let tags = try trials.sorted { $0.number < $1.number }.map {
      try sandbox.database.tags(trialId: $0.id!)["hpod.enqueued"]
    }
    #expect(tags == ["search.enqueue[0]", "search.enqueue[1]", nil, nil])
    #expect(trials.allSatisfy { $0.state == .completed })
  }

  @Test("a warm-started GP uses the other study's trials: its first suggestion is near the optimum they point to")
  func warmStartFeedsTheModel() async throws {
    let (source, sourceTrials) = try await run(
      try bowlYAML(name: "bowl-wide", search: "{algorithm: random, seed: 11, max_trials: 14, parallelism: 2}"))
    #expect(source.state == .completed)
    let inside = try sourceTrials.filter { try Self.x($0) <= 0.6 }.count

    let events = Mutex<[StudyEvent]>([])
    let (study, trials) = try await run(
      try bowlYAML(
        name: "bowl-narrow",
        search: "{algorithm: bayes, seed: 2, max_trials: 1, startup_trials: 5, warm_start: {study: bowl-wide}}",
        x: "{type: float, min: 0, max: 0.6}"),
      onEvent: { event in events.withLock { $0.append(event) } })
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    // The other study's trials use none of the budget: the one trial is this study's own.
    #expect(trials.count == 1)
    let warm = events.withLock { $0 }.compactMap { event -> WarmStartHistory? in
      if case .warmStarted(let history) = event { return history }
      return nil
    }
    #expect(warm.count == 1)
    #expect(warm.first?.source.id == source.id)
    #expect(warm.first?.observations.count == inside)
    #expect(warm.first?.outsideSpace == sourceTrials.count - inside)
    // Past its 5 startup suggestions, the GP's first one lands by the bowl's bottom; a
    // quasi-random start would land anywhere.
    let best = try sourceTrials.map { abs(try Self.x($0) - 0.3) }.min()!
    let suggestedX = try Self.x(trials[0])
    let suggested = abs(suggestedX - 0.3)
    #expect(suggested < 0.03, "suggested x = \(suggestedX)")
    #expect(suggested <= best + 0.01, "the source's best was \(best) from the optimum")
  }

  @Test("a resumed study sees the other study as it was when this one was created")
  func warmStartIsFixedAtCreation() async throws {
    let sourceYAML = try bowlYAML(name: "bowl", search: "{algorithm: random, seed: 1, max_trials: 3, parallelism: 1}")
    _ = try await run(sourceYAML)
    let yaml = try bowlYAML(
      name: "follower", search: "{algorithm: random, seed: 1, max_trials: 2, warm_start: {study: bowl}}")
    let spec = try sandbox.spec(yaml)
    guard
      case .new(let follower) = try StudySession.start(
        spec: spec, yaml: yaml, path: nil, database: sandbox.database, fresh: false)
    else { Issue.record("the follower study was not created"); return }
    // A newer study of the same name, made after the follower.
    let newer = try await run(
      try bowlYAML(name: "bowl", search: "{algorithm: random, seed: 9, max_trials: 5, parallelism: 1}"))
    _ = newer
    let warmStart = try #require(spec.search.warmStart)
    let resumed = try WarmStartHistory.load(warmStart, for: spec, study: follower, database: sandbox.database)
    #expect(resumed.observations.count == 3)
    let fresh = try WarmStartHistory.load(warmStart, for: spec, study: nil, database: sandbox.database)
    #expect(fresh.observations.count == 5)
  }

  @Test(
    "a warm start that cannot work is refused before the study is created, located at search.warm_start.study",
    arguments: [
      ("{study: bowl-sourse}", "", "no study named 'bowl-sourse' in this store; did you mean 'bowl-source'?"),
      (
        "{study: bowl-source}", "objective: {metric: loss, direction: minimize}",
        "study 'bowl-source' (id 1) maximizes score, this study minimizes loss: a warm start needs the same objective"
      ),
      (
        "{study: bowl-source}", "lr: {type: float, min: 0, max: 1}",
        "searched other parameters: only this study has lr; a warm start needs the same parameters"
      ),
    ])
  func refusedWarmStart(warmStart: String, change: String, message: String) async throws {
    _ = try await run(
      try bowlYAML(name: "bowl-source", search: "{algorithm: random, seed: 1, max_trials: 2, parallelism: 1}"))
    var yaml = try bowlYAML(
      name: "follower", search: "{algorithm: random, seed: 1, max_trials: 2, warm_start: \(warmStart)}")
    if change.hasPrefix("objective") {
      yaml = yaml.replacingOccurrences(of: "objective: {metric: score, direction: maximize}", with: change)
    } else if !change.isEmpty {
      yaml = yaml.replacingOccurrences(of: "  k: {type: int", with: "  \(change)\n  k: {type: int")
    }
    do {
      _ = try await run(yaml)
      Issue.record("the study ran")
    } catch let error as SpecValidationError {
      #expect(error.issues.count == 1)
      #expect(error.issues.first?.path == "search.warm_start.study")
      #expect(error.issues.first?.line == 3)
      #expect(error.description.contains(message), "\(error)")
    }
    #expect(try sandbox.database.latestStudy(named: "follower") == nil, "a refused study leaves no row")
  }

  @Test("queued configurations and the warm start are parsed from the spec")
  func parsesSearchStart() throws {
    let spec = try sandbox.spec(
      try bowlYAML(
        name: "parsed",
        search: "{algorithm: bayes, max_trials: 5, enqueue: [{x: 1, k: 2.0}, {k: 4}], warm_start: {study: old}}"))
    #expect(spec.search.enqueue == [Configuration(["x": .double(1), "k": .int(2)]), Configuration(["k": .int(4)])])
    #expect(spec.search.warmStart?.study == "old")
    #expect(spec.search.warmStart?.site.line == 3)
  }
}
