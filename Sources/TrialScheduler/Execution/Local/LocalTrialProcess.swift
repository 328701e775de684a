import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A trial process started by `LocalProcessExecutor`.
///
/// One thread per trial pumps both pipes with poll(2): it appends everything to the capped log
/// files, hands reported lines to `reports`, and reaps the process. When the group leader
/// exits, what is left of its process tree (its group, and what left the group: see
/// `ProcessTree`) is killed, so a trial leaves no orphans behind.
/// Reaping and signalling share one lock: the group is never signalled after its pid was
/// released for reuse.
final class LocalTrialProcess: RunningTrial {
  let pid: Int32
  let handle: TrialHandle
  let output: AsyncStream<TrialOutput>
  private let tree: ProcessTree.Trial
  private let workspace: TrialWorkspace

  private let ended = ExitLatch()
  private let stopRequested = Mutex(false)
  private let processLock = Mutex(false)  // true once the leader is reaped

  init(
    pid: Int32, tree: ProcessTree.Trial, stdout: Int32, stderr: Int32, stdoutLog: LogFile, stderrLog: LogFile,
    reportPrefix: String, workspace: TrialWorkspace
  ) {
    self.pid = pid
    self.tree = tree
    self.workspace = workspace
    handle = .local(pid: pid, startTicks: ProcessTable.startTicks(of: pid))
    let (stream, continuation) = AsyncStream.makeStream(of: TrialOutput.self, bufferingPolicy: .unbounded)
    output = stream
    continuation.yield(.started(handle, at: Date()))
    let pump = OutputPump(
      pid: pid, stdout: stdout, stderr: stderr, stdoutLog: stdoutLog, stderrLog: stderrLog,
      prefix: reportPrefix, continuation: continuation)
    let thread = Thread { [self] in
      let exit = pump.run(reap: { self.reap() })
      self.finish(exit)
    }
    thread.name = "hpod-trial-\(pid)"
    thread.stackSize = 256 * 1024
    thread.start()
  }

  func exit() async -> TrialExit { await ended.wait() }

  func stop(gracePeriod: Duration) {
    let alreadyStopping = stopRequested.withLock { requested in
      defer { requested = true }
      return requested || ended.exit != nil
    }
    guard !alreadyStopping else { return }
    signalGroup(SIGTERM)
    Task.detached { [self] in
      try? await Task.sleep(for: gracePeriod)
      if ended.exit == nil { signalGroup(SIGKILL) }
    }
  }

  func kill() {
    signalGroup(SIGKILL)
  }

  /// A local trial's output pipes end with this process: it cannot be left running.
  func detach() -> Bool { false }

  func diagnosticTail() -> String? { workspace.lastErrorLine() }

  /// Set by the pump thread as it reaps the leader, independently of any task.
  var hasExited: Bool { processLock.withLock { $0 } }

  /// Sends a signal to the whole process group, unless the leader was already reaped. On a
  /// blocking thread, without waiting: the lock is held while a reaped trial's cgroup is
  /// emptied, and listing a cgroup's members reads the kernel's files.
  private func signalGroup(_ signal: Int32) {
    BlockingWork.submit { [self] in
      processLock.withLock { reaped in
        if !reaped { _ = killpg(pid, signal) }
        tree.signal(signal)
      }
    }
  }

  /// Reaps the leader if it has exited, then kills whatever is left of its group.
  /// Returns the raw wait status once reaped.
  private func reap() -> Int32? {
    processLock.withLock { reaped -> Int32? in
      var status: Int32 = 0
      guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
      reaped = true
      _ = killpg(pid, SIGKILL)  // leftovers of the group; harmless (ESRCH) when none
      tree.end()  // and whatever left the group
      ProcessTree.leaders.withLock { _ = $0.remove(pid) }
      return status
    }
  }

  private func finish(_ exit: TrialExit) {
    ended.resolve(exit)
  }

}

/// The per-trial pump loop: poll both pipes, log, split lines, report, reap.
struct OutputPump: @unchecked Sendable {
  let pid: Int32
  let stdout: Int32
  let stderr: Int32
  let stdoutLog: LogFile
  let stderrLog: LogFile
  let prefix: String
  let continuation: AsyncStream<TrialOutput>.Continuation

  func run(reap: () -> Int32?) -> TrialExit {
    var fds = [
      pollfd(fd: stdout, events: Int16(POLLIN), revents: 0), pollfd(fd: stderr, events: Int16(POLLIN), revents: 0),
    ]
    var splitter = ReportLineSplitter(prefix: prefix)
    var status: Int32?
    var leaderGoneAt: ContinuousClock.Instant?
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
    defer { buffer.deallocate() }

    while fds.contains(where: { $0.fd >= 0 }) {
      let ready = poll(&fds, nfds_t(fds.count), status == nil ? 100 : 20)
      if ready < 0, errno != EINTR { break }
      var reports: [String] = []
      for index in fds.indices where fds[index].fd >= 0 && fds[index].revents != 0 {
        let n = read(fds[index].fd, buffer.baseAddress, buffer.count)
        if n > 0 {
          let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
          if index == 0 {
            stdoutLog.append(chunk)
            reports += splitter.feed(chunk)
          } else {
            stderrLog.append(chunk)
          }
        } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
          close(fds[index].fd)
          fds[index].fd = -1
        }
      }
      if !reports.isEmpty { continuation.yield(.lines(reports, handle: nil)) }
      if status == nil, let reaped = reap() {
        status = reaped
        leaderGoneAt = .now
      }
      // A process that left the group (setsid) may hold a pipe forever: stop reading 2 s
      // after the leader is gone.
      if let leaderGoneAt, ContinuousClock.now - leaderGoneAt > .seconds(2) { break }
    }
    for fd in fds where fd.fd >= 0 { close(fd.fd) }
    if let line = splitter.finish() { continuation.yield(.lines([line], handle: nil)) }
    stdoutLog.close()
    stderrLog.close()
    // The pipes closed before the leader exited (it closed them, or stopped reading): wait.
    var pause: UInt32 = 1_000
    while status == nil {
      status = reap()
      if status == nil {
        usleep(pause)
        pause = min(pause * 2, 50_000)
      }
    }
    continuation.finish()
    return Self.decode(status!)
  }

  static func decode(_ status: Int32) -> TrialExit {
    let signal = status & 0x7f
    return signal == 0 ? .exited(code: Int((status >> 8) & 0xff)) : .signalled(signal: Int(signal))
  }
}
