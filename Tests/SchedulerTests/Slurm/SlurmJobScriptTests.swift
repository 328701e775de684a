import Foundation
import Testing

@testable import TrialScheduler

/// The job script run by sh as Slurm's batch step would run it (SLURM_JOB_ID set, the
/// trial's argv as its arguments), without a cluster: the log cap, the report lines and the
/// exit marker.
@Suite("A Slurm job's script", .timeLimit(.minutes(1)))
struct SlurmJobScriptTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  /// Runs the script for `argv` with stdout and stderr to the trial's logs, as Slurm's
  /// --output and --error do; its exit status as sh reports it.
  func runJob(_ script: SlurmJobScript, _ argv: [String]) async throws -> Int32 {
    try FileManager.default.createDirectory(atPath: script.directory, withIntermediateDirectories: true)
    try script.text.write(toFile: script.path, atomically: true, encoding: .utf8)
    return try await withCheckedThrowingContinuation { continuation in
      Thread {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [script.path] + argv
        process.environment = ["PATH": "/usr/bin:/bin", "SLURM_JOB_ID": "77"]
        process.standardOutput = FileHandle(forWritingAtPath: "\(script.directory)/stdout.log")
        process.standardError = FileHandle(forWritingAtPath: "\(script.directory)/stderr.log")
        do { try process.run() } catch {
          continuation.resume(throwing: error)
          return
        }
        process.waitUntilExit()
        continuation.resume(returning: process.terminationStatus)
      }.start()
    }
  }

  func script(limit: Int) -> SlurmJobScript {
    let directory = "\(sandbox.root)/trial-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for log in ["stdout.log", "stderr.log"] {
      FileManager.default.createFile(atPath: "\(directory)/\(log)", contents: nil)
    }
    return SlurmJobScript(label: "hpod-1-1", directory: directory, logLimit: limit, reportPrefix: "hpod ")
  }

  func read(_ path: String) -> String {
    (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
  }

  @Test("log_limit caps each log, every report line still reaches reports.log, the exit status is marked (issue 31)")
  func capsLogsAndKeepsReports() async throws {
    // Given a trial that floods stdout and stderr with 2 MB each, reporting a metric before and after
    let trial = try sandbox.script(
      "flood.sh",
      """
      echo 'hpod {"step": 0, "score": 0.1}'
      head -c 2000000 /dev/zero | tr '\\0' 'x'; echo
      head -c 2000000 /dev/zero | tr '\\0' 'y' >&2
      echo 'hpod {"step": 1, "score": 0.9}'
      exit 3
      """)
    let job = script(limit: 10_000)

    // When its job script runs it
    let status = try await runJob(job, [trial, "it's a \"quoted\" $argument"])

    // Then both logs keep 10,000 bytes and a note of what was dropped
    #expect(status == 3, "the job ends as the trial did")
    let stdout = read("\(job.directory)/stdout.log")
    let stderr = read("\(job.directory)/stderr.log")
    #expect(stdout.utf8.count < 10_200 && stdout.hasPrefix("hpod {\"step\": 0"), "\(stdout.utf8.count) bytes")
    #expect(stdout.contains("[hpod: log capped at 10000 bytes;"), "\(stdout.suffix(200))")
    #expect(stderr.utf8.count < 10_200 && stderr.contains("log capped at 10000 bytes"), "\(stderr.utf8.count) bytes")
    // And both report lines are in reports.log, the one after the cap included
    #expect(read(job.reportsPath) == "hpod {\"step\": 0, \"score\": 0.1}\nhpod {\"step\": 1, \"score\": 0.9}\n")
    // And the exit marker names the job and the trial's status
    #expect(SlurmExitMarker(text: read(job.exitMarkerPath)) == SlurmExitMarker(text: "77 3"))
    #expect(SlurmExitMarker(text: read(job.exitMarkerPath))?.exit == .exited(code: 3))
  }

  @Test("the trial's argv arrives as given, and a trial killed by a signal is marked so")
  func argvIntactAndSignalMarked() async throws {
    let trial = try sandbox.script("args.sh", #"printf '%s\n' "$@" > "$(dirname "$0")/args.txt"; kill -TERM $$"#)
    let job = script(limit: 1_000)
    let argv = ["two words", "$HOME", "it's \"q\"", "a\nb"]
    let status = try await runJob(job, [trial] + argv)
    #expect(status == 15 || status == 143, "sh reports the job's shell killed by SIGTERM: \(status)")
    #expect(read("\(sandbox.root)/args.txt") == argv.joined(separator: "\n") + "\n")
    #expect(SlurmExitMarker(text: read(job.exitMarkerPath))?.exit == .signalled(signal: 15))
  }
}
