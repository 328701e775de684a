import Foundation
import MultiObjective
import SearchStrategies
import Testing
import TrackingBridge

@testable import TrialScheduler

@Suite("Studies of several objectives with constraints, end to end")
struct MultiObjectiveStudyTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  /// score = x (maximized) against latency = x² + y (minimized): the front is y = 0.
  func tradeOffYAML(algorithm: String, trials: Int, constraint: String = "latency <= 0.5") throws -> String {
    let script = try sandbox.script(
      "tradeoff.sh",
      #"echo "hpod {\"score\": $1, \"latency\": $(awk "BEGIN { print $1 * $1 + $2 }")}""#)
    return """
      name: tradeoff-\(algorithm)
      objectives:
        - {metric: score, direction: maximize}
        - {metric: latency, direction: minimize}
      constraints: ["\(constraint)"]
      search: {algorithm: \(algorithm), seed: 3, max_trials: \(trials), parallelism: 2\(algorithm == "bayes" ? ", startup_trials: 6" : "")}
      parameters:
        x: {type: float, min: 0, max: 1}
        y: {type: float, min: 0, max: 1}
      trial:
        command: [\(script), "{x}", "{y}"]
      """
  }

  @Test(
    "trials are tagged feasible or not, and the front holds the feasible trade-offs no trial beats",
    arguments: ["random", "bayes"])
  func frontOfFeasibleTradeOffs(algorithm: String) async throws {
    let (study, trials) = try await sandbox.run(try tradeOffYAML(algorithm: algorithm, trials: 16))
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    #expect(trials.count == 16 && trials.allSatisfy { $0.state == .completed })
    let finals = try sandbox.database.finalMetricValues(studyId: study.id!)
    var infeasible = 0
    for trial in trials {
      let latency = try #require(finals[trial.id!]?["latency"])
      let tag = try sandbox.database.tags(trialId: trial.id!)["hpod.feasible"]
      if latency <= 0.5 {
        #expect(tag == "yes")
      } else {
        infeasible += 1
        #expect(
          tag?.hasPrefix("no: latency = ") == true && tag?.hasSuffix("breaks latency <= 0.5") == true, "\(tag ?? "")")
      }
    }

    let spec = try sandbox.spec(try tradeOffYAML(algorithm: algorithm, trials: 16))
    let front = ParetoFront.of(spec: spec, trials: trials, finalMetrics: finals)
    #expect(front.infeasible == infeasible)
    #expect(front.members.count >= 2)
    let losses = { (metrics: [String: Double]) in [-metrics["score"]!, metrics["latency"]!] }
    let feasible = trials.compactMap { finals[$0.id!] }.filter { $0["latency"]! <= 0.5 }
    for member in front.members {
      #expect(member.metrics["latency"]! <= 0.5)
      #expect(!feasible.contains { Dominance.dominates(losses($0), losses(member.metrics)) })
    }
    // Each completed trial is tagged with whether it ended on the front (mirrored to MLflow).
    let members = Set(front.members.map(\.trial.id!))
    for trial in trials {
      let tag = try sandbox.database.tags(trialId: trial.id!)["hpod.pareto_front"]
      #expect(tag == (members.contains(trial.id!) ? "yes" : "no"))
    }
    // Ordered by the first objective, best first.
    #expect(front.members.map { $0.metrics["score"]! } == front.members.map { $0.metrics["score"]! }.sorted(by: >))
  }

  @Test("with one objective and a constraint, the study's best is the best feasible trial")
  func bestIsFeasible() async throws {
    let yaml = try tradeOffYAML(algorithm: "random", trials: 14).replacingOccurrences(
      of: "objectives:\n  - {metric: score, direction: maximize}\n  - {metric: latency, direction: minimize}",
      with: "objective: {metric: score, direction: maximize}")
    #expect(!yaml.contains("objectives"))
    let (study, trials) = try await sandbox.run(yaml)
    let finals = try sandbox.database.finalMetricValues(studyId: study.id!)
    let feasible = trials.filter { finals[$0.id!]!["latency"]! <= 0.5 }
    #expect(feasible.count < trials.count, "the test needs an infeasible trial")
    let expected = try #require(feasible.max { $0.value! < $1.value! })
    let best = try sandbox.database.summary(studyId: study.id!, higherIsBetter: true).best
    #expect(best?.id == expected.id, "the best infeasible trial scored \(trials.map(\.value!).max()!)")
  }

  @Test("a told trial of an ask-and-tell study is judged against the constraints too")
  func toldTrialsAreJudged() async throws {
    let service = StudyService(database: sandbox.database, home: sandbox.home, maxConcurrentTrials: 1)
    try await service.start()
    let study = try await service.submit(
      yaml: """
        name: told-constrained
        objective: {metric: score, direction: maximize}
        constraints: ["latency <= 0.5"]
        search: {algorithm: random, seed: 2, max_trials: 2}
        parameters: {x: {type: float, min: 0, max: 1}}
        """)
    var tags: [String?] = []
    for latency in [0.2, 0.7] {
      let trial = try await service.ask(study.id!)
      _ = try await service.tell(
        trial.id!, TrialReport(value: 1, metrics: [TrialReport.Point(name: "latency", step: 1, value: latency)]))
      tags.append(try sandbox.database.tags(trialId: trial.id!)["hpod.feasible"])
    }
    await service.shutdown()
    #expect(tags == ["yes", "no: latency = 0.7 breaks latency <= 0.5"])
  }

  @Test("the GP's suggestions after its start move toward the feasible front")
  func bayesSearchesTheFront() async throws {
    let (_, trials) = try await sandbox.run(try tradeOffYAML(algorithm: "bayes", trials: 20))
    let finals = try sandbox.database.finalMetricValues(studyId: trials[0].studyId)
    // Distance to the front y = 0 (latency − score²), before and after the 6 startup trials.
    let gap = { (trial: TrialRecord) -> Double in finals[trial.id!]!["latency"]! - pow(finals[trial.id!]!["score"]!, 2)
    }
    let sorted = trials.sorted { $0.number < $1.number }
    let startup = sorted.prefix(6).map(gap).sorted()[3]
    let guided = sorted.suffix(10).map(gap).sorted()[5]
    #expect(guided < startup / 2, "median gap to the front: startup \(startup), guided \(guided)")
  }
}

@Suite("Pruning a study of several objectives, end to end")
struct MultiObjectivePruningTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  @Test("asha stops trials behind the rung's fronts, and says which rule and why")
  func ashaPrunesDominatedTrials() async throws {
    // Each step reports both objectives: score rises with x, latency with y.
    let script = try sandbox.script(
      "curves.sh",
      #"""
      for s in 1 2 3 4 5 6 7 8 9; do
        echo "hpod {\"step\": $s, \"score\": $(awk "BEGIN { print $1 * $s / 9 }"), \"latency\": $(awk "BEGIN { print $2 + 0.01 * $s }")}"
      done
      """#)
    let yaml = """
      name: pruned-tradeoff
      objectives:
        - {metric: score, direction: maximize}
        - {metric: latency, direction: minimize}
      search: {algorithm: random, seed: 8, max_trials: 18, parallelism: 1}
      parameters:
        x: {type: float, min: 0, max: 1}
        y: {type: float, min: 0, max: 1}
      trial:
        command: [\(script), "{x}", "{y}"]
      early_stopping: {rule: asha, min_resource: 1, reduction_factor: 3}
      """
    let (study, trials) = try await sandbox.run(yaml)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    let pruned = trials.filter { $0.state == .pruned }
    #expect(!pruned.isEmpty && pruned.count < trials.count)
    for trial in pruned {
      #expect(trial.reason?.contains("asha") == true, "\(trial.reason ?? "")")
      #expect(trial.reason?.contains("by non-dominated sorting and crowding") == true, "\(trial.reason ?? "")")
    }
  }
}

@Suite("Promotion and registration along the Pareto front, end to end")
struct FrontPromotionTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  /// A tiered study of score = x (maximized) against latency = x² + y (minimized), with
  /// `tail` (promotion, registration) appended; trials report their tier's epochs too.
  /// With `flatFullLatency`, full trainings report latency 0.5 whatever x and y are, so only
  /// the most accurate of them stays on the full trainings' front.
  func tieredYAML(name: String, seed: Int, tail: String, flatFullLatency: Bool = false) throws -> String {
    let latency = flatFullLatency ? "$3 == 5 ? 0.5 : $1 * $1 + $2" : "$1 * $1 + $2"
    let script = try sandbox.script(
      "tiered-\(name).sh",
      #"echo "hpod {\"score\": $1, \"latency\": $(awk "BEGIN { print \#(latency) }"), \"epochs\": $3}""#)
    return """
      name: \(name)
      objectives:
        - {metric: score, direction: maximize}
        - {metric: latency, direction: minimize}
      search: {algorithm: random, seed: \(seed), max_trials: 12, parallelism: 2}
      parameters:
        x: {type: float, min: 0, max: 1}
        y: {type: float, min: 0, max: 0.1}
      trial:
        command: [\(script), "{x}", "{y}", "{tier.epochs}"]
      tiers:
        quick_test: {epochs: 1}
        full_training: {epochs: 5}
      \(tail)
      """
  }

  @Test("pick {best: score, where: [latency <= 0.3]} trains the most accurate fast-enough front member in full")
  func promotesThePreferredMember() async throws {
    let yaml = try tieredYAML(
      name: "front-promotion", seed: 5, tail: #"promotion: {top_k: 1, pick: {best: score, where: ["latency <= 0.3"]}}"#)
    let (study, trials) = try await sandbox.run(yaml)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    let full = trials.filter { $0.tier == .fullTraining }
    #expect(full.count == 1)
    // By hand: among the quick tests on the front with latency <= 0.3, the highest score.
    let finals = try sandbox.database.finalMetricValues(studyId: study.id!)
    let quick = trials.filter { $0.tier == .quickTest }
    let members = ParetoFront.of(spec: try sandbox.spec(yaml), trials: quick, finalMetrics: finals).members
    let expected = members.filter { $0.metrics["latency"]! <= 0.3 }.max { $0.metrics["score"]! < $1.metrics["score"]! }
    #expect(full.first?.sourceTrialId == expected?.trial.id, "expected trial \(expected?.trial.number ?? -1)")
    #expect(try finals[full[0].id!]?["epochs"] == 5)
  }

  @Test("every full training that meets the thresholds is registered; the alias goes to the one pick prefers")
  func aliasFollowsThePick() async throws {
    let yaml = try tieredYAML(
      name: "front-registration", seed: 9,
      tail: """
        promotion: {top_k: 3, pick: {best: latency, where: []}}
        registration: {model: tradeoff, when: ["score >= 0"], alias: champion}
        """)
    let (study, trials) = try await sandbox.run(yaml)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    let full = trials.filter { $0.tier == .fullTraining && $0.state == .completed }
    #expect(full.count >= 2, "the quick tests' front had \(full.count) member(s)")
    let versions = try sandbox.database.modelVersions(named: "tradeoff")
    #expect(Set(versions.map(\.trialId)) == Set(full.map(\.id!)))
    // The pick prefers the lowest latency; by the first objective alone the alias would go
    // to the highest score, the other end of the front.
    let finals = try sandbox.database.finalMetricValues(studyId: study.id!)
    let fastest = try #require(full.min { finals[$0.id!]!["latency"]! < finals[$1.id!]!["latency"]! })
    let alias = try #require(try sandbox.database.modelAliases(named: "tradeoff").first { $0.alias == "champion" })
    #expect(versions.first { $0.version == alias.version }?.trialId == fastest.id)
    let mostAccurate = try #require(full.max { finals[$0.id!]!["score"]! < finals[$1.id!]!["score"]! })
    #expect(mostAccurate.id != fastest.id, "the test needs the two ends to differ")
  }
  @Test("only full trainings on the final front are registered; the others are told why")
  func registersOnlyTheFinalFront() async throws {
    let yaml = try tieredYAML(
      name: "final-front-registration", seed: 9,
      tail: """
        promotion: {top_k: 3}
        registration: {model: flat, when: ["score >= 0"], alias: champion}
        """, flatFullLatency: true)
    let (study, trials) = try await sandbox.run(yaml)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    let full = trials.filter { $0.tier == .fullTraining && $0.state == .completed }
    #expect(full.count == 3)
    // Every full training reports latency 0.5: the most accurate one dominates the others.
    let finals = try sandbox.database.finalMetricValues(studyId: study.id!)
    let best = try #require(full.max { finals[$0.id!]!["score"]! < finals[$1.id!]!["score"]! })
    let versions = try sandbox.database.modelVersions(named: "flat")
    #expect(versions.map(\.trialId) == [best.id!])
    let alias = try #require(try sandbox.database.modelAliases(named: "flat").first { $0.alias == "champion" })
    #expect(alias.version == versions.first?.version)
    for trial in full where trial.id != best.id {
      let tag = try sandbox.database.tags(trialId: trial.id!)["hpod.registration"]
      #expect(
        tag
          == "not registered: not on the final Pareto front of the full_training runs; trial \(best.number) is at least as good in every objective and better in one"
      )
    }
  }
}
