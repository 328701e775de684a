import Foundation
import HTTPTypes
import Hummingbird
import TrackingBridge

/// MLflow's model registry API on hpod's registry: the models a study's registration made and
/// those made here, for any run or logged model, with their tags, aliases and versions
/// (versions in MLflowModelVersionsController).
struct MLflowRegistryController {
  let store: TrackingStore

  func add(to router: Router<AppRequestContext>) {
    for prefix in MLflowTrackingController.prefixes {
      let group = router.group(RouterPath(prefix))
      add(to: group)
      MLflowModelVersionsController(store: store).add(to: group)
    }
  }

  private func add(to group: RouterGroup<AppRequestContext>) {
    let store = store
    let route = MLflowTrackingController.route
    route(group, "registered-models/create", [.post]) { request in
      let model = try store.createModel(
        name: try request.requiredString("name"), description: try request.string("description") ?? "",
        tags: try request.keyValues("tags"))
      return ["registered_model": MLflowJSON.model(model)]
    }
    route(group, "registered-models/get", [.get, .post]) { request in
      ["registered_model": MLflowJSON.model(try store.model(named: try request.requiredString("name")))]
    }
    route(group, "registered-models/update", [.patch]) { request in
      let model = try store.updateModel(
        name: try request.requiredString("name"), description: try request.string("description") ?? "")
      return ["registered_model": MLflowJSON.model(model)]
    }
    route(group, "registered-models/rename", [.post]) { request in
      let model = try store.renameModel(
        name: try request.requiredString("name"), to: try request.requiredString("new_name"))
      return ["registered_model": MLflowJSON.model(model)]
    }
    route(group, "registered-models/delete", [.delete]) { request in
      try store.deleteModel(name: try request.requiredString("name"))
      return [:]
    }
    route(group, "registered-models/set-tag", [.post]) { request in
      try store.setModelTag(
        name: try request.requiredString("name"), key: try request.requiredString("key"),
        value: try request.string("value") ?? "")
      return [:]
    }
    route(group, "registered-models/delete-tag", [.delete]) { request in
      try store.deleteModelTag(name: try request.requiredString("name"), key: try request.requiredString("key"))
      return [:]
    }
    route(group, "registered-models/get-latest-versions", [.get, .post]) { request in
      let versions = try store.latestVersions(
        name: try request.requiredString("name"), stages: try request.strings("stages"))
      return ["model_versions": try versions.map { MLflowJSON.version($0) }]
    }
    route(group, "registered-models/search", [.get, .post]) { request in
      let filter = try request.string("filter").flatMap { $0.isEmpty ? nil : try RunFilter($0) }
      let all = try store.searchModels(filter: filter, orderBy: try request.strings("order_by"))
      let offset = try request.pageOffset()
      let page = all.dropFirst(offset).prefix(try request.maxResults(default: 100, limit: 1000))
      var answer: [String: Any] = ["registered_models": page.map(MLflowJSON.model)]
      if offset + page.count < all.count { answer["next_page_token"] = MLflowRequest.pageToken(offset + page.count) }
      return answer
    }
    route(group, "registered-models/alias", [.post]) { request in
      try store.setAlias(
        name: try request.requiredString("name"), alias: try request.requiredString("alias"),
        version: try MLflowJSON.versionNumber(request))
      return [:]
    }
    route(group, "registered-models/alias", [.delete]) { request in
      try store.deleteAlias(name: try request.requiredString("name"), alias: try request.requiredString("alias"))
      return [:]
    }
    route(group, "registered-models/alias", [.get]) { request in
      let version = try store.modelVersion(
        name: try request.requiredString("name"), alias: try request.requiredString("alias"))
      return ["model_version": MLflowJSON.version(version)]
    }
  }
}
