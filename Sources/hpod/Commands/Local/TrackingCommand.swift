import ArgumentParser
import Foundation
import Logging
import TrackingBridge
import TrialScheduler

struct TrackingCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tracking", abstract: "The MLflow mirror: what is waiting to be sent, and sending it now.",
    subcommands: [TrackingStatus.self, TrackingSync.self], defaultSubcommand: TrackingStatus.self)
}

struct TrackingStatus: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "Per mirrored study: its MLflow server and experiment, runs created, and the backlog.",
    discussion: """
      The backlog is what the store holds that MLflow does not have yet: queued writes (runs \
      to create, tags, ends, artifacts, registered versions) and metric points. Refused writes \
      are ones MLflow rejected for good; their error is shown.
      """)

  @Flag(help: "JSON instead of a table.")
  var json = false

  @OptionGroup var store: StoreOptions

  func run() async throws {
    let database = try AppDatabase.open(at: store.hpodHome.databasePath)
    let status = try database.mirrorStatus()
    if json { return try printJSON(status) }
    guard !status.isEmpty else {
      print(
        "No study is mirrored to MLflow. Set tracking.mlflow.uri in a spec (or MLFLOW_TRACKING_URI) to mirror its runs."
      )
      return
    }
    var rows = [["study", "server", "experiment", "runs", "queued writes", "unsent points", "refused"]]
    for study in status {
      rows.append([
        "\(study.studyName) (\(study.studyId))", study.uri,
        "\(study.experimentName) (\(study.experimentId ?? "not created yet"))", "\(study.runsCreated)/\(study.trials)",
        String(study.pendingWrites), String(study.unsentMetricPoints), String(study.refusedWrites),
      ])
    }
    Summary.align(rows).forEach { print($0) }
    for study in status where study.lastError != nil {
      print("\nlast error for \(study.studyName): \(study.lastError!)")
    }
    if status.contains(where: { $0.refusedWrites > 0 }) {
      print(
        "\nMLflow refused some writes for good (the last error says why); once the cause is fixed, `hpod tracking sync --retry-refused` sends them again."
      )
    }
    let backlog = status.reduce(0) { $0 + $1.backlog }
    print(
      backlog == 0
        ? "\nEverything is in MLflow." : "\n\(backlog) writes waiting; `hpod tracking sync` sends them now.")
  }
}

struct TrackingSync: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sync", abstract: "Send what the outbox holds to MLflow now, and wait until it is sent.")

  @Option(help: "Give up after this many seconds (what is left stays queued).")
  var timeout: Double = 120

  @Flag(help: "Send again the writes MLflow refused (once their cause is fixed, e.g. a restored experiment).")
  var retryRefused = false

  @Flag(help: "Print what was sent as JSON.")
  var json = false

  @OptionGroup var store: StoreOptions

  /// What `tracking sync --json` prints.
  struct Outcome: Encodable {
    var requeuedRefused: Int?
    var queued: Int
    var sent: Int
    var waiting: Int
    var lastError: String?

    enum CodingKeys: String, CodingKey {
      case requeuedRefused = "requeued_refused"
      case queued, sent, waiting
      case lastError = "last_error"
    }
  }

  func validate() throws {
    guard timeout.isFinite, timeout > 0, timeout <= 86_400 else {
      throw ValidationError("--timeout: \(timeout) is not a number of seconds between 0 and 86400 (a day)")
    }
  }

  func run() async throws {
    let database = try AppDatabase.open(at: store.hpodHome.databasePath)
    let requeued = retryRefused ? try database.retryRefusedMirrorWrites() : nil
    if let requeued, !json { print("Put \(requeued) refused writes back in line.") }
    let before = try database.mirrorBacklog()
    guard before > 0 else {
      if json { return try printJSON(Outcome(requeuedRefused: requeued, queued: 0, sent: 0, waiting: 0)) }
      print("Nothing to send: everything mirrored is in MLflow.")
      return
    }
    var logger = Logger(label: "hpod.mlflow")
    logger.logLevel = .warning
    let mirror = MLflowMirror(database: database, leasePath: store.hpodHome.mirrorLeasePath, logger: logger)
    let emptied = try await mirror.draining { await mirror.flush(timeout: .milliseconds(Int(timeout * 1000))) }
    let lastError = await mirror.lastError
    let after = try database.mirrorBacklog()
    if json {
      try printJSON(
        Outcome(
          requeuedRefused: requeued, queued: before, sent: before - after, waiting: after,
          lastError: lastError.map { "\($0)" }))
    } else {
      print("Sent \(before - after) of \(before) writes to MLflow.")
      if !emptied {
        print("\(after) still waiting\(lastError.map { ": \($0)" } ?? ""). Run `hpod tracking sync` again later.")
      }
    }
    if !emptied { throw ExitCode(ExitCodes.studyFailed) }
  }
}
