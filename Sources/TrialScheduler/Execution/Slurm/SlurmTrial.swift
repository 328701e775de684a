import Foundation
import Logging
import Synchronization

/// A trial running as a Slurm batch job. `SlurmQueue` polls the cluster and hands each job's
/// status to `observe`, which reads the new lines of the job's output file and, once the job
/// ended, its exit.
final class SlurmTrial: RunningTrial {
  let jobId: String
  let settings: SlurmSettings
  let output: AsyncStream<TrialOutput>
  private let continuation: AsyncStream<TrialOutput>.Continuation
  private let command: SlurmCommand

  private struct State {
    var job: SlurmJobHandle
    var tail: OutputTail
    var started: Bool
    var stopRequested = false
  }

  private let state: Mutex<State>
  private let ended = ExitLatch()

  init(job: SlurmJobHandle, settings: SlurmSettings, command: SlurmCommand, reportPrefix: String, running: Bool) {
    jobId = job.jobId
    self.settings = settings
    self.command = command
    (output, continuation) = AsyncStream.makeStream(of: TrialOutput.self, bufferingPolicy: .unbounded)
    state = Mutex(
      State(
        job: job, tail: OutputTail(path: job.stdoutPath, offset: job.stdoutOffset, prefix: reportPrefix),
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
  private func scancel(_ arguments: [String]) async {
    let why: String
    do {
      let result = try await command.run("scancel", arguments)
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

  /// Takes in what Slurm says of the job; true once the trial has ended.
  func observe(_ status: SlurmJobStatus) async -> Bool {
    if isFinished { return true }
    let (justStarted, learntNode) = state.withLock { state -> (Bool, Bool) in
      let learntNode = status.node != nil && state.job.node != status.node
      if learntNode { state.job.node = status.node }
      guard status.isRunning || status.isFinished, !state.started else { return (false, learntNode) }
      state.started = true
      return (true, false)
    }
    if justStarted { continuation.yield(.started(handle, at: status.startTime ?? Date())) }
    // Saved with the trial, so that `hpod trials` and the dashboard name the node.
    if learntNode { continuation.yield(.lines([], handle: handle)) }
    if status.isFinished {
      drain(final: true)
      finish(status.exit(settings: settings))
      return true
    }
    if let hopeless = status.hopelessReason {
      await scancel([jobId])
      finish(.failed("Slurm cannot run job \(jobId): \(hopeless)"))
      return true
    }
    drain(final: false)
    return false
  }

  /// Reads what the job added to its output since the last read (between polls).
  func readOutput() {
    guard !isFinished else { return }
    drain(final: false)
  }

  /// The job is gone without a record of how it ended.
  func lose(_ reason: String) {
    drain(final: true)
    finish(.lost(reason))
  }

  /// Hands on the lines the job added to its output since the last read, with the handle
  /// that records how far it was read.
  /// A job that wrote output runs, whether or not a poll has seen it running yet.
  private func drain(final: Bool) {
    let (lines, job, moved, justStarted) = state.withLock { state -> ([String], SlurmJobHandle, Bool, Bool) in
      let before = state.job.stdoutOffset
      let (lines, _) = state.tail.read(final: final)
      state.job.stdoutOffset = state.tail.lineBoundary
      let moved = state.job.stdoutOffset != before
      let justStarted = !state.started && (moved || !lines.isEmpty)
      if justStarted { state.started = true }
      return (lines, state.job, moved, justStarted)
    }
    if justStarted { continuation.yield(.started(.slurm(job: job), at: Date())) }
    if !lines.isEmpty || moved { continuation.yield(.lines(lines, handle: .slurm(job: job))) }
  }

  /// Ends the output stream, then hands the exit to the waiters (once).
  private func finish(_ exit: TrialExit) {
    guard !isFinished else { return }
    continuation.finish()
    ended.resolve(exit)
  }

}
