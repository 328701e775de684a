import Foundation
import HTTPTypes
import Hummingbird
import TrackingBridge

/// MLflow 3's LoggedModel API (what `mlflow.<flavor>.log_model` and autolog call), a run's
/// `outputs` and `log-inputs`, under `/api/2.0/mlflow/` and `/ajax-api/2.0/mlflow/`, with
/// the request and response shapes and errors of MLflow 3.17's server.
struct MLflowLoggedModelsController {
  let store: TrackingStore

  /// MLflow's default page of a logged-model search, and hpod's bound on one.
  static let defaultModelsPerPage = 100
  static let maxModelsPerPage = 50_000

  typealias Handler = @Sendable (MLflowRequest, Parameters) async throws -> [String: Any]

  func add(to router: Router<AppRequestContext>) {
    for prefix in MLflowTrackingController.prefixes {
      let group = router.group(RouterPath(prefix))
      addModels(to: group)
      addModelParts(to: group)
      addRunLinks(to: group)
      addModelFile(to: group)
    }
  }

  /// Answers a route with the handler's JSON, or with MLflow's error shape.
  static func route(
    _ group: RouterGroup<AppRequestContext>, _ path: String, method: HTTPRequest.Method, _ handler: @escaping Handler
  ) {
    group.on(RouterPath(path), method: method) { request, context in
      do {
        let fields = try await MLflowRequest(request, parameters: context.parameters)
        return MLflowJSON.response(try await handler(fields, context.parameters))
      } catch let error as TrackingError {
        return MLflowJSON.error(error)
      } catch {
        context.logger.error("MLflow API \(request.method) \(request.uri.path) failed: \(error)")
        return MLflowJSON.response(
          ["error_code": "INTERNAL_ERROR", "message": "hpod could not answer: \(error)"], status: .internalServerError)
      }
    }
  }

  static func modelId(_ parameters: Parameters) throws -> String {
    guard let id = parameters.get("model_id"), !id.isEmpty else {
      throw TrackingError.invalid("Missing value for required parameter 'model_id'.")
    }
    return id
  }

  private func addModels(to group: RouterGroup<AppRequestContext>) {
    let store = store
    Self.route(group, "logged-models", method: .post) { request, _ in
      let model = try store.createLoggedModel(
        experimentId: try request.experimentId(), name: try request.string("name"),
        modelType: try request.string("model_type"),
        sourceRunId: try request.string("source_run_id").flatMap { $0.isEmpty ? nil : $0 },
        params: try request.keyValues("params"), tags: try request.keyValues("tags"))
      return ["model": MLflowJSON.loggedModel(model)]
    }
    Self.route(group, "logged-models/{model_id}", method: .get) { request, parameters in
      let model = try store.loggedModel(
        try Self.modelId(parameters), allowDeleted: try request.bool("allow_deleted") ?? false)
      return ["model": MLflowJSON.loggedModel(model)]
    }
    Self.route(group, "logged-models/{model_id}", method: .patch) { request, parameters in
      guard let status = try request.string("status") else {
        throw TrackingError.invalid("Missing value for required parameter 'status'.")
      }
      let model = try store.finalizeLoggedModel(
        try Self.modelId(parameters), status: LoggedModelStatus(request: status))
      return ["model": MLflowJSON.loggedModel(model)]
    }
    Self.route(group, "logged-models/{model_id}", method: .delete) { _, parameters in
      try store.deleteLoggedModel(try Self.modelId(parameters))
      return [:]
    }
    Self.route(group, "logged-models/search", method: .post) { request, _ in try search(request) }
    Self.route(group, "logged-models/search", method: .get) { request, _ in try search(request) }
  }

  private func addModelParts(to group: RouterGroup<AppRequestContext>) {
    let store = store
    Self.route(group, "logged-models/{model_id}/params", method: .post) { request, parameters in
      try store.logLoggedModelParams(try Self.modelId(parameters), params: try request.keyValues("params"))
      return [:]
    }
    Self.route(group, "logged-models/{model_id}/tags", method: .patch) { request, parameters in
      try store.setLoggedModelTags(try Self.modelId(parameters), tags: try request.keyValues("tags"))
      return [:]
    }
    // A tag's key may hold slashes: the rest of the path is the key.
    Self.route(group, "logged-models/{model_id}/tags/**", method: .delete) { _, parameters in
      let key = parameters.getCatchAll().joined(separator: "/")
      guard !key.isEmpty else { throw TrackingError.invalid("Missing value for required parameter 'tag_key'.") }
      try store.deleteLoggedModelTag(try Self.modelId(parameters), key: key)
      return [:]
    }
    Self.route(group, "logged-models/{model_id}/artifacts/directories", method: .get) { request, parameters in
      let model = try store.loggedModel(try Self.modelId(parameters))
      let listed = try request.string("artifact_directory_path") ?? ""
      let folder = try store.loggedModelArtifactDirectory(model.id)
      let files = try MLflowArtifactsController.listing(
        try ArtifactLocation(folder: folder, relative: listed), namesUnder: listed)
      var answer: [String: Any] = ["root_uri": model.artifactURI]
      if !files.isEmpty { answer["files"] = files }
      return answer
    }
  }

  /// One file of a model, as MLflow's UI downloads it (`artifact_file_path`), streamed.
  private func addModelFile(to group: RouterGroup<AppRequestContext>) {
    let store = store
    group.get("logged-models/{model_id}/artifacts/files") { request, context in
      do {
        let fields = try await MLflowRequest(request, parameters: context.parameters)
        guard let path = try fields.string("artifact_file_path"), !path.isEmpty else {
          throw TrackingError(.badRequest, "Request must include the \"artifact_file_path\" query parameter.")
        }
        let model = try store.loggedModel(try Self.modelId(context.parameters))
        let location = try ArtifactLocation(folder: try store.loggedModelArtifactDirectory(model.id), relative: path)
        try location.requireNoLinks()
        guard ArtifactLocation.kind(location.path) == .file else {
          throw TrackingError.missing("Artifact not found: \(path)")
        }
        let body = try await FileIO().loadFile(path: location.path, context: context)
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: body)
      } catch let error as TrackingError {
        return MLflowJSON.error(error)
      }
    }
  }

  private func addRunLinks(to group: RouterGroup<AppRequestContext>) {
    let store = store
    Self.route(group, "runs/outputs", method: .post) { request, _ in
      guard request.has("models") else { throw TrackingError.invalid("Missing value for required parameter 'models'.") }
      let models = try request.objects("models").map { model in
        RunInputsOutputs.ModelOutput(modelId: try model.requiredString("model_id"), step: try model.int64("step") ?? 0)
      }
      try store.logOutputs(try MLflowTrackingController.runId(request), models: models)
      return [:]
    }
    Self.route(group, "runs/log-inputs", method: .post) { request, _ in
      let datasets = try request.objects("datasets").map { input in
        let dataset = try input.object("dataset") ?? MLflowRequest.empty
        return RunInputsOutputs.DatasetInput(
          dataset: TrackingDataset(
            name: try dataset.string("name") ?? "", digest: try dataset.string("digest") ?? "",
            sourceType: try dataset.string("source_type") ?? "", source: try dataset.string("source") ?? "",
            schema: try dataset.string("schema"), profile: try dataset.string("profile")),
          tags: try input.keyValues("tags").map { RunInputsOutputs.InputTag(key: $0.0, value: $0.1) })
      }
      let models = try request.objects("models").map { try $0.requiredString("model_id") }
      try store.logInputs(try MLflowTrackingController.runId(request), datasets: datasets, models: models)
      return [:]
    }
  }

  /// `logged-models/search`: experiment ids, MLflow's filter (clauses joined by AND),
  /// datasets, order_by objects, max_results and page_token.
  private func search(_ request: MLflowRequest) throws -> [String: Any] {
    guard request.has("experiment_ids") else {
      throw TrackingError.invalid("Missing value for required parameter 'experiment_ids'.")
    }
    let experimentIds = try MLflowTrackingController.experimentIds(request)
    let filterText = try request.string("filter").flatMap { $0.isEmpty ? nil : $0 }
    let filter = try filterText.map(RunFilter.init)
    let datasets = try request.objects("datasets").map { dataset in
      LoggedModelDatasetFilter(
        name: try dataset.requiredString("dataset_name"),
        digest: try dataset.string("dataset_digest").flatMap { $0.isEmpty ? nil : $0 })
    }
    let orderObjects = try request.objects("order_by")
    guard orderObjects.count <= MLflowTrackingController.maxOrderByKeys else {
      throw TrackingError.invalid(
        "Got \(orderObjects.count) order_by keys; a search may be ordered by at most \(MLflowTrackingController.maxOrderByKeys)"
      )
    }
    let orders = try orderObjects.map { order in
      try LoggedModelOrder(
        fieldName: try order.requiredString("field_name"), ascending: try order.bool("ascending") ?? true,
        datasetName: try order.string("dataset_name").flatMap { $0.isEmpty ? nil : $0 },
        datasetDigest: try order.string("dataset_digest").flatMap { $0.isEmpty ? nil : $0 })
    }
    let query = SearchToken.Query(
      experimentIds: try request.strings("experiment_ids"), filter: filterText, orderBy: request.raw("order_by"))
    let offset = try SearchToken.offset(try request.string("page_token"), for: query)
    let (models, next) = try store.searchLoggedModels(
      experimentIds: experimentIds, filter: filter, datasets: datasets, orderBy: orders,
      maxResults: try request.maxResults(default: Self.defaultModelsPerPage, limit: Self.maxModelsPerPage),
      offset: offset)
    var answer: [String: Any] = ["models": models.map(MLflowJSON.loggedModel)]
    if let next { answer["next_page_token"] = SearchToken.token(offset: next, for: query) }
    return answer
  }
}
