import CProcessSpawn
import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Every process a trial started, found and stopped with it, including those that left its
/// process group (`setsid`, a daemon's double fork). Two modes, chosen once per hpod process:
///
/// - **cgroup** (when a cgroup v2 hierarchy is writable, as for root on most machines): each
///   trial gets `<hpod's cgroup>/hpod-<pid>/trial-<token>`, which the child joins between fork
///   and exec, and every descendant stays in it whatever it does (setsid, double fork).
///   Stopping signals each member; ending writes `cgroup.kill`. Guarantee: nothing the trial
///   starts survives it.
/// - **subreaper** (otherwise, or with `HPOD_CONTAINMENT=subreaper`): hpod is a child
///   subreaper (PR_SET_CHILD_SUBREAPER), so orphaned descendants are re-parented to hpod
///   instead of init, and every process whose environment carries the trial's
///   `HPOD_TRIAL_TOKEN` is signalled with the trial. Guarantee: descendants that keep their
///   environment (nearly all do) die with the trial; one that clears it escapes.
///
/// A cgroup left by an hpod that was killed (kill -9) is ended by the next hpod that starts
/// in the same cgroup.
///
/// Its reads of /proc and of cgroup files race with processes and cgroups going away: one
/// that cannot be read is gone, which is why they are `try?`.
enum ProcessTree {
  enum Mode: Sendable, Equatable {
    case cgroup(base: String)
    case subreaper
  }

  /// The mode of this process, set up on first use.
  static let mode: Mode = {
    let requested = ProcessInfo.processInfo.environment["HPOD_CONTAINMENT"]
    if requested != "subreaper", let base = makeCgroupBase() { return .cgroup(base: base) }
    _ = hpod_become_subreaper()
    return .subreaper
  }()

  static let tokenVariable = "HPOD_TRIAL_TOKEN"

  /// `<mount><own cgroup>/hpod-<pid>`, created, after ending the cgroups of dead hpods.
  private static func makeCgroupBase() -> String? {
    guard let mount = cgroup2Mount(), let own = ownCgroup() else { return nil }
    let parent = (mount + own).replacingOccurrences(of: "//", with: "/")
    reclaimDeadSiblings(in: parent)
    let base = "\(parent)/hpod-\(getpid())"
    guard mkdir(base, 0o755) == 0 || errno == EEXIST else { return nil }
    // A probe proves processes can be moved here (a delegated or root-owned hierarchy).
    let probe = "\(base)/probe"
    guard mkdir(probe, 0o755) == 0 || errno == EEXIST else { return nil }
    defer { rmdir(probe) }
    guard access("\(probe)/cgroup.procs", W_OK) == 0 else { return nil }
    return base
  }

  private static func cgroup2Mount() -> String? {
    guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") {
      let halves = line.components(separatedBy: " - ")
      guard halves.count == 2, halves[1].hasPrefix("cgroup2 ") else { continue }
      let fields = halves[0].split(separator: " ")
      if fields.count > 4 { return String(fields[4]) }
    }
    return nil
  }

  private static func ownCgroup() -> String? {
    guard let text = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return nil }
    return text.split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
  }

  /// Ends the trial cgroups of hpod processes that are gone (killed before they could).
  private static func reclaimDeadSiblings(in parent: String) {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
    for entry in entries where entry.hasPrefix("hpod-") {
      guard let pid = Int32(entry.dropFirst(5)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
      let base = "\(parent)/\(entry)"
      for trial in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] {
        let path = "\(base)/\(trial)"
        guard FileManager.default.fileExists(atPath: "\(path)/cgroup.procs") else { continue }
        Cgroup(path: path).killAndRemove()
      }
      rmdir(base)
    }
  }

  /// The processes of one trial.
  final class Trial: Sendable {
    let token: String
    private let cgroup: Cgroup?
    private let adopted = Mutex(false)

    init(token: String) {
      self.token = token
      if case .cgroup(let base) = ProcessTree.mode {
        let path = "\(base)/trial-\(token)"
        cgroup = mkdir(path, 0o755) == 0 || errno == EEXIST ? Cgroup(path: path) : nil
      } else {
        cgroup = nil
      }
    }

    /// The trial cgroup's `cgroup.procs` opened for writing, for the child to join before it
    /// execs; -1 without a cgroup. The caller closes it.
    func openProcs() -> Int32 {
      guard let cgroup else { return -1 }
      return open("\(cgroup.path)/cgroup.procs", O_WRONLY | O_CLOEXEC)
    }

    /// Records whether the started leader is in the trial's cgroup; when it is not, the trial is
    /// left to the environment token alone.
    func started(_ pid: Int32) {
      guard let cgroup, cgroup.members().contains(pid) else { return }
      adopted.withLock { $0 = true }
    }

    /// Sends `signal` to every process of the trial that left its process group.
    func signal(_ signal: Int32) {
      for pid in members() { kill(pid, signal) }
    }

    /// Kills every remaining process of the trial and releases its cgroup.
    func end() {
      if let cgroup, adopted.withLock({ $0 }) {
        cgroup.killAndRemove()
        return
      }
      cgroup?.remove()
      // Without a cgroup, the descendants are the processes that carry the token.
      for pid in ProcessTree.processes(withToken: token) { kill(pid, SIGKILL) }
      if ProcessTree.mode == .subreaper { ProcessTree.reapOrphans() }
    }

    private func members() -> [Int32] {
      if let cgroup, adopted.withLock({ $0 }) { return cgroup.members() }
      return ProcessTree.processes(withToken: token)
    }
  }

  /// Processes whose environment has `HPOD_TRIAL_TOKEN=token`.
  static func processes(withToken token: String) -> [Int32] {
    let needle = Array("\(tokenVariable)=\(token)".utf8) + [0]
    let me = getpid()
    return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
      // /proc files report a size of 0, so they are read to their end rather than by size.
      guard let pid = Int32(entry), pid != me, let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/environ")
      else { return nil }
      let environment = (try? handle.readToEnd()) ?? Data()
      try? handle.close()
      // Entries are NUL-terminated; the needle matches one whole entry.
      var entryStart = environment.startIndex
      for index in environment.indices where environment[index] == 0 {
        if environment[entryStart...index].elementsEqual(needle) { return pid }
        entryStart = index + 1
      }
      return nil
    }
  }

  /// Leaders hpod waits for itself; the orphan reaper leaves them alone.
  static let leaders = Mutex<Set<Int32>>([])

  /// Reaps zombie children that are not trial leaders: orphans re-parented to hpod as
  /// subreaper. (Only the subreaper mode has them, and hpod starts no other children.)
  static func reapOrphans() {
    let me = getpid()
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
      else { continue }
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      guard fields.count > 1, fields[0] == "Z", Int32(fields[1]) == me else { continue }
      // Under the lock a spawn holds until its leader is registered (see LocalProcessExecutor).
      leaders.withLock { leaders in
        guard !leaders.contains(pid) else { return }
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
      }
    }
  }
}

/// One cgroup v2 folder.
struct Cgroup: Sendable {
  let path: String

  func members() -> [Int32] {
    let text = (try? String(contentsOfFile: "\(path)/cgroup.procs", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap { Int32($0) }
  }

  /// Kills every member (cgroup.kill where the kernel has it, else one by one) and removes
  /// the folder once it is empty (within about a second).
  func killAndRemove() {
    let fd = open("\(path)/cgroup.kill", O_WRONLY | O_CLOEXEC)
    var killed = false
    if fd >= 0 {
      killed = "1".withCString { Glibc.write(fd, $0, 1) } == 1
      close(fd)
    }
    for attempt in 0..<100 {
      let members = members()
      if members.isEmpty { break }
      if !killed || attempt % 10 == 9 { members.forEach { kill($0, SIGKILL) } }
      usleep(10_000)
    }
    remove()
  }

  func remove() { rmdir(path) }
}
