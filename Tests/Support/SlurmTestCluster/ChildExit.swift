import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Waits for a `Process` to exit by reaping it here, on the calling (blocking) thread.
///
/// Foundation learns that a child ended when a socket the child inherited closes. The cluster
/// script leaves Slurm's daemons running with that socket open, so Foundation never hears the
/// script's end and `waitUntilExit` waits for as long as the daemons live (seen: a zombie
/// `slurm-cluster` and a suite stuck until its time limit). A child Foundation did reap first
/// is read from the process as usual.
enum ChildExit {
  /// The exit status, or 128 + the signal that ended it.
  static func wait(for process: Process) -> Int32 {
    let pid = process.processIdentifier
    while true {
      var status: Int32 = 0
      let reaped = waitpid(pid, &status, WNOHANG)
      if reaped == pid {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
      }
      if reaped == -1, errno != EINTR {
        // Foundation reaped it: its status is there once its run loop has noted the end.
        process.waitUntilExit()
        return process.terminationStatus
      }
      usleep(10_000)
    }
  }
}
