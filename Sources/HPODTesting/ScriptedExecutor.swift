public import Foundation
public import StudyModel
import Synchronization
public import TrackingBridge
public import TrialScheduler

/// A `TrialExecutor` for tests, as swift-jobs' memory queue is for job handlers: each launch
/// plays a script — the lines the trial reports, then how it ends — without starting a
/// process. A test of the scheduler writes what each trial reports (from its configuration,
/// or in turn) instead of a shell script, and tests every kind of end (a node failure, a
/// preemption, a lost job) without a cluster that fails on cue.
public final class ScriptedExecutor: TrialExecutor {
  /// What one trial does: report `lines` (without the `hpod ` prefix), then end with `exit`.
  public struct Script: Sendable {
    public var lines: [String]
    public var exit: TrialExit
    /// The last of what the trial wrote to stderr, which a failed trial's reason quotes.
    public var stderr: String

    public init(lines: [String], exit: TrialExit, stderr: String = "scripted stderr") {
      self.lines = lines
      self.exit = exit
      self.stderr = stderr
    }

    /// A trial that reports `metrics` at its end and exits 0.
    public static func reporting(_ metrics: [String: Double]) -> Script {
      let fields = metrics.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }
      return Script(lines: ["{\(fields.joined(separator: ", "))}"], exit: .exited(code: 0))
    }
  }

  /// The scripts still to play in turn (empty when `make` makes them).
  private let queued: Mutex<[Script]>
  private let make: (@Sendable (TrialLaunch) -> Script)?
  private let launchedTrials = Mutex<[TrialLaunch]>([])

  /// Plays `scripts` in turn, one per launch; a launch beyond them fails to start.
  public init(_ scripts: [Script]) {
    queued = Mutex(scripts)
    make = nil
  }

  /// Plays the script `script` makes for each launch (from its configuration, say).
  public init(_ script: @escaping @Sendable (TrialLaunch) -> Script) {
    queued = Mutex([])
    make = script
  }

  /// A trial that reports `metric` as `value` of its configuration and exits 0.
  public static func reporting(_ metric: String, _ value: @escaping @Sendable (Configuration) -> Double)
    -> ScriptedExecutor
  {
    ScriptedExecutor { launch in .reporting([metric: value(launch.configuration)]) }
  }

  /// How many trials were launched.
  public var launches: Int { launchedTrials.withLock { $0.count } }

  /// Every launch so far, in order: the argv, environment and configuration each trial got.
  public var launched: [TrialLaunch] { launchedTrials.withLock { $0 } }

  public func launch(_ launch: TrialLaunch) async throws(TrialLaunchError) -> any RunningTrial {
    let script = make?(launch) ?? queued.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    guard let script else { throw TrialLaunchError("the scripted executor has no script left") }
    let number = launchedTrials.withLock { launched in
      launched.append(launch)
      return launched.count - 1
    }
    // A pid no process has: nothing a test runs is mistaken for it.
    return ScriptedTrial(script: script, handle: .local(pid: Int32(100_000 + number), startTicks: nil))
  }

  /// A scripted trial leaves nothing behind for a later hpod to adopt.
  public func reclaim(_ handle: TrialHandle) async -> Reclaim { .gone }
}

extension TrialLaunch {
  /// The trial's configuration, as its parameter file has it.
  public var configuration: Configuration {
    // The runner wrote this JSON from a Configuration; a test that builds a launch by hand
    // with other text gets an empty one.
    (try? JSONDecoder().decode(Configuration.self, from: Data(paramsJSON.utf8))) ?? Configuration()
  }
}

/// A trial that reports its script's lines at once and ends with its exit.
final class ScriptedTrial: RunningTrial {
  let handle: TrialHandle
  let output: AsyncStream<TrialOutput>
  private let end: TrialExit
  private let stderr: String

  init(script: ScriptedExecutor.Script, handle: TrialHandle) {
    self.handle = handle
    end = script.exit
    stderr = script.stderr
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
  func diagnosticTail() -> String? { stderr }
}
