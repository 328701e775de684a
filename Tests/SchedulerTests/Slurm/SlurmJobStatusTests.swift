import Foundation
import Testing

@testable import TrialScheduler

@Suite("Slurm job status and state mapping")
struct SlurmJobStatusTests {
  /// A line of `scontrol -o show job` as Slurm 22.05 prints it (shortened): the comment has
  /// spaces and is followed by two spaces.
  static let scontrol =
    "JobId=42 JobName=hpod-1-3 UserId=root(0) GroupId=root(0) JobState=FAILED Reason=NonZeroExitCode "
    + "Dependency=(null) Requeue=0 Restarts=0 BatchFlag=1 ExitCode=3:0 RunTime=00:00:01 TimeLimit=00:10:00 "
    + "StartTime=2026-12-02T04:45:49 EndTime=2026-12-02T04:45:50 Partition=debug AllocNode:Sid=localhost:1352 "
    + "NodeList=vm BatchHost=vm Comment=hpod hpod-1-3 5d1c  StdErr=/tmp/x/stderr.log StdIn=/dev/null"

  @Test("scontrol's line gives state, exit code, node, time limit and the whole comment")
  func readsScontrol() throws {
    let status = try #require(SlurmJobStatus(scontrolLine: Self.scontrol))
    #expect(status.jobId == "42")
    #expect(status.state == "FAILED")
    #expect(status.exitStatus == 3 && status.exitSignal == 0)
    #expect(status.node == "vm")
    #expect(status.comment == "hpod hpod-1-3 5d1c")
    #expect(status.timeLimit == "00:10:00")
    #expect(status.startTime != nil)
    #expect(status.isFinished)
    #expect(status.exit(settings: SlurmSettings()) == .exited(code: 3))
  }

  @Test("squeue's line keeps a comment with the separator in it")
  func readsSqueue() throws {
    let status = try #require(
      SlurmJobStatus(squeueLine: "7|PENDING|PartitionTimeLimit|(null)|N/A|2026-12-07T05:47:13|hpod a|b"))
    #expect(status.state == "PENDING" && status.node == nil && status.comment == "hpod a|b")
    #expect(status.submitTime == "2026-12-07T05:47:13")
    #expect(status.hopelessReason?.contains("longer than the partition's") == true)
    #expect(SlurmJobStatus(squeueLine: "7|PENDING|Resources|(null)|N/A|N/A|c")?.hopelessReason == nil)
  }

  @Test(
    "pending reasons that clear by themselves are waited out, with the reason to show (issue 31)",
    arguments: [
      ("ReqNodeNotAvail, UnavailableNodes:vm", "the nodes it needs are not available now"),
      ("Nodes required for job are DOWN, DRAINED or reserved for jobs in higher priority partitions", "drained"),
      ("Resources", "waiting for free resources"),
      ("Priority", "jobs of higher priority go first"),
      ("PartitionDown", "the partition is not up"),
    ])
  func clearableReasonsWait(reason: String, shown: String) throws {
    let status = try #require(SlurmJobStatus(squeueLine: "7|PENDING|\(reason)|(null)|N/A|N/A|c"[...]))
    #expect(status.hopelessReason == nil, "\(reason) clears by itself: the trial must wait, not fail")
    let waiting = try #require(status.waitingReason)
    #expect(waiting.contains(shown) && waiting.contains("(Slurm: \(reason))"), "\(waiting)")
    let running = try #require(SlurmJobStatus(squeueLine: "7|RUNNING|None|vm|N/A|N/A|c"[...]))
    #expect(running.waitingReason == nil)
  }

  @Test("a job is the trial's only with its comment and, once seen, its submit time: a reused id is another job")
  func reusedIdIsAnotherJob() throws {
    var handle = SlurmJobHandle(jobId: "6", comment: "hpod hpod-1-2 u1", stdoutPath: "/o", stderrPath: "/e")
    let own = try #require(
      SlurmJobStatus(squeueLine: "6|RUNNING|None|vm|N/A|2026-12-07T05:48:40|hpod hpod-1-2 u1"[...]))
    let reused = try #require(
      SlurmJobStatus(squeueLine: "6|PENDING|None||N/A|2026-12-07T05:49:01|hpod hpod-1-5 u2"[...]))
    #expect(handle.isSameJob(own))
    #expect(!handle.isSameJob(reused))
    handle.submitTime = "2026-12-07T05:40:00"
    #expect(!handle.isSameJob(own), "the same comment with another submit time is not the trial's job")
    #expect(handle.jobName == "hpod-1-2", "the name comes from the comment of an older handle")
  }

  @Test(
    "every end state maps to the trial exit the README's table gives",
    arguments: [
      ("COMPLETED", "None", "0:0", TrialExit.exited(code: 0)),
      ("FAILED", "NonZeroExitCode", "3:0", .exited(code: 3)),
      ("FAILED", "NonZeroExitCode", "0:9", .signalled(signal: 9)),
      (
        "FAILED", "JobLaunchFailure", "0:0",
        .failed("Slurm job 1 could not be launched on vm (Slurm: JobLaunchFailure)")
      ),
      ("CANCELLED", "None", "0:15", .cancelled("Slurm job 1 was cancelled in Slurm (scancel)")),
      ("TIMEOUT", "TimeLimit", "0:15", .timedOut("stopped by Slurm at its time limit of 00:01:00 (executor.time)")),
      (
        "OUT_OF_MEMORY", "OutOfMemory", "0:125",
        .failed("Slurm job 1 ran out of memory (executor.mem: 1G); ask for more with executor.mem")
      ),
      ("NODE_FAIL", "NodeDown", "0:0", .interrupted("node vm failed under Slurm job 1 (Slurm: NODE_FAIL)")),
      ("PREEMPTED", "None", "0:0", .interrupted("Slurm job 1 was preempted by Slurm")),
    ])
  func mapsStates(state: String, reason: String, exitCode: String, expected: TrialExit) throws {
    let line =
      "JobId=1 JobState=\(state) Reason=\(reason) ExitCode=\(exitCode) TimeLimit=00:01:00 NodeList=vm Comment=c"
    let status = try #require(SlurmJobStatus(scontrolLine: line))
    #expect(status.exit(settings: SlurmSettings(mem: "1G")) == expected)
  }

  @Test("sbatch gets hpod's own options, the spec's, and a trial's declared resources")
  func sbatchArguments() {
    let launch = TrialLaunch(
      argv: ["python3", "train.py"], workdir: "/work", environment: [:], workspace: TrialWorkspace(directory: "/t/3"),
      label: "hpod-1-3", resources: .init(gpus: 2, cpus: 4))
    let arguments = SlurmExecutor.sbatchArguments(
      settings: SlurmSettings(partition: "gpu", time: "1:00:00", extraArguments: ["--nodelist=n1"]), launch: launch,
      comment: "hpod hpod-1-3 x")
    #expect(
      arguments == [
        "--parsable", "--no-requeue", "--job-name=hpod-1-3", "--comment=hpod hpod-1-3 x", "--chdir=/work",
        "--output=/t/3/stdout.log", "--error=/t/3/stderr.log", "--input=/dev/null", "--export=ALL", "--partition=gpu",
        "--time=1:00:00", "--cpus-per-task=4", "--gres=gpu:2", "--nodelist=n1",
      ])
    let environment = SlurmExecutor.jobEnvironment([
      "HPOD_TRIAL_ID": "3", "SBATCH_PARTITION": "x", "SLURM_JOB_ID": "9", "SLURM_CONF": "/c", "MLFLOW_RUN_ID": "r",
    ])
    #expect(environment == ["HPOD_TRIAL_ID": "3", "SLURM_CONF": "/c", "MLFLOW_RUN_ID": "r"])
  }
}

@Suite("Following a growing output file")
struct OutputTailTests {
  let sandbox: Sandbox

  init() throws {
    sandbox = try Sandbox()
  }

  func append(_ path: String, _ text: String) throws {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(text.utf8))
    try handle.close()
  }

  @Test("a partial line waits for its newline; the boundary is where a later reader resumes; truncation restarts")
  func tailsGrowingFile() throws {
    let path = "\(sandbox.root)/out"
    FileManager.default.createFile(atPath: path, contents: Data("noise\nhpod {\"a\": 1}\nhpod {\"b\"".utf8))
    var tail = OutputTail(path: path, offset: 0, prefix: "hpod ")
    #expect(tail.read().lines == [#"{"a": 1}"#])
    #expect(tail.lineBoundary == 20)
    try append(path, ": 2}\n")
    #expect(tail.read().lines == [#"{"b": 2}"#])
    #expect(tail.lineBoundary == 34)
    // A reader resuming at the saved boundary reads nothing twice
    try append(path, "hpod {\"c\": 3}\n")
    var resumed = OutputTail(path: path, offset: 34, prefix: "hpod ")
    #expect(resumed.read().lines == [#"{"c": 3}"#])
    // A file that shrank is read again from its start
    FileManager.default.createFile(atPath: path, contents: Data("hpod {\"d\": 4}".utf8))
    let (lines, truncated) = resumed.read(final: true)
    #expect(truncated && lines == [#"{"d": 4}"#])
  }
}
