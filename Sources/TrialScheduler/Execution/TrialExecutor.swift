public import Foundation

/// Everything needed to start one trial process.
public struct TrialLaunch: Sendable, Hashable {
  public var argv: [String]
  public var workdir: String
  /// The complete environment of the process.
  public var environment: [String: String]
  public var stdoutLog: String
  public var stderrLog: String
  /// Each log keeps at most this many bytes; the rest is counted and dropped.
  public var logLimitBytes: Int
  /// Only stdout lines starting with this prefix are reported back (all lines go to the log).
  public var reportPrefix: String

  public init(
    argv: [String], workdir: String, environment: [String: String], stdoutLog: String, stderrLog: String,
    logLimitBytes: Int = 10_000_000, reportPrefix: String = "hpod "
  ) {
    self.argv = argv
    self.workdir = workdir
    self.environment = environment
    self.stdoutLog = stdoutLog
    self.stderrLog = stderrLog
    self.logLimitBytes = logLimitBytes
    self.reportPrefix = reportPrefix
  }
}

/// How a trial process ended.
public enum TrialExit: Sendable, Hashable, CustomStringConvertible {
  case exited(code: Int)
  case signalled(signal: Int)

  public var succeeded: Bool { self == .exited(code: 0) }

  public var description: String {
    switch self {
    case .exited(let code): "exited with status \(code)"
    case .signalled(let signal): "killed by signal \(signal) (\(TrialExit.signalName(signal)))"
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

  public init(_ message: String) {
    self.message = message
  }

  public var description: String { message }
}

/// A started trial process.
public protocol RunningTrial: Sendable {
  var pid: Int32 { get }
  /// Batches of reported stdout lines (prefix stripped), in order; finishes when the process
  /// has exited and its output is drained.
  var reports: AsyncStream<[String]> { get }
  /// Waits for the process to end (its output drained, leftover group members killed).
  func exit() async -> TrialExit
  /// Asks the whole process group to stop: SIGTERM now, SIGKILL after `gracePeriod` if the
  /// trial is still running then. Returns at once.
  func stop(gracePeriod: Duration)
  /// SIGKILL to the whole process group now.
  func kill()
}

/// Starts trial processes (like a job-queue driver): locally, or on a cluster.
public protocol TrialExecutor: Sendable {
  func launch(_ launch: TrialLaunch) throws(TrialLaunchError) -> any RunningTrial
}
