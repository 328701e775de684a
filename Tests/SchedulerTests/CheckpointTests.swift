import Foundation
import Testing
import TrackingBridge

@testable import TrialScheduler

/// Trials that save checkpoints in their folder and are run again — after a crash, after the
/// study was stopped — continue from the last one, with no step lost or stored twice.
@Suite("Checkpoints")
struct CheckpointTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  /// Trains steps 1...6 (score = step / 10), saving a checkpoint file `step-N` after each and
  /// reporting it; resumes from $HPOD_CHECKPOINT when given one. The first attempt crashes
  /// after step 3 when the file `crash-once` is beside it (and removes it), or waits for a
  /// stop after step 3 when `hang-once` is there.
  func trainer() throws -> String {
    try sandbox.script(
      "trainer.sh",
      #"""
      dir=$(dirname "$0")
      start=1
      if [ -n "$HPOD_CHECKPOINT" ]; then start=$(( $(cat "$HPOD_CHECKPOINT") + 1 )); fi
      echo "resumed=${HPOD_RESUMED:-0} from=${HPOD_CHECKPOINT_STEP:-none} dir=$HPOD_CHECKPOINT_DIR arg=$1"
      step=$start
      while [ $step -le 6 ]; do
        echo "$step" > "$HPOD_CHECKPOINT_DIR/step-$step"
        echo "hpod {\"step\": $step, \"score\": 0.$step}"
        echo "hpod {\"checkpoint\": \"step-$step\"}"
        if [ $step -eq 3 ] && [ -f "$dir/crash-once" ]; then rm "$dir/crash-once"; exit 1; fi
        if [ $step -eq 3 ] && [ -f "$dir/hang-once" ]; then rm "$dir/hang-once"; sleep 30; fi
        step=$((step + 1))
      done
      """#)
  }

  func yaml(_ trainer: String, extra: String = "") -> String {
    """
    name: checkpoints
    objective: {metric: score, direction: maximize}
    search: {algorithm: random, seed: 1, max_trials: 1}
    parameters: {x: {type: float, min: 0, max: 1}}
    trial:
      command: [\(trainer), "{checkpoint_dir}"]
      retries: 1
      stop_grace_period: 1s
    \(extra)
    """
  }

  @Test("a crashed trial's re-run resumes from its last checkpoint: every step stored once, older checkpoints deleted")
  func retryResumes() async throws {
    let trainer = try trainer()
    FileManager.default.createFile(atPath: "\(sandbox.root)/crash-once", contents: nil)
    let (final, trials) = try await sandbox.run(yaml(trainer, extra: "checkpoint: {keep: 2}"))
    #expect(final.state == .completed, "\(final.stateReason ?? "")")

    // Then the re-run is the first attempt's again, and continued its steps
    #expect(trials.count == 2)
    let (first, retry) = (trials[0], trials[1])
    #expect(first.state == .failed && retry.state == .completed && retry.retryOf == first.id)
    let folder = "\(sandbox.home.runDirectory(studyId: final.id!, trialNumber: first.number))/checkpoint"
    let log = try String(contentsOfFile: "\(retry.runDirectory!)/stdout.log", encoding: .utf8)
    #expect(log.contains("resumed=1 from=3 dir=\(folder) arg=\(folder)"), "\(log)")
    let steps = try sandbox.database.metrics(trialId: retry.id!, name: "score").map(\.step)
    #expect(steps == [1, 2, 3, 4, 5, 6], "steps 1-3 carried over, 4-6 reported: \(steps)")
    #expect(retry.value == 0.6)

    // And only the last 2 checkpoints are left, the others recorded as freed
    let left = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    #expect(left == ["step-5", "step-6"])
    let recorded = try sandbox.database.checkpoints(trialIds: [first.id!, retry.id!])
    #expect(recorded.map(\.step) == [1, 2, 3, 4, 5, 6])
    #expect(recorded.filter(\.freed).map(\.name) == ["step-1", "step-2", "step-3", "step-4"])
  }

  @Test("a trial stopped with its study resumes from its checkpoint when the study runs again")
  func stoppedStudyResumes() async throws {
    let trainer = try trainer()
    FileManager.default.createFile(atPath: "\(sandbox.root)/hang-once", contents: nil)
    let yaml = yaml(trainer)
    let stop = StopSignal()
    let (stopped, _) = try await sandbox.run(yaml, stopSignal: stop) { event in
      if case .trialMetrics(_, _, let step, _) = event, step == 3 { stop.stop(reason: "test interruption") }
    }
    #expect(stopped.state == .interrupted)

    let (final, trials) = try await sandbox.run(yaml)
    #expect(final.state == .completed, "\(final.stateReason ?? "")")
    let resumed = try #require(trials.last)
    #expect(resumed.state == .completed && resumed.retryOf == trials.first?.id)
    let log = try String(contentsOfFile: "\(resumed.runDirectory!)/stdout.log", encoding: .utf8)
    #expect(log.contains("resumed=1 from=3"), "\(log)")
    let steps = try sandbox.database.metrics(trialId: resumed.id!, name: "score").map(\.step)
    #expect(steps == [1, 2, 3, 4, 5, 6], "\(steps)")
  }

  @Test("the folder of a trial that failed for good is freed; a completed trial keeps its own")
  func unusedFoldersFreed() async throws {
    let failing = try sandbox.script(
      "failing.sh", #"echo 1 > "$HPOD_CHECKPOINT_DIR/state"; echo 'hpod {"checkpoint": "state"}'; exit 1"#)
    let (failed, trials) = try await sandbox.run(
      yaml(failing).replacingOccurrences(of: "retries: 1", with: "retries: 0")
        .replacingOccurrences(of: "name: checkpoints", with: "name: freed") + "  fail_fast: false\n")
    #expect(failed.state == .completed)
    let gone = "\(sandbox.home.runDirectory(studyId: failed.id!, trialNumber: trials[0].number))/checkpoint"
    #expect(!FileManager.default.fileExists(atPath: gone))
    #expect(try sandbox.database.checkpoints(trialIds: [trials[0].id!]).allSatisfy(\.freed))

    let (kept, keptTrials) = try await sandbox.run(
      yaml(try trainer()).replacingOccurrences(of: "name: checkpoints", with: "name: kept"))
    #expect(kept.state == .completed)
    let folder = "\(sandbox.home.runDirectory(studyId: kept.id!, trialNumber: keptTrials[0].number))/checkpoint"
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).count == 6)
  }

  @Test(
    "checkpoint files named by their step are checkpoints without a report line, once their step's metrics are stored"
  )
  func filesAreCheckpoints() async throws {
    // Given a training that saves epoch-N.ckpt before reporting step N and reports no
    // checkpoint, and whose first attempt crashes after step 3 having saved epoch-4 ahead
    let trainer = try sandbox.script(
      "files.sh",
      #"""
      dir=$(dirname "$0")
      start=1
      if [ -n "$HPOD_CHECKPOINT" ]; then start=$(( $(cat "$HPOD_CHECKPOINT") + 1 )); fi
      echo "resumed=${HPOD_RESUMED:-0} from=${HPOD_CHECKPOINT_STEP:-none}"
      echo "not a checkpoint" > "$HPOD_CHECKPOINT_DIR/notes.txt"
      step=$start
      while [ $step -le 6 ]; do
        echo "$step" > "$HPOD_CHECKPOINT_DIR/epoch-$step.ckpt"
        echo "hpod {\"step\": $step, \"score\": 0.$step}"
        if [ $step -eq 3 ] && [ -f "$dir/crash-once" ]; then
          rm "$dir/crash-once"; echo 4 > "$HPOD_CHECKPOINT_DIR/epoch-4.ckpt"; exit 1
        fi
        step=$((step + 1))
      done
      """#)
    FileManager.default.createFile(atPath: "\(sandbox.root)/crash-once", contents: nil)
    let (final, trials) = try await sandbox.run(yaml(trainer, extra: "checkpoint: {files: \"epoch-{step}.ckpt\"}"))
    #expect(final.state == .completed, "\(final.stateReason ?? "")")

    // Then the re-run resumed from epoch-3, the last file whose step was stored (not epoch-4,
    // saved before its step was reported), and every step is stored once
    let (first, retry) = (trials[0], trials[1])
    let log = try String(contentsOfFile: "\(retry.runDirectory!)/stdout.log", encoding: .utf8)
    #expect(log.contains("resumed=1 from=3"), "\(log)")
    #expect(try sandbox.database.metrics(trialId: retry.id!, name: "score").map(\.step) == [1, 2, 3, 4, 5, 6])
    let recorded = try sandbox.database.checkpoints(trialIds: [first.id!, retry.id!])
    #expect(recorded.filter { $0.trialId == first.id }.map(\.name) == ["epoch-1.ckpt", "epoch-2.ckpt", "epoch-3.ckpt"])
    #expect(recorded.filter { $0.trialId == retry.id }.map(\.step) == [4, 5, 6])
  }

  @Test("checkpoint: in the spec is checked with located errors")
  func specChecked() throws {
    for (extra, message) in [
      ("checkpoint: {keep: 0}", "checkpoint.keep"),
      ("checkpoint: {free: sometimes}", "checkpoint.free: expected one of unused, never, found \"sometimes\""),
      ("checkpoint: {kep: 2}", "checkpoint.kep: unknown key 'kep'; did you mean 'keep'?"),
      ("checkpoint: {files: epoch.pt}", "checkpoint.files: expected a file name with one {step}"),
      ("checkpoint: {files: \"a/{step}\"}", "checkpoint.files: expected a file name with one {step}"),
    ] {
      #expect(throws: SpecValidationError.self, "\(extra)") { try sandbox.spec(yaml("/bin/true", extra: extra)) }
      do { _ = try sandbox.spec(yaml("/bin/true", extra: extra)) } catch let error as SpecValidationError {
        #expect(error.description.contains(message), "\(error)")
      }
    }
  }

  @Test(
    "a promoted full training continues its quick test's checkpoint: it trains only the epochs the quick test did not")
  func promotionContinues() async throws {
    // Given a trainer that trains up to its tier's epochs, from a checkpoint when it has one
    let trainer = try sandbox.script(
      "epochs.sh",
      #"""
      start=1
      if [ -n "$HPOD_CHECKPOINT" ]; then start=$(( $(cat "$HPOD_CHECKPOINT") + 1 )); fi
      echo "tier=$HPOD_TIER from=${HPOD_CHECKPOINT_STEP:-none}"
      epoch=$start
      while [ $epoch -le $1 ]; do
        echo "$epoch" > "$HPOD_CHECKPOINT_DIR/epoch-$epoch"
        echo "hpod {\"step\": $epoch, \"score\": 0.$epoch, \"checkpoint\": \"epoch-$epoch\"}"
        epoch=$((epoch + 1))
      done
      """#)
    let (final, trials) = try await sandbox.run(
      """
      name: continued
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: 1}
      parameters: {x: {type: float, min: 0, max: 1}}
      trial: {command: [\(trainer), "{tier.epochs}"]}
      tiers:
        quick_test: {epochs: 3}
        full_training: {epochs: 8}
      promotion: {top_k: 1, continue_training: true}
      """)
    #expect(final.state == .completed, "\(final.stateReason ?? "")")
    let quick = try #require(trials.first { $0.tier == .quickTest })
    let full = try #require(trials.first { $0.tier == .fullTraining })
    #expect(full.sourceTrialId == quick.id)

    // Then the full training started at epoch 4, from the quick test's epoch-3 checkpoint
    let log = try String(contentsOfFile: "\(full.runDirectory!)/stdout.log", encoding: .utf8)
    #expect(log.contains("tier=full_training from=3"), "\(log)")
    #expect(!log.contains("0.1"), "it did not train epochs 1-3 again: \(log)")
    // And its history is the whole training: the quick test's epochs, then its own
    let steps = try sandbox.database.metrics(trialId: full.id!, name: "score").map(\.step)
    #expect(steps == Array(1...8), "\(steps)")
    #expect(full.value == 0.8)
    // And the quick test's own folder is untouched
    let quickFolder = "\(sandbox.home.runDirectory(studyId: final.id!, trialNumber: quick.number))/checkpoint"
    #expect(try FileManager.default.contentsOfDirectory(atPath: quickFolder).count == 3)
  }

  @Test("continue_training is refused when the tiers differ in more than the training length")
  func continueNeedsTheSameData() throws {
    let yaml = """
      name: refused
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, max_trials: 1}
      parameters: {x: {type: float, min: 0, max: 1}}
      trial: {command: [/bin/true, "{tier.epochs}", "{tier.data_fraction}"]}
      tiers:
        quick_test: {epochs: 3, data_fraction: 0.3}
        full_training: {epochs: 30, data_fraction: 1.0}
      promotion: {top_k: 1, continue_training: true}
      """
    #expect {
      try sandbox.spec(yaml)
    } throws: { error in
      "\(error)".contains(
        "study.yaml:9:42: promotion.continue_training: a full training continues its quick test's checkpoint only when the tiers differ in how long they train; they differ in data_fraction, epochs"
      )
    }
  }
}
