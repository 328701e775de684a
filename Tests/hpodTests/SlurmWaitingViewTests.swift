import Foundation
import SlurmTestCluster
import Testing

/// `hpod run` on Slurm while the jobs cannot start: the view says why they wait (issue 31).
@Suite("hpod run on a drained Slurm node", .timeLimit(.minutes(2)))
struct SlurmWaitingViewTests {
  @Test("hpod run says each trial waits for the drained node, with Slurm's reason, then runs it to the end")
  func viewShowsWhyTrialsWait() async throws {
    // Given a cluster of the test's own with its node drained, and a study pinned to that node
    let cluster = try await OwnSlurmCluster.start("view")
    try await cluster.drain(true)
    let node = try await cluster.node
    let folder = try makeTestFolder("hpod-slurm-view")
    try """
    #!/bin/sh
    echo "hpod {\\"score\\": $1}"
    """.write(toFile: "\(folder)/trial.sh", atomically: true, encoding: .utf8)
    chmod("\(folder)/trial.sh", 0o755)
    try """
    name: drained
    objective: {metric: score, direction: maximize}
    search: {algorithm: random, seed: 5, max_trials: 2, parallelism: 2}
    parameters:
      x: {type: float, min: 0, max: 1}
    trial: {command: [./trial.sh, "{x}"]}
    executor: {kind: slurm, poll_interval: 200ms, extra_args: ["--nodelist=\(node)"]}
    """.write(toFile: "\(folder)/study.yaml", atomically: true, encoding: .utf8)

    // When hpod run follows it for a few seconds, then the node is resumed
    let run = try HPODProcess(
      program: HPODProcess.binary, ["run", "--plain", "\(folder)/study.yaml"],
      environment: ["HPOD_HOME": "\(folder)/home", "SLURM_CONF": cluster.slurmConf])
    let waited = try await waitUntil(seconds: 30) { run.printed.contains("waits: waiting in Slurm's queue") }
    try await cluster.drain(false)
    let (status, output) = await run.finish()
    await cluster.stop()

    // Then the view named the reason, and the study completed
    #expect(waited, "\(output)")
    #expect(
      output.contains("trial 0 waits: waiting in Slurm's queue: the nodes it needs are not available now"), "\(output)")
    #expect(output.contains("ReqNodeNotAvail"), "\(output)")
    #expect(status == 0, "\(output)")
    #expect(output.contains("trial 0 completed") && output.contains("trial 1 completed"), "\(output)")
  }
}
