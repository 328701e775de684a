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

  /// Runs, with `hpod run --plain` in `home`, a study `name` of one float parameter x in
  /// `range` whose trial is the shell `script` (x is its $1); returns hpod run's status and output.
  func runStudy(
    _ name: String, script: String, objective: String = "score", range: String = "min: 0, max: 1", trials: Int = 3,
    extra: String = "", home: String
  ) async throws -> (status: Int32, output: String) {
    let trial = try write("\(name).sh", "#!/bin/sh\n" + script + "\n", executable: true)
    let spec = try write(
      "\(name).yaml",
      """
      name: \(name)
      objective: {metric: \(objective), direction: maximize}
      search: {algorithm: random, seed: 2, max_trials: \(trials)}
      parameters:
        x: {type: float, \(range)}
      trial: {command: [\(trial), "{x}"]}
      \(extra)
      """)
    return try await HPODProcess.run(["run", "--plain", spec], home: home)
  }

  @Test("after hpod run, the read commands answer from the local store when no daemon does, and say so")
  func readCommandsFallBackToTheLocalStore() async throws {
    // Given a study hpod run ran in a home, and no daemon where the client looks
    let home = "\(folder)/home"
    let (ran, runOutput) = try await runStudy(
      "cli-local", script: "echo \"training with $1\"\necho \"hpod {\\\"score\\\": $1}\"", home: home)
    #expect(ran == 0, "\(runOutput)")
    let nowhere = ["HPOD_HOME": home, "HPOD_SERVER": "http://127.0.0.1:9"]
    let read = { (arguments: [String]) in
      try await HPODProcess.runProgram(HPODProcess.binary, arguments, environment: nowhere)
    }

    // When the read commands run, they answer from the store and say which they read
    let notice = "no daemon answers at http://127.0.0.1:9; read the local store \(home)/hpod.sqlite"
    let (trialsStatus, trials) = try await read(["trials", "1"])
    #expect(trialsStatus == 0, "\(trials)")
    #expect(trials.contains(notice), "\(trials)")
    #expect(trials.split(separator: "\n").filter { $0.contains("completed") }.count == 3, "\(trials)")
    let (statusStatus, status) = try await read(["status", "1"])
    #expect(statusStatus == 0 && status.contains("cli-local") && status.contains("completed"), "\(status)")
    let (bestStatus, best) = try await read(["best", "1", "--json"])
    #expect(bestStatus == 0 && best.contains("\"value\""), "\(best)")
    let (exportStatus, export) = try await read(["export", "1", "--format", "csv"])
    #expect(exportStatus == 0 && export.split(separator: "\n").count >= 4, "\(export)")
    let (logsStatus, logs) = try await read(["logs", "1", "0"])
    #expect(logsStatus == 0 && logs.contains("training with"), "\(logs)")

    // And without a local store, the user still hears that no daemon answers
    let (missing, said) = try await HPODProcess.runProgram(
      HPODProcess.binary, ["trials", "1"],
      environment: ["HPOD_HOME": "\(folder)/empty", "HPOD_SERVER": "http://127.0.0.1:9"])
    #expect(missing == 1 && said.contains("cannot reach hpod at http://127.0.0.1:9"), "\(said)")

    // And with --json, the daemon's refusal is JSON in the API's error shape
    let (unknownStatus, unknown) = try await read(["trials", "7", "--json"])
    #expect(unknownStatus == 1, "\(unknown)")
    let body = unknown.split(separator: "\n").drop { !$0.hasPrefix("{") }.joined(separator: "\n")
    let error = try #require(
      (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["error"] as? [String: Any],
      "\(unknown)")
    #expect((error["message"] as? String)?.contains("study 7") == true, "\(error)")
  }

  @Test("hpod watch follows a study hpod run drives, from the local store, to its real end")
  func watchFollowsTheLocalStore() async throws {
    // Given a study of slow trials run by hpod run in a home, and no daemon
    let home = "\(folder)/watch-home"
    let trial = try write("slow.sh", "#!/bin/sh\nsleep 0.4\necho \"hpod {\\\"score\\\": $1}\"\n", executable: true)
    let spec = try write(
      "slow.yaml",
      """
      name: cli-watch
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 2, max_trials: 4}
      parameters: {x: {type: float, min: 0, max: 1}}
      trial: {command: [\(trial), "{x}"]}
      """)
    let runner = try HPODProcess(["run", "--plain", spec], home: home)
    #expect(try await waitUntil(seconds: 20) { runner.printed.contains("started") }, "\(runner.printed)")

    // When hpod watch joins it with --json
    let (status, output) = try await HPODProcess.runProgram(
      HPODProcess.binary, ["watch", "1", "--json"],
      environment: ["HPOD_HOME": home, "HPOD_SERVER": "http://127.0.0.1:9"])
    let (ran, runOutput) = await runner.finish()
    #expect(ran == 0, "\(runOutput)")

    // Then it said which store it follows, saw trials finish, and ended with the real counts
    #expect(status == 0, "\(output)")
    #expect(output.contains("read the local store \(home)/hpod.sqlite"), "\(output)")
    let events = output.split(separator: "\n").filter { $0.hasPrefix("{") }.compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    #expect(events.contains { $0["type"] as? String == "trial_finished" }, "\(output)")
    let finished = try #require(events.last, "\(output)")
    #expect(finished["type"] as? String == "study_finished", "\(output)")
    let counts = (finished["study"] as? [String: Any])?["counts"] as? [String: Int]
    #expect(counts?["completed"] == 4 && counts?["running"] == 0, "\(output)")
  }

  @Test("a trial run again after a crash shows its time over all its attempts in the summary")
  func durationOverAttempts() async throws {
    let flag = "\(folder)/crash-once"
    FileManager.default.createFile(atPath: flag, contents: nil)
    let trial = try write(
      "crash-once.sh",
      "#!/bin/sh\nsleep 0.2\nif [ -f \(flag) ]; then rm \(flag); exit 1; fi\necho \"hpod {\\\"score\\\": $1}\"\n",
      executable: true)
    let spec = try write(
      "retried.yaml",
      """
      name: cli-retried
      objective: {metric: score, direction: maximize}
      search: {algorithm: random, seed: 2, max_trials: 1}
      parameters: {x: {type: float, min: 0, max: 1}}
      trial: {command: [\(trial), "{x}"], retries: 1}
      """)
    let (status, output) = try await HPODProcess.run(["run", "--plain", spec], home: "\(folder)/retried-home")
    #expect(status == 0, "\(output)")
    #expect(
      output.range(of: #"  1 +quick_test +[0-9.]+ +[0-9.]+s over 2 attempts"#, options: .regularExpression) != nil,
      "\(output)")
  }

  @Test("a study whose early-stopping metric no trial reports says so in its summary")
  func summaryCallsOutUnreportedMetrics() async throws {
    let (status, output) = try await runStudy(
      "cli-watched", script: "for s in 1 2 3; do echo \"hpod {\\\"step\\\": $s, \\\"val_accuracy\\\": $1}\"; done",
      objective: "val_accuracy", extra: "early_stopping: {rule: median, metric: val_acc}",
      home: "\(folder)/watched-home")
    #expect(status == 0, "\(output)")
    #expect(
      output.contains(
        "Warning: early_stopping.metric names 'val_acc', which no trial reported (did you mean 'val_accuracy'?)"),
      "\(output)")
  }

  @Test("models --json names each version's run by study and trial number, in snake_case")
  func modelsJSON() async throws {
    let home = "\(folder)/models-home"
    let (ran, runOutput) = try await runStudy(
      "cli-models", script: "echo \"hpod {\\\"score\\\": $1}\"", range: "min: 0.5, max: 1", trials: 2,
      extra: "registration: {model: cli-model, when: [\"score >= 0.5\"], alias: champion}", home: home)
    #expect(ran == 0, "\(runOutput)")
    let (status, output) = try await HPODProcess.run(["models", "--json"], home: home)
    #expect(status == 0, "\(output)")
    let listing = try #require(
      try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)")
    let models = try #require(listing["models"] as? [[String: Any]])
    #expect(models.count == 2)
    #expect(Set(models.compactMap { $0["trial"] as? Int }) == [0, 1], "trial numbers, not database ids")
    for model in models {
      #expect(model["model"] as? String == "cli-model" && model["study"] as? String == "cli-models")
      #expect(Set(model.keys).isSuperset(of: ["study_id", "registered_at", "metrics", "params", "aliases"]))
      #expect(!model.keys.contains { $0.contains(where: \.isUppercase) }, "snake_case keys: \(model.keys)")
      #expect((model["metrics"] as? [String: Double])?["score"] != nil)
    }
    #expect(models.filter { ($0["aliases"] as? [String]) == ["champion"] }.count == 1)
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
