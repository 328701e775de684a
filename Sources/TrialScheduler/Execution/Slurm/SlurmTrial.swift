import Foundation
import Logging
import Synchronization

/// A trial running as a Slurm batch job. `SlurmQueue` polls the cluster and hands each job's
/// status to `observe`, which reads the new lines of the job's output file and, once the job
/// ended, its exit.
final class SlurmTrial: RunningTrial {
  let jobId: String
  /// Unique to the trial's job (ids are not: a controller that lost its state gives them again).
  let comment: String
  let settings: SlurmSettings
  let output: AsyncStream<TrialOutput>
  private let continuation: AsyncStream<TrialOutput>.Continuation
  private let command: SlurmCommand

  private struct State {
    var job: SlurmJobHandle
    var tail: OutputTail
    var started: Bool
    var stopRequested = false
    /// The reasons last handed on as `.waiting` and `.unreachable`.
    var waiting: String?
    var unreachable: String?
  }

  private let state: Mutex<State>
  private let ended = ExitLatch()

  init(job: SlurmJobHandle, settings: SlurmSettings, command: SlurmCommand, reportPrefix: String, running: Bool) {
    jobId = job.jobId
    comment = job.comment
    self.settings = settings
    self.command = command
    (output, continuation) = AsyncStream.makeStream(of: TrialOutput.self, bufferingPolicy: .unbounded)
    state = Mutex(
      State(
        job: job,
        tail: OutputTail(path: job.reportsPath ?? job.stdoutPath, offset: job.stdoutOffset, prefix: reportPrefix),
        started: running))
  }

  var handle: TrialHandle { .slurm(job: state.withLock { $0.job }) }
  var isFinished: Bool { ended.exit != nil }

  func exit() async -> TrialExit { await ended.wait() }

  /// SIGTERM to the job's processes (the batch step and its children) now, and the job
  /// cancelled after the grace period if it still runs; a job still queued is cancelled at once.
  func stop(gracePeriod: Duration) {
    let (first, started) = state.withLock { state in
      defer { state.stopRequested = true }
      return (!state.stopRequested && !isFinished, state.started)
    }
    guard first else { return }
    let command = command
    let jobId = jobId
    Task.detached { [self] in
      guard started else {
        await scancel([jobId])
        return
      }
      await scancel(["--full", "--signal=TERM", jobId])
      try? await Task.sleep(for: gracePeriod)
      if !isFinished { await cancelNow() }
    }
  }

  func kill() {
    Task.detached { [self] in await cancelNow() }
  }

  /// SIGKILL to every process of the job, then the job cancelled.
  private func cancelNow() async {
    await scancel(["--full", "--signal=KILL", jobId])
    await scancel([jobId])
  }

  /// Runs scancel; a refusal is logged with what to do, since the job may still be running.
  /// The job's name goes with its id, so that a later job Slurm gave the same id is left alone.
  private func scancel(_ arguments: [String]) async {
    let why: String
    let name = state.withLock { $0.job.jobName }
    do {
      let result = try await command.run("scancel", (name.map { ["--name=\($0)"] } ?? []) + arguments)
      if result.succeeded { return }
      why = result.message
    } catch {
      why = "\(error)"
    }
    Logger(label: "hpod.slurm").warning(
      "scancel \(arguments.joined(separator: " ")) failed: \(why); if job \(jobId) still runs, cancel it by hand with scancel \(jobId)"
    )
  }

  /// The job keeps running; the next hpod adopts it from the saved handle.
  func detach() -> Bool {
    finish(.detached)
    return true
  }

  func diagnosticTail() -> String? {
    TrialWorkspace.lastLine(ofFile: state.withLock { $0.job.stderrPath })
  }

  /// Whether Slurm's `status` is of this trial's job (not of a later job with its id).
  func isOwn(_ status: SlurmJobStatus) -> Bool {
    state.withLock { $0.job.isSameJob(status) }
  }

  /// Takes in what Slurm says of the job; true once the trial has ended.
  func observe(_ status: SlurmJobStatus) async -> Bool {
    if isFinished { return true }
    // Handed on under the lock, as `drain` does, so that the output between polls (read
    // while a poll is under way) keeps its order.
    state.withLock { state in
      let learntSubmitTime = state.job.submitTime == nil && status.submitTime != nil
      if learntSubmitTime { state.job.submitTime = status.submitTime }
      let learntNode = status.node != nil && state.job.node != status.node
      if learntNode { state.job.node = status.node }
      if status.isRunning || status.isFinished, !state.started {
        state.started = true
        continuation.yield(.started(.slurm(job: state.job), at: status.startTime ?? Date()))
      } else if learntNode || learntSubmitTime {
        // Saved with the trial, so that `hpod trials` and the dashboard name the node, and a
        // restarted hpod knows the job's submit time.
        continuation.yield(.lines([], handle: .slurm(job: state.job)))
      }
    }
    if status.isFinished {
      drain(final: true)
      // A trial that ran to exit 0 did, whatever Slurm recorded after a controller outage
      // (a job that ended while its controller was away can come back as NODE_FAIL). Not a
      // preempted one: it exited 0 because Slurm stopped it (a training that saves and exits
      // on SIGTERM), and it resumes from its checkpoint.
      let slurmExit = status.exit(settings: settings)
      let ranToItsEnd = status.state != "PREEMPTED" && marker()?.exit == .exited(code: 0)
      finish(slurmExit != .exited(code: 0) && ranToItsEnd ? .exited(code: 0) : slurmExit)
      return true
    }
    if let hopeless = status.hopelessReason {
      await scancel([jobId])
      finish(.failed("Slurm cannot run job \(jobId): \(hopeless)"))
      return true
    }
    noteWaiting(status.waitingReason)
    drain(final: false)
    return false
  }

  /// Hands on that Slurm cannot be asked about the job (nil: it can again), when that changed.
  func noteUnreachable(_ reason: String?) {
    let changed = state.withLock { state in
      defer { state.unreachable = reason }
      return (state.unreachable == nil) != (reason == nil)
    }
    if changed, !isFinished { continuation.yield(.unreachable(reason)) }
  }

  /// Hands on why the trial waits, when that changed (nil: it no longer waits).
  func noteWaiting(_ reason: String?) {
    let changed = state.withLock { state in
      defer { state.waiting = reason }
      return state.waiting != reason
    }
    if changed, !isFinished { continuation.yield(.waiting(reason)) }
  }

  /// What the job's exit marker says, when its script wrote one for this job.
  private func marker() -> SlurmExitMarker? {
    let job = state.withLock { $0.job }
    guard let path = job.exitMarkerPath, let data = FileManager.default.contents(atPath: path),
      let marker = SlurmExitMarker(text: String(decoding: data, as: UTF8.self)), marker.jobId == job.jobId
    else { return nil }
    return marker
  }

  /// Reads what the job added to its output since the last read (between polls).
  func readOutput() {
    guard !isFinished else { return }
    drain(final: false)
  }

  /// The job is gone from Slurm (its controller lost it, or it ended more than MinJobAge ago
  /// with accounting off, or its id now names another job): its exit marker says how the
  /// trial ended. Without one the trial did not run to its end, so it runs again; so does a
  /// trial killed by a signal that Slurm no longer knows of (a controller that lost a job has
  /// its leftover processes killed). A job of an older hpod, which wrote no marker, is lost.
  func gone() {
    let job = state.withLock { $0.job }
    let what = "Slurm job \(job.jobId) is gone from Slurm"
    drain(final: true)
    guard let markerPath = job.exitMarkerPath else {
      finish(
        .lost(
          "\(what) and Slurm kept no record of how it ended (it ended more than MinJobAge ago, and accounting is off)"))
      return
    }
    guard let marker = marker() else {
      finish(.interrupted("\(what) and never ran to its end (no exit status in \(markerPath)); its controller lost it"))
      return
    }
    if case .signalled(let signal) = marker.exit {
      finish(.interrupted("\(what); it was killed by \(TrialExit.signalName(signal)) without Slurm's record of why"))
      return
    }
    finish(marker.exit)
  }

  /// Hands on the lines the job added to its output since the last read, with the handle
  /// that records how far it was read.
  /// A job that wrote output runs, whether or not a poll has seen it running yet.
  private func drain(final: Bool) {
    // The lines are handed on under the lock: a read between polls and a poll's read never
    // hand theirs on out of order.
    state.withLock { state in
      let before = state.job.stdoutOffset
      let (lines, _) = state.tail.read(final: final)
      state.job.stdoutOffset = state.tail.lineBoundary
      let moved = state.job.stdoutOffset != before
      if !state.started && (moved || !lines.isEmpty) {
        state.started = true
        continuation.yield(.started(.slurm(job: state.job), at: Date()))
      }
      if !lines.isEmpty || moved { continuation.yield(.lines(lines, handle: .slurm(job: state.job))) }
    }
  }

  /// Ends the output stream, then hands the exit to the waiters (once).
  private func finish(_ exit: TrialExit) {
    guard !isFinished else { return }
    continuation.finish()
    ended.resolve(exit)
  }

}
