import Foundation
import Testing

@testable import TrialScheduler

/// A trial whose grandchild daemonizes (fork, setsid, fork again) and outlives its parent.
@Suite("A trial's whole process tree")
struct ProcessTreeTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  /// A trial that starts a daemonized grandchild, writes its pid, waits until the test has seen
  /// the grandchild alive (`<pid file>.seen`), then ends with `ending`.
  func daemonizingTrial(then ending: String) throws -> String {
    try sandbox.script(
      "daemonize.sh",
      """
      python3 \(Self.daemonize) "$1"
      while [ ! -s "$1" ]; do sleep 0.01; done
      echo 'hpod {"score": 1}'
      while [ ! -e "$1.seen" ]; do sleep 0.01; done
      \(ending)
      """)
  }

  static let daemonize = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/daemonize.py").path

  /// Launches the daemonizing trial, which writes its grandchild's pid to `pidFile`.
  func launch(then ending: String, pidFile: String) throws -> any RunningTrial {
    try LocalProcessExecutor().start(
      TrialLaunch(
        argv: [try daemonizingTrial(then: ending), pidFile], workdir: sandbox.root,
        environment: ProcessInfo.processInfo.environment, workspace: TrialWorkspace(directory: sandbox.root),
        logLimitBytes: 1_000_000))
  }

  /// The grandchild's pid, once it is running; tells the trial it was seen.
  func grandchild(_ file: String) async throws -> Int32 {
    #expect(await eventually(10) { ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").count > 0 })
    let pid = try #require(Int32(try String(contentsOfFile: file, encoding: .utf8)))
    #expect(!isGone(pid), "the grandchild should be running while the trial runs")
    FileManager.default.createFile(atPath: "\(file).seen", contents: nil)
    return pid
  }

  @Test("a grandchild that left the trial's process group dies when the trial exits")
  func daemonizedGrandchildEndsWithTrial() async throws {
    let pidFile = "\(sandbox.root)/grandchild.pid"
    let trial = try launch(then: "exit 0", pidFile: pidFile)
    let pid = try await grandchild(pidFile)
    #expect(await trial.exit() == .exited(code: 0))
    #expect(await eventually(3) { isGone(pid) }, "grandchild \(pid) outlived its trial (\(ProcessTree.mode))")
  }

  @Test("stopping a trial stops its daemonized grandchild too")
  func stopReachesGrandchild() async throws {
    let pidFile = "\(sandbox.root)/grandchild.pid"
    let trial = try launch(then: "sleep 300", pidFile: pidFile)
    let pid = try await grandchild(pidFile)
    trial.stop(gracePeriod: .seconds(1))
    _ = await trial.exit()
    #expect(await eventually(3) { isGone(pid) }, "grandchild \(pid) survived the stop (\(ProcessTree.mode))")
  }
}
