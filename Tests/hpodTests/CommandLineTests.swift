import Foundation
import Testing

/// Runs the built `hpod` binary as a user would, from a shell.
struct HPODProcess {
  static let binary: String = {
    // Tests/hpodTests/CommandLineTests.swift → the package root
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/hpod").path
  }()

  let process = Process()
  let output = Pipe()

  init(_ arguments: [String], home: String) throws {
    process.executableURL = URL(fileURLWithPath: Self.binary)
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["HPOD_HOME"] = home
    process.environment = environment
    process.standardOutput = output
    process.standardError = output
    try process.run()
  }

  /// Waits for the exit; returns the status and everything printed.
  func finish() -> (status: Int32, output: String) {
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  static func run(_ arguments: [String], home: String) throws -> (status: Int32, output: String) {
    try HPODProcess(arguments, home: home).finish()
  }
}

@Suite("hpod command line", .serialized)
struct CommandLineTests {
  let folder: String

  init() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-cli-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  }

  func write(_ name: String, _ text: String, executable: Bool = false) throws -> String {
    let path = "\(folder)/\(name)"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    if executable { chmod(path, 0o755) }
    return path
  }

  @Test("validate prints every problem with file:line:column and exits 2")
  func validateReportsProblems() throws {
    let spec = try write(
      "bad.yaml",
      """
      name: bad
      objective: {metric: acc, direction: up}
      search: {max_trials: 3}
      parameters:
        lr: {type: float, min: 1, max: 0.5}
      trial: {command: [true]}
      """)
    let (status, output) = try HPODProcess.run(["validate", spec], home: "\(folder)/home")
    #expect(status == 2)
    #expect(output.contains("\(spec):2:37: objective.direction: expected one of minimize, maximize, found \"up\""))
    #expect(output.contains("\(spec):5:34: parameters.lr.max: max must be greater than min (1.0), found 0.5"))
  }

  @Test("Ctrl-C stops the trials cleanly, and running the same command again resumes the study")
  func interruptAndResume() throws {
    // Given a study of slow trials
    let trial = try write(
      "slow.sh",
      "#!/bin/sh\nfor s in 1 2 3 4 5; do echo \"hpod {\\\"step\\\": $s, \\\"score\\\": $1}\"; sleep 0.2; done\n",
      executable: true)
    let spec = try write(
      "study.yaml",
      """
      name: cli-resume
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 1, max_trials: 4, parallelism: 2}
      parameters:
        x: {type: float, min: 0, max: 1}
      trial: {command: [\(trial), "{x}"]}
      """)
    let home = "\(folder)/home"
    // When hpod run gets SIGINT while trials run
    let running = try HPODProcess(["run", spec], home: home)
    Thread.sleep(forTimeInterval: 1.5)
    running.process.interrupt()
    let (status, output) = running.finish()
    // Then it exits 130 after saving the study as interrupted
    #expect(status == 130, "\(output)")
    #expect(output.contains("Study 'cli-resume' (id 1) interrupted"))
    // And the same command resumes it to completion
    let (resumedStatus, resumed) = try HPODProcess.run(["run", spec], home: home)
    #expect(resumedStatus == 0, "\(resumed)")
    #expect(resumed.contains("interrupted or crashed trial(s) will run again"))
    #expect(resumed.contains("Study 'cli-resume' (id 1) completed"))
    #expect(resumed.contains("4 completed"))
  }
}
