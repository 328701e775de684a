import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The real single-node Slurm cluster the Slurm tests submit to: the one SLURM_CONF names
/// when it answers (`make test` starts one for the whole run), else one this test process
/// starts with scripts/slurm-cluster in a folder of its own and stops by its pids at exit.
public actor SlurmCluster {
  public static let shared = SlurmCluster()

  private var configuration: String?

  /// The repository's scripts/slurm-cluster.
  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/slurm-cluster").path

  public struct Unavailable: Error, CustomStringConvertible {
    public var description: String
  }

  /// The path of the cluster's slurm.conf, starting the cluster first if need be.
  public func slurmConf() async throws -> String {
    if let configuration { return configuration }
    if let given = ProcessInfo.processInfo.environment["SLURM_CONF"],
      try await Self.run(["/usr/bin/sinfo", "-h"], environment: ["SLURM_CONF": given]).status == 0
    {
      configuration = given
      return given
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-slurm-\(getpid())").path
    let started = try await Self.run([Self.script, "start", folder], environment: [:])
    guard started.status == 0 else {
      throw Unavailable(description: "the test cluster did not start: \(started.output)")
    }
    Self.startedFolder = folder
    atexit {
      guard let folder = SlurmCluster.startedFolder else { return }
      let stop = Process()
      stop.executableURL = URL(fileURLWithPath: SlurmCluster.script)
      stop.arguments = ["stop", folder]
      try? stop.run()
      stop.waitUntilExit()
    }
    configuration = "\(folder)/slurm.conf"
    return "\(folder)/slurm.conf"
  }

  /// This process's environment with SLURM_CONF naming the cluster.
  public func environment() async throws -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    environment["SLURM_CONF"] = try await slurmConf()
    return environment
  }

  /// The jobs the cluster knows (`squeue --states=all`), as `id|state|name`.
  public func jobs() async throws -> [String] {
    let result = try await Self.run(
      ["/usr/bin/squeue", "--me", "-h", "--states=all", "-o", "%i|%T|%j"], environment: try await environment())
    return result.output.split(whereSeparator: \.isNewline).map(String.init)
  }

  /// Runs a Slurm command against the cluster.
  public func run(_ argv: [String]) async throws -> (status: Int32, output: String) {
    try await Self.run(argv, environment: try await environment())
  }

  nonisolated(unsafe) static var startedFolder: String?

  /// Runs a command to its end on a thread of its own (never blocking the task pool).
  static func run(_ argv: [String], environment: [String: String]) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { continuation in
      Thread {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch {
          continuation.resume(throwing: error)
          return
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        continuation.resume(returning: (ChildExit.wait(for: process), output))
      }.start()
    }
  }
}
