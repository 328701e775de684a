import Foundation
import Testing
import TrackingBridge

#if canImport(Glibc)
  import Glibc
#endif

/// However `hpod run` ends — killed, its terminal closed, its reader gone — the study says
/// what is true of it and goes on from where it stopped.
@Suite("hpod run's end", .serialized)
struct RunEndingTests {
  let folder: String
  let home: String

  init() throws {
    folder = try makeTestFolder("hpod-run-ending")
    home = "\(folder)/home"
    // A trial that trains for a minute unless told to hurry (the file `fast`), and says its pid.
    try """
    #!/bin/sh
    echo $$ > "\(folder)/trial-$HPOD_TRIAL_NUMBER.pid"
    [ -e "\(folder)/fast" ] || sleep 60
    echo "hpod {\\"score\\": $1}"
    """.write(toFile: "\(folder)/trial.sh", atomically: true, encoding: .utf8)
    chmod("\(folder)/trial.sh", 0o755)
    try """
    name: ending
    objective: {metric: score, direction: maximize}
    search: {algorithm: random, seed: 3, max_trials: 2}
    parameters:
      x: {type: float, min: 0, max: 1}
    trial: {command: [./trial.sh, "{x}"], stop_grace_period: 2s}
    """.write(toFile: "\(folder)/study.yaml", atomically: true, encoding: .utf8)
  }

  /// Waits until the store shows a trial of study 1 running.
  func waitForARunningTrial() async throws {
    let database = "\(home)/hpod.sqlite"
    let running = try await waitUntil(seconds: 30) {
      guard FileManager.default.fileExists(atPath: database) else { return false }
      return try AppDatabase.open(at: database).trials(studyId: 1).contains { $0.state == .running }
    }
    #expect(running, "no trial started")
  }

  /// `hpod status --json 1` as read from the local store (no daemon answers at port 9).
  func status() async throws -> [String: Any] {
    let (code, output) = try await HPODProcess.runProgram(
      HPODProcess.binary, ["status", "1", "--json"],
      environment: ["HPOD_HOME": home, "HPOD_SERVER": "http://127.0.0.1:9"])
    #expect(code == 0, "\(output)")
    let json = output.split(separator: "\n").drop { !$0.hasPrefix("{") }.joined(separator: "\n")
    return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
  }

  @Test("a study whose hpod run was killed reads as interrupted, not running, and the same command resumes it")
  func killedRunIsNotRunning() async throws {
    // Given an hpod run killed (kill -9) while its trial trains
    let run = try HPODProcess(["run", "--plain", "\(folder)/study.yaml"], home: home)
    try await waitForARunningTrial()
    kill(run.process.processIdentifier, SIGKILL)
    _ = await run.finish()

    // Then the study is not shown running: nothing runs it, and it says how to go on
    let killed = try await status()
    #expect(killed["state"] as? String == "interrupted", "\(killed)")
    let reason = killed["state_reason"] as? String ?? ""
    #expect(reason.contains("no process runs it") && reason.contains("run its spec again"), "\(reason)")

    // When the same command runs again, the study resumes and completes
    FileManager.default.createFile(atPath: "\(folder)/fast", contents: nil)
    let again = try await HPODProcess.run(["run", "--plain", "\(folder)/study.yaml"], home: home)
    #expect(again.status == 0, "\(again.output)")
    #expect(try await status()["state"] as? String == "completed")
  }

  @Test("a closed terminal (SIGHUP) stops the trials and saves the study as interrupted, as Ctrl-C does")
  func hangupStopsCleanly() async throws {
    // Given an hpod run whose trial trains
    let run = try HPODProcess(["run", "--plain", "\(folder)/study.yaml"], home: home)
    try await waitForARunningTrial()
    let trialPid = try #require(
      Int32(
        try String(contentsOfFile: "\(folder)/trial-0.pid", encoding: .utf8).trimmingCharacters(
          in: .whitespacesAndNewlines)))

    // When its terminal hangs up
    kill(run.process.processIdentifier, SIGHUP)
    let (code, output) = await run.finish()

    // Then hpod run stopped its trial and saved the study, resumable, saying why
    #expect(code == 130, "\(output)")
    #expect(kill(trialPid, 0) != 0, "the trial \(trialPid) still runs")
    let study = try await status()
    #expect(study["state"] as? String == "interrupted", "\(study)")
    #expect((study["state_reason"] as? String ?? "").contains("SIGHUP"), "\(study)")
  }

  @Test("hpod run whose reader goes away (hpod run | head -1) runs its study to the end")
  func closedPipeLosesOutputNotTheStudy() async throws {
    // Given an hpod run whose stdout is a pipe nobody reads any more
    FileManager.default.createFile(atPath: "\(folder)/fast", contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: HPODProcess.binary)
    process.arguments = ["run", "--plain", "\(folder)/study.yaml"]
    process.environment = ProcessInfo.processInfo.environment.merging(["HPOD_HOME": home]) { _, set in set }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try pipe.fileHandleForReading.close()
    try process.run()
    try pipe.fileHandleForWriting.close()

    // Then the study still completes, and hpod run says so by its exit status
    let (code, _) = await waitForExit(process)
    #expect(code == 0)
    #expect(try await status()["state"] as? String == "completed")
  }
}
