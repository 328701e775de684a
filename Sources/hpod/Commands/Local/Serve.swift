import ArgumentParser
import Foundation
import HPODAPI
import Hummingbird
import Logging
import ServiceLifecycle
import TrackingBridge
import TrialScheduler

#if canImport(Glibc)
  import Glibc
#endif

struct Serve: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run the hpod daemon: the HTTP API, the scheduler of every submitted study.",
    discussion: """
      Studies keep running while clients come and go. On SIGTERM or SIGINT the daemon stops \
      its running trials (SIGTERM, then SIGKILL after each study's grace period) and exits; \
      the next `hpod serve` resumes every study that was running, re-running the interrupted \
      trials. A trial left behind by a crash of the daemon is killed when it starts again.
      """)

  @Option(help: "Address to listen on (loopback by default: use 0.0.0.0 to serve the network).")
  var host = "127.0.0.1"

  @Option(help: "Port to listen on.")
  var port = 8765

  @Option(help: "Require 'Authorization: Bearer TOKEN' on every endpoint but health (default: $HPOD_TOKEN).")
  var token: String?

  @Option(help: "Trial processes running at once across all studies (default: the number of cores).")
  var maxConcurrentTrials: Int?

  @Option(
    help: ArgumentHelp(
      "Seconds a connection may send nothing before it is closed: unfinished request headers or body, or an idle keep-alive.",
      valueName: "seconds"))
  var idleTimeout: Double = 30

  @Option(help: "Connections served at once; more wait until one closes (default: 2048, within the open-file limit).")
  var maxConnections: Int?

  @Option(
    help: ArgumentHelp(
      "Events an event-stream client may fall behind by; past that it misses newer ones and gets a `lagged` event.",
      valueName: "events"))
  var eventBuffer = EventSubscription.capacity

  @Option(help: "Log level: trace, debug, info, notice, warning, error.")
  var logLevel = "info"

  @OptionGroup var store: StoreOptions
  @OptionGroup var placement: PlacementOptions

  func validate() throws {
    guard Logger.Level(rawValue: logLevel) != nil else {
      throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
    }
    guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
    if let maxConcurrentTrials, maxConcurrentTrials < 1 {
      throw ValidationError("--max-concurrent-trials must be at least 1")
    }
    guard idleTimeout.isFinite, idleTimeout >= 0.1, idleTimeout <= 86_400 else {
      throw ValidationError("--idle-timeout must be between 0.1 and 86400 seconds")
    }
    guard (16...1_000_000).contains(eventBuffer) else {
      throw ValidationError("--event-buffer must be between 16 and 1000000")
    }
    if let maxConnections, !(1...1_000_000).contains(maxConnections) {
      throw ValidationError("--max-connections must be between 1 and 1000000")
    }
  }

  /// How trials reach this daemon: the address it listens on, or this machine's name when it
  /// listens on every address (trials on other nodes of a cluster).
  static func reachableHost(_ host: String) -> String {
    switch host {
    case "0.0.0.0", "::", "[::]": ProcessInfo.processInfo.hostName
    case let address where address.contains(":"): "[\(address)]"
    default: host
    }
  }

  func run() async throws {
    var logger = Logger(label: "hpod")
    logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
    let home = store.hpodHome
    let database = try AppDatabase.open(at: home.databasePath)
    let events = EventBus()
    let service = StudyService(
      database: database, home: home,
      maxConcurrentTrials: maxConcurrentTrials ?? ProcessInfo.processInfo.activeProcessorCount,
      resources: placement.makePool(),
      trackingEndpoint: TrackingEndpoint(
        uri: "http://\(Self.reachableHost(host)):\(port)",
        token: token ?? ProcessInfo.processInfo.environment["HPOD_TOKEN"]),
      logger: logger, publish: events.publish)
    // Each connection is a descriptor: use what the hard limit allows, and keep a margin for
    // the store, trial pipes and logs below it.
    let files = OpenFileLimit.raiseToHard()
    var settings = ServerSettings(
      host: host, port: port, token: token ?? ProcessInfo.processInfo.environment["HPOD_TOKEN"])
    settings.idleTimeout = .milliseconds(Int64((idleTimeout * 1000).rounded()))
    settings.maxConnections = maxConnections ?? max(16, min(2048, files - 256))
    settings.eventBuffer = eventBuffer
    let app = buildApplication(service: service, events: events, settings: settings, logger: logger)
    // The scheduler starts first and stops last; the HTTP server stops taking requests first.
    let group = ServiceGroup(
      configuration: .init(
        // Shut down in reverse: the app, then the scheduler, then the mirror, which sends
        // what the last trials wrote.
        services: [
          .init(service: service.mirror), .init(service: SchedulerService(service: service)), .init(service: app),
        ],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    logger.info(
      "hpod serving on http://\(host):\(port) (dashboard at http://\(host):\(port)/, API under /api/v1) with state in \(home.path)"
    )
    try await group.run()
  }
}

/// The study scheduler as a lifecycle service: resumes studies on start, stops their trials
/// on graceful shutdown so the next start resumes them.
struct SchedulerService: Service {
  let service: StudyService

  func run() async throws {
    try await service.start()
    try? await gracefulShutdown()
    await service.shutdown()
  }
}

/// The process's limit on open descriptors (RLIMIT_NOFILE).
enum OpenFileLimit {
  /// Raises the soft limit to the hard one; returns the limit now in force.
  static func raiseToHard() -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
    if limit.rlim_cur < limit.rlim_max {
      var raised = limit
      raised.rlim_cur = limit.rlim_max
      if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
    }
    return Int(clamping: limit.rlim_cur)
  }
}
