import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TrackingBridge
import TrialScheduler

/// hpod's MLflow API on a loopback port of its own, for the trials `hpod run` starts: their
/// mlflow calls land in their runs in the store as under `hpod serve`. A random token keeps
/// other local users out; the trials get it as MLFLOW_TRACKING_TOKEN.
enum EmbeddedTrackingServer {
  /// Runs `body` with the trials' tracking sink while the server answers; the server stops
  /// when `body` returns. `mirror`: woken when the trials write.
  static func serving<T: Sendable>(
    database: AppDatabase, home: HpodHome, mirror: MLflowMirror?, logger: Logger,
    _ body: @escaping @Sendable (EmbeddedTracking) async throws -> T
  ) async throws -> T {
    let token = UUID().uuidString.lowercased()
    // The port is known once the server listens; the points trials log reach their runners
    // through the sink made then.
    let sink = Mutex<EmbeddedTracking?>(nil)
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: MLflowErrorShapeMiddleware())
    router.add(middleware: BearerTokenMiddleware(token: token, open: []))
    let store = TrackingStore(
      database: database, home: home, experimentName: { StudySpec.experimentName(of: $0) },
      onTrialMetrics: { trialId, points in sink.withLock { $0 }?.deliver(trialId: trialId, points) })
    MLflowTrackingController(store: store).add(to: router)
    MLflowArtifactsController(store: store).add(to: router)
    MLflowRegistryController(store: store).add(to: router)
    MLflowLoggedModelsController(store: store).add(to: router)
    var quiet = logger
    quiet.logLevel = .warning
    let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
    let app = Application(
      router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "hpod"),
      onServerRunning: { channel in
        portSink.yield(channel.localAddress?.port ?? 0)
        portSink.finish()
      }, logger: quiet)
    // A service group, so the server shuts down gracefully when `body` is done (a cancelled
    // `run()` would log its open child channels as an error).
    let services = ServiceGroup(configuration: .init(services: [app], logger: quiet))
    return try await withThrowingTaskGroup(of: T?.self) { group in
      group.addTask {
        try await services.run()
        return nil
      }
      var port = 0
      for await bound in ports { port = bound }
      guard port > 0 else {
        throw TrackingError(
          .invalidState,
          "the MLflow API for the trials could not listen on a loopback port; set tracking.mlflow.uri to use an MLflow server instead"
        )
      }
      do {
        let tracking = EmbeddedTracking(
          endpoint: TrackingEndpoint(uri: "http://127.0.0.1:\(port)", token: token), mirror: mirror)
        sink.withLock { $0 = tracking }
        let result = try await body(tracking)
        await services.triggerGracefulShutdown()
        return result
      } catch {
        // Waits for the server's graceful end before the error leaves the group: leaving
        // cancels the server mid-shutdown, and it logs its open child channels as an error
        // ("Waiting on child channel: CancellationError()") under the user's own message.
        await services.triggerGracefulShutdown()
        _ = try? await group.next()
        throw error
      }
    }
  }
}
