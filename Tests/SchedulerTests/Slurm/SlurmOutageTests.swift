import Foundation
import SearchStrategies
import SlurmTestCluster
import Synchronization
import Testing
import TrackingBridge

@testable import TrialScheduler

/// A Slurm controller killed and restarted, a drained node, a job id Slurm gave again: each on
/// a cluster of the test's own (the shared one keeps serving the other tests), issue 31.
@Suite("Studies on Slurm through outages", .serialized, .timeLimit(.minutes(4)))
struct SlurmOutageTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  /// `trials` trials, `parallelism` at a time, each reporting `steps` steps `pause` s apart
  /// then its final value; `executor` adds Slurm settings.
  func yaml(name: String, trials: Int, parallelism: Int, steps: Int, pause: String, executor: String = "") throws
    -> String
  {
    let script = try sandbox.script(
      "\(name).sh",
      """
      i=0; while [ $i -lt \(steps) ]; do echo "hpod {\\"step\\": $i, \\"score\\": 0.$i}"; i=$((i+1)); sleep \(pause); done
      echo "hpod {\\"score\\": $1, \\"final\\": true}"
      """)
    return """
      name: \(name)
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 11, max_trials: \(trials), parallelism: \(parallelism)}
      parameters:
        x: {type: float, min: 0, max: 1}
      trial: {command: [\(script), "{x}"], stop_grace_period: 2s}
      executor: {kind: slurm, poll_interval: 200ms\(executor)}
      """
  }

  /// The study's events, as they came.
  final class Events: Sendable {
    let all = Mutex<[StudyEvent]>([])
    func add(_ event: StudyEvent) { all.withLock { $0.append(event) } }
    var paused: [String] {
      all.withLock { events in
        events.compactMap { event -> String? in
          guard case .studyPaused(let reason) = event else { return nil }
          return reason
        }
      }
    }
    var resumed: Int {
      all.withLock { events in
        events.filter { event in
          guard case .studyResumed = event else { return false }
          return true
        }.count
      }
    }
    var waiting: [String] {
      all.withLock { events in
        events.compactMap { event -> String? in
          guard case .trialWaiting(_, _, let reason?) = event else { return nil }
          return reason
        }
      }
    }
    var finished: Bool {
      all.withLock { events in
        events.contains { event in
          guard case .studyFinished = event else { return false }
          return true
        }
      }
    }
  }

  @Test("kill -9 of slurmctld mid-study, restarted 10 s later: the study pauses, then every trial completes")
  func controllerKilledMidStudy() async throws {
    let cluster = try await OwnSlurmCluster.start("outage")
    defer { Task { await cluster.stop() } }
    // Given 8 trials, 4 at a time, each reporting for about 10 s
    let spec = try yaml(name: "outage", trials: 8, parallelism: 4, steps: 10, pause: "1")
    let events = Events()
    let executor = try sandbox.spec(spec).makeExecutor(environment: cluster.environment)
    let database = sandbox.database
    let study = Task { try await sandbox.run(spec, executor: executor, onEvent: events.add) }

    // When 4 jobs run and the controller saved them (a controller killed before it saves its
    // jobs loses them: see the README), slurmctld is killed with SIGKILL and started again 10 s
    // later; meanwhile the running jobs end and new ones cannot be submitted
    #expect(
      await eventually(90) {
        let running = ((try? database.trials(studyId: 1)) ?? []).filter { $0.state == .running }
        return running.count == 4 && running.allSatisfy { ((try? database.metrics(trialId: $0.id!).count) ?? 0) >= 2 }
      }, "4 jobs should run and report")
    let allRunning = Date()
    #expect(await eventually(15) { (cluster.jobStateSaved ?? .distantPast) > allRunning }, "slurmctld saves its jobs")
    try cluster.killController()
    let killed = Date()
    try await Task.sleep(for: .seconds(10))
    try await cluster.startController()
    let (final, trials) = try await study.value

    // Then all 8 trials completed once each, with their final value, and none failed
    #expect(final.state == .completed, "\(final.stateReason ?? "")")
    #expect(trials.count == 8, "\(trials.map { "\($0.number) \($0.state.rawValue): \($0.reason ?? "")" })")
    #expect(
      trials.allSatisfy { $0.state == .completed },
      "\(trials.map { "\($0.number) \($0.state.rawValue): \($0.reason ?? "")" })")
    for trial in trials {
      let final = try database.metrics(trialId: trial.id!, name: "score").last?.value
      #expect(final == trial.value && trial.value != nil, "trial \(trial.number) kept its final value")
    }
    // And the study paused while the controller was away, named it, and resumed by itself
    #expect(events.paused.contains { $0.contains("Slurm's controller does not answer") }, "\(events.paused)")
    #expect(events.paused.allSatisfy { !$0.contains("store") }, "\(events.paused)")
    #expect(events.resumed >= 1)
    #expect(Date().timeIntervalSince(killed) < 120)
    let completed = trials.filter { $0.state == .completed }.count
    await cluster.stop()
    print(
      "figures: kill -9 slurmctld with 4 jobs running, restarted after 10 s: \(completed) of \(trials.count) trials completed, \(trials.count - completed) not; study ended \(Int(Date().timeIntervalSince(killed))) s after the kill; paused: \(events.paused.first ?? "never")"
    )
  }

  @Test("slurmctld down when trials are submitted, back 10 s later: the submissions wait, then every trial completes")
  func controllerDownAtSubmission() async throws {
    let cluster = try await OwnSlurmCluster.start("submit")
    defer { Task { await cluster.stop() } }
    // Given a controller killed with SIGKILL before the study starts, started again 10 s later
    try cluster.killController()
    let killed = Date()
    let restart = Task {
      try await Task.sleep(for: .seconds(10))
      try await cluster.startController()
    }
    let spec = try yaml(name: "submit", trials: 4, parallelism: 2, steps: 2, pause: "0.5")
    let events = Events()
    let executor = try sandbox.spec(spec).makeExecutor(environment: cluster.environment)

    // When the study runs
    let (final, trials) = try await sandbox.run(spec, executor: executor, onEvent: events.add)
    try await restart.value

    // Then no trial failed for the outage: the study paused on the submission and completed
    #expect(final.state == .completed, "\(final.stateReason ?? "")")
    #expect(
      trials.map(\.state) == [.completed, .completed, .completed, .completed],
      "\(trials.map { "\($0.number) \($0.state.rawValue): \($0.reason ?? "")" })")
    #expect(
      events.paused.contains { $0.contains("submitting trial") && $0.contains("Slurm's controller does not answer") },
      "\(events.paused)")
    #expect(events.resumed >= 1)
    await cluster.stop()
    print(
      "figures: slurmctld down for 10 s at submission: \(trials.filter { $0.state == .completed }.count) of \(trials.count) trials completed; study ended \(Int(Date().timeIntervalSince(killed))) s after the kill"
    )
  }

  @Test(
    "a job lost with its node (NODE_FAIL) is run again as a job that resumes from its checkpoint on the shared folder")
  func lostNodeResumesFromCheckpoint() async throws {
    let cluster = try await OwnSlurmCluster.start("nodefail")
    defer { Task { await cluster.stop() } }
    // Given a job that saves a checkpoint after each of its 8 steps
    let trainer = try sandbox.checkpointingTrainer()
    let spec = """
      name: nodefail
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: 1}
      parameters: {x: {type: float, min: 0, max: 1}}
      trial: {command: [\(trainer)], stop_grace_period: 1s}
      executor: {kind: slurm, poll_interval: 200ms}
      """
    let executor = try sandbox.spec(spec).makeExecutor(environment: cluster.environment)
    let database = sandbox.database
    let study = Task { try await sandbox.run(spec, executor: executor) }

    // When its node goes down after the third checkpoint, and comes back
    #expect(await eventually(60) { ((try? database.checkpoints(trialIds: [1]))?.count ?? 0) >= 3 })
    let node = try await cluster.node
    _ = try await cluster.run(["/usr/bin/scontrol", "update", "nodename=\(node)", "state=down", "reason=hpod-test"])
    #expect(await eventually(30) { (try? database.trial(id: 1))?.state == .cancelled })
    _ = try await cluster.run(["/usr/bin/scontrol", "update", "nodename=\(node)", "state=resume"])

    // Then hpod ran the trial again as a new job, which resumed from the last checkpoint
    let (final, trials) = try await study.value
    #expect(final.state == .completed, "\(final.stateReason ?? "")")
    #expect(trials.first?.reason?.contains("NODE_FAIL") == true, "\(trials.map { $0.reason ?? "" })")
    let resumed = try #require(trials.last { $0.state == .completed })
    #expect(resumed.retryOf == 1)
    let log = try String(contentsOfFile: "\(resumed.runDirectory!)/stdout.log", encoding: .utf8)
    #expect(log.contains("resumed=1 from=") && !log.contains("from=none"), "\(log)")
    #expect(try database.metrics(trialId: resumed.id!, name: "score").map(\.step) == Array(1...8))
  }

  @Test(
    "a drained node: the trials wait with Slurm's reason shown, and run once it is resumed (not failed within seconds)")
  func drainedNodeIsWaitedOut() async throws {
    let cluster = try await OwnSlurmCluster.start("drain")
    defer { Task { await cluster.stop() } }
    // Given the node drained, and trials pinned to it (Slurm then says ReqNodeNotAvail)
    try await cluster.drain(true)
    let node = try await cluster.node
    let spec = try yaml(
      name: "drained", trials: 3, parallelism: 3, steps: 2, pause: "0.2",
      executor: ", extra_args: [\"--nodelist=\(node)\"]")
    let events = Events()
    let executor = try sandbox.spec(spec).makeExecutor(environment: cluster.environment)
    let database = sandbox.database
    let drained = Date()
    let study = Task { try await sandbox.run(spec, executor: executor, onEvent: events.add) }

    // When the node stays drained for 20 s
    #expect(
      await eventually(30) {
        let trials = (try? database.trials(studyId: 1)) ?? []
        return trials.count == 3
          && trials.allSatisfy { $0.state == .pending && $0.reason?.contains("ReqNodeNotAvail") == true }
      },
      "the trials should wait, with Slurm's reason as theirs: \((try? database.trials(studyId: 1))?.map(\.reason) ?? [])"
    )
    try await Task.sleep(for: .seconds(max(0, 20 - Date().timeIntervalSince(drained))))
    #expect(
      try database.trials(studyId: 1).allSatisfy { $0.state == .pending }, "nothing fails while the node is drained")
    try await cluster.drain(false)

    // Then every trial runs and completes, and the wait was published with its reason
    let (final, trials) = try await study.value
    #expect(final.state == .completed)
    #expect(
      trials.map(\.state) == [.completed, .completed, .completed], "\(trials.map { $0.reason ?? "" })")
    #expect(trials.allSatisfy { $0.reason == nil }, "a trial that ran no longer shows why it waited")
    #expect(
      events.waiting.contains { $0.contains("not available now") && $0.contains("ReqNodeNotAvail") },
      "\(events.waiting)")
    await cluster.stop()
    print(
      "figures: node drained for \(Int(Date().timeIntervalSince(drained))) s in all: \(trials.filter { $0.state == .completed }.count) of 3 trials completed; they waited with: \(events.waiting.first ?? "-")"
    )
  }

  @Test(
    "a job id Slurm gave to another job: the adopted trial is judged by its own exit marker, the other job is left alone"
  )
  func reusedJobIdIsNotTheTrials() async throws {
    let cluster = try await OwnSlurmCluster.start("reuse")
    defer { Task { await cluster.stop() } }
    // Given another job holding id X (as after a controller that lost its state)
    let other = try await cluster.run([
      "/usr/bin/sbatch", "--parsable", "--job-name=someone-else", "--output=/dev/null", "--wrap=sleep 60",
    ])
    let otherId = other.output.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(other.status == 0 && Int(otherId) != nil, "\(other.output)")
    // And a trial whose job had id X, ran to exit 0 and reported 0.5, then was forgotten by Slurm
    let folder = "\(sandbox.root)/trial"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try "hpod {\"score\": 0.5}\n".write(toFile: "\(folder)/reports.log", atomically: true, encoding: .utf8)
    try "\(otherId) 0\n".write(toFile: "\(folder)/exit.status", atomically: true, encoding: .utf8)
    let handle = SlurmJobHandle(
      jobId: otherId, comment: "hpod hpod-1-1 5d1c", stdoutPath: "\(folder)/stdout.log",
      stderrPath: "\(folder)/stderr.log", name: "hpod-1-1", reportsPath: "\(folder)/reports.log",
      exitMarkerPath: "\(folder)/exit.status")
    let executor = SlurmExecutor(
      settings: SlurmSettings(pollInterval: .milliseconds(200)), environment: cluster.environment)

    // When a restarted hpod adopts the trial, and is asked to kill it
    let trial = try #require(await executor.reclaim(.slurm(job: handle)).adopted)
    trial.kill()
    var lines: [String] = []
    for await output in trial.output { if case .lines(let reported, _) = output { lines += reported } }
    let exit = await trial.exit()

    // Then the trial ended as its marker says, with its reported line
    #expect(exit == .exited(code: 0))
    #expect(lines == [#"{"score": 0.5}"#])
    // And the other job still runs: neither observed as the trial's nor cancelled
    try await Task.sleep(for: .seconds(1))
    let state = try await cluster.run(["/usr/bin/squeue", "-h", "-j", otherId, "-o", "%T"])
    #expect(state.output.trimmingCharacters(in: .whitespacesAndNewlines) == "RUNNING", "\(state.output)")
    _ = try await cluster.run(["/usr/bin/scancel", otherId])
    await cluster.stop()
  }
}

/// A trial folder that cannot be created pauses the study with what it waits for (not "the
/// store"), and a stop still ends the study (issue 31: it wedged the daemon).
@Suite("A trial folder that cannot be created", .timeLimit(.minutes(1)))
struct TrialFolderOutageTests {
  @Test("the pause names the trial's folder, never the store, and a cancel ends the paused study within seconds")
  func folderOutageIsNotAStoreOutageAndCanBeCancelled() async throws {
    let sandbox = try Sandbox()
    // Given the first trial's folder (trial 0) blocked by a file standing where it would go
    let runs = "\(sandbox.home.path)/runs/1"
    try FileManager.default.createDirectory(atPath: runs, withIntermediateDirectories: true)
    FileManager.default.createFile(atPath: "\(runs)/0", contents: Data("x".utf8))
    let trial = try sandbox.script("ok.sh", #"echo "hpod {\"score\": 1}""#)
    let events = SlurmOutageTests.Events()
    let stop = StopSignal()
    let study = Task {
      try await sandbox.run(
        studyYAML(command: "[\(trial)]", maxTrials: 1, parallelism: 1), stopSignal: stop, onEvent: events.add)
    }
    #expect(await eventually(15) { !events.paused.isEmpty }, "the study should pause")
    let reason = try #require(events.paused.first)
    #expect(reason.contains("creating the folder of trial 0 failed"), "\(reason)")
    #expect(reason.contains("retrying until the trial's folder can be created"), "\(reason)")
    #expect(!reason.contains("store"), "a trial's folder is not the store: \(reason)")

    // When the study is cancelled while it waits
    let cancelled = Date()
    stop.stop(reason: "cancelled by the user", outcome: .cancelled)
    let ended = await eventually(10) { events.finished }
    if !ended { stop.force(reason: "the test gave up waiting") }
    let (final, trials) = try await study.value

    // Then it ends within seconds, its trial cancelled (never started), nothing failed
    #expect(ended, "a cancel must end a study paused on a trial folder")
    #expect(Date().timeIntervalSince(cancelled) < 10)
    #expect(final.state == .cancelled)
    #expect(trials.map(\.state) == [.cancelled], "\(trials.map(\.reason))")
  }
}
