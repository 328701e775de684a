import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TrackingBridge

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// MLflow's artifact proxy (`mlflow-artifacts:` URIs): uploads, downloads and listings of a
/// run's artifacts, kept in the run's artifact folder (a trial's own, or one under hpod's home
/// for runs made through the API). Paths are `<experiment id>/<run id>/artifacts/<path>`
/// (see `ArtifactLocation`).
struct MLflowArtifactsController {
  let store: TrackingStore

  /// The largest artifact accepted in one upload.
  static let maxUploadBytes = 2 << 30

  func add(to router: Router<AppRequestContext>) {
    for prefix in [
      "api/2.0/mlflow-artifacts/artifacts", "ajax-api/2.0/mlflow-artifacts/artifacts",
      "\(MLflowTrackingController.trialPrefix)/api/2.0/mlflow-artifacts/artifacts",
    ] {
      let group = router.group(RouterPath(prefix))
      group.put("**", use: upload)
      group.get("**", use: download)
      group.get("", use: list)
    }
  }

  func location(_ path: String) throws -> ArtifactLocation {
    try ArtifactLocation(path, store: store)
  }

  /// Creates or replaces one file: never a folder, and never through a link.
  @Sendable func upload(request: Request, context: AppRequestContext) async throws -> Response {
    do {
      let location = try location(context.parameters.getCatchAll().joined(separator: "/"))
      guard !location.inside.isEmpty else {
        throw TrackingError.invalid(
          "Invalid artifact path '\(location.requested)': an upload names a file under the run's artifacts folder")
      }
      try location.requireNoLinks()
      let path = location.path
      if ArtifactLocation.kind(path) == .folder {
        throw TrackingError.invalid(
          "Invalid artifact path '\(location.requested)': it is a folder; an upload creates or replaces one file")
      }
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      let partial = path + ".upload-\(UUID().uuidString.prefix(8))"
      guard FileManager.default.createFile(atPath: partial, contents: nil),
        let handle = FileHandle(forWritingAtPath: partial)
      else {
        throw TrackingError(.invalidState, "cannot write the artifact \(location.requested)")
      }
      var written = 0
      do {
        for try await buffer in request.body {
          written += buffer.readableBytes
          guard written <= Self.maxUploadBytes else {
            throw TrackingError.invalid("The artifact is larger than \(Self.maxUploadBytes >> 20) MB")
          }
          try handle.write(contentsOf: Data(buffer.readableBytesView))
        }
        try handle.close()
        // One rename: readers never see half an artifact, and a folder (made there since the
        // check above) is never replaced, only refused.
        guard rename(partial, path) == 0 else {
          throw TrackingError.invalid(
            "Invalid artifact path '\(location.requested)': cannot replace what is there (\(String(cString: strerror(errno))))"
          )
        }
      } catch {
        try? handle.close()
        unlink(partial)
        throw error
      }
      return MLflowJSON.response([:])
    } catch let error as TrackingError {
      return MLflowJSON.error(error)
    }
  }

  @Sendable func download(request: Request, context: AppRequestContext) async throws -> Response {
    do {
      let location = try location(context.parameters.getCatchAll().joined(separator: "/"))
      try location.requireNoLinks()
      guard ArtifactLocation.kind(location.path) == .file else {
        throw TrackingError.missing("Artifact not found: \(location.requested)")
      }
      // Streamed in chunks: an artifact of gigabytes never sits in memory whole.
      let body = try await FileIO().loadFile(path: location.path, context: context)
      return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: body)
    } catch let error as TrackingError {
      return MLflowJSON.error(error)
    }
  }

  /// `{"files": [{"path": "model.json", "is_dir": false, "file_size": 120}]}`, paths relative
  /// to the listed folder.
  @Sendable func list(request: Request, context: AppRequestContext) async throws -> Response {
    do {
      let listed = MLflowRequest.formFields(request.uri.query ?? "")["path"]?.last ?? ""
      let files = try Self.listing(try location(listed), namesUnder: "")
      return MLflowJSON.response(["files": files])
    } catch let error as TrackingError {
      return MLflowJSON.error(error)
    }
  }

  /// The files and folders in a listed folder (none if it is not one), each named
  /// `<namesUnder>/<name>`. Links a trial left are not listed: they are not followed either.
  static func listing(_ location: ArtifactLocation, namesUnder prefix: String) throws -> [[String: Any]] {
    try location.requireNoLinks()
    let folder = location.path
    guard ArtifactLocation.kind(folder) == .folder else { return [] }
    let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
      .filter { !$0.contains(".upload-") }
    return names.compactMap { name in
      let full = "\(folder)/\(name)"
      let path = prefix.isEmpty ? name : "\(prefix)/\(name)"
      switch ArtifactLocation.kind(full) {
      case .folder: return ["path": path, "is_dir": true]
      case .file:
        let size = (try? FileManager.default.attributesOfItem(atPath: full)[.size] as? Int) ?? 0
        return ["path": path, "is_dir": false, "file_size": size]
      case .missing, .link, .other: return nil
      }
    }
  }
}
