import Foundation
import Testing

/// Runs the built `hpod` binary as a user would, from a shell.
struct HPODProcess: Sendable {
  static let binary: String = {
    // Tests/hpodTests/CommandLineTests.swift → the package root
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/hpod").path
  }()

  let process = Process()
  /// Everything the process prints goes to this file (outside its home, which a test may
  /// fill to the last byte), so a test can follow the output while the process runs.
  let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-output-\(UUID().uuidString)")
    .path

  init(_ arguments: [String], home: String) throws {
    try self.init(program: Self.binary, arguments, environment: ["HPOD_HOME": home])
  }

  /// Any program, with `environment` set on top of this process's.
  init(program: String, _ arguments: [String], environment: [String: String]) throws {
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, set in set }
    FileManager.default.createFile(atPath: outputPath, contents: nil)
    let output = FileHandle(forWritingAtPath: outputPath)
    process.standardOutput = output
    process.standardError = output
    try process.run()
    try output?.close()
  }

  /// What the process has printed so far.
  var printed: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

  /// Waits for the exit; returns the status and everything printed.
  func finish() async -> (status: Int32, output: String) {
    let (status, _) = await waitForExit(process)
    let text = printed
    try? FileManager.default.removeItem(atPath: outputPath)
    return (status, text)
  }

  static func run(_ arguments: [String], home: String) async throws -> (status: Int32, output: String) {
    try await HPODProcess(arguments, home: home).finish()
  }

  /// Runs another program (a Python client, curl) to its end.
  static func runProgram(_ program: String, _ arguments: [String], environment: [String: String] = [:]) async throws
    -> (status: Int32, output: String)
  {
    try await HPODProcess(program: program, arguments, environment: environment).finish()
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
  func validateReportsProblems() async throws {
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
    let (status, output) = try await HPODProcess.run(["validate", spec], home: "\(folder)/home")
    #expect(status == 2)
    #expect(output.contains("\(spec):2:37: objective.direction: expected one of minimize, maximize, found \"up\""))
    #expect(output.contains("\(spec):5:34: parameters.lr.max: max must be greater than min (1.0), found 0.5"))
  }

  @Test("Ctrl-C stops the trials cleanly, and running the same command again resumes the study")
  func interruptAndResume() async throws {
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
    await pause(1.5)
    running.process.interrupt()
    let (status, output) = await running.finish()
    // Then it exits 130 after saving the study as interrupted
    #expect(status == 130, "\(output)")
    #expect(output.contains("Study 'cli-resume' (id 1) interrupted"))
    // And the same command resumes it to completion
    let (resumedStatus, resumed) = try await HPODProcess.run(["run", spec], home: home)
    #expect(resumedStatus == 0, "\(resumed)")
    #expect(resumed.contains("interrupted or crashed trial(s) will run again"))
    #expect(resumed.contains("Study 'cli-resume' (id 1) completed"))
    #expect(resumed.contains("4 completed"))
  }
}
