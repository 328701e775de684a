import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TrackingBridge

/// MLflow's artifact proxy (`mlflow-artifacts:` URIs): uploads, downloads and listings of a
/// run's artifacts, kept in the run's artifact folder (a trial's own, or one under hpod's home
/// for runs made through the API). Paths are `<experiment id>/<run id>/artifacts/<path>`.
struct MLflowArtifactsController {
  let store: TrackingStore

  /// The largest artifact accepted in one upload.
  static let maxUploadBytes = 2 << 30

  func add(to router: Router<AppRequestContext>) {
    for prefix in ["api/2.0/mlflow-artifacts/artifacts", "ajax-api/2.0/mlflow-artifacts/artifacts"] {
      let group = router.group(RouterPath(prefix))
      group.put("**", use: upload)
      group.get("**", use: download)
      group.get("", use: list)
    }
  }

  /// The file a proxy path names, inside its run's artifact folder.
  func file(_ path: String) throws -> String {
    let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    guard parts.count >= 3, parts[2] == "artifacts" else {
      throw TrackingError.invalid(
        "Invalid artifact path '\(path)': expected <experiment id>/<run id>/artifacts/<path>")
    }
    let inside = parts.dropFirst(3)
    guard !inside.contains(".."), !inside.contains(".") else {
      throw TrackingError.invalid("Invalid artifact path '\(path)': '..' is not allowed")
    }
    let folder = try store.artifactDirectory(parts[1])
    return ([folder] + inside).joined(separator: "/")
  }

  @Sendable func upload(request: Request, context: AppRequestContext) async throws -> Response {
    do {
      let path = try file(context.parameters.getCatchAll().joined(separator: "/"))
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      let partial = path + ".upload-\(UUID().uuidString.prefix(8))"
      guard FileManager.default.createFile(atPath: partial, contents: nil),
        let handle = FileHandle(forWritingAtPath: partial)
      else {
        throw TrackingError(.invalidState, "cannot write the artifact \(path)")
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
        // Readers never see half an artifact.
        _ = try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: partial, toPath: path)
      } catch {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: partial)
        throw error
      }
      return MLflowJSON.response([:])
    } catch let error as TrackingError {
      return MLflowJSON.error(error)
    }
  }

  @Sendable func download(request: Request, context: AppRequestContext) async throws -> Response {
    do {
      let path = try file(context.parameters.getCatchAll().joined(separator: "/"))
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
        throw TrackingError.missing("Artifact not found: \(context.parameters.getCatchAll().joined(separator: "/"))")
      }
      // Streamed in chunks: an artifact of gigabytes never sits in memory whole.
      let body = try await FileIO().loadFile(path: path, context: context)
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
      let folder = try file(listed)
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
        return MLflowJSON.response(["files": [Any]()])
      }
      let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        .filter { !$0.contains(".upload-") }
      let files: [[String: Any]] = names.map { name in
        let full = "\(folder)/\(name)"
        var isDir: ObjCBool = false
        FileManager.default.fileExists(atPath: full, isDirectory: &isDir)
        var entry: [String: Any] = ["path": name, "is_dir": isDir.boolValue]
        if !isDir.boolValue {
          entry["file_size"] = (try? FileManager.default.attributesOfItem(atPath: full)[.size] as? Int) ?? 0
        }
        return entry
      }
      return MLflowJSON.response(["files": files])
    } catch let error as TrackingError {
      return MLflowJSON.error(error)
    }
  }
}
