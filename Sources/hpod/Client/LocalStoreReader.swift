import Foundation
import HPODAPI
import Hummingbird
import Logging
import ServiceLifecycle
import TrackingBridge
import TrialScheduler

/// The daemon's read routes over the local store, for a read command (`hpod status`, `trials`,
/// `best`, `logs`, `export`, `heatmap`) when no daemon answers: the studies `hpod run` ran are
/// read as the daemon would answer for them, the same JSON and views. The routes are served on
/// a loopback port with a random token for as long as the command runs; no study is resumed or
/// run (the service is never started).
enum LocalStoreReader {
  /// Runs `body` with a client of the routes over the store at `home` (which the caller found).
  static func reading<T: Sendable>(home: HpodHome, _ body: @escaping @Sendable (HPODClient) async throws -> T)
    async throws -> T
  {
    let database = try AppDatabase.open(at: home.databasePath)
    var quiet = Logger(label: "hpod.local")
    quiet.logLevel = .error
    // Another process may be writing the store (`hpod watch` of a study `hpod run` drives):
    // every read is read anew.
    let service = StudyService(
      database: database, home: home, maxConcurrentTrials: 1, logger: quiet, summaryMaxAge: .zero)
    let token = UUID().uuidString.lowercased()
    var settings = ServerSettings(host: "127.0.0.1", port: 0, token: token)
    settings.maxConnections = 16
    let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
    let app = buildApplication(
      service: service, events: EventBus(), settings: settings, logger: quiet,
      onServerRunning: { port in
        portSink.yield(port)
        portSink.finish()
      })
    // A service group, so the routes shut down gracefully once `body` is done.
    let group = ServiceGroup(configuration: .init(services: [app], logger: quiet))
    return try await withThrowingTaskGroup(of: T?.self) { tasks in
      tasks.addTask {
        try await group.run()
        return nil
      }
      var port = 0
      for await bound in ports { port = bound }
      do {
        guard port > 0 else {
          throw HPODClient.Failure(
            message:
              "cannot serve the local store \(home.databasePath) on a loopback port; start `hpod serve` and ask it (--server)"
          )
        }
        let result = try await body(HPODClient(server: URL(string: "http://127.0.0.1:\(port)")!, token: token))
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return result
      } catch {
        await group.triggerGracefulShutdown()
        try? await tasks.waitForAll()
        throw error
      }
    }
  }
}
