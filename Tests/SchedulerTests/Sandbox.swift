import Foundation
import SearchStrategies
import TrackingBridge

@testable import TrialScheduler

/// A throwaway folder with its own hpod home and store, for tests that run real processes
/// against a real SQLite file.
struct Sandbox {
  let root: String
  let home: HpodHome
  let database: AppDatabase

  init() throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    home = HpodHome(path: "\(root)/home")
    database = try AppDatabase.open(at: home.databasePath)
  }

  /// Writes an executable shell script and returns its path.
  @discardableResult
  func script(_ name: String, _ body: String) throws -> String {
    let path = "\(root)/\(name)"
    try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o755)
    return path
  }

  /// A training of 8 steps (score = step), 0.3 s apart, that saves `step-N` in its checkpoint
  /// folder after each and reports it with the step, resuming after $HPOD_CHECKPOINT when it
  /// is given one; `onTerm`, when given, is the shell it runs on SIGTERM.
  func checkpointingTrainer(onTerm: String? = nil) throws -> String {
    try script(
      "steps.sh",
      #"""
      start=1
      if [ -n "$HPOD_CHECKPOINT" ]; then start=$(( $(cat "$HPOD_CHECKPOINT") + 1 )); fi
      echo "resumed=${HPOD_RESUMED:-0} from=${HPOD_CHECKPOINT_STEP:-none}"
      """# + (onTerm.map { "\ntrap '\($0)' TERM" } ?? "")
        + #"""

        step=$start
        while [ $step -le 8 ]; do
          echo "$step" > "$HPOD_CHECKPOINT_DIR/step-$step"
          echo "hpod {\"step\": $step, \"score\": $step, \"checkpoint\": \"step-$step\"}"
          sleep 0.3
          step=$((step + 1))
        done
        """#)
  }

  /// Parses a spec whose relative paths resolve inside the sandbox.
  func spec(_ yaml: String) throws -> StudySpec {
    try StudySpec.parse(yaml: yaml, file: "study.yaml", baseDirectory: root)
  }

  /// Starts (or resumes) the study of `yaml` and runs it to its end; tracked by `tracking`, or
  /// mirrored by `mirror` when the spec names a server (as `TrackingSinks` decides).
  func run(
    _ yaml: String, stopSignal: StopSignal = StopSignal(), executor: (any TrialExecutor)? = nil,
    mirror: MLflowMirror? = nil, tracking: (any TrackingSink)? = nil, wakeup: Wakeup? = nil,
    onEvent: @escaping @Sendable (StudyEvent) -> Void = { _ in }
  ) async throws -> (StudyRecord, [TrialRecord]) {
    let spec = try spec(yaml)
    let study: StudyRecord
    switch try StudySession.start(spec: spec, yaml: yaml, path: nil, database: database, fresh: false) {
    case .new(let record), .resume(let record), .alreadyFinished(let record), .continued(let record, _),
      .replacing(let record, _):
      study = record
    }
    let runner = StudyRunner(
      spec: spec, database: database, home: home, executor: executor, strategy: try spec.makeStrategy(),
      tracking: tracking ?? TrackingSinks(database: database, mirror: mirror, embedded: nil).sink(for: spec),
      wakeup: wakeup, onEvent: onEvent)
    let final = try await runner.run(study, stopSignal: stopSignal)
    return (final, try database.trials(studyId: study.id!))
  }

  func remove() {
    try? FileManager.default.removeItem(atPath: root)
  }
}

/// The part of a study spec that rarely changes in tests.
func studyYAML(
  name: String = "test", command: String, maxTrials: Int = 4, parallelism: Int = 2, extraTrial: String = "",
  extra: String = "", objective: String = "score"
) -> String {
  """
  name: \(name)
  objective: {metric: \(objective), direction: maximize}
  search: {algorithm: random, seed: 3, max_trials: \(maxTrials), parallelism: \(parallelism)}
  parameters:
    x: {type: float, min: 0, max: 1}
    k: {type: int, min: 1, max: 9}
  trial:
    command: \(command)
    stop_grace_period: 2s
  \(extraTrial)
  \(extra)
  """
}
