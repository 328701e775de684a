import Foundation
import Testing
import TrackingBridge

@testable import TrialScheduler

/// Successive halving that pauses (`early_stopping: {rule: asha, pause: true}`): a trial cut at
/// a rung waits there, and when the rung's later arrivals put it in the top 1/η it resumes from
/// its checkpoint, as Li et al.'s ASHA promotes, instead of losing to the order trials came in.
@Suite("ASHA that pauses and promotes")
struct PausingSuccessiveHalvingTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  /// Trains epochs 1...9 of configuration `c`, from its checkpoint when it has one, saving one
  /// each epoch before reporting it, and notes every epoch it plays in `played`. c = 0 is good
  /// at once and stays so (0.6); c = 1 a late bloomer (0.1 at epoch 1, 0.7 at 3, 0.95 from 4);
  /// the rest are bad (0.05 less 0.001 c: no ties at a rung's cutoff).
  func trainer() throws -> String {
    try sandbox.script(
      "curves.sh",
      #"""
      c=$1
      start=1
      if [ -n "$HPOD_CHECKPOINT" ]; then start=$(( $(cat "$HPOD_CHECKPOINT") + 1 )); fi
      echo "c=$c from=${HPOD_CHECKPOINT_STEP:-none}"
      e=$start
      while [ $e -le 9 ]; do
        score=$(awk -v c=$c -v e=$e 'BEGIN {
          if (c == 0) s = 0.6; else if (c == 1) { s = 0.1 + 0.3 * (e - 1); if (s > 0.95) s = 0.95 } else s = 0.05 - 0.001 * c
          printf "%.3f", s }')
        echo "$e" > "$HPOD_CHECKPOINT_DIR/epoch-$e"
        echo "$c $e" >> "$(dirname "$0")/played-$2"
        echo "hpod {\"step\": $e, \"score\": $score, \"checkpoint\": \"epoch-$e\"}"
        sleep 0.15
        e=$((e + 1))
      done
      """#)
  }

  func yaml(_ name: String, pause: Bool) throws -> String {
    """
    name: \(name)
    objective: {metric: score, direction: maximize}
    search: {algorithm: grid, parallelism: 1}
    parameters: {c: {type: int, min: 0, max: 8, values: [0, 1, 2, 3, 4, 5, 6, 7, 8]}}
    trial: {command: [\(try trainer()), "{c}", \(name)], stop_grace_period: 1s}
    early_stopping: {rule: asha, min_resource: 1, max_resource: 9, reduction_factor: 3, pause: \(pause)}
    """
  }

  func played(_ name: String) throws -> [String] {
    try String(contentsOfFile: "\(sandbox.root)/played-\(name)", encoding: .utf8).split(separator: "\n").map(
      String.init)
  }

  @Test(
    "a late bloomer cut at the first rung is promoted once later trials rank below it, resumes from its checkpoint and wins",
    .timeLimit(.minutes(2)))
  func lateBloomerIsPromoted() async throws {
    // Given trials that arrive one at a time: a good one, a late bloomer, then seven bad ones
    let (study, trials) = try await sandbox.run(try yaml("paused", pause: true))
    #expect(study.state == .completed, "\(study.stateReason ?? "")")

    // Then the late bloomer was paused at rung 1 (behind the good one, 1 of 2 go on) and, once
    // six trials had reached rung 1 (2 of 6 go on), resumed before any new configuration
    let bloomer = trials.filter { $0.paramsJSON.contains("\"c\":1") }.sorted { $0.number < $1.number }
    try #require(bloomer.count == 2, "\(trials.map { ($0.number, $0.paramsJSON, $0.state) })")
    #expect(bloomer[0].state == .pruned)
    #expect(bloomer[0].reason?.hasPrefix("paused by the asha rule at step 1") == true, "\(bloomer[0].reason ?? "")")
    #expect(try sandbox.database.tags(trialId: bloomer[0].id!)[HpodTag.pausedAtRung] == "1")
    #expect(bloomer[1].retryOf == bloomer[0].id)
    #expect(bloomer[1].number == 6, "resumed once c = 0...5 had reached rung 1, before c = 6 started")
    let log = try String(contentsOfFile: "\(bloomer[1].runDirectory!)/stdout.log", encoding: .utf8)
    #expect(log.contains("c=1 from=1"), "\(log)")

    // And it ran to the end and is the study's best, as without early stopping
    #expect(bloomer[1].state == .completed)
    #expect(bloomer[1].value == 0.95)
    #expect(trials.compactMap(\.value).max() == 0.95)
    // with its history whole: every epoch once
    #expect(try sandbox.database.metrics(trialId: bloomer[1].id!, name: "score").map(\.step) == Array(1...9))

    // And of the bad ones only the best (c = 2) was promoted, when all nine had reached rung 1
    // (3 of 9 go on), and paused again at rung 3; 27 epochs of the 81 without early stopping
    let bad = trials.filter { trial in !["\"c\":0", "\"c\":1"].contains(where: trial.paramsJSON.contains) }
    #expect(bad.count == 8)
    #expect(bad.allSatisfy { $0.state == .pruned })
    #expect(bad.filter { $0.retryOf != nil }.map(\.paramsJSON) == [#"{"c":2}"#])
    #expect(try played("paused").count == 27)
    // and, the study done, the folders of the trials left paused are freed
    let kept = trials.map(\.number).filter { number in
      FileManager.default.fileExists(
        atPath: "\(sandbox.home.runDirectory(studyId: study.id!, trialNumber: number))/checkpoint")
    }
    #expect(kept == [0, 1], "the folders of the completed trials' configurations only")
  }

  @Test("without pause the same late bloomer is stopped for good at rung 1", .timeLimit(.minutes(2)))
  func withoutPauseItIsLost() async throws {
    let (study, trials) = try await sandbox.run(try yaml("stopped", pause: false))
    #expect(study.state == .completed, "\(study.stateReason ?? "")")
    #expect(trials.count == 9)
    #expect(trials.compactMap(\.value).max() == 0.6)
    #expect(try played("stopped").count == 17)
  }

  @Test("pause is refused with several objectives, saying where")
  func pauseNeedsOneObjective() throws {
    let yaml = try yaml("two", pause: true).replacingOccurrences(
      of: "objective: {metric: score, direction: maximize}",
      with: "objectives: [{metric: score, direction: maximize}, {metric: cost, direction: minimize}]")
    do {
      _ = try StudySpec.parse(yaml: yaml, file: "study.yaml", baseDirectory: sandbox.root)
      Issue.record("accepted")
    } catch {
      #expect(error.issues.map(\.path) == ["early_stopping.pause"], "\(error)")
      #expect(error.description.contains("pausing needs one objective"))
    }
  }
}
