import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TrackingBridge

/// MLflow's tracking REST API on hpod's store, under `/api/2.0/mlflow/` and
/// `/ajax-api/2.0/mlflow/`: unmodified mlflow code logs into hpod with no MLflow server.
struct MLflowTrackingController {
  let store: TrackingStore

  /// MLflow's own limits on a search page.
  static let maxRunsPerPage = 50_000
  static let maxExperimentsPerPage = 50_000
  /// hpod's own bounds on what one search request may ask for.
  static let maxExperimentsPerSearch = 1_000
  static let maxOrderByKeys = 100

  typealias Handler = @Sendable (MLflowRequest) async throws -> [String: Any]

  /// Where MLflow's API is: its own paths, and each trial's (`hpod-trials/<trial id>/…`, the
  /// MLFLOW_TRACKING_URI a trial gets), so that the API knows which trial asks.
  static let prefixes = ["api/2.0/mlflow", "ajax-api/2.0/mlflow", "\(trialPrefix)/api/2.0/mlflow"]
  static let trialPrefix = "hpod-trials/{hpod_trial}"

  func add(to router: Router<AppRequestContext>) {
    for prefix in Self.prefixes {
      let group = router.group(RouterPath(prefix))
      addExperiments(to: group)
      addRuns(to: group)
      MLflowHistoryController(store: store).add(to: group)
    }
  }

  /// Answers a route with the handler's JSON, or with MLflow's error shape.
  static func route(
    _ group: RouterGroup<AppRequestContext>, _ path: String, methods: [HTTPRequest.Method] = [.post],
    _ handler: @escaping Handler
  ) {
    for method in methods {
      group.on(RouterPath(path), method: method) { request, context in
        do {
          let fields = try await MLflowRequest(request, parameters: context.parameters)
          return MLflowJSON.response(try await handler(fields))
        } catch let error as TrackingError {
          return MLflowJSON.error(error)
        } catch {
          context.logger.error("MLflow API \(request.method) \(request.uri.path) failed: \(error)")
          return MLflowJSON.response(
            ["error_code": "INTERNAL_ERROR", "message": "hpod could not answer: \(error)"], status: .internalServerError
          )
        }
      }
    }
  }

  private func addExperiments(to group: RouterGroup<AppRequestContext>) {
    let store = store
    Self.route(group, "experiments/create") { request in
      let name = try request.requiredString("name")
      let tags = Dictionary(try request.keyValues("tags"), uniquingKeysWith: { _, last in last })
      let location = try request.string("artifact_location")
      return ["experiment_id": String(try store.createExperiment(name: name, tags: tags, artifactLocation: location))]
    }
    Self.route(group, "experiments/get", methods: [.get, .post]) { request in
      let id = try request.experimentId()
      // A trial's `mlflow.set_experiment(experiment_id=…)`: as for a name (below), it joins
      // its study's experiment, where its run is.
      if let trialId = request.trialId, let experiment = try store.trialExperiment(trialId: trialId, askedId: id) {
        return ["experiment": MLflowJSON.experiment(experiment)]
      }
      return ["experiment": MLflowJSON.experiment(try store.experiment(id: id))]
    }
    Self.route(group, "experiments/get-by-name", methods: [.get, .post]) { request in
      let name = try request.requiredString("experiment_name")
      // A trial's `mlflow.set_experiment(name)`: its run is in its study's experiment, which
      // it joins whatever the name (else the client refuses to start the trial's run).
      if let trialId = request.trialId, let experiment = try store.trialExperiment(trialId: trialId, asked: name) {
        return ["experiment": MLflowJSON.experiment(experiment)]
      }
      return ["experiment": MLflowJSON.experiment(try store.experiment(named: name))]
    }
    Self.route(group, "experiments/search", methods: [.get, .post]) { request in
      let viewType = try Self.viewType(request, key: "view_type")
      let filter = try request.string("filter").flatMap { $0.isEmpty ? nil : try RunFilter($0) }
      let maxResults = try request.maxResults(default: 1000, limit: Self.maxExperimentsPerPage)
      let offset = try request.pageOffset()
      let all = try store.searchExperiments(viewType: viewType, filter: filter)
      let page = all.dropFirst(offset).prefix(maxResults)
      var answer: [String: Any] = ["experiments": page.map(MLflowJSON.experiment)]
      if offset + page.count < all.count { answer["next_page_token"] = MLflowRequest.pageToken(offset + page.count) }
      return answer
    }
    Self.route(group, "experiments/update") { request in
      try store.renameExperiment(id: try request.experimentId(), to: try request.requiredString("new_name"))
      return [:]
    }
    Self.route(group, "experiments/delete") { request in
      try store.setExperimentLifecycle(id: try request.experimentId(), deleted: true)
      return [:]
    }
    Self.route(group, "experiments/restore") { request in
      try store.setExperimentLifecycle(id: try request.experimentId(), deleted: false)
      return [:]
    }
    Self.route(group, "experiments/set-experiment-tag") { request in
      try store.setExperimentTag(
        id: try request.experimentId(), key: try request.requiredString("key"), value: try request.string("value") ?? ""
      )
      return [:]
    }
    Self.route(group, "experiments/delete-experiment-tag") { request in
      try store.deleteExperimentTag(id: try request.experimentId(), key: try request.requiredString("key"))
      return [:]
    }
  }

  private func addRuns(to group: RouterGroup<AppRequestContext>) {
    let store = store
    Self.route(group, "runs/create") { request in
      let experimentId = request.has("experiment_id") ? try request.experimentId() : 0
      let tags = Dictionary(try request.keyValues("tags"), uniquingKeysWith: { _, last in last })
      let run = try store.createRun(
        experimentId: experimentId, name: try request.string("run_name"), startTime: try request.int64("start_time"),
        tags: tags, userId: try request.string("user_id"))
      return ["run": MLflowJSON.run(run)]
    }
    Self.route(group, "runs/get", methods: [.get, .post]) { request in
      ["run": MLflowJSON.run(try store.run(try Self.runId(request)))]
    }
    Self.route(group, "runs/update") { request in
      let run = try store.updateRun(
        try Self.runId(request), status: try request.string("status"), endTime: try request.int64("end_time"),
        name: try request.string("run_name"))
      return ["run_info": MLflowJSON.runInfo(run)]
    }
    Self.route(group, "runs/delete") { request in
      try store.setRunLifecycle(try Self.runId(request), deleted: true)
      return [:]
    }
    Self.route(group, "runs/restore") { request in
      try store.setRunLifecycle(try Self.runId(request), deleted: false)
      return [:]
    }
    Self.route(group, "runs/log-metric") { request in
      let metric = TrackingMetric(
        key: try request.requiredString("key"), value: try request.requiredDouble("value"),
        timestamp: try request.requiredInt64("timestamp"), step: Int(try request.int64("step") ?? 0))
      try store.logBatch(try Self.runId(request), metrics: [metric], params: [], tags: [])
      return [:]
    }
    Self.route(group, "runs/log-parameter") { request in
      try store.logBatch(
        try Self.runId(request), metrics: [],
        params: [(try request.requiredString("key"), try request.string("value") ?? "")], tags: [])
      return [:]
    }
    Self.route(group, "runs/set-tag") { request in
      try store.logBatch(
        try Self.runId(request), metrics: [], params: [],
        tags: [(try request.requiredString("key"), try request.string("value") ?? "")])
      return [:]
    }
    Self.route(group, "runs/delete-tag") { request in
      try store.deleteTag(try Self.runId(request), key: try request.requiredString("key"))
      return [:]
    }
    Self.route(group, "runs/log-batch") { request in
      try store.logBatch(
        try Self.runId(request), metrics: try request.metrics("metrics"), params: try request.keyValues("params"),
        tags: try request.keyValues("tags"))
      return [:]
    }
    Self.route(group, "runs/search", methods: [.post, .get]) { request in
      let experimentIds = try Self.experimentIds(request)
      let filter = try request.string("filter").flatMap { $0.isEmpty ? nil : try RunFilter($0) }
      let orders = try request.strings("order_by")
      guard orders.count <= Self.maxOrderByKeys else {
        throw TrackingError.invalid(
          "Got \(orders.count) order_by clauses; a search may be ordered by at most \(Self.maxOrderByKeys)")
      }
      let orderBy = try orders.map(RunOrder.init)
      let (runs, next) = try store.searchRuns(
        experimentIds: experimentIds, filter: filter, viewType: try Self.viewType(request, key: "run_view_type"),
        orderBy: orderBy, maxResults: try request.maxResults(default: 1000, limit: Self.maxRunsPerPage),
        offset: try request.pageOffset())
      var answer: [String: Any] = ["runs": runs.map(MLflowJSON.run)]
      if let token = MLflowRequest.pageToken(next) { answer["next_page_token"] = token }
      return answer
    }
  }

  /// The experiments a run search reads, each once, in the order first named.
  static func experimentIds(_ request: MLflowRequest) throws -> [Int64] {
    var seen = Set<Int64>()
    var ids: [Int64] = []
    for text in try request.strings("experiment_ids") {
      guard let id = Int64(text), id >= 0 else { throw TrackingError.invalid("Invalid experiment ID: '\(text)'") }
      if seen.insert(id).inserted { ids.append(id) }
      guard ids.count <= Self.maxExperimentsPerSearch else {
        throw TrackingError.invalid(
          "A run search may name at most \(Self.maxExperimentsPerSearch) different experiment ids in experiment_ids")
      }
    }
    return ids
  }

  /// `run_id`, or `run_uuid` from older clients.
  static func runId(_ request: MLflowRequest) throws -> String {
    if let id = try request.string("run_id"), !id.isEmpty { return id }
    return try request.requiredString("run_uuid")
  }

  static func viewType(_ request: MLflowRequest, key: String) throws -> TrackingStore.ViewType {
    guard let text = try request.string(key) else { return .activeOnly }
    guard let viewType = TrackingStore.ViewType(rawValue: text) ?? Int(text).flatMap(Self.viewType(number:)) else {
      throw TrackingError.invalid(
        "Invalid value \"\(text)\" for parameter '\(key)': expected ACTIVE_ONLY, DELETED_ONLY or ALL")
    }
    return viewType
  }

  /// Proto enums may come as their numbers: 1 active, 2 deleted, 3 all.
  static func viewType(number: Int) -> TrackingStore.ViewType? {
    [1: .activeOnly, 2: .deletedOnly, 3: .all][number]
  }
}
