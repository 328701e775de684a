import Foundation
import HPODTesting
import Testing
import TrackingBridge

@testable import TrialScheduler

/// How the runner records each way an executor says a trial ended.
@Suite("Executor exits in the runner")
struct ExecutorExitTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  func run(_ scripts: [ScriptedExecutor.Script], maxTrials: Int = 1, retries: Int = 0) async throws -> (
    StudyRecord, [TrialRecord], ScriptedExecutor
  ) {
    let executor = ScriptedExecutor(scripts)
    let yaml = studyYAML(
      command: "[true]", maxTrials: maxTrials, parallelism: 1, extraTrial: "  retries: \(retries)")
    let (study, trials) = try await sandbox.run(yaml, executor: executor)
    return (study, trials, executor)
  }

  let good = ScriptedExecutor.Script(lines: [#"{"score": 0.5}"#], exit: .exited(code: 0))

  @Test("a node failure or preemption re-runs the trial without counting against its retries")
  func interruptedIsRerunFree() async throws {
    let (study, trials, executor) = try await run(
      [.init(lines: [], exit: .interrupted("node n1 failed under Slurm job 4 (Slurm: NODE_FAIL)")), good],
      retries: 0)
    #expect(study.state == .completed)
    #expect(trials.map(\.state) == [.cancelled, .completed])
    #expect(trials[0].reason?.contains("NODE_FAIL") == true)
    #expect(trials[0].reason?.contains("without counting against its retries") == true)
    #expect(trials[1].retryOf == trials[0].id)
    #expect(executor.launches == 2)
  }

  @Test("a job cancelled outside hpod, or lost, fails for good with why; nothing runs again")
  func cancelledOutsideAndLostFail() async throws {
    let (_, trials, executor) = try await run(
      [
        .init(lines: [], exit: .cancelled("Slurm job 5 was cancelled in Slurm (scancel)")),
        .init(lines: [], exit: .lost("Slurm job 6 is gone and Slurm kept no record of how it ended")),
      ], maxTrials: 2, retries: 3)
    #expect(trials.map(\.state) == [.failed, .failed])
    #expect(trials[0].reason == "Slurm job 5 was cancelled in Slurm (scancel) outside hpod; it is not run again")
    #expect(trials[1].reason?.hasPrefix("Slurm job 6 is gone") == true)
    #expect(executor.launches == 2, "retries are for crashes, not for trials ended on purpose or lost")
  }

  @Test("the executor's own time limit is a timed-out trial that keeps its last value; out of memory is failed")
  func executorLimits() async throws {
    let (_, trials, _) = try await run(
      [
        .init(lines: [#"{"score": 0.25}"#], exit: .timedOut("stopped by Slurm at its time limit of 00:01:00")),
        .init(lines: [], exit: .failed("Slurm job 8 ran out of memory (executor.mem: 1G)")),
      ], maxTrials: 2)
    #expect(trials.map(\.state) == [.timedOut, .failed])
    #expect(trials[0].value == 0.25)
    #expect(trials[0].reason == "stopped by Slurm at its time limit of 00:01:00")
    #expect(trials[1].reason == "Slurm job 8 ran out of memory (executor.mem: 1G); last stderr line: scripted stderr")
  }
}
