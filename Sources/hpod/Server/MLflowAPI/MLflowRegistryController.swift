import Foundation
import HTTPTypes
import Hummingbird
import TrackingBridge

/// MLflow's model registry API on hpod's registry: the models registration made, their
/// versions and aliases, and versions made from trials' runs.
struct MLflowRegistryController {
  let store: TrackingStore

  func add(to router: Router<AppRequestContext>) {
    for prefix in MLflowTrackingController.prefixes {
      let group = router.group(RouterPath(prefix))
      add(to: group)
    }
  }

  private func add(to group: RouterGroup<AppRequestContext>) {
    let store = store
    MLflowTrackingController.route(group, "registered-models/create", methods: [.post]) { request in
      let model = try store.createModel(
        name: try request.requiredString("name"), description: try request.string("description") ?? "")
      return ["registered_model": Self.json(model)]
    }
    MLflowTrackingController.route(group, "registered-models/get", methods: [.get, .post]) { request in
      ["registered_model": Self.json(try store.model(named: try request.requiredString("name")))]
    }
    MLflowTrackingController.route(group, "registered-models/search", methods: [.get, .post]) { request in
      let filter = try request.string("filter").flatMap { $0.isEmpty ? nil : try RunFilter($0) }
      let all = try store.models().filter { try TrackingStore.registryMatches(filter, name: $0.name, runId: nil) }
      let offset = try request.pageOffset()
      let page = all.dropFirst(offset).prefix(try request.maxResults(default: 100, limit: 1000))
      var answer: [String: Any] = ["registered_models": page.map(Self.json)]
      if offset + page.count < all.count { answer["next_page_token"] = MLflowRequest.pageToken(offset + page.count) }
      return answer
    }
    MLflowTrackingController.route(group, "registered-models/alias", methods: [.post]) { request in
      try store.setAlias(
        name: try request.requiredString("name"), alias: try request.requiredString("alias"),
        version: try Self.version(request))
      return [:]
    }
    MLflowTrackingController.route(group, "registered-models/alias", methods: [.delete]) { request in
      try store.deleteAlias(name: try request.requiredString("name"), alias: try request.requiredString("alias"))
      return [:]
    }
    MLflowTrackingController.route(group, "registered-models/alias", methods: [.get]) { request in
      let version = try store.modelVersion(
        name: try request.requiredString("name"), alias: try request.requiredString("alias"))
      return ["model_version": try Self.json(version, store: store)]
    }
    MLflowTrackingController.route(group, "model-versions/create", methods: [.post]) { request in
      let version = try store.createModelVersion(
        name: try request.requiredString("name"), source: try request.requiredString("source"),
        runId: try request.string("run_id"))
      return ["model_version": try Self.json(version, store: store)]
    }
    MLflowTrackingController.route(group, "model-versions/get", methods: [.get, .post]) { request in
      let version = try store.modelVersion(name: try request.requiredString("name"), version: try Self.version(request))
      return ["model_version": try Self.json(version, store: store)]
    }
    MLflowTrackingController.route(group, "model-versions/search", methods: [.get, .post]) { request in
      let filter = try request.string("filter").flatMap { $0.isEmpty ? nil : try RunFilter($0) }
      let versions = try store.models().flatMap(\.versions).filter {
        try TrackingStore.registryMatches(
          filter, name: $0.modelName, runId: TrackingStore.runId(trialId: $0.trialId))
      }
      return ["model_versions": try versions.map { try Self.json($0, store: store) }]
    }
  }

  /// A version number, sent as a string of digits.
  static func version(_ request: MLflowRequest) throws -> Int {
    let text = try request.requiredString("version")
    guard let version = Int(text), version >= 1 else {
      throw TrackingError.invalid("Model version must be a positive integer, found '\(text)'")
    }
    return version
  }

  static func json(_ model: TrackingModel) -> [String: Any] {
    var json: [String: Any] = [
      "name": model.name, "creation_timestamp": model.creationTime, "last_updated_timestamp": model.lastUpdateTime,
      "description": model.description,
      "aliases": model.aliases.sorted { $0.key < $1.key }.map { ["alias": $0.key, "version": String($0.value)] },
    ]
    if let latest = model.versions.last {
      json["latest_versions"] = [
        [
          "name": model.name, "version": String(latest.version), "current_stage": "None",
          "run_id": TrackingStore.runId(trialId: latest.trialId), "status": "READY",
        ] as [String: Any]
      ]
    }
    return json
  }

  static func json(_ version: ModelVersion, store: TrackingStore) throws -> [String: Any] {
    let runId = TrackingStore.runId(trialId: version.trialId)
    let aliases = try store.model(named: version.modelName).aliases.filter { $0.value == version.version }.keys.sorted()
    return [
      "name": version.modelName, "version": String(version.version),
      "creation_timestamp": Int64(version.createdAt.timeIntervalSince1970 * 1000),
      "last_updated_timestamp": Int64(version.createdAt.timeIntervalSince1970 * 1000), "current_stage": "None",
      "description": "", "source": "runs:/\(runId)/\(version.artifactPath ?? "")", "run_id": runId,
      "status": "READY", "tags": MLflowJSON.keyValues(TrackingStore.tags(of: version)), "aliases": aliases,
    ]
  }
}
