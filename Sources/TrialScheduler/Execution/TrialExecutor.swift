public import Foundation
public import StudyModel
public import TrackingBridge

/// Everything needed to start one trial.
public struct TrialLaunch: Sendable, Hashable {
  public var argv: [String]
  public var workdir: String
  /// The complete environment of the trial.
  public var environment: [String: String]
  /// The trial's folder, parameter file and logs.
  public var workspace: TrialWorkspace
  /// The configuration as JSON, written to the workspace's parameter file.
  public var paramsJSON: String
  /// Each log keeps at most this many bytes; the rest is counted and dropped (a Slurm job's
  /// script caps its own logs the same way).
  public var logLimitBytes: Int
  /// Only stdout lines starting with this prefix are reported back (all lines go to the log).
  public var reportPrefix: String
  /// Names the trial to the executor (a Slurm job's name and comment), e.g. `hpod-3-17`.
  public var label: String
  /// The trial's tier, whose executor settings apply (full trainings may ask for more).
  public var tier: Tier
  /// What the trial declared it needs (`resources:`): a cluster job asks for it; a local
  /// trial already has its devices in CUDA_VISIBLE_DEVICES.
  public var resources: StudySpec.Resources

  public init(
    argv: [String], workdir: String, environment: [String: String], workspace: TrialWorkspace,
    paramsJSON: String = "{}", logLimitBytes: Int = 10_000_000, reportPrefix: String = "hpod ",
    label: String = "hpod-trial", tier: Tier = .quickTest, resources: StudySpec.Resources = .none
  ) {
    self.tier = tier
    self.resources = resources
    self.argv = argv
    self.workdir = workdir
    self.environment = environment
    self.workspace = workspace
    self.paramsJSON = paramsJSON
    self.logLimitBytes = logLimitBytes
    self.reportPrefix = reportPrefix
    self.label = label
  }
}

/// How a trial ended, as its executor saw it.
public enum TrialExit: Sendable, Hashable, CustomStringConvertible {
  case exited(code: Int)
  case signalled(signal: Int)
  /// Ended by someone other than hpod (e.g. `scancel` by hand).
  case cancelled(String)
  /// The executor's own time limit ended it (Slurm's `time`).
  case timedOut(String)
  /// The executor could not run it to its end for a reason of the trial's (out of memory, a
  /// job Slurm cannot schedule or launch).
  case failed(String)
  /// The machine failed the trial, not the trial itself (a node failure, a preemption): it is
  /// run again without counting against its retries.
  case interrupted(String)
  /// The executor no longer knows the trial and cannot say how it ended.
  case lost(String)
  /// hpod stopped following a trial that keeps running (a Slurm job while the daemon shuts
  /// down); the next hpod adopts it.
  case detached

  public var succeeded: Bool { self == .exited(code: 0) }

  public var description: String {
    switch self {
    case .exited(let code): "exited with status \(code)"
    case .signalled(let signal): "killed by signal \(signal) (\(TrialExit.signalName(signal)))"
    case .cancelled(let why), .timedOut(let why), .failed(let why), .interrupted(let why), .lost(let why): why
    case .detached: "left running for the next hpod to adopt"
    }
  }

  static func signalName(_ signal: Int) -> String {
    let names = [
      1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL",
      11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM",
    ]
    return names[signal] ?? "signal \(signal)"
  }
}

/// A trial that could not be started at all.
public struct TrialLaunchError: Error, Sendable, Hashable, CustomStringConvertible {
  public var message: String
  /// Set when the executor cannot reach what runs its trials (a Slurm controller that does
  /// not answer): the trial is not at fault and the study waits and tries again, as it does
  /// for a store that cannot be written; `awaiting` says what it waits for.
  public var awaiting: String?

  public init(_ message: String, awaiting: String? = nil) {
    self.message = message
    self.awaiting = awaiting
  }

  public var isOutage: Bool { awaiting != nil }

  public var description: String { message }
}

/// What a started trial tells its runner, in order.
public enum TrialOutput: Sendable, Hashable {
  /// The trial runs, since `at` (a local process at once; a cluster job once it left the queue).
  case started(TrialHandle, at: Date)
  /// Reported stdout lines (prefix stripped); `handle`, when set, is the trial's handle with
  /// its read position after these lines, to be saved together with their points.
  case lines([String], handle: TrialHandle?)
  /// Why the trial waits (a cluster job held in its queue: a drained node, resources; a
  /// controller that does not answer), each time that changes; nil once it no longer waits.
  case waiting(String?)
  /// The executor cannot reach what runs the trial (a Slurm controller that does not answer;
  /// the job runs on meanwhile), or can again (nil): the study pauses meanwhile.
  case unreachable(String?)
}

/// A started trial.
public protocol RunningTrial: Sendable {
  /// Where it runs, to be saved in its row.
  var handle: TrialHandle { get }
  /// Its start and its reported lines, in order; finishes when the trial has ended and its
  /// output is drained.
  var output: AsyncStream<TrialOutput> { get }
  /// Waits for the trial to end (its output drained, leftover processes killed).
  func exit() async -> TrialExit
  /// Asks the trial to stop: SIGTERM now, SIGKILL after `gracePeriod` if it is still running
  /// then. Returns at once.
  func stop(gracePeriod: Duration)
  /// Ends the trial now.
  func kill()
  /// Stops following a trial that can outlive hpod, leaving it running (`exit` returns
  /// `.detached`); false, doing nothing, for one that cannot.
  func detach() -> Bool
  /// The last lines of its error output, for a reason a user can act on.
  func diagnosticTail() -> String?
  /// Whether its process is known to have exited already, whatever its output still holds.
  /// A timeout that fires after that is no timeout: the trial ended within its limit, and
  /// only the daemon was slow to read it.
  var hasExited: Bool { get }
}

extension RunningTrial {
  public var hasExited: Bool { false }
}

/// Starts trials (like a job-queue driver): locally, or on a cluster.
public protocol TrialExecutor: Sendable {
  /// Whether the executor gives each trial its devices itself (a cluster's scheduler), so
  /// hpod's own placement (`ResourcePool`) is skipped.
  var placesTrialsItself: Bool { get }
  /// Where the trial's files go; `defaultDirectory` is its folder in hpod's home.
  func workspace(studyId: Int64, trialNumber: Int, defaultDirectory: String) -> TrialWorkspace
  /// Creates the trial's folder, parameter file and artifact folder.
  func prepare(_ launch: TrialLaunch) throws
  /// Starts the prepared trial.
  func launch(_ launch: TrialLaunch) async throws(TrialLaunchError) -> any RunningTrial
  /// After a restart, what becomes of the unfinished trial behind `handle`: re-adopted (still
  /// running, or ended while no hpod watched, to be drained and judged), or not (its leftovers
  /// cleaned up, if it had any): the runner then runs it again. The runner names no executor:
  /// each says what it did.
  func reclaim(_ handle: TrialHandle) async -> Reclaim
}

/// What an executor made of an unfinished trial's handle after a restart.
public enum Reclaim: Sendable {
  /// Followed on from where the last hpod stopped.
  case adopted(any RunningTrial)
  /// Not followable; what was left of it (a process tree) was ended, as described.
  case cleanedUp(String)
  /// Nothing of it is left to follow or to end.
  case gone

  /// The adopted trial, if it was.
  public var adopted: (any RunningTrial)? {
    if case .adopted(let trial) = self { trial } else { nil }
  }
}

extension TrialExecutor {
  /// The leftovers of a trial a local hpod started (its process group), ended: blocking
  /// system calls, on `BlockingWork`. Any executor may meet such a handle (a study whose
  /// spec moved to a cluster).
  func reclaimLocalLeftovers(_ handle: TrialHandle) async -> Reclaim {
    guard case .local(let pid, let startTicks) = handle else { return .gone }
    let killed = (try? await BlockingWork.run { ProcessTable.killLeftover(pid: Int(pid), startTicks: startTicks) })
    // BlockingWork only throws when the daemon's threads are gone (shutdown): nothing was killed then.
    return killed == true ? .cleanedUp("killed the leftover processes of pid \(pid)") : .gone
  }
}

extension TrialExecutor {
  public var placesTrialsItself: Bool { false }

  public func workspace(studyId: Int64, trialNumber: Int, defaultDirectory: String) -> TrialWorkspace {
    TrialWorkspace(directory: defaultDirectory)
  }

  public func prepare(_ launch: TrialLaunch) throws {
    try launch.workspace.create(paramsJSON: launch.paramsJSON)
  }
}
