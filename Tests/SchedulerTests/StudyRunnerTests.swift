import Foundation
import SearchStrategies
import Testing
import TrackingBridge

@testable import TrialScheduler

@Suite("Study runner")
struct StudyRunnerTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  @Test("trials get their placeholders and the protocol's environment, and their metrics are stored")
  func runsTrialsWithProtocolEnvironment() async throws {
    // Given a trial that reports its inputs as metrics and writes an artifact
    let script = try sandbox.script(
      "trial.sh",
      #"""
      echo "hpod {\"step\": 0, \"score\": $1, \"k\": $2, \"epochs\": $HPOD_TIER_EPOCHS}"
      test "$HPOD_TIER" = quick_test || exit 7
      test -f "$HPOD_PARAMS_FILE" || exit 8
      echo "$HPOD_PARAMS" > "$HPOD_ARTIFACT_DIR/params-copy.json"
      echo "hpod {\"final\": true, \"score\": $1}"
      """#)
    let yaml = studyYAML(
      command: "[\(script), \"{x}\", \"{k}\", \"--epochs={tier.epochs}\"]", maxTrials: 3,
      extra: "tiers:\n  quick_test: {epochs: 2}")
    // When the study runs
    let (study, trials) = try await sandbox.run(yaml)
    // Then every trial completed with its x as its value, its metrics and artifact in place
    #expect(study.state == .completed)
    #expect(trials.count == 3)
    for trial in trials {
      #expect(trial.state == .completed, "\(trial.reason ?? "")")
      let params = try sandbox.database.params(trialId: trial.id!)
      let x = params.first { $0.name == "x" }!.numericValue!
      #expect(abs(trial.value! - x) < 1e-9)
      let points = try sandbox.database.metrics(trialId: trial.id!)
      #expect(points.filter { $0.name == "epochs" }.map(\.value) == [2])
      #expect(points.filter { $0.name == "score" }.count == 2)
      #expect(FileManager.default.fileExists(atPath: "\(trial.runDirectory!)/artifacts/params-copy.json"))
    }
  }

  @Test("a hung trial is stopped at its timeout and the study goes on")
  func timesOutHungTrials() async throws {
    let script = try sandbox.script("hang.sh", #"echo 'hpod {"score": 0.1}'; exec sleep 30"#)
    let started = Date()
    let (study, trials) = try await sandbox.run(
      studyYAML(command: "[\(script)]", maxTrials: 2, extraTrial: "  timeout: 1s"))
    // The trials would sleep 30 s; alone this takes about 1 s. The bound is loose because the
    // whole suite shares 2 cores with CPU-bound GP tests that delay the timeout's timer task.
    #expect(Date().timeIntervalSince(started) < 20)
    #expect(study.state == .completed)
    #expect(trials.map(\.state) == [.timedOut, .timedOut])
    #expect(trials.allSatisfy { $0.reason == "stopped after the trial timeout of 1.0s" })
  }

  @Test("a crashed trial is retried with the same configuration, without using budget")
  func retriesCrashes() async throws {
    // Given a trial that crashes on its first attempt per configuration
    let marks = "\(sandbox.root)/marks"
    try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
    let script = try sandbox.script(
      "flaky.sh",
      #"""
      m="\#(marks)/$1"
      if [ ! -f "$m" ]; then touch "$m"; echo "boom" >&2; exit 3; fi
      echo "hpod {\"score\": $1}"
      """#)
    let (study, trials) = try await sandbox.run(
      studyYAML(command: "[\(script), \"{x}\"]", maxTrials: 3, extraTrial: "  retries: 1"))
    // Then 3 configurations ran twice each: a crash, then a success
    #expect(study.state == .completed)
    #expect(trials.count == 6)
    let failed = trials.filter { $0.state == .failed }
    #expect(failed.count == 3)
    #expect(failed.allSatisfy { $0.exitCode == 3 && $0.reason == "exited with status 3; last stderr line: boom" })
    let retries = trials.filter { $0.retryOf != nil }
    #expect(retries.count == 3 && retries.allSatisfy { $0.state == .completed })
    for retry in retries {
      #expect(trials.first { $0.id == retry.retryOf }!.paramsJSON == retry.paramsJSON)
    }
  }

  @Test("the study fails once more than max_failed_trials trials failed for good")
  func failsAfterTooManyFailures() async throws {
    let script = try sandbox.script("fail.sh", "exit 1")
    let (study, trials) = try await sandbox.run(
      studyYAML(command: "[\(script)]", maxTrials: 20, parallelism: 1, extraTrial: "  max_failed_trials: 2"))
    #expect(study.state == .failed)
    #expect(study.stateReason?.contains("more than 2 trials failed") == true)
    #expect(trials.count == 3)
  }

  @Test("garbage output and a missing objective fail the trial with the reason, the study goes on")
  func recordsGarbage() async throws {
    let script = try sandbox.script(
      "garbage.sh", #"printf 'hpod {not json\n\001\002\377 binary\nhpod [1]\n'; echo 'hpod {"other": 1}'"#)
    let (study, trials) = try await sandbox.run(studyYAML(command: "[\(script)]", maxTrials: 2))
    #expect(study.state == .completed)
    #expect(trials.allSatisfy { $0.state == .failed && $0.malformedLines == 2 })
    #expect(trials[0].reason?.hasPrefix("exited 0 but never reported 'score'") == true)
    #expect(try sandbox.database.metrics(trialId: trials[0].id!).map(\.name) == ["other"])
  }

  @Test("an interrupted study resumes: no finished trial runs twice, no metric point is lost, same configurations")
  func resumesAfterInterruption() async throws {
    // Given a study whose trials report 3 steps over ~0.6 s
    let script = try sandbox.script(
      "slow.sh",
      #"for s in 1 2 3; do echo "hpod {\"step\": $s, \"score\": $1}"; sleep 0.2; done"#)
    let yaml = studyYAML(name: "resumable", command: "[\(script), \"{x}\"]", maxTrials: 6, parallelism: 2)
    // When it is stopped as its third trial starts (so one trial has finished and one runs)
    let stop = StopSignal()
    let (first, trialsBefore) = try await sandbox.run(yaml, stopSignal: stop) { event in
      if case .trialStarted(let trial) = event, trial.number == 2 { stop.stop(reason: "test interruption") }
    }
    #expect(first.state == .interrupted)
    let completedBefore = trialsBefore.filter { $0.state == .completed }
    let pointsBefore = try trialsBefore.flatMap { try sandbox.database.metrics(trialId: $0.id!) }
    #expect(completedBefore.count >= 1)
    #expect(trialsBefore.contains { $0.state == .cancelled && $0.reason == "test interruption" })

    // And it is run again
    let (second, trialsAfter) = try await sandbox.run(yaml)

    // Then it completes with each configuration completed exactly once
    #expect(second.state == .completed)
    let completed = trialsAfter.filter { $0.state == .completed }
    #expect(completed.count == 6)
    #expect(Set(completed.map(\.paramsJSON)).count == 6)
    // finished trials were not touched, and every point stored before is still there
    for trial in completedBefore { #expect(trialsAfter.first { $0.id == trial.id } == trial) }
    let pointsAfter = try trialsAfter.flatMap { try sandbox.database.metrics(trialId: $0.id!) }
    #expect(Set(pointsBefore).isSubset(of: Set(pointsAfter)))
    #expect(completed.allSatisfy { trial in pointsAfter.filter { $0.trialId == trial.id }.count == 3 })

    // And the configurations are the ones an uninterrupted run with the same seed tries
    let (_, uninterrupted) = try await sandbox.run(
      yaml.replacingOccurrences(of: "name: resumable", with: "name: straight"))
    #expect(Set(uninterrupted.map(\.paramsJSON)) == Set(completed.map(\.paramsJSON)))
  }

  @Test("trials left running by a dead hpod are killed and run again on resume")
  func recoversTrialsOfADeadProcess() async throws {
    // Given a study row whose trial was 'running' under a process that is still alive
    let yaml = studyYAML(
      name: "orphaned", command: "[\(try sandbox.script("ok.sh", #"echo "hpod {\"score\": 1}""#))]", maxTrials: 1)
    let spec = try sandbox.spec(yaml)
    guard
      case .new(let study) = try StudySession.start(
        spec: spec, yaml: yaml, path: nil, database: sandbox.database, fresh: false)
    else { Issue.record("expected a new study"); return }
    let leftover = try LocalProcessExecutor().start(
      TrialLaunch(
        argv: ["sleep", "1000"], workdir: sandbox.root, environment: [:],
        workspace: TrialWorkspace(directory: sandbox.root)))
    let trial = try sandbox.database.createTrial(
      studyId: study.id!, tier: .quickTest, params: [], paramsJSON: #"{"k":1,"x":0.5}"#)
    try sandbox.database.startTrial(trial, handle: leftover.handle.json, runDirectory: sandbox.root)

    // When the study is resumed
    let (final, trials) = try await sandbox.run(yaml)

    // Then the leftover process was killed, its trial cancelled and its configuration re-run
    #expect(await leftover.exit() == .signalled(signal: 9))
    #expect(final.state == .completed)
    #expect(trials.map(\.state) == [.cancelled, .completed])
    #expect(trials[1].retryOf == trials[0].id && trials[1].paramsJSON == trials[0].paramsJSON)
  }

  @Test(
    "a changed spec under the same name is never silently mixed in: the same space continues, saying what changed; another space is refused"
  )
  func changedSpecContinuesOrIsRefused() throws {
    let yaml = studyYAML(command: "[true]")
    guard
      case .new(let study) = try StudySession.start(
        spec: try sandbox.spec(yaml), yaml: yaml, path: nil, database: sandbox.database, fresh: false)
    else { throw CancellationError() }
    // A changed seed and budget: the same study goes on, with the changes named
    let edited = yaml.replacingOccurrences(of: "seed: 3, max_trials: 4", with: "seed: 4, max_trials: 6")
    guard
      case .continued(let continued, let changes) = try StudySession.start(
        spec: try sandbox.spec(edited), yaml: edited, path: nil, database: sandbox.database, fresh: false)
    else {
      Issue.record("the edited spec did not continue the study")
      return
    }
    #expect(continued.id == study.id)
    #expect(changes.map(\.description) == ["search.seed: 3 → 4", "search.max_trials: 4 → 6"])
    // A changed range: refused, with the difference
    let changed = edited.replacingOccurrences(
      of: "k: {type: int, min: 1, max: 9}", with: "k: {type: int, min: 1, max: 20}")
    let refusal = #expect(throws: StudySession.Conflict.self) {
      _ = try StudySession.start(
        spec: try sandbox.spec(changed), yaml: changed, path: nil, database: sandbox.database, fresh: false)
    }
    #expect(refusal?.description.contains("parameters.k.max: 9 → 20") == true, "\(String(describing: refusal))")
    #expect(try sandbox.database.studies().count == 1)
  }
}

@Suite("Every search algorithm plugs into the runner")
struct StrategyIntegrationTests {
  @Test("grid search runs each configuration once and the study ends when the grid is exhausted")
  func gridEndsWhenExhausted() async throws {
    let sandbox = try Sandbox()
    let script = try sandbox.script("grid.sh", #"echo "hpod {\"score\": $1}""#)
    let yaml = """
      name: grid
      objective: {metric: score, direction: maximize}
      search: {algorithm: grid, parallelism: 3}
      parameters:
        x: {type: float, min: 0, max: 1, values: [0.1, 0.5, 0.9]}
        opt: {values: [a, b]}
      trial: {command: [\(script), "{x}"]}
      """
    let (study, trials) = try await sandbox.run(yaml)
    #expect(study.state == .completed)
    #expect(trials.count == 6)
    #expect(Set(trials.map(\.paramsJSON)).count == 6)
  }

  @Test("an oversized grid is refused before any trial runs, saying its size")
  func refusesOversizedGrid() throws {
    let sandbox = try Sandbox()
    let spec = try sandbox.spec(
      """
      name: huge
      objective: {metric: score, direction: maximize}
      search: {algorithm: grid}
      parameters:
        a: {type: int, min: 1, max: 1000}
        b: {type: int, min: 1, max: 1000}
      trial: {command: ["true"]}
      """)
    #expect {
      _ = try spec.makeStrategy()
    } throws: { error in
      "\(error)".contains("1000000")
    }
  }

  @Test("bayes search finds a good region of a 1-D objective through the runner", .timeLimit(.minutes(1)))
  func bayesThroughRunner() async throws {
    let sandbox = try Sandbox()
    let script = try sandbox.script(
      "quad.sh", #"echo "hpod {\"loss\": $(awk "BEGIN { print ($1 - 0.3) * ($1 - 0.3) }")}""#)
    let yaml = """
      name: bayes
      objective: {metric: loss, direction: minimize}
      search: {algorithm: bayes, seed: 1, max_trials: 14, parallelism: 2, startup_trials: 5}
      parameters:
        x: {type: float, min: 0, max: 1}
      trial: {command: [\(script), "{x}"]}
      """
    let (study, trials) = try await sandbox.run(yaml)
    #expect(study.state == .completed)
    #expect(trials.count == 14)
    #expect(trials.compactMap(\.value).min()! < 1e-3)
  }
}
