import Foundation

/// Runs one Slurm client command (`sbatch`, `squeue`, `scontrol`, `scancel`) and collects its
/// output, on a thread of its own so that waiting never holds a thread of the task pool.
struct SlurmCommand: Sendable {
  /// The environment the commands run in (it names the cluster: PATH, SLURM_CONF).
  var environment: [String: String]
  /// A command that takes longer (a controller that does not answer) is killed.
  var timeout: Duration = .seconds(60)

  struct Result: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    var succeeded: Bool { status == 0 }
    /// The first line of stderr, or of stdout when stderr is empty, for an error message.
    var message: String {
      let text = stderr.isEmpty ? stdout : stderr
      return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? "exit status \(status)"
    }
  }

  struct Failure: Error, CustomStringConvertible {
    var description: String
    /// The command was killed after `timeout`: the controller did not answer.
    var isTimeout = false
  }

  /// Runs `tool` with `arguments`; `environment` replaces the command's environment when set.
  func run(_ tool: String, _ arguments: [String], environment override: [String: String]? = nil) async throws
    -> Result
  {
    let environment = override ?? environment
    let timeout = timeout
    return try await withCheckedThrowingContinuation { continuation in
      let thread = Thread {
        continuation.resume(
          with: Result_(catching: {
            try Self.runBlocking(tool, arguments, environment: environment, timeout: timeout)
          }))
      }
      thread.name = "hpod-\(tool)"
      thread.start()
    }
  }

  private typealias Result_ = Swift.Result<Result, any Error>

  private static let spawnLock = NSLock()

  /// Which cluster the commands reach (the slurm.conf the environment names): the jobs of
  /// one cluster are polled together.
  var cluster: String { environment["SLURM_CONF"] ?? "" }

  private static func runBlocking(
    _ tool: String, _ arguments: [String], environment: [String: String], timeout: Duration
  ) throws -> Result {
    guard let executable = locate(tool, path: environment["PATH"] ?? "/usr/bin:/bin") else {
      throw Failure(
        description:
          "\(tool) is not on PATH: install Slurm's client commands (Debian: apt-get install slurm-client) or put them on PATH"
      )
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = environment
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    // Foundation's Process.run is not safe to call from several threads at once (it crashed
    // in a memcpy with a dozen polls and submissions at a time): one spawn at a time.
    do { try spawnLock.withLock { try process.run() } } catch {
      throw Failure(description: "cannot run \(executable): \(error.localizedDescription)")
    }
    let timedOut = LockedFlag()
    let timer = DispatchWorkItem {
      guard process.isRunning else { return }
      timedOut.set()
      process.terminate()
    }
    let (seconds, _) = timeout.components
    DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(seconds)), execute: timer)
    // stderr is read on a second thread so that neither pipe can fill and stall the command.
    let errData = LockedData()
    let errReader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
    errReader.start()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    timer.cancel()
    let stderr = errData.wait()
    if timedOut.isSet {
      throw Failure(description: "\(tool) did not answer within \(seconds) s (is slurmctld running?)", isTimeout: true)
    }
    return Result(
      status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
      stderr: String(decoding: stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
  }

  private static func locate(_ tool: String, path: String) -> String? {
    if tool.contains("/") { return tool }
    return path.split(separator: ":").map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }
}

/// Data handed from a reader thread to the thread that waits for it.
private final class LockedData: @unchecked Sendable {
  private let condition = NSCondition()
  private var data: Data?

  func set(_ value: Data) {
    condition.lock()
    data = value
    condition.signal()
    condition.unlock()
  }

  func wait() -> Data {
    condition.lock()
    defer { condition.unlock() }
    while data == nil { condition.wait() }
    return data!
  }
}

private final class LockedFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false

  func set() { lock.withLock { value = true } }
  var isSet: Bool { lock.withLock { value } }
}
