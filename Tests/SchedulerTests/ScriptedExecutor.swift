import Foundation
import Synchronization
import TrackingBridge

@testable import TrialScheduler

/// A test double for the executor seam: each launch plays the next script (reported lines,
/// then an exit) without starting a process, so the runner's handling of every kind of end
/// can be tested without a cluster that fails nodes or preempts on cue.
final class ScriptedExecutor: TrialExecutor {
  struct Script: Sendable {
    var lines: [String]
    var exit: TrialExit
  }

  private let scripts: Mutex<[Script]>
  private let launched = Mutex(0)

  init(_ scripts: [Script]) {
    self.scripts = Mutex(scripts)
  }

  /// How many trials were launched.
  var launches: Int { launched.withLock { $0 } }

  func launch(_ launch: TrialLaunch) async throws(TrialLaunchError) -> any RunningTrial {
    let script = scripts.withLock { scripts -> Script? in scripts.isEmpty ? nil : scripts.removeFirst() }
    guard let script else { throw TrialLaunchError("the scripted executor has no script left") }
    let number = launched.withLock { count in
      defer { count += 1 }
      return count
    }
    return ScriptedTrial(script: script, handle: .local(pid: Int32(100_000 + number), startTicks: nil))
  }

  func reclaim(_ handle: TrialHandle) async -> Reclaim { .gone }
}

/// A trial that reports its script's lines at once and ends with its exit.
final class ScriptedTrial: RunningTrial {
  let handle: TrialHandle
  let output: AsyncStream<TrialOutput>
  private let end: TrialExit

  init(script: ScriptedExecutor.Script, handle: TrialHandle) {
    self.handle = handle
    end = script.exit
    let (stream, continuation) = AsyncStream.makeStream(of: TrialOutput.self)
    continuation.yield(.started(handle, at: Date()))
    continuation.yield(.lines(script.lines, handle: nil))
    continuation.finish()
    output = stream
  }

  func exit() async -> TrialExit { end }
  func stop(gracePeriod: Duration) {}
  func kill() {}
  func detach() -> Bool { false }
  func diagnosticTail() -> String? { "scripted stderr" }
}
