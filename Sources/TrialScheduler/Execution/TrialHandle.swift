public import Foundation
public import TrackingBridge

/// Where an executor runs a trial, saved in the trial's row so that a restarted hpod can find
/// the trial again (a Slurm job outlives hpod; a local process tree is killed instead).
public enum TrialHandle: Sendable, Hashable, Codable, CustomStringConvertible {
  /// A child process of an hpod: its pid, and its start time in clock ticks since boot (from
  /// /proc), which tells it from an unrelated process that reused the pid.
  case local(pid: Int32, startTicks: Int64?)
  /// A Slurm batch job.
  case slurm(job: SlurmJobHandle)
  /// Run outside hpod and reported through ask and tell.
  case external

  public var description: String {
    switch self {
    case .local(let pid, _): "pid \(pid)"
    case .slurm(let job): "Slurm job \(job.jobId)" + (job.node.map { " on \($0)" } ?? "")
    case .external: "external"
    }
  }

  /// The handle as the store keeps it.
  public var json: String { JSONCoding.text(self) }

  /// The handle in a trial's row; nil for none or one this hpod cannot read.
  public init?(json: String?) {
    guard let json, let handle = try? JSONCoding.decoder.decode(TrialHandle.self, from: Data(json.utf8)) else {
      return nil
    }
    self = handle
  }
}

/// A trial submitted to Slurm, and how far hpod has read its output.
public struct SlurmJobHandle: Sendable, Hashable, Codable {
  public var jobId: String
  /// The job's `--comment`, unique to this trial: a restarted hpod adopts a job only when its
  /// comment matches, since job ids start again when a cluster is recreated.
  public var comment: String
  /// The node the job runs on, once it runs.
  public var node: String?
  /// The job's stdout file on the shared folder, and the byte offset up to which its complete
  /// lines were read and stored.
  public var stdoutPath: String
  public var stderrPath: String
  public var stdoutOffset: Int64

  public init(
    jobId: String, comment: String, node: String? = nil, stdoutPath: String, stderrPath: String,
    stdoutOffset: Int64 = 0
  ) {
    self.jobId = jobId
    self.comment = comment
    self.node = node
    self.stdoutPath = stdoutPath
    self.stderrPath = stderrPath
    self.stdoutOffset = stdoutOffset
  }
}

extension TrialRecord {
  /// Where this trial runs or ran, when its executor saved it.
  public var executorHandle: TrialHandle? { TrialHandle(json: handle) }
}
