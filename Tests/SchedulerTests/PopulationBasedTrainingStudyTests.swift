import Foundation
import Testing
import TrackingBridge

@testable import TrialScheduler

/// Population-based training run by hpod with real processes: members that fall to the bottom
/// are replaced by copies of better members' checkpoints, with explored parameters, and every
/// lineage trains to the end once.
@Suite("Population-based training")
struct PopulationBasedTrainingStudyTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  /// The toy problem of the PBT paper (Jaderberg et al. 2017): θ = (0.9, 0.9) climbs the
  /// surrogate 1.2 − (h0 θ0² + h1 θ1²) by gradient steps; the score is the true objective
  /// 1.2 − (θ0² + θ1²). θ and the step are the checkpoint, saved before each report. A member
  /// ends as soon as it reports its last step, so it is never ranked as a donor with nothing left to train.
  /// `stopDelay`: seconds a stopped member takes to end (a training that finishes its step).
  func toy(stopDelay: Double = 0) throws -> String {
    try sandbox.script(
      "toy.sh",
      #"""
      h0=$1 h1=$2
      """# + (stopDelay > 0 ? "\ntrap 'sleep \(stopDelay); exit 0' TERM\n" : "\n")
        + #"""
        state="0 0.9 0.9"
        if [ -n "$HPOD_CHECKPOINT" ]; then state=$(cat "$HPOD_CHECKPOINT"); fi
        echo "h=$h0,$h1 from=${HPOD_CHECKPOINT_STEP:-none} state=$state"
        set -- $state
        step=$1 t0=$2 t1=$3
        while [ $step -lt 16 ]; do
          sleep 0.05
          step=$((step + 1))
          set -- $(awk -v a=$t0 -v b=$t1 -v h0=$h0 -v h1=$h1 'BEGIN {
            a -= 0.2 * h0 * a; b -= 0.2 * h1 * b; printf "%.6f %.6f %.6f", a, b, 1.2 - (a * a + b * b) }')
          t0=$1 t1=$2
          echo "$step $t0 $t1" > "$HPOD_CHECKPOINT_DIR/theta-$step.tmp"
          mv "$HPOD_CHECKPOINT_DIR/theta-$step.tmp" "$HPOD_CHECKPOINT_DIR/theta-$step"
          echo "hpod {\"step\": $step, \"score\": $3, \"checkpoint\": \"theta-$step\"}"
        done
        """#)
  }

  @Test(
    "bottom members continue a top member's checkpoint with perturbed parameters; each lineage ends once, its history whole",
    .timeLimit(.minutes(2)))
  func membersCopyAndExplore() async throws {
    let (study, trials) = try await sandbox.run(
      """
      name: pbt
      objective: {metric: score, direction: maximize}
      search: {algorithm: pbt, seed: 7, population: 4, parallelism: 2, perturbation_interval: 4, resample_probability: 0}
      parameters:
        h0: {type: float, min: 0, max: 1}
        h1: {type: float, min: 0, max: 1}
      trial: {command: [\(try toy()), "{h0}", "{h1}"], stop_grace_period: 1s}
      checkpoint: {keep: 1}
      """)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    let completed = trials.filter { $0.state == .completed }
    let replaced = trials.filter { $0.state == .pruned }
    let replacements = try trials.filter { try sandbox.database.tags(trialId: $0.id!)[HpodTag.pbtDonor] != nil }

    // Then four lineages trained to the end, and some members were replaced along the way
    #expect(completed.count == 4, "\(trials.map { ($0.number, $0.state, $0.reason ?? "") })")
    #expect(!replaced.isEmpty)
    #expect(replacements.count == replaced.count, "every replaced member has its replacement")
    #expect(trials.count - replacements.count == 4, "the whole population was drawn: replacements use none of it")
    for member in replaced {
      #expect(
        member.reason?.hasPrefix("replaced by population-based training at step") == true, "\(member.reason ?? "")")
      #expect(try sandbox.database.tags(trialId: member.id!)[HpodTag.pbtReplacedBy] != nil)
    }

    for child in replacements {
      let tags = try sandbox.database.tags(trialId: child.id!)
      let donorNumber = try #require(tags[HpodTag.pbtDonor].flatMap { Int($0) })
      let donor = try #require(trials.first { $0.number == donorNumber })
      #expect(
        tags[HpodTag.pbtParent].flatMap { Int($0) }.map { parent in replaced.contains { $0.number == parent } } == true)
      // its parameters are the donor's, each × 0.8 or × 1.2 (kept inside [0, 1])
      let params = try JSONDecoder().decode([String: Double].self, from: Data(child.paramsJSON.utf8))
      let donorParams = try JSONDecoder().decode([String: Double].self, from: Data(donor.paramsJSON.utf8))
      for name in ["h0", "h1"] {
        let ratio = params[name]! / donorParams[name]!
        #expect(
          abs(ratio - 0.8) < 1e-9 || abs(ratio - 1.2) < 1e-9 || params[name] == 1,
          "\(name): \(params) of \(donorParams)")
      }
      // it started from the donor's checkpoint, and its history is the donor's up to there, then its own
      let log = try String(contentsOfFile: "\(child.runDirectory!)/stdout.log", encoding: .utf8)
      let from = try #require(
        log.split(separator: "\n").first?.split(separator: " ").first { $0.hasPrefix("from=") }.map {
          Int($0.dropFirst(5))
        }
          ?? nil,
        "\(log)")
      #expect(from >= 1, "the donor's last checkpoint when it was copied")
      // (A donor ranked between reporting its last step and exiting is a fair pick, so `from`
      // may be 16: that it is the checkpoint the exploit picked is what the tags say below, and
      // the next test makes the donor end before the copy starts.)
      #expect(
        tags[HpodTag.pbtCheckpoint] == "theta-\(from)" && tags[HpodTag.pbtCheckpointStep] == String(from),
        "trial \(child.number): \(tags) \(log)")
      let steps = try sandbox.database.metrics(trialId: child.id!, name: "score").map(\.step)
      #expect(steps.first == 1 && Set(steps).count == steps.count, "no step twice: \(steps)")
      if child.state == .completed { #expect(steps == Array(1...16)) }
    }
  }

  @Test(
    "a replacement continues the checkpoint its exploit picked, though the donor trained on and ended before it started",
    .timeLimit(.minutes(2)))
  func replacementContinuesThePickedCheckpoint() async throws {
    // A stopped member takes 1.5 s to end; meanwhile its donor trains its last steps (0.05 s
    // each) and ends, keeping only its last checkpoint.
    let (study, trials) = try await sandbox.run(
      """
      name: pbt-race
      objective: {metric: score, direction: maximize}
      search: {algorithm: pbt, seed: 3, population: 2, parallelism: 2, perturbation_interval: 4, resample_probability: 0}
      parameters:
        h0: {type: float, min: 0, max: 1}
        h1: {type: float, min: 0, max: 1}
      trial: {command: [\(try toy(stopDelay: 1.5)), "{h0}", "{h1}"], stop_grace_period: 5s}
      checkpoint: {keep: 1}
      """)
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    let replacements = try trials.filter { try sandbox.database.tags(trialId: $0.id!)[HpodTag.pbtDonor] != nil }
    #expect(!replacements.isEmpty, "\(trials.map { ($0.number, $0.state, $0.reason ?? "") })")
    for child in replacements {
      let tags = try sandbox.database.tags(trialId: child.id!)
      let parent = try #require(trials.first { $0.number == tags[HpodTag.pbtParent].flatMap { Int($0) } })
      let parentTags = try sandbox.database.tags(trialId: parent.id!)
      let log = try String(contentsOfFile: "\(child.runDirectory!)/stdout.log", encoding: .utf8)
      let from = log.split(separator: "\n").first?.split(separator: " ").first { $0.hasPrefix("from=") }
        .flatMap { Int($0.dropFirst(5)) }
      #expect(from.map { $0 < 16 } == true, "the donor's checkpoint when it was picked, not its last: \(log)")
      #expect(tags[HpodTag.pbtCheckpointStep] == from.map(String.init), "\(tags)")
      #expect(from.map { tags[HpodTag.pbtCheckpoint] == "theta-\($0)" } == true)
      #expect(parentTags[HpodTag.pbtReplacementCheckpoint] == tags[HpodTag.pbtCheckpoint], "the replaced one too")
      let steps = try sandbox.database.metrics(trialId: child.id!, name: "score").map(\.step)
      if child.state == .completed { #expect(steps == Array(1...16), "\(steps)") }
    }
  }

  @Test(
    "a study stopped after a member was replaced, before its replacement started, resumes with its whole population",
    .timeLimit(.minutes(2)))
  func resumedStudyKeepsItsPopulation() async throws {
    let yaml = """
      name: pbt-resume
      objective: {metric: score, direction: maximize}
      search: {algorithm: pbt, seed: 7, population: 4, parallelism: 2, perturbation_interval: 4, resample_probability: 0}
      parameters:
        h0: {type: float, min: 0, max: 1}
        h1: {type: float, min: 0, max: 1}
      trial: {command: [\(try toy()), "{h0}", "{h1}"], stop_grace_period: 1s}
      checkpoint: {keep: 1}
      """
    // Given a study stopped the moment its first member is replaced
    let stop = StopSignal()
    let (stopped, before) = try await sandbox.run(yaml, stopSignal: stop) { event in
      if case .trialFinished(let trial) = event,
        trial.reason?.hasPrefix("replaced by population-based training") == true
      {
        stop.stop(reason: "test interruption")
      }
    }
    #expect(stopped.state == .interrupted, "\(stopped.stateReason ?? "")")
    let replacedBefore = try before.filter { try sandbox.database.tags(trialId: $0.id!)[HpodTag.pbtReplacedBy] != nil }
    let madeBefore = try before.filter { try sandbox.database.tags(trialId: $0.id!)[HpodTag.pbtDonor] != nil }
    try #require(replacedBefore.count > madeBefore.count, "a replacement was pending when the study stopped")

    // When it runs again
    let (study, trials) = try await sandbox.run(yaml)

    // Then the pending replacement was made, from the checkpoint picked before the stop, and
    // the four lineages trained to the end
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    let replaced = try trials.filter { try sandbox.database.tags(trialId: $0.id!)[HpodTag.pbtReplacedBy] != nil }
    var parents: [Int] = []
    for child in trials {
      let tags = try sandbox.database.tags(trialId: child.id!)
      guard let parent = tags[HpodTag.pbtParent].flatMap({ Int($0) }) else { continue }
      parents.append(parent)
      let parentTags = try sandbox.database.tags(trialId: try #require(trials.first { $0.number == parent }).id!)
      #expect(tags[HpodTag.pbtCheckpoint] == parentTags[HpodTag.pbtReplacementCheckpoint])
      let attempts = trials.filter { $0.id == child.id || $0.retryOf == child.id }
      let log = try String(contentsOfFile: "\(attempts.last!.runDirectory!)/stdout.log", encoding: .utf8)
      #expect(
        tags[HpodTag.pbtCheckpointStep].map { log.contains("from=\($0) ") } == true || attempts.count > 1, "\(log)")
    }
    #expect(parents.sorted() == replaced.map(\.number).sorted(), "each replaced member has one replacement")
    let lineageEnds = trials.filter { $0.state == .completed }
    #expect(lineageEnds.count == 4, "\(trials.map { ($0.number, $0.state, $0.reason ?? "") })")
  }

  @Test("the spec says what population-based training needs and cannot go with")
  func specChecked() throws {
    func issues(_ yaml: String) -> [String] {
      do {
        _ = try StudySpec.parse(yaml: yaml, file: "study.yaml", baseDirectory: sandbox.root)
        return []
      } catch { return error.issues.map(\.description) }
    }
    let base = """
      name: pbt
      objective: {metric: score, direction: maximize}
      parameters: {x: {type: float, min: 0, max: 1}}
      trial: {command: [echo]}
      """
    #expect(issues(base + "\nsearch: {algorithm: pbt, population: 4, perturbation_interval: 2}").isEmpty)
    #expect(
      issues(base + "\nsearch: {algorithm: pbt, population: 4}").contains {
        $0.contains("missing required key 'perturbation_interval'")
      })
    #expect(
      issues(base + "\nsearch: {algorithm: random, max_trials: 4, population: 4}").contains {
        $0.contains("search.population: population applies to population-based training only")
      })
    #expect(
      issues(base + "\nsearch: {algorithm: pbt, perturbation_interval: 2, quantile_fraction: 0.7}").contains {
        $0.contains("search.quantile_fraction: expected a number above 0, at most 0.5, found 0.7")
      })
    #expect(
      issues(base + "\nsearch: {algorithm: pbt, perturbation_interval: 2, max_trials: 9}").contains {
        $0.contains("set search.population instead of max_trials")
      })
    #expect(
      issues(base + "\nsearch: {algorithm: pbt, perturbation_interval: 2}\nearly_stopping: {rule: median}").contains {
        $0.contains("population-based training stops no trial early")
      })
    let spec = try sandbox.spec(base + "\nsearch: {algorithm: pbt, perturbation_interval: 2}")
    #expect(spec.search.parallelism == 8 && spec.search.maxTrials == 8, "the population trains at once")
  }
}
