import Foundation
import TrackingBridge

// The registry's entities in MLflow's JSON (model_registry.proto's RegisteredModel and
// ModelVersion).
extension MLflowJSON {
  /// A version number, sent as a string of digits.
  static func versionNumber(_ request: MLflowRequest) throws -> Int {
    let text = try request.requiredString("version")
    guard let version = Int(text) else {
      throw TrackingError.invalid("Parameter 'version' must be an integer, got '\(text)'.")
    }
    return version
  }

  static func model(_ model: TrackingModel) -> [String: Any] {
    var json: [String: Any] = [
      "name": model.name, "creation_timestamp": model.creationTime, "last_updated_timestamp": model.lastUpdateTime,
      "description": model.description,
      "aliases": model.aliases.sorted { $0.key < $1.key }.map { ["alias": $0.key, "version": String($0.value)] },
      "tags": keyValues(model.tags),
    ]
    // The latest version in each stage, as MLflow's registered model carries them: stages in
    // the order the versions first reached them, without aliases.
    var stages: [String] = []
    for version in model.versions where !stages.contains(version.stage) { stages.append(version.stage) }
    let latest = stages.compactMap { stage in model.versions.last { $0.stage == stage } }
    if !latest.isEmpty {
      json["latest_versions"] = latest.map { version in
        var shown = Self.version(version)
        shown["aliases"] = nil
        return shown
      }
    }
    return json
  }

  static func version(_ version: RegistryVersion) -> [String: Any] {
    var json: [String: Any] = [
      "name": version.modelName, "version": String(version.version), "creation_timestamp": version.creationTime,
      "last_updated_timestamp": version.lastUpdateTime, "current_stage": version.stage,
      "description": version.description, "source": version.source, "status": "READY",
      "tags": keyValues(version.tags),
      "aliases": version.aliases,
    ]
    if !version.runId.isEmpty { json["run_id"] = version.runId }
    if let modelId = version.modelId { json["model_id"] = modelId }
    return json
  }
}
