import Foundation
import HPODAPI
import Hummingbird
import Logging
import ServiceLifecycle
import TrackingBridge
import TrialScheduler

/// What `buildApplication` needs: where to listen, the optional bearer token, request limits.
struct ServerSettings: Sendable {
  var host = "127.0.0.1"
  var port = 8765
  var token: String?
  /// Largest request body accepted (a study spec is a page).
  var maxBodyBytes = 1 << 20
  /// A connection that sends nothing for this long is closed: a request whose headers or body
  /// stop arriving, or a keep-alive connection left idle. An event stream being sent is not idle.
  var idleTimeout: Duration = .seconds(30)
  /// Connections served at once; further ones wait in the listen backlog until one closes.
  var maxConnections = 2048
  /// Events an event-stream client may fall behind by before it misses some (and is told so).
  var eventBuffer = EventSubscription.capacity
}

typealias AppRequestContext = BasicRequestContext

/// The HTTP application around a `StudyService`, built apart from the CLI so tests build it
/// without parsing arguments.
func buildApplication(
  service: StudyService, events: EventBus, settings: ServerSettings, logger: Logger, services: [any Service] = [],
  onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
  let router = buildRouter(service: service, events: events, settings: settings)
  let (seconds, attoseconds) = settings.idleTimeout.components
  return Application(
    router: router,
    server: .http1(
      configuration: .init(idleTimeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000))),
    configuration: .init(
      address: .hostname(settings.host, port: settings.port), serverName: "hpod",
      availableConnectionsDelegate: .maximum(settings.maxConnections, logger: logger)),
    services: services,
    onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
    logger: logger)
}

/// Every route of the daemon: the API, the operations endpoints and the dashboard.
func buildRouter(service: StudyService, events: EventBus, settings: ServerSettings) -> Router<AppRequestContext> {
  let router = Router(context: AppRequestContext.self)
  let metrics = DaemonMetrics(service: service)
  router.add(middleware: MetricsMiddleware())
  router.add(middleware: MLflowErrorShapeMiddleware())
  router.add(middleware: JSONErrorMiddleware())
  if let token = settings.token, !token.isEmpty {
    router.add(
      middleware: BearerTokenMiddleware(
        token: token, open: Set(["/healthz", "/readyz"]).union(DashboardAssets.openPaths)))
  }
  let snapshots = SnapshotCache()
  OpsController(service: service, metrics: metrics).add(to: router)
  DashboardAssets.add(to: router)
  DashboardController(service: service, snapshots: snapshots).add(to: router)
  let api = router.group("api/v1")
  StudiesController(service: service, maxBodyBytes: settings.maxBodyBytes).add(to: api)
  TrialsController(service: service, maxBodyBytes: settings.maxBodyBytes).add(to: api)
  EventsController(service: service, events: events, capacity: settings.eventBuffer).add(to: api)
  AnalysisController(service: service, snapshots: snapshots, maxBodyBytes: settings.maxBodyBytes).add(to: api)
  NotesController(service: service).add(to: api)
  // MLflow's tracking API and artifact proxy on the same store, for unmodified mlflow code.
  let tracking = TrackingStore(
    database: service.database, home: service.home,
    experimentName: { study in StudySpec.experimentName(of: study) },
    onTrialMetrics: { trialId, points in service.tracking.embedded?.deliver(trialId: trialId, points) })
  MLflowTrackingController(store: tracking).add(to: router)
  MLflowArtifactsController(store: tracking).add(to: router)
  MLflowRegistryController(store: tracking).add(to: router)
  MLflowLoggedModelsController(store: tracking).add(to: router)
  TrialLinkRoute.add(to: router, database: service.database)
  ExperimentPages(store: tracking).add(to: router)
  return router
}
