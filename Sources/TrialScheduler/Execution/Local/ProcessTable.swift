import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What /proc says about processes: enough to tell whether a trial process recorded by an
/// earlier hpod is still alive (and is the same process, not a reused pid).
///
/// Its reads race with processes ending: a file under /proc that cannot be read is a process
/// that has gone, which is why they are `try?`.
enum ProcessTable {
  /// Field 22 of /proc/PID/stat: the start time in clock ticks after boot.
  static func startTicks(of pid: Int32) -> Int64? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return nil }
    // Fields after the command name (which may contain spaces) start at field 3.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    return fields.count > 19 ? Int64(fields[19]) : nil
  }

  /// Field 5 of /proc/PID/stat: the process group.
  static func processGroup(of pid: Int32) -> Int32? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    return fields.count > 2 ? Int32(fields[2]) : nil
  }

  /// Kills what is left of a trial's process group after the hpod that started it died:
  /// the leader if it is still the recorded process, and any member of its group.
  /// Returns whether anything was found alive.
  @discardableResult
  static func killLeftover(pid: Int, startTicks: Int64?) -> Bool {
    guard pid > 1 else { return false }
    let leaderAlive = startTicks != nil && Self.startTicks(of: Int32(pid)) == startTicks
    let members = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    let groupAlive = members.contains { entry in
      guard let member = Int32(entry), member != Int32(pid) else { return false }
      return processGroup(of: member) == Int32(pid)
    }
    // While any member lives, its group id cannot be handed to a new process.
    guard leaderAlive || groupAlive else { return false }
    _ = killpg(Int32(pid), SIGKILL)
    return true
  }
}
