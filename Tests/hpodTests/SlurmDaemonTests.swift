import Foundation
import SlurmTestCluster
import StudyModel
import Testing
import TrackingBridge
import TrialScheduler

/// `hpod serve` running studies whose trials are jobs on a real single-node Slurm cluster.
@Suite("hpod daemon on Slurm", .serialized, .timeLimit(.minutes(4)))
struct SlurmDaemonTests {
  let folder: String

  init() async throws {
    folder = try makeTestFolder("hpod-slurm")
    // The daemons and clients this suite starts find the cluster through SLURM_CONF.
    setenv("SLURM_CONF", try await SlurmCluster.shared.slurmConf(), 1)
  }

  /// A study of `trials` Slurm jobs; each appends `start N` and `end N` (with the time) to
  /// `events`, and reports `steps` steps 0.3 s apart.
  func writeSlurmStudy(name: String, trials: Int, parallelism: Int, steps: Int) throws -> String {
    let script = "\(folder)/\(name).sh"
    try """
    #!/bin/sh
    echo "start $HPOD_STUDY $HPOD_TRIAL_NUMBER $(date +%s.%N)" >> \(folder)/events
    i=0; while [ $i -lt \(steps) ]; do echo "hpod {\\"step\\": $i, \\"score\\": $1}"; i=$((i+1)); sleep 0.3; done
    echo "end $HPOD_STUDY $HPOD_TRIAL_NUMBER $(date +%s.%N)" >> \(folder)/events

    """.write(toFile: script, atomically: true, encoding: .utf8)
    chmod(script, 0o755)
    let spec = "\(folder)/\(name).yaml"
    try """
    name: \(name)
    objective: {metric: score, direction: maximize}
    search: {algorithm: random, seed: 5, max_trials: \(trials), parallelism: \(parallelism)}
    parameters:
      x: {type: float, min: 0, max: 1}
    trial: {command: [./\(name).sh, "{x}"]}
    executor: {kind: slurm, poll_interval: 200ms}
    """.write(toFile: spec, atomically: true, encoding: .utf8)
    return spec
  }

  /// The `start`/`end` lines of the events file: (kind, study, trial number, time).
  func events() -> [(kind: String, study: String, trial: Int, time: Double)] {
    let text = (try? String(contentsOfFile: "\(folder)/events", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap { line in
      let parts = line.split(separator: " ")
      guard parts.count == 4, let trial = Int(parts[2]), let time = Double(parts[3]) else { return nil }
      return (String(parts[0]), String(parts[1]), trial, time)
    }
  }

  /// Waits until the store says the study ended; its final state.
  func waitForEnd(_ home: String, study: Int64, seconds: Double) async throws -> StudyState? {
    let database = try AppDatabase.open(at: "\(home)/hpod.sqlite")
    _ = try await waitUntil(seconds: seconds) {
      let state = try database.study(id: study)?.state
      return state != nil && state != .running
    }
    return try database.study(id: study)?.state
  }

  @Test(
    "kill -9 of hpod serve mid-study: the jobs keep running, the restarted daemon adopts every one, nothing runs twice")
  func jobsSurviveTheDaemon() async throws {
    // Given a daemon running a study of Slurm jobs
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    let spec = try writeSlurmStudy(name: "survivor", trials: 4, parallelism: 2, steps: 12)
    #expect(try await daemon.client(["submit", spec]).status == 0)
    let database = try AppDatabase.open(at: "\(folder)/home/hpod.sqlite")
    #expect(
      try await waitUntil(seconds: 60) {
        let running = ((try? database.trials(studyId: 1)) ?? []).filter { $0.state == .running }
        return running.count == 2 && running.allSatisfy { ((try? database.metrics(trialId: $0.id!).count) ?? 0) >= 2 }
      }, "two jobs should be running and reporting")

    // When the daemon is killed with SIGKILL
    daemon.kill9()
    let orphaned = try database.trials(studyId: 1).filter { $0.state == .running }
    let jobIds = orphaned.compactMap { trial -> String? in
      guard case .slurm(let job) = trial.executorHandle else { return nil }
      return job.jobId
    }
    #expect(jobIds.count == 2)
    let queue = try await SlurmCluster.shared.jobs()
    for id in jobIds {
      #expect(queue.contains { $0.hasPrefix("\(id)|RUNNING") }, "job \(id) should outlive the daemon: \(queue)")
    }

    // And started again
    try await daemon.start()
    defer { daemon.stop() }

    // Then the study completes; the orphaned jobs were adopted, not re-run
    #expect(try await waitForEnd(daemon.home, study: 1, seconds: 90) == .completed, "\(daemon.log)")
    let trials = try database.trials(studyId: 1)
    #expect(trials.count == 4, "no trial should have been re-run: \(trials.map { ($0.number, $0.state) })")
    #expect(trials.allSatisfy { $0.state == .completed }, "\(trials.map(\.reason))")
    let starts = events().filter { $0.kind == "start" }.map(\.trial).sorted()
    #expect(starts == [0, 1, 2, 3], "each trial should have started exactly once: \(starts)")
    for trial in orphaned {
      let steps = try database.metrics(trialId: trial.id!, name: "score").map(\.step)
      #expect(steps == Array(0..<12), "adopted trial \(trial.number) stored steps \(steps)")
    }
    #expect(daemon.log.contains("adopted trial"), "\(daemon.log)")
  }

  @Test("two studies share the cluster under the daemon's --max-concurrent-trials; hpod trials shows each job")
  func studiesShareTheLimit() async throws {
    // Given a daemon that runs at most 2 trials at once, and two studies that each want 2
    let daemon = DaemonProcess(home: "\(folder)/home")
    daemon.maxConcurrentTrials = 2
    try await daemon.start()
    defer { daemon.stop() }
    let first = try writeSlurmStudy(name: "alpha", trials: 3, parallelism: 2, steps: 4)
    let second = try writeSlurmStudy(name: "beta", trials: 3, parallelism: 2, steps: 4)
    #expect(try await daemon.client(["submit", first]).status == 0)
    #expect(try await daemon.client(["submit", second]).status == 0)

    // When both have run
    #expect(try await waitForEnd(daemon.home, study: 1, seconds: 120) == .completed, "\(daemon.log)")
    #expect(try await waitForEnd(daemon.home, study: 2, seconds: 120) == .completed, "\(daemon.log)")

    // Then all six jobs ran, never more than two at once
    let all = events()
    #expect(all.filter { $0.kind == "start" }.count == 6)
    var running = 0
    var most = 0
    for event in all.sorted(by: { $0.time < $1.time }) {
      running += event.kind == "start" ? 1 : -1
      most = max(most, running)
    }
    #expect(most <= 2, "at most 2 jobs may run at once; \(most) did")
    // And the trials list names each trial's Slurm job and node
    let (status, listing) = try await daemon.client(["trials", "1"])
    #expect(status == 0, "\(listing)")
    #expect(listing.contains("Slurm job"), "\(listing)")
  }
}
