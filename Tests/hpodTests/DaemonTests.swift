import Foundation
import GRDB
import HPODAPI
import Testing
import TrackingBridge
import TrialScheduler

/// A real `hpod serve` process on a random loopback port.
final class DaemonProcess {
  let home: String
  let port = Int.random(in: 20_000...40_000)
  var process: Process?
  /// More `hpod serve` options (limits, timeouts).
  var extraArguments: [String] = []
  var maxConcurrentTrials = 3
  /// Variables set for the daemon (and so for its trials) on top of this process's.
  var environment: [String: String] = [:]

  init(home: String) {
    self.home = home
  }

  var server: String { "http://127.0.0.1:\(port)" }
  /// The daemon's log (its stderr), beside its home.
  var logPath: String { "\(home).log" }
  var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

  func start() async throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: HPODProcess.binary)
    process.arguments =
      ["serve", "--port", String(port), "--max-concurrent-trials", String(maxConcurrentTrials)] + extraArguments
    var environment = ProcessInfo.processInfo.environment.merging(self.environment) { _, set in set }
    environment["HPOD_HOME"] = home
    process.environment = environment
    process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
    FileManager.default.createFile(atPath: logPath, contents: nil)
    process.standardError = FileHandle(forWritingAtPath: logPath)
    try process.run()
    self.process = process
    // Ready when /readyz answers.
    let deadline = Date().addingTimeInterval(15)
    while Date() < deadline {
      // A daemon started with --token answers only with it.
      let token = extraArguments.firstIndex(of: "--token").map { ["--token", extraArguments[$0 + 1]] } ?? []
      if (try? await client(["status"] + token).status) == 0 { return }
      await pause(0.1)
    }
    Issue.record("hpod serve did not become ready on port \(port); its log:\n\(log.suffix(2000))")
  }

  func kill9() {
    guard let process else { return }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
  }

  func stop() {
    guard let process, process.isRunning else { return }
    process.terminate()
    process.waitUntilExit()
  }

  func client(_ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await HPODProcess.run(arguments + ["--server", server], home: home)
  }
}

@Suite("hpod daemon", .serialized)
struct DaemonTests {
  let folder: String

  init() throws {
    folder = try makeTestFolder("hpod-daemon")
  }

  func writeStudy(trials: Int, steps: Int, pause: String) throws -> String {
    try writeSlowStudy(
      in: folder, name: "daemon-study", trials: trials, steps: steps, pause: pause, parallelism: 3, seed: 9)
  }

  @Test("submit, then watch follows the event stream to the end")
  func submitAndWatch() async throws {
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    defer { daemon.stop() }
    let spec = try writeStudy(trials: 4, steps: 10, pause: "0.2")
    let (submitted, submitOutput) = try await daemon.client(["submit", spec])
    #expect(submitted == 0, "\(submitOutput)")
    #expect(submitOutput.contains("submitted study 1 'daemon-study'"))

    let (status, events) = try await daemon.client(["watch", "1", "--json"])
    #expect(status == 0, "\(events)")
    let types = events.split(separator: "\n").compactMap { line -> String? in
      (try? JSONDecoder().decode([String: JSONValue].self, from: Data(line.utf8)))?["type"].flatMap {
        if case .string(let type) = $0 { return type }
        return nil
      }
    }
    #expect(types.contains("trial_metrics") || types.contains("trial_finished"))
    #expect(types.last == "study_finished", "\(events)")
    // The end carries the study's real counts, not zeros
    let last = events.split(separator: "\n").last.map(String.init) ?? ""
    #expect(last.contains("\"completed\":4"), "\(last)")
    #expect(last.contains("\"quick_tests\":4"), "\(last)")
    let (_, final) = try await daemon.client(["status", "1"])
    #expect(final.contains("completed"))
    // and watching the finished study prints its end at once
    let (_, again) = try await daemon.client(["watch", "1", "--json"])
    #expect(again.hasPrefix("{") && again.contains("\"type\":\"study_finished\""), "\(again)")
    #expect(again.contains("\"state\":\"completed\""), "\(again)")
    #expect(again.contains("\"completed\":4"), "\(again)")
  }

  @Test("kill -9 mid-study and restart: the study completes, nothing runs twice, nothing is lost or orphaned")
  func restartAfterKill() async throws {
    // Given a daemon running a study of slow trials
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    let spec = try writeStudy(trials: 8, steps: 5, pause: "0.2")
    #expect(try await daemon.client(["submit", spec]).status == 0)
    await pause(2.5)

    // When it is killed with SIGKILL while trials run, and started again
    daemon.kill9()
    let database = try AppDatabase.open(at: "\(folder)/home/hpod.sqlite")
    let before = try database.trials(studyId: 1)
    let completedBefore = before.filter { $0.state == .completed }
    let pointsBefore = try before.flatMap { try database.metrics(trialId: $0.id!) }
    let orphans = before.filter { $0.state == .running }.compactMap { trial -> Int32? in
      guard case .local(let pid, _) = trial.executorHandle else { return nil }
      return pid
    }
    #expect(!orphans.isEmpty, "no trial was running when the daemon died")
    try await daemon.start()
    defer { daemon.stop() }
    let deadline = Date().addingTimeInterval(60)
    var state = ""
    while Date() < deadline {
      state = try database.study(id: 1)?.state.rawValue ?? ""
      if state == "completed" { break }
      await pause(0.2)
    }

    // Then the study completed with each configuration completed exactly once
    #expect(state == "completed")
    let after = try database.trials(studyId: 1)
    let completed = after.filter { $0.state == .completed }
    #expect(completed.count == 8)
    #expect(Set(completed.map(\.paramsJSON)).count == 8)
    // finished trials were kept as they were, and no metric point was lost
    for trial in completedBefore { #expect(after.first { $0.id == trial.id } == trial) }
    let pointsAfter = try after.flatMap { try database.metrics(trialId: $0.id!) }
    #expect(Set(pointsBefore).isSubset(of: Set(pointsAfter)))
    #expect(completed.allSatisfy { trial in pointsAfter.filter { $0.trialId == trial.id }.count == 5 })
    // the trials the dead daemon left running were killed, not left behind
    for pid in orphans {
      let alive = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?.contains("trial.sh") == true
      #expect(!alive, "trial process \(pid) outlived the restart")
    }
    // and the store is sound
    let integrity = try await database.writer.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
    #expect(integrity == "ok")
  }

  /// A study of one trial of 12 steps (0.25 s each, score = step) that saves a checkpoint
  /// after each step and resumes from $HPOD_CHECKPOINT, saying so on its first line.
  func writeCheckpointingStudy(maxTrials: Int = 1) throws -> String {
    let trainer = "\(folder)/checkpointing.sh"
    try #"""
    #!/bin/sh
    start=1
    if [ -n "$HPOD_CHECKPOINT" ]; then start=$(( $(cat "$HPOD_CHECKPOINT") + 1 )); fi
    echo "resumed=${HPOD_RESUMED:-0} from=${HPOD_CHECKPOINT_STEP:-none}"
    step=$start
    while [ $step -le 12 ]; do
      echo "$step" > "$HPOD_CHECKPOINT_DIR/step-$step"
      echo "hpod {\"step\": $step, \"score\": $step, \"checkpoint\": \"step-$step\"}"
      sleep 0.25
      step=$((step + 1))
    done
    """#.write(toFile: trainer, atomically: true, encoding: .utf8)
    chmod(trainer, 0o755)
    let spec = "\(folder)/checkpointing.yaml"
    try """
    name: checkpointing
    objective: {metric: score, direction: maximize}
    search: {algorithm: random, seed: 1, max_trials: \(maxTrials)}
    parameters: {x: {type: float, min: 0, max: 1}}
    trial: {command: [\(trainer)]}
    checkpoint: {keep: 1}
    """.write(toFile: spec, atomically: true, encoding: .utf8)
    return spec
  }

  @Test("kill -9 of the daemon mid-trial: the restarted daemon resumes the trial from its checkpoint, no step twice")
  func restartResumesFromCheckpoint() async throws {
    // Given a daemon running a trial that saves a checkpoint after each of its 12 steps
    let spec = try writeCheckpointingStudy()
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    #expect(try await daemon.client(["submit", spec]).status == 0)
    let database = try AppDatabase.open(at: "\(folder)/home/hpod.sqlite")
    #expect(
      try await waitUntil(seconds: 20) { try database.checkpoints(trialIds: [1]).count >= 3 },
      "no checkpoint was reported")

    // When the daemon is killed with SIGKILL and started again
    daemon.kill9()
    try await daemon.start()
    defer { daemon.stop() }
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline, try database.study(id: 1)?.state != .completed { await pause(0.2) }

    // Then the re-run resumed from the last checkpoint, and every step is stored exactly once
    #expect(try database.study(id: 1)?.state == .completed)
    let trials = try database.trials(studyId: 1)
    let resumed = try #require(trials.last { $0.state == .completed })
    #expect(resumed.retryOf == trials.first?.id, "\(trials)")
    let log = try String(contentsOfFile: "\(resumed.runDirectory!)/stdout.log", encoding: .utf8)
    #expect(log.contains("resumed=1 from=") && !log.contains("from=none"), "\(log)")
    let steps = try database.metrics(trialId: resumed.id!, name: "score").map(\.step)
    #expect(steps == Array(1...12), "\(steps)")
    #expect(resumed.value == 12)
  }

  @Test("pause stops a study's trials until resume, which continues them from their checkpoints")
  func pauseAndResume() async throws {
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    defer { daemon.stop() }
    let spec = try writeCheckpointingStudy()
    #expect(try await daemon.client(["submit", spec]).status == 0)
    let database = try AppDatabase.open(at: "\(folder)/home/hpod.sqlite")
    #expect(try await waitUntil(seconds: 20) { try database.checkpoints(trialIds: [1]).count >= 3 })

    // When the study is paused
    let (paused, said) = try await daemon.client(["pause", "1"])
    #expect(paused == 0 && said.contains("hpod resume 1 continues it"), "\(said)")
    #expect(try await waitUntil(seconds: 20) { try database.study(id: 1)?.state == .interrupted })
    let stoppedAt = try database.checkpoints(trialIds: [1]).count
    await pause(1)
    // Then nothing runs while it is paused
    #expect(try database.trials(studyId: 1).allSatisfy { $0.state != .running })
    #expect(try database.checkpoints(trialIds: [1]).count == stoppedAt)

    // And resume continues the trial from its last checkpoint to the end, every step once
    #expect(try await daemon.client(["resume", "1"]).status == 0)
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline, try database.study(id: 1)?.state != .completed { await pause(0.2) }
    let trials = try database.trials(studyId: 1)
    let resumed = try #require(trials.last { $0.state == .completed }, "\(trials)")
    let log = try String(contentsOfFile: "\(resumed.runDirectory!)/stdout.log", encoding: .utf8)
    #expect(log.contains("resumed=1 from=\(stoppedAt)"), "\(log)")
    #expect(try database.metrics(trialId: resumed.id!, name: "score").map(\.step) == Array(1...12))
  }

  @Test("pausing one trial frees its slot for the next; resuming it continues from its checkpoint")
  func pauseAndResumeOneTrial() async throws {
    let daemon = DaemonProcess(home: "\(folder)/home")
    try await daemon.start()
    defer { daemon.stop() }
    // Given a study of two trials, one at a time, whose first trial has saved a few checkpoints
    #expect(try await daemon.client(["submit", try writeCheckpointingStudy(maxTrials: 2)]).status == 0)
    let database = try AppDatabase.open(at: "\(folder)/home/hpod.sqlite")
    #expect(try await waitUntil(seconds: 20) { try database.checkpoints(trialIds: [1]).count >= 3 })

    // When trial 0 is paused
    let (paused, said) = try await daemon.client(["pause", "1", "0"])
    #expect(paused == 0 && said.contains("`hpod resume 1 0` continues it"), "\(said)")
    // Then it stops, trial 1 takes its slot and runs to the end, and the study waits for it
    #expect(try await waitUntil(seconds: 30) { try database.study(id: 1)?.state == .interrupted })
    let first = try #require(try database.trial(studyId: 1, number: 0))
    #expect(first.state == .cancelled && first.reason?.hasPrefix("paused by the user") == true, "\(first)")
    #expect(try database.trial(studyId: 1, number: 1)?.state == .completed)
    #expect(try database.study(id: 1)?.stateReason?.contains("trial 0 is paused by hand") == true)
    let stoppedAt = try #require(try database.checkpoints(trialIds: [first.id!]).last?.step)
    // and a second pause of a trial that is not running is refused, writing nothing
    let (again, refusal) = try await daemon.client(["pause", "1", "1"])
    #expect(again != 0 && refusal.contains("not running here"), "\(refusal)")

    // When it is resumed, the study runs again and the trial continues from its checkpoint
    let (resumed, resumeSaid) = try await daemon.client(["resume", "1", "0"])
    #expect(resumed == 0 && resumeSaid.contains("trial 0 resumes from its last checkpoint"), "\(resumeSaid)")
    #expect(try await waitUntil(seconds: 30) { try database.study(id: 1)?.state == .completed })
    let rerun = try #require(try database.trials(studyId: 1).first { $0.retryOf == first.id })
    #expect(rerun.state == .completed)
    let log = try String(contentsOfFile: "\(rerun.runDirectory!)/stdout.log", encoding: .utf8)
    #expect(log.contains("resumed=1 from=\(stoppedAt)"), "\(log)")
    #expect(try database.metrics(trialId: rerun.id!, name: "score").map(\.step) == Array(1...12))
  }
}
