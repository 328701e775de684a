import Foundation
import HTTPTypes
import Hummingbird
import TrackingBridge

/// MLflow's `model-versions/*` endpoints: versions of registered models made from any run or
/// logged model, their download URIs, descriptions, stages and tags.
struct MLflowModelVersionsController {
  let store: TrackingStore

  func add(to group: RouterGroup<AppRequestContext>) {
    let store = store
    let route = MLflowTrackingController.route
    route(group, "model-versions/create", [.post]) { request in
      let version = try store.createModelVersion(
        name: try request.requiredString("name"), source: try request.requiredString("source"),
        runId: try request.string("run_id"), modelId: try request.string("model_id"),
        tags: try request.keyValues("tags"), description: try request.string("description") ?? "")
      return ["model_version": MLflowJSON.version(version)]
    }
    route(group, "model-versions/get", [.get, .post]) { request in
      ["model_version": MLflowJSON.version(try Self.version(request, store))]
    }
    route(group, "model-versions/get-download-uri", [.get]) { request in
      ["artifact_uri": try Self.version(request, store).storageLocation]
    }
    route(group, "model-versions/update", [.patch]) { request in
      let version = try store.updateModelVersion(
        name: try request.requiredString("name"), version: try MLflowJSON.versionNumber(request),
        description: try request.string("description") ?? "")
      return ["model_version": MLflowJSON.version(version)]
    }
    route(group, "model-versions/transition-stage", [.post]) { request in
      let version = try store.transitionStage(
        name: try request.requiredString("name"), version: try MLflowJSON.versionNumber(request),
        stage: try request.requiredString("stage"),
        archiveExisting: try request.bool("archive_existing_versions") ?? false)
      return ["model_version": MLflowJSON.version(version)]
    }
    route(group, "model-versions/delete", [.delete]) { request in
      try store.deleteModelVersion(
        name: try request.requiredString("name"), version: try MLflowJSON.versionNumber(request))
      return [:]
    }
    route(group, "model-versions/set-tag", [.post]) { request in
      try store.setVersionTag(
        name: try request.requiredString("name"), version: try MLflowJSON.versionNumber(request),
        key: try request.requiredString("key"), value: try request.string("value") ?? "")
      return [:]
    }
    route(group, "model-versions/delete-tag", [.delete]) { request in
      try store.deleteVersionTag(
        name: try request.requiredString("name"), version: try MLflowJSON.versionNumber(request),
        key: try request.requiredString("key"))
      return [:]
    }
    route(group, "model-versions/search", [.get, .post]) { request in
      let filter = try request.string("filter").flatMap { $0.isEmpty ? nil : try RunFilter($0) }
      let all = try store.searchModelVersions(filter: filter, orderBy: try request.strings("order_by"))
      let offset = try request.pageOffset()
      // MLflow's SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT and _THRESHOLD.
      let page = all.dropFirst(offset).prefix(try request.maxResults(default: 10_000, limit: 200_000))
      var answer: [String: Any] = ["model_versions": try page.map { MLflowJSON.version($0) }]
      if offset + page.count < all.count { answer["next_page_token"] = MLflowRequest.pageToken(offset + page.count) }
      return answer
    }
  }

  private static func version(_ request: MLflowRequest, _ store: TrackingStore) throws -> RegistryVersion {
    try store.modelVersion(name: try request.requiredString("name"), version: try MLflowJSON.versionNumber(request))
  }
}
