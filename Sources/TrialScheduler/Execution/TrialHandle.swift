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
  /// How far `reportsPath` (or, for a job of an older hpod that has none, `stdoutPath`) was read.
  public var stdoutOffset: Int64
  /// The job's name (`hpod-<study id>-<trial number>`); every scancel names it, so that a job id
  /// Slurm gave again to another job is never cancelled. Nil in handles of older hpods.
  public var name: String?
  /// When Slurm says it was submitted (`SubmitTime`), learnt when hpod first sees the job: with
  /// the comment, it tells the trial's job from a later one Slurm gave the same id.
  public var submitTime: String?
  /// The file the job's script copies the trial's report lines to, uncapped (the logs keep only
  /// `trial.log_limit` bytes each). Nil in handles of older hpods: they read `stdoutPath`.
  public var reportsPath: String?
  /// The file the job's script writes the trial's exit status to, read when Slurm no longer
  /// knows the job (its controller lost it, or it ended longer than MinJobAge ago).
  public var exitMarkerPath: String?

  public init(
    jobId: String, comment: String, node: String? = nil, stdoutPath: String, stderrPath: String,
    stdoutOffset: Int64 = 0, name: String? = nil, reportsPath: String? = nil, exitMarkerPath: String? = nil
  ) {
    self.jobId = jobId
    self.comment = comment
    self.node = node
    self.stdoutPath = stdoutPath
    self.stderrPath = stderrPath
    self.stdoutOffset = stdoutOffset
    self.name = name
    self.reportsPath = reportsPath
    self.exitMarkerPath = exitMarkerPath
  }

  /// The job's name: as saved, or from the comment (`hpod <name> <uuid>`) of an older handle.
  var jobName: String? {
    if let name { return name }
    let words = comment.split(separator: " ")
    return words.count == 3 && words[0] == "hpod" ? String(words[1]) : nil
  }

  /// Whether what Slurm says of job `jobId` is about this trial's job, not about a later one
  /// that got the same id (ids start again when a controller loses its state).
  func isSameJob(_ status: SlurmJobStatus) -> Bool {
    guard status.jobId == jobId, status.comment == comment else { return false }
    if let submitTime, let seen = status.submitTime, seen != submitTime { return false }
    return true
  }
}

extension TrialRecord {
  /// Where this trial runs or ran, when its executor saved it.
  public var executorHandle: TrialHandle? { TrialHandle(json: handle) }
}
