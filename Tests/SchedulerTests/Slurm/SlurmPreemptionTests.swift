import Foundation
import SlurmTestCluster
import Testing
import TrackingBridge

@testable import TrialScheduler

/// A job preempted by a job of a higher-priority partition, on a cluster of the test's own
/// (scripts/slurm-cluster's `urgent` partition preempts the others).
@Suite("Slurm preemption", .serialized, .timeLimit(.minutes(3)))
struct SlurmPreemptionTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  @Test(
    "a preempted job whose trial saves and exits 0 on SIGTERM is run again from its checkpoint with HPOD_RESUMED=1, no step twice"
  )
  func preemptedJobResumes() async throws {
    let cluster = try await OwnSlurmCluster.start("preempt")
    defer { Task { await cluster.stop() } }
    // Given a trial of 8 steps that saves a checkpoint after each, and on SIGTERM (Slurm's
    // preemption) saves where it is and exits 0, as preemption-aware trainings do
    let trainer = try sandbox.checkpointingTrainer(onTerm: #"echo "preempted after step $((step - 1))"; exit 0"#)
    let spec = """
      name: preempt
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: 1}
      parameters: {x: {type: float, min: 0, max: 1}}
      trial: {command: [\(trainer)], stop_grace_period: 1s}
      executor: {kind: slurm, poll_interval: 200ms}
      """
    let executor = try sandbox.spec(spec).makeExecutor(environment: cluster.environment)
    let database = sandbox.database
    let study = Task { try await sandbox.run(spec, executor: executor) }

    // When a job of the urgent partition needs the whole node after the third checkpoint
    #expect(await eventually(60) { ((try? database.checkpoints(trialIds: [1]))?.count ?? 0) >= 3 })
    let urgent = try await cluster.run([
      "/usr/bin/sbatch", "--parsable", "--partition=urgent", "--cpus-per-task=4", "--output=/dev/null",
      "--wrap=sleep 2",
    ])
    #expect(urgent.status == 0, "\(urgent.output)")

    // Then Slurm preempted the trial's job, and hpod ran the trial again as a new job that
    // resumed from the last checkpoint
    let (final, trials) = try await study.value
    #expect(final.state == .completed, "\(final.stateReason ?? "")")
    let first = try #require(trials.first)
    #expect(first.state == .cancelled && first.reason?.contains("preempted") == true, "\(first.reason ?? "")")
    let resumed = try #require(trials.last { $0.state == .completed })
    #expect(resumed.retryOf == first.id)
    let log = try String(contentsOfFile: "\(resumed.runDirectory!)/stdout.log", encoding: .utf8)
    #expect(log.contains("resumed=1 from=") && !log.contains("from=none"), "\(log)")
    #expect(try database.metrics(trialId: resumed.id!, name: "score").map(\.step) == Array(1...8))
  }
}
