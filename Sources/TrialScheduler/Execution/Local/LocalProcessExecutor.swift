import CProcessSpawn
import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Runs each trial as a child process of this one: argv without a shell, its own process
/// group, stdin from /dev/null, stdout and stderr drained concurrently into capped log files.
public struct LocalProcessExecutor: TrialExecutor {
  public init() {}

  /// Spawns on a blocking thread (`BlockingWork`): the child joins its cgroup before it execs,
  /// and the spawning thread waits for that under the kernel's cgroup lock.
  public func launch(_ launch: TrialLaunch) async throws(TrialLaunchError) -> any RunningTrial {
    let result: Result<any RunningTrial, TrialLaunchError>
    do {
      result = try await BlockingWork.run {
        do throws(TrialLaunchError) { return .success(try start(launch)) } catch { return .failure(error) }
      }
    } catch {
      throw TrialLaunchError("the trial was not started: \(error)")
    }
    return try result.get()
  }

  /// A local trial's process tree cannot be followed by another hpod (its pipes ended with
  /// the hpod that started it): nothing is adopted; what is left of it is killed, and the
  /// runner runs the trial again.
  public func reclaim(_ handle: TrialHandle) async -> Reclaim { await reclaimLocalLeftovers(handle) }

  /// Starts the trial's process at once (no suspension, so a caller can start it synchronously).
  public func start(_ launch: TrialLaunch) throws(TrialLaunchError) -> any RunningTrial {
    guard let program = launch.argv.first, !program.isEmpty else {
      throw TrialLaunchError("the trial command is empty")
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: launch.workdir, isDirectory: &isDirectory), isDirectory.boolValue
    else {
      throw TrialLaunchError("the trial's workdir \(launch.workdir) does not exist")
    }
    let stdoutLog = try LogFile(path: launch.workspace.stdoutLog, limit: launch.logLimitBytes)
    let stderrLog = try LogFile(path: launch.workspace.stderrLog, limit: launch.logLimitBytes)
    let outPipe = try Pipe2()
    let errPipe: Pipe2
    do { errPipe = try Pipe2() } catch {
      outPipe.closeBoth()
      throw error
    }

    var pid: pid_t = 0
    let tree = ProcessTree.Trial(token: UUID().uuidString.lowercased())
    var variables = launch.environment
    variables[ProcessTree.tokenVariable] = tree.token
    let environment = variables.map { "\($0.key)=\($0.value)" }
    var rc: Int32 = 0
    let cgroupProcs = tree.openProcs()
    defer { if cgroupProcs >= 0 { close(cgroupProcs) } }
    // Spawned under the leaders' lock, which the subreaper's orphan reaper takes too: it never
    // mistakes a leader that exited at once for an orphan and reaps it before its trial does.
    ProcessTree.leaders.withLock { leaders in
      for attempt in 0..<5 {
        rc = withCStrings(launch.argv) { argv in
          withCStrings(environment) { envp in
            cgroupProcs >= 0
              ? hpod_spawn_in_cgroup(
                program, argv, envp, launch.workdir, outPipe.write, errPipe.write, cgroupProcs, &pid)
              : hpod_spawn(program, argv, envp, launch.workdir, outPipe.write, errPipe.write, &pid)
          }
        }
        // ETXTBSY: the program was just written and another process started in that instant
        // still holds it open; that process closes it within moments.
        guard rc == ETXTBSY else { break }
        usleep(UInt32(10_000 << attempt))
      }
      if rc == 0 { leaders.insert(pid) }
    }
    close(outPipe.write)
    close(errPipe.write)
    guard rc == 0 else {
      close(outPipe.read)
      close(errPipe.read)
      let reason =
        rc == ENOENT
        ? program.contains("/")
          ? "command not found: \(program) (relative paths start at the workdir)"
          : "command not found: \(program) (not on PATH; write ./\(program) for a program in the workdir)"
        : rc == EACCES
          ? "permission denied running \(program) (is it executable?)"
          : "cannot start \(program): \(String(cString: strerror(rc)))"
      tree.end()
      throw TrialLaunchError(reason)
    }
    tree.started(pid)
    return LocalTrialProcess(
      pid: pid, tree: tree, stdout: outPipe.read, stderr: errPipe.read, stdoutLog: stdoutLog, stderrLog: stderrLog,
      reportPrefix: launch.reportPrefix, workspace: launch.workspace)
  }
}

/// A pipe whose ends are close-on-exec, so concurrently started trials never inherit each
/// other's pipes (an inherited write end would keep a pipe open after its trial exits).
struct Pipe2 {
  let read: Int32
  let write: Int32

  init() throws(TrialLaunchError) {
    var fds: [Int32] = [0, 0]
    guard hpod_pipe_cloexec(&fds) == 0 else {
      throw TrialLaunchError("cannot create a pipe: \(String(cString: strerror(errno)))")
    }
    read = fds[0]
    write = fds[1]
  }

  func closeBoth() {
    close(read)
    close(write)
  }
}

/// Calls `body` with a NULL-terminated C array of the strings.
func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
  let pointers = strings.map { strdup($0) } + [nil]
  defer { pointers.forEach { free($0) } }
  return body(pointers)
}
