import Foundation

/// What Slurm says of one job: from one line of `squeue` while it is queued or running, or
/// from `scontrol -o show job` for its exit.
struct SlurmJobStatus: Sendable, Hashable {
  var jobId: String
  /// PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY,
  /// NODE_FAIL, PREEMPTED, BOOT_FAIL, DEADLINE, ...
  var state: String
  /// Why it is pending, or why it ended (`None`, `PartitionTimeLimit`, `NonZeroExitCode`).
  var reason: String
  var node: String?
  var comment: String
  /// `ExitCode=status:signal`, once it ended.
  var exitStatus: Int?
  var exitSignal: Int?
  /// The time limit Slurm gave the job (`TimeLimit=`).
  var timeLimit: String?
  /// When it began to run, once it did.
  var startTime: Date?
  /// When it was submitted, as Slurm prints it (`2026-12-02T04:45:49`): with the comment, it
  /// tells a job from a later one that got the same id.
  var submitTime: String?

  /// The `squeue --format` that `init(squeueLine:)` reads; the comment is last, since it is
  /// free text.
  static let squeueFormat = "%i|%T|%r|%N|%S|%V|%k"

  init?(squeueLine line: Substring) {
    let fields = line.split(separator: "|", maxSplits: 6, omittingEmptySubsequences: false).map(String.init)
    guard fields.count == 7, !fields[0].isEmpty else { return nil }
    jobId = fields[0]
    state = fields[1]
    reason = fields[2]
    node = fields[3].isEmpty || fields[3] == "(null)" ? nil : fields[3]
    submitTime = Self.time(fields[5])
    comment = fields[6] == "(null)" ? "" : fields[6]
    if isRunning || isFinished { startTime = Self.date(fields[4]) }
  }

  /// A time Slurm printed, or nil for `N/A`, `Unknown`, `None` or empty.
  static func time(_ text: String) -> String? {
    text.first?.isNumber == true ? text : nil
  }

  /// Slurm's times (`2026-12-02T04:45:49`) are in the local time zone of the machine.
  static func date(_ text: String) -> Date? {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = .current
    formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
    return formatter.date(from: text)
  }

  /// Reads `scontrol -o show job` (one line of `Key=Value` pairs). Values are read up to the
  /// next ` Key=`, so a comment with spaces is kept whole.
  init?(scontrolLine line: String) {
    func value(_ key: String) -> String? {
      guard let range = line.range(of: "(^| )\(key)=", options: .regularExpression) else { return nil }
      let rest = line[range.upperBound...]
      let end = rest.range(of: " [A-Za-z:/]+=", options: .regularExpression)?.lowerBound ?? rest.endIndex
      // Fields are separated by one space, some (Comment) by two.
      return rest[..<end].trimmingCharacters(in: .whitespaces)
    }
    guard let id = value("JobId"), let state = value("JobState") else { return nil }
    jobId = id
    self.state = state
    reason = value("Reason") ?? "None"
    let nodes = value("NodeList")
    node = nodes == nil || nodes == "(null)" || nodes == "" ? nil : nodes
    let comment = value("Comment") ?? ""
    self.comment = comment == "(null)" ? "" : comment
    timeLimit = value("TimeLimit")
    startTime = value("StartTime").flatMap(Self.date)
    submitTime = value("SubmitTime").flatMap(Self.time)
    if let exit = value("ExitCode") {
      let parts = exit.split(separator: ":")
      exitStatus = parts.first.flatMap { Int($0) }
      exitSignal = parts.count > 1 ? Int(parts[1]) : nil
    }
  }

  var isRunning: Bool { state == "RUNNING" || state == "COMPLETING" }
  var isPending: Bool {
    ["PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "RESIZING", "SUSPENDED"].contains(state)
  }
  var isFinished: Bool { !isRunning && !isPending && state != "STOPPED" && state != "SIGNALING" }

  /// Pending reasons that never clear by waiting: the job is cancelled at once with this reason.
  /// Reasons that clear by themselves (a drained or re-registering node, `ReqNodeNotAvail`,
  /// `Resources`, `Priority`, a partition down for maintenance) are waited out: see
  /// `waitingReason`.
  static let hopelessReasons: [String: String] = [
    "PartitionTimeLimit": "its time limit is longer than the partition's (lower executor.time)",
    "PartitionNodeLimit": "it asks for more nodes than the partition has",
    "InvalidAccount": "the account is not valid (executor.account)",
    "InvalidQOS": "the QOS is not valid (executor.qos)",
    "BadConstraints": "no node has the features it asks for (executor.constraint)",
    "QOSMaxWallDurationPerJobLimit": "its time limit is longer than its QOS allows (lower executor.time)",
    "AssocMaxWallDurationPerJobLimit": "its time limit is longer than its account allows (lower executor.time)",
    "DependencyNeverSatisfied": "a dependency can never be met",
  ]

  /// Why the job can never start, when it is pending for such a reason.
  var hopelessReason: String? {
    guard isPending else { return nil }
    return Self.hopelessReasons.first { reason.hasPrefix($0.key) }.map { "\($0.value) (Slurm: \(reason))" }
  }

  /// Why the job waits in the queue, for the trial's status: Slurm's reason, explained where
  /// it names a node that is not available. Nil when it does not wait.
  var waitingReason: String? {
    guard isPending, hopelessReason == nil else { return nil }
    let why: String
    switch reason {
    case _ where reason.hasPrefix("ReqNodeNotAvail"):
      why = "the nodes it needs are not available now (drained, down or re-registering)"
    case _ where reason.hasPrefix("Nodes required for job are DOWN, DRAINED"), "NodeDown":
      why = "its nodes are down or drained"
    case "Resources": why = "waiting for free resources"
    case "Priority": why = "jobs of higher priority go first"
    case "PartitionDown", "PartitionInactive": why = "the partition is not up"
    case "BeginTime": why = "its start time has not come"
    case "None", "": return "waiting in Slurm's queue"
    default: return "waiting in Slurm's queue (Slurm: \(reason))"
    }
    return "waiting in Slurm's queue: \(why) (Slurm: \(reason))"
  }

  /// How the job ended, in hpod's terms.
  func exit(settings: SlurmSettings) -> TrialExit {
    let job = "Slurm job \(jobId)"
    switch state {
    case "COMPLETED",
      "FAILED" where reason != "JobLaunchFailure":
      if let signal = exitSignal, signal != 0 { return .signalled(signal: signal) }
      return .exited(code: exitStatus ?? (state == "COMPLETED" ? 0 : 1))
    case "FAILED":
      return .failed("\(job) could not be launched on \(node ?? "its node") (Slurm: JobLaunchFailure)")
    case "CANCELLED":
      return .cancelled("\(job) was cancelled in Slurm (scancel)")
    case "TIMEOUT", "DEADLINE":
      let limit = timeLimit ?? settings.time ?? "its limit"
      return .timedOut("stopped by Slurm at its time limit of \(limit) (executor.time)")
    case "OUT_OF_MEMORY":
      return .failed(
        "\(job) ran out of memory" + (settings.mem.map { " (executor.mem: \($0))" } ?? "")
          + "; ask for more with executor.mem")
    case "NODE_FAIL":
      return .interrupted("node \(node ?? "?") failed under \(job) (Slurm: NODE_FAIL)")
    case "BOOT_FAIL":
      return .interrupted("node \(node ?? "?") failed to boot for \(job) (Slurm: BOOT_FAIL)")
    case "PREEMPTED":
      return .interrupted("\(job) was preempted by Slurm")
    default:
      return .failed("Slurm ended \(job) as \(state) (reason: \(reason))")
    }
  }
}
