import Foundation
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
    let (study, trials) = try await sandbox.run(
      studyYAML(command: "[no-such-trainer, \"{x}\"]", maxTrials: 20, parallelism: 1))
    #expect(study.state == .failed)
    #expect(trials.count == 1, "\(trials.count) trials ran")
    let reason = try #require(study.stateReason)
    #expect(reason.contains("trial 0 could not start: command not found: no-such-trainer"), "\(reason)")
    #expect(reason.contains("hpod resume test"), "\(reason)")
  }

  @Test("a script that never reports the objective fails the study after its first 3 trials")
  func wrongMetric() async throws {
    let script = try sandbox.script("wrong.sh", "echo 'hpod {\"accuracy\": 0.9}'")
    let (study, trials) = try await sandbox.run(studyYAML(command: "[\(script)]", maxTrials: 20, parallelism: 1))
    #expect(study.state == .failed)
    #expect(trials.count == 3, "\(trials.count) trials ran")
    let reason = try #require(study.stateReason)
    #expect(reason.contains("the first 3 trials all failed"), "\(reason)")
    #expect(reason.contains("never reported 'score'"), "\(reason)")
  }

  @Test("the same error five times in a row fails the study, even after trials completed")
  func repeatedError() async throws {
    // Given a script that completes twice, then always runs out of memory (at another step each time)
    let counter = "\(sandbox.root)/count"
    let script = try sandbox.script(
      "oom.sh",
      """
      n=$(cat \(counter) 2>/dev/null || echo 0); echo $((n + 1)) > \(counter)
      if [ "$n" -lt 2 ]; then echo 'hpod {"score": 0.5}'; exit 0; fi
      echo "CUDA out of memory at step $((n * 7))" >&2; exit 1
      """)
    let (study, trials) = try await sandbox.run(studyYAML(command: "[\(script)]", maxTrials: 30, parallelism: 1))
    #expect(study.state == .failed)
    #expect(trials.count == 7, "\(trials.count) trials ran")
    let reason = try #require(study.stateReason)
    #expect(reason.contains("the last 5 trials failed the same way"), "\(reason)")
    #expect(reason.contains("CUDA out of memory"), "\(reason)")
  }

  @Test("varied failures among completed trials do not stop the study; fail_fast: false turns the check off")
  func variedFailuresAndOptOut() async throws {
    let script = try sandbox.script("wrong.sh", "echo 'hpod {\"accuracy\": 0.9}'")
    let (study, trials) = try await sandbox.run(
      studyYAML(command: "[\(script)]", maxTrials: 6, parallelism: 2, extraTrial: "  fail_fast: false"))
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
}
