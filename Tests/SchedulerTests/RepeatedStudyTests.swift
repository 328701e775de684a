import Foundation
import SearchStrategies
import Significance
import Synchronization
import Testing
import TrackingBridge

@testable import TrialScheduler

@Suite("Repeats over seeds, and promotion that needs evidence, end to end")
struct RepeatedStudyTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  /// A trial whose score is x plus a noise picked by its repeat (the same for every
  /// configuration): `spread` apart at repeats 0 and 2. It checks that {seed} and HPOD_SEED agree.
  func noisyTrial(spread: Double) throws -> String {
    try sandbox.script(
      "noisy.sh",
      #"""
      x=$1; seed=$2
      [ "$seed" = "$HPOD_SEED" ] || { echo "seed $seed is not HPOD_SEED $HPOD_SEED" >&2; exit 3; }
      echo "$HPOD_REPEAT $HPOD_SEED $HPOD_TIER" > "$HPOD_ARTIFACT_DIR/repeat.txt"
      noise=$(awk "BEGIN { print ($HPOD_REPEAT - 1) * \#(spread) / 2 }")
      echo "hpod {\"score\": $(awk "BEGIN { print $x + $noise }")}"
      """#)
  }

  @Test("each configuration runs `repeats` times with its own seed, and counts once against max_trials")
  func repeatsRunWithTheirSeeds() async throws {
    let script = try noisyTrial(spread: 0.02)
    let yaml = """
      name: repeated
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 40, max_trials: 3, parallelism: 2}
      parameters:
        x: {type: float, min: 0, max: 1}
      trial:
        command: [\(script), "{x}", "{seed}"]
      repeats: 3
      """
    let (study, trials) = try await sandbox.run(yaml)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    #expect(trials.count == 9)
    #expect(trials.allSatisfy { $0.state == .completed }, "\(trials.map { $0.reason ?? "" })")

    let configurations = Dictionary(grouping: trials) { $0.configurationId! }
    #expect(configurations.count == 3)
    for (id, members) in configurations {
      // Repeat k of every configuration ran with seed 40 + k, and saw it as HPOD_SEED and {seed}.
      #expect(members.map(\.repeatIndex).sorted() == [0, 1, 2])
      #expect(Set(members.map(\.paramsJSON)).count == 1)
      for member in members {
        #expect(member.seed == 40 + Int64(member.repeatIndex))
        #expect(member.repeatOf == (member.id == id ? nil : id))
        let marker = try String(contentsOfFile: "\(member.runDirectory!)/artifacts/repeat.txt", encoding: .utf8)
        #expect(marker == "\(member.repeatIndex) \(40 + member.repeatIndex) quick_test\n")
      }
      // The configuration's value is the mean of its repeats (x, since the noise cancels), with
      // its spread and count, tagged on every run.
      let summary = try #require(RepeatGroups.summaries(members)[id])
      #expect(summary.count == 3)
      #expect(abs(summary.standardDeviation! - 0.01) < 1e-5)
      let x = try JSONDecoder().decode([String: Double].self, from: Data(members[0].paramsJSON.utf8))["x"]!
      #expect(abs(summary.mean - x) < 1e-5)
      for member in members {
        let tags = try sandbox.database.tags(trialId: member.id!)
        #expect(tags["hpod.value_count"] == "3")
        #expect(Double(tags["hpod.value_mean"] ?? "") == summary.mean)
      }
    }
    // The strategy saw one noisy observation per configuration.
    let context = TrialHistory(trials: trials).searchContext(
      space: try sandbox.spec(yaml).space, direction: .maximize, retries: 0)
    #expect(context.observations.count == 3 && context.pending.isEmpty)
    #expect(context.observations.allSatisfy { $0.samples.count == 3 && $0.state == .completed })
    // And the store's summary ranks configurations by their means.
    let best = try sandbox.database.summary(studyId: study.id!, higherIsBetter: true)
    let means = configurations.mapValues { RepeatGroups.summaries($0).first!.value.mean }
    #expect(best.best?.id == means.max { $0.value < $1.value }?.key)
    #expect(best.bestValue?.count == 3)
  }

  func promotionStudy(script: String, values: String) -> String {
    """
    name: evidence
    objective: {metric: score, direction: maximize}
    search: {algorithm: grid}
    parameters:
      x: {values: [\(values)]}
    trial:
      command: [\(script), "{x}", "{seed}"]
    tiers:
      quick_test: {}
      full_training: {}
    promotion: {top_k: 1, candidates: 3, repeats: 3, significance: 0.05}
    """
  }

  @Test("the candidates are repeated, and the one their repeats show better than the rest is trained in full")
  func significantWinnerIsPromoted() async throws {
    let script = try noisyTrial(spread: 0.02)
    let judged = Judgements()
    let (study, trials) = try await sandbox.run(
      promotionStudy(script: script, values: "0.2, 0.5, 0.9"), onEvent: judged.record)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    let quick = trials.filter { $0.tier == .quickTest }
    let full = trials.filter { $0.tier == .fullTraining }
    // Each quick test ran once in the search, then twice more as a candidate.
    #expect(quick.count == 9)
    #expect(Dictionary(grouping: quick) { $0.configurationId! }.values.allSatisfy { $0.count == 3 })
    let winner = try #require(quick.first { $0.repeatOf == nil && $0.paramsJSON.contains("0.9") })
    #expect(full.count == 1 && full.first?.sourceTrialId == winner.id)
    let reason = try #require(try sandbox.database.tags(trialId: winner.id!)["hpod.promotion"])
    #expect(reason.hasPrefix("promoted: trial \(winner.number) beats trial"), "\(reason)")
    #expect(reason.contains("p = ") || reason.contains("p < 0.001"))
    #expect(judged.all.contains { $0.trial == winner.id && $0.promoted })
  }

  @Test("a best candidate within noise of the next is not trained in full, and says to run more repeats")
  func noiseIsNotPromoted() async throws {
    let script = try noisyTrial(spread: 0.6)
    let judged = Judgements()
    let (study, trials) = try await sandbox.run(
      promotionStudy(script: script, values: "0.5, 0.52, 0.1"), onEvent: judged.record)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    #expect(trials.filter { $0.tier == .fullTraining }.isEmpty)
    let best = try #require(trials.first { $0.repeatOf == nil && $0.paramsJSON.contains("0.52") })
    let reason = try #require(try sandbox.database.tags(trialId: best.id!)["hpod.promotion"])
    #expect(reason.hasPrefix("not promoted: trial \(best.number) is ahead of trial"), "\(reason)")
    #expect(reason.hasSuffix("within noise at significance 0.05: run more repeats"))
    #expect(judged.all.contains { $0.trial == best.id && !$0.promoted })
  }

  @Test("a full training with repeats is registered once, on the mean of its repeats")
  func fullTrainingRepeatsRegisterOnce() async throws {
    let script = try noisyTrial(spread: 0.02)
    let yaml = """
      name: full-repeats
      objective: {metric: score, direction: maximize}
      search: {algorithm: grid}
      parameters:
        x: {values: [0.3, 0.9]}
      trial:
        command: [\(script), "{x}", "{seed}"]
      tiers:
        quick_test: {}
        full_training: {}
      repeats: {full_training: 3}
      promotion: {top_k: 1}
      registration: {model: repeated-model, when: ["score >= 0.5"]}
      """
    let (study, trials) = try await sandbox.run(yaml)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    let full = trials.filter { $0.tier == .fullTraining }
    #expect(trials.filter { $0.tier == .quickTest }.count == 2)
    #expect(full.count == 3 && Set(full.map(\.sourceTrialId)).count == 1)
    #expect(full.map(\.repeatIndex).sorted() == [0, 1, 2])
    let versions = try sandbox.database.modelVersions(named: "repeated-model")
    #expect(versions.count == 1)
    #expect(versions.first.map { abs(($0.value ?? 0) - 0.9) < 1e-5 } == true)
    for run in full {
      #expect(try sandbox.database.tags(trialId: run.id!)["hpod.registration"] == "registered as repeated-model v1")
    }
  }

  @Test("a request for more repeats runs them when the study resumes")
  func requestedRepeatsRun() async throws {
    let script = try noisyTrial(spread: 0.02)
    let yaml = studyYAML(command: "[\(script), \"{x}\", \"{seed}\"]", maxTrials: 2)
    let (study, before) = try await sandbox.run(yaml)
    #expect(before.count == 2)
    let first = before[0]
    try sandbox.database.requestRepeats(
      configurationId: first.id!, repeats: 3, studyId: study.id!, reopenStudy: true)
    let (_, after) = try await sandbox.run(yaml)
    #expect(after.count == 4)
    #expect(after.filter { $0.configurationId == first.id }.map(\.repeatIndex).sorted() == [0, 1, 2])
  }
}

/// The promotion verdicts a study published.
final class Judgements: Sendable {
  struct Verdict: Sendable {
    var trial: Int64
    var promoted: Bool
  }
  private let verdicts = Mutex<[Verdict]>([])

  var all: [Verdict] { verdicts.withLock { $0 } }

  func record(_ event: StudyEvent) {
    if case .promotionJudged(let trial, let promoted, _) = event {
      verdicts.withLock { $0.append(Verdict(trial: trial.id!, promoted: promoted)) }
    }
  }
}
