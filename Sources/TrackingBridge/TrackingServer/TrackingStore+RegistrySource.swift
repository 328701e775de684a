import Foundation

// What a new version may be made from, checked as MLflow 3.17's server checks it
// (handlers.py `_create_model_version`): a source inside the run `run_id` names, or the logged
// model `model_id` names, or another version; never a path on the server or one with `..`.
extension TrackingStore {
  struct ResolvedSource {
    var source: String
    /// Where the version's files are (what `get-download-uri` answers).
    var storage: String
    var runId: String?
    var modelId: String?
  }

  func resolveSource(_ source: String, runId: String?, modelId: String?) throws -> ResolvedSource {
    var resolved = ResolvedSource(source: source, storage: source, runId: runId, modelId: modelId)
    let reference = source.hasPrefix("models:/") ? String(source.dropFirst("models:/".count)) : nil
    if let reference, !Self.isLoggedModelId(reference) {
      // Another version: its lineage, and its files.
      let from = try referencedVersion(reference, source: source)
      if (runId != nil && runId != from.runId) || (modelId != nil && modelId != from.modelId) {
        throw TrackingError.invalid(
          "Invalid model version source: '\(source)'. The run_id and model_id request parameters must match the referenced model version."
        )
      }
      resolved.source = "models:/\(from.modelName)/\(from.version)"
      resolved.storage = from.storageLocation
      resolved.runId = runId ?? (from.runId.isEmpty ? nil : from.runId)
      resolved.modelId = modelId ?? from.modelId
      return resolved
    }
    try Self.requireNoRelativeParts(source)
    if let modelId {
      let model = try sourceOwner(source, idName: "model_id") { try loggedModel(modelId) }
      if let reference, reference == modelId {
        resolved.storage = model.artifactURI
      } else if !(source.hasPrefix("mlflow-artifacts:") && Self.isWithin(source, model.artifactURI)) {
        throw Self.invalidSource(source, idName: "model_id")
      }
      resolved.runId = runId ?? (model.sourceRunId.isEmpty ? nil : model.sourceRunId)
      return resolved
    }
    if source.hasPrefix("runs:/") {
      let named = source.dropFirst("runs:/".count).split(separator: "/").first.map(String.init)
      guard let runId, named == runId else { throw Self.invalidSource(source, idName: "run_id") }
    } else if reference != nil {
      throw Self.invalidSource(source, idName: "model_id")
    } else if source.hasPrefix("mlflow-artifacts:") {
      let sourceRun = try sourceOwner(source, idName: "run_id") { () throws -> TrackingRun in
        guard let runId else { throw Self.invalidSource(source, idName: "run_id") }
        return try self.run(runId)
      }
      guard Self.isWithin(source, sourceRun.artifactURI) else { throw Self.invalidSource(source, idName: "run_id") }
    } else if !source.contains("://") || source.hasPrefix("file:") {
      throw TrackingError.invalid(
        "Invalid model version source: '\(source)'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id."
      )
    }
    return resolved
  }

  /// `m-<32 hex>`: a logged model's id, as `models:/<id>` names it.
  static func isLoggedModelId(_ text: String) -> Bool {
    text.hasPrefix("m-") && !text.contains("/") && !text.contains("@")
  }

  /// The version `models:/<name>/<version>` or `models:/<name>@<alias>` names.
  private func referencedVersion(_ reference: String, source: String) throws -> RegistryVersion {
    if let at = reference.lastIndex(of: "@") {
      return try modelVersion(name: String(reference[..<at]), alias: String(reference[reference.index(after: at)...]))
    }
    guard let slash = reference.lastIndex(of: "/"), let number = Int(reference[reference.index(after: slash)...])
    else {
      throw TrackingError.invalid(
        "Invalid model version source: '\(source)'. The model_id request parameter must identify the resource that contains the source."
      )
    }
    return try modelVersion(name: String(reference[..<slash]), version: number)
  }

  /// The run or logged model a source names: one this store lacks makes the source invalid.
  private func sourceOwner<Owner>(_ source: String, idName: String, _ find: () throws -> Owner) throws -> Owner {
    do {
      return try find()
    } catch let error as TrackingError where error.code == .resourceDoesNotExist {
      throw Self.invalidSource(source, idName: idName)
    }
  }

  private static func invalidSource(_ source: String, idName: String) -> TrackingError {
    TrackingError.invalid(
      "Invalid model version source: '\(source)'. The \(idName) request parameter must identify the resource that contains the source."
    )
  }

  /// `..` (also percent-encoded) or a NUL anywhere in the source is refused, as MLflow refuses it.
  private static func requireNoRelativeParts(_ source: String) throws {
    var decoded = source
    for _ in 0..<8 {
      guard let next = decoded.replacingOccurrences(of: "+", with: " ").removingPercentEncoding, next != decoded
      else { break }
      decoded = next
    }
    guard !decoded.contains("\0"), !decoded.split(separator: "/").contains("..") else {
      throw TrackingError.invalid(
        "Invalid model version source: '\(source)'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path."
      )
    }
  }

  /// Whether an `mlflow-artifacts:` URI is `root` or under it (the host part, if any, ignored
  /// as this server is the one that serves both).
  private static func isWithin(_ source: String, _ root: String) -> Bool {
    func parts(_ uri: String) -> [Substring] {
      var rest = Substring(uri.dropFirst("mlflow-artifacts:".count))
      if rest.hasPrefix("//") { rest = rest.dropFirst(2).drop { $0 != "/" } }
      return rest.split(separator: "/")
    }
    let (inside, under) = (parts(source), parts(root))
    return !under.isEmpty && Array(inside.prefix(under.count)) == under
  }
}
