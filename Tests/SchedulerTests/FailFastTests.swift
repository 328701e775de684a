import Foundation
import HPODTesting
import Testing
import TrackingBridge

@testable import TrialScheduler

/// A study whose trials cannot work ends `failed`, with their common reason and what to do,
/// instead of spending its whole budget and reporting `completed`.
@Suite("Fail fast")
struct FailFastTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  @Test("a command that does not exist fails the study at its first trial, saying why")
  func missingCommand() async throws {
    // Given a trainer that was there when the spec was checked, and is gone when trials start
    let script = try sandbox.script("trainer.sh", "echo 'hpod {\"score\": 1}'")
    let yaml = studyYAML(command: "[\(script), \"{x}\"]", maxTrials: 20, parallelism: 1)
    let spec = try sandbox.spec(yaml)
    try FileManager.default.removeItem(atPath: script)
    guard
      case .new(let study) = try StudySession.start(
        spec: spec, yaml: yaml, path: nil, database: sandbox.database, fresh: false)
    else { throw CancellationError() }
    let runner = StudyRunner(
      spec: spec, database: sandbox.database, home: sandbox.home, strategy: try spec.makeStrategy())
    let final = try await runner.run(study)
    #expect(final.state == .failed)
    #expect(try sandbox.database.trials(studyId: study.id!).count == 1)
    let reason = try #require(final.stateReason)
    #expect(reason.contains("trial 0 could not start: command not found: \(script)"), "\(reason)")
    #expect(reason.contains("`hpod run` the spec again (or `hpod resume \(study.id!)` on the daemon)"), "\(reason)")
  }

  @Test("a program that is not there is refused when the spec is read, with what to write instead")
  func missingProgramRefused() throws {
    for (command, message) in [
      ("[no-such-trainer, \"{x}\"]", "trial.command[0]: no-such-trainer is not on PATH"),
      ("[./absent.sh]", "trial.command[0]: ./absent.sh does not exist (relative paths start at the workdir"),
      ("[python3, train.py, \"--x=${x}\"]", "trial.command[2]: ${x} looks like shell syntax"),
    ] {
      do {
        _ = try sandbox.spec(studyYAML(command: command))
        Issue.record("\(command) was accepted")
      } catch let error as SpecValidationError {
        #expect(error.description.contains(message), "\(error)")
      }
    }
    // A script in the workdir written without ./ is pointed at
    try sandbox.script("train.sh", "true")
    do {
      _ = try sandbox.spec(studyYAML(command: "[train.sh]"))
      Issue.record("train.sh was accepted")
    } catch let error as SpecValidationError {
      #expect(error.description.contains("train.sh is not on PATH; it is in the workdir: write ./train.sh"), "\(error)")
    }
  }

  @Test("a script that never reports the objective fails the study after its first 3 trials")
  func wrongMetric() async throws {
    let wrong = ScriptedExecutor { _ in .reporting(["accuracy": 0.9]) }
    let (study, trials) = try await sandbox.run(
      studyYAML(command: "[true]", maxTrials: 20, parallelism: 1), executor: wrong)
    #expect(study.state == .failed)
    #expect(trials.count == 3, "\(trials.count) trials ran")
    let reason = try #require(study.stateReason)
    #expect(reason.contains("the first 3 trials all failed"), "\(reason)")
    #expect(reason.contains("never reported 'score'; it reported 'accuracy'"), "\(reason)")
  }

  @Test("the same error five times in a row fails the study, even after trials completed")
  func repeatedError() async throws {
    // Given trials that complete twice, then always run out of memory (at another step each time)
    let completing = ScriptedExecutor.Script.reporting(["score": 0.5])
    let oom = (2..<30).map { n in
      ScriptedExecutor.Script(lines: [], exit: .exited(code: 1), stderr: "CUDA out of memory at step \(n * 7)")
    }
    let (study, trials) = try await sandbox.run(
      studyYAML(command: "[true]", maxTrials: 30, parallelism: 1),
      executor: ScriptedExecutor([completing, completing] + oom))
    #expect(study.state == .failed)
    #expect(trials.count == 7, "\(trials.count) trials ran")
    let reason = try #require(study.stateReason)
    #expect(reason.contains("the last 5 trials failed the same way"), "\(reason)")
    #expect(reason.contains("CUDA out of memory"), "\(reason)")
  }

  @Test("varied failures among completed trials do not stop the study; fail_fast: false turns the check off")
  func variedFailuresAndOptOut() async throws {
    let wrong = ScriptedExecutor { _ in .reporting(["accuracy": 0.9]) }
    let (study, trials) = try await sandbox.run(
      studyYAML(command: "[true]", maxTrials: 6, parallelism: 2, extraTrial: "  fail_fast: false"), executor: wrong)
    #expect(study.state == .completed)
    #expect(trials.count == 6)
  }

  @Test("trials that need a GPU this hpod does not have fail the study at once, saying so")
  func noGPU() async throws {
    let script = try sandbox.script("gpu.sh", "echo 'hpod {\"score\": 1}'")
    let yaml = studyYAML(command: "[\(script)]", maxTrials: 10, parallelism: 1, extra: "resources: {gpus: 1}")
    let spec = try sandbox.spec(yaml)
    guard
      case .new(let study) = try StudySession.start(
        spec: spec, yaml: yaml, path: nil, database: sandbox.database, fresh: false)
    else { throw CancellationError() }
    let runner = StudyRunner(
      spec: spec, database: sandbox.database, home: sandbox.home, executor: LocalProcessExecutor(),
      strategy: try spec.makeStrategy(), resources: ResourcePool(gpus: [], cpus: 2))
    let final = try await runner.run(study)
    #expect(final.state == .failed)
    #expect(try sandbox.database.trials(studyId: study.id!).count == 1)
    #expect(final.stateReason?.contains("needs 1 GPU and this hpod has 0") == true, "\(final.stateReason ?? "")")
  }

  @Test("reasons that differ only in numbers have one shape")
  func shapes() {
    #expect(FailFast.shape(of: "exited 1 at step 17") == FailFast.shape(of: "exited 1 at step 230"))
    #expect(FailFast.shape(of: "exited 1") != FailFast.shape(of: "killed by signal 9 (SIGKILL)"))
  }

  @Test(
    "a study that failed fast goes on when run again once its cause is fixed: its old failures are not judged again")
  func resumedAfterTheFix() async throws {
    // Given a study whose first 3 trials failed the same way
    let script = try sandbox.script("fixable.sh", "echo 'hpod {\"accuracy\": 1}'")
    let yaml = studyYAML(command: "[\(script), \"{x}\"]", maxTrials: 5, parallelism: 1)
    let (failed, _) = try await sandbox.run(yaml)
    #expect(failed.state == .failed)

    // When the script is fixed and the same spec runs again
    try sandbox.script("fixable.sh", "echo \"hpod {\\\"score\\\": $1}\"")
    let start = try StudySession.start(
      spec: sandbox.spec(yaml), yaml: yaml, path: nil, database: sandbox.database, fresh: false)
    guard case .resume(let resumed) = start else {
      Issue.record("the failed study was not resumed: \(start)")
      return
    }
    #expect(resumed.id == failed.id)
    let (final, trials) = try await sandbox.run(yaml)

    // Then it completes its budget (the failed trials count in it, as Optuna counts them),
    // keeping the failed trials
    #expect(final.state == .completed, "\(final.stateReason ?? "")")
    #expect(trials.filter { $0.state == .completed }.count == 2)
    #expect(trials.filter { $0.state == .failed }.count == 3)
  }
}
