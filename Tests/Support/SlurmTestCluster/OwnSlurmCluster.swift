public import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A single-node cluster of a test's own (scripts/slurm-cluster in a folder of its own, on
/// ports of its own), for tests that kill its controller or drain its node: the shared cluster
/// other tests submit to at the same time is left alone. Stopped by its pids with `stop()`, or
/// at the latest when the test process exits.
public final class OwnSlurmCluster: Sendable {
  public let folder: String
  public var slurmConf: String { "\(folder)/slurm.conf" }

  private init(folder: String) {
    self.folder = folder
  }

  /// Starts a cluster in a new folder under the temporary directory (about 1 to 5 s).
  public static func start(_ name: String) async throws -> OwnSlurmCluster {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "hpod-\(name)-\(UUID().uuidString.prefix(8))"
    )
    .path
    let started = try await SlurmCluster.run([SlurmCluster.script, "start", folder], environment: [:])
    guard started.status == 0 else {
      throw SlurmCluster.Unavailable(description: "the test's own cluster did not start: \(started.output)")
    }
    _ = OwnClusters.started.withLock { $0.insert(folder) }
    OwnClusters.stopAtExit()
    return OwnSlurmCluster(folder: folder)
  }

  /// This process's environment with SLURM_CONF naming this cluster.
  public var environment: [String: String] {
    var environment = ProcessInfo.processInfo.environment
    environment["SLURM_CONF"] = slurmConf
    return environment
  }

  /// Runs a Slurm command against this cluster.
  public func run(_ argv: [String]) async throws -> (status: Int32, output: String) {
    try await SlurmCluster.run(argv, environment: ["SLURM_CONF": slurmConf])
  }

  /// The node's name (this machine's short host name).
  public var node: String {
    get async throws {
      try await run(["/usr/bin/sinfo", "-h", "-o", "%n"]).output.split(whereSeparator: \.isNewline).first.map(
        String.init)
        ?? ""
    }
  }

  /// When slurmctld last saved its jobs (it saves them a few seconds after they change; a
  /// controller killed before that loses them).
  public var jobStateSaved: Date? {
    (try? FileManager.default.attributesOfItem(atPath: "\(folder)/state/job_state"))?[.modificationDate] as? Date
  }

  /// `kill -9` of slurmctld, by its pid file: jobs keep running on the node meanwhile.
  public func killController() throws {
    let pid = try String(contentsOfFile: "\(folder)/slurmctld.pid", encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    guard let pid = Int32(pid), kill(pid, SIGKILL) == 0 else {
      throw SlurmCluster.Unavailable(description: "cannot kill slurmctld (pid file: \(pid))")
    }
  }

  /// Starts slurmctld again; it recovers its state from the state folder.
  public func startController() async throws {
    let started = try await SlurmCluster.run(["/usr/sbin/slurmctld", "-f", slurmConf], environment: [:])
    guard started.status == 0 else {
      throw SlurmCluster.Unavailable(description: "slurmctld did not start again: \(started.output)")
    }
  }

  /// Drains (or, with `false`, resumes) the node.
  public func drain(_ drained: Bool) async throws {
    let node = try await node
    let state = drained ? ["state=drain", "reason=hpod-test"] : ["state=resume"]
    let result = try await run(["/usr/bin/scontrol", "update", "nodename=\(node)"] + state)
    guard result.status == 0 else { throw SlurmCluster.Unavailable(description: "scontrol update: \(result.output)") }
  }

  /// Stops the cluster by its pids, and removes its folder.
  public func stop() async {
    guard OwnClusters.started.withLock({ $0.remove(folder) }) != nil else { return }
    do {
      _ = try await SlurmCluster.run([SlurmCluster.script, "stop", folder], environment: [:])
      try FileManager.default.removeItem(atPath: folder)
    } catch {
      print("the test cluster in \(folder) was not stopped and removed: \(error)")
    }
  }
}

/// The own clusters still running, stopped when the test process exits.
enum OwnClusters {
  static let started = LockedSet()
  nonisolated(unsafe) static var registered = false
  static let registration = NSLock()

  static func stopAtExit() {
    registration.lock()
    defer { registration.unlock() }
    guard !registered else { return }
    registered = true
    atexit {
      for folder in OwnClusters.started.withLock({ $0 }) {
        let stop = Process()
        stop.executableURL = URL(fileURLWithPath: SlurmCluster.script)
        stop.arguments = ["stop", folder]
        guard (try? stop.run()) != nil else { continue }
        _ = ChildExit.wait(for: stop)
      }
    }
  }
}

final class LockedSet: @unchecked Sendable {
  private let lock = NSLock()
  private var folders: Set<String> = []

  func withLock<T>(_ body: (inout Set<String>) -> T) -> T {
    lock.withLock { body(&folders) }
  }
}
