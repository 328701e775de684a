import Foundation
import Testing

@testable import TrialScheduler

/// Whether a process is gone (a zombie counts as gone: it runs nothing).
func isGone(_ pid: Int32) -> Bool {
  guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
    let close = stat.lastIndex(of: ")")
  else { return true }
  return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
}

/// Waits up to `seconds` for `condition`.
func eventually(_ seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
  let deadline = Date().addingTimeInterval(seconds)
  while Date() < deadline {
    if condition() { return true }
    try? await Task.sleep(for: .milliseconds(20))
  }
  return condition()
}

@Suite("Local trial processes")
struct LocalProcessExecutorTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  func launch(_ argv: [String], env: [String: String] = [:], limit: Int = 1_000_000) throws -> any RunningTrial {
    var environment = ProcessInfo.processInfo.environment
    environment.merge(env) { _, new in new }
    return try LocalProcessExecutor().start(
      TrialLaunch(
        argv: argv, workdir: sandbox.root, environment: environment,
        workspace: TrialWorkspace(directory: sandbox.root), logLimitBytes: limit))
  }

  func collect(_ trial: any RunningTrial) async -> [String] {
    var lines: [String] = []
    for await output in trial.output {
      if case .lines(let batch, _) = output { lines += batch }
    }
    return lines
  }

  @Test("argv reaches the program unsplit, in its workdir, with its environment; reports and logs are split")
  func runsWithArgvWorkdirAndEnvironment() async throws {
    // Given a script that echoes what it received
    let script = try sandbox.script(
      "echo.sh", #"echo "hpod {\"arg\": $(printf %s "$1" | wc -c)}"; pwd; echo "value=$HPOD_X"; echo oops >&2; exit 0"#)
    // When it runs with an argument containing spaces
    let trial = try launch([script, "a b  c"], env: ["HPOD_X": "42"])
    let reports = await collect(trial)
    let exit = await trial.exit()
    // Then the argument arrived whole, the report was parsed out and everything was logged
    #expect(exit == .exited(code: 0))
    #expect(reports == [#"{"arg": 6}"#])
    let log = try String(contentsOfFile: "\(sandbox.root)/stdout.log", encoding: .utf8)
    #expect(log.contains(sandbox.root) && log.contains("value=42"))
    #expect(try String(contentsOfFile: "\(sandbox.root)/stderr.log", encoding: .utf8) == "oops\n")
  }

  @Test("a flood of output is capped in the log, and reports after it still arrive")
  func capsFloodedLogs() async throws {
    let script = try sandbox.script(
      "flood.sh", #"head -c 5000000 /dev/zero | tr '\0' 'x'; echo; echo 'hpod {"step": 1, "score": 1}'"#)
    let trial = try launch([script], limit: 100_000)
    let reports = await collect(trial)
    #expect(await trial.exit() == .exited(code: 0))
    #expect(reports == [#"{"step": 1, "score": 1}"#])
    let size = try FileManager.default.attributesOfItem(atPath: "\(sandbox.root)/stdout.log")[.size] as! Int
    #expect(size > 100_000 && size < 100_200)
    #expect(
      try String(contentsOfFile: "\(sandbox.root)/stdout.log", encoding: .utf8).hasSuffix("more bytes were dropped]\n"))
  }

  @Test("death by a signal is reported as such")
  func reportsSignals() async throws {
    let script = try sandbox.script("segv.sh", "kill -SEGV $$")
    let trial = try launch([script])
    #expect(await trial.exit() == .signalled(signal: 11))
    // and a stream the trial never wrote to leaves no file
    #expect(!FileManager.default.fileExists(atPath: "\(sandbox.root)/stdout.log"))
  }

  @Test("stop reaches the whole process group, children included")
  func stopKillsTheGroup() async throws {
    // Given a trial that starts a child and waits
    let pidFile = "\(sandbox.root)/child.pid"
    let script = try sandbox.script("parent.sh", "sleep 1000 & echo $! > \(pidFile); wait")
    let trial = try launch([script])
    #expect(await eventually { FileManager.default.fileExists(atPath: pidFile) })
    try await Task.sleep(for: .milliseconds(50))
    let child = Int32(
      try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
    // When it is stopped
    trial.stop(gracePeriod: .seconds(5))
    let exit = await trial.exit()
    // Then the parent and its child are both gone
    #expect(exit == .signalled(signal: 15))
    #expect(await eventually { isGone(child) })
  }

  @Test("a trial that ignores SIGTERM is killed after the grace period")
  func escalatesToKill() async throws {
    let script = try sandbox.script("stubborn.sh", "trap '' TERM; echo ready; while true; do sleep 0.05; done")
    let trial = try launch([script])
    try await Task.sleep(for: .milliseconds(200))
    let started = Date()
    trial.stop(gracePeriod: .milliseconds(500))
    #expect(await trial.exit() == .signalled(signal: 9))
    #expect(Date().timeIntervalSince(started) >= 0.45)
  }

  @Test("after a restart a local trial is not adopted: its process tree is killed, and the runner is told so")
  func reclaimKillsLeftovers() async throws {
    // Given a running trial with a child, as a stopped hpod left it
    let pidFile = "\(sandbox.root)/child.pid"
    let script = try sandbox.script("left.sh", "sleep 1000 & echo $! > \(pidFile); wait")
    let trial = try launch([script])
    #expect(await eventually { FileManager.default.fileExists(atPath: pidFile) })
    try await Task.sleep(for: .milliseconds(50))
    let child = Int32(
      try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!

    // When a new executor reclaims its handle
    let reclaimed = await LocalProcessExecutor().reclaim(trial.handle)

    // Then it is cleaned up, not adopted, and the whole tree is gone
    guard case .cleanedUp(let what) = reclaimed else {
      Issue.record("expected the leftovers cleaned up, got \(reclaimed)")
      return
    }
    #expect(what.contains("killed the leftover processes"))
    #expect(await eventually { isGone(child) })
    #expect(await trial.exit() == .signalled(signal: 9))
  }

  @Test("processes a trial leaves behind are killed when it exits")
  func killsLeftovers() async throws {
    let pidFile = "\(sandbox.root)/orphan.pid"
    let script = try sandbox.script("orphan.sh", "sleep 1000 > /dev/null 2>&1 & echo $! > \(pidFile); exit 0")
    let trial = try launch([script])
    #expect(await trial.exit() == .exited(code: 0))
    let orphan = Int32(
      try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
    #expect(await eventually { isGone(orphan) })
  }

  @Test("a missing program is a clear launch error")
  func reportsMissingProgram() throws {
    #expect(
      throws: TrialLaunchError(
        "command not found: no-such-program-hpod (not on PATH; write ./no-such-program-hpod for a program in the workdir)"
      )
    ) {
      _ = try launch(["no-such-program-hpod"])
    }
  }
}
