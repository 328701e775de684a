import Foundation
import TrackingBridge

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A path of MLflow's artifact proxy, `<experiment id>/<run id>/artifacts/<path>` (or
/// `<location>/<run id>/artifacts/<path>` for an experiment made with an `artifact_location`
/// of `mlflow-artifacts:/<location>`), resolved inside its run's artifact folder. The run must be in the experiment the path names. A
/// trial's artifact folder is written by the trial, so nothing here follows a symbolic link:
/// a link a trial left (to `/`, to another run) is refused, never read or written through.
struct ArtifactLocation {
  /// The run's artifact folder.
  let folder: String
  /// The path's components under it (none: the folder itself).
  let inside: [String]
  /// The path as the request gave it, for messages.
  let requested: String

  var path: String { ([folder] + inside).joined(separator: "/") }

  init(_ requested: String, store: TrackingStore) throws {
    self.requested = requested
    let parts = requested.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    // A logged model's artifacts: `<experiment id>/models/<model id>/artifacts/<path>`.
    if parts.count >= 4, parts[1] == "models", parts[3] == "artifacts", let experimentId = Int64(parts[0]) {
      inside = try Self.checked(Array(parts.dropFirst(4)), requested)
      let model = try store.loggedModel(parts[2], allowDeleted: true)
      guard model.experimentId == experimentId else {
        throw TrackingError.missing(
          "Logged model \(parts[2]) is not in experiment \(experimentId) (it is in experiment \(model.experimentId))")
      }
      folder = try store.loggedModelArtifactDirectory(model.id)
      return
    }
    // A run of an experiment created with `artifact_location: mlflow-artifacts:/<path>`:
    // `<path>/<run id>/artifacts/<path in the run>`.
    for index in parts.indices.dropFirst(2) where parts[index] == "artifacts" {
      let runId = parts[index - 1]
      let root = parts[..<(index - 1)].joined(separator: "/")
      guard let location = try store.artifactLocation(ofTrackedRun: runId),
        ExperimentArtifactLocation.proxyPath(of: location) == root
      else { continue }
      inside = try Self.checked(Array(parts.dropFirst(index + 1)), requested)
      folder = try store.artifactDirectory(runId)
      return
    }
    guard parts.count >= 3, parts[2] == "artifacts", let experimentId = Int64(parts[0]) else {
      throw TrackingError.invalid(
        "Invalid artifact path '\(requested)': expected <experiment id>/<run id>/artifacts/<path> or <experiment id>/models/<model id>/artifacts/<path>"
      )
    }
    inside = try Self.checked(Array(parts.dropFirst(3)), requested)
    let run = try store.run(parts[1])
    guard run.experimentId == experimentId else {
      throw TrackingError.missing(
        "Run \(parts[1]) is not in experiment \(experimentId) (it is in experiment \(run.experimentId))")
    }
    folder = try store.artifactDirectory(parts[1])
  }

  /// A path under an artifact folder the caller found (`relative`, as a request gave it).
  init(folder: String, relative: String) throws {
    self.folder = folder
    requested = relative
    inside = try Self.checked(relative.split(separator: "/").map(String.init), relative)
  }

  private static func checked(_ components: [String], _ requested: String) throws -> [String] {
    guard !components.contains(".."), !components.contains(".") else {
      throw TrackingError.invalid("Invalid artifact path '\(requested)': '..' is not allowed")
    }
    return components
  }

  enum Kind {
    case missing, file, folder, link, other
  }

  /// What is at `path`, the link itself for a symbolic link.
  static func kind(_ path: String) -> Kind {
    var info = stat()
    guard lstat(path, &info) == 0 else { return .missing }
    switch info.st_mode & S_IFMT {
    case S_IFREG: return .file
    case S_IFDIR: return .folder
    case S_IFLNK: return .link
    default: return .other
    }
  }

  /// Refuses the path if the artifact folder or any component under it that exists is a
  /// symbolic link (or not a folder, for the components above the last).
  func requireNoLinks() throws {
    var current = folder
    for (index, component) in (["artifacts"] + inside).enumerated() {
      if index > 0 { current += "/" + component }
      switch Self.kind(current) {
      case .missing: return
      case .link:
        throw TrackingError.invalid(
          "Invalid artifact path '\(requested)': '\(component)' is a symbolic link, which hpod does not follow"
        )
      case .file, .other:
        guard index == inside.count else {
          throw TrackingError.invalid("Invalid artifact path '\(requested)': '\(component)' is not a folder")
        }
      case .folder: continue
      }
    }
  }
}
